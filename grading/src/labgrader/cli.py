"""The ``labgrader`` command line: a thin layer over the Python API.

``labgrader assign`` writes learner notebooks from solutions, ``labgrader check`` runs a
notebook's visible checks, ``labgrader grade`` runs all of them, and ``labgrader validate``
proves each lab's checks on its solution and starter.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from labgrader.course import Course, find_course
from labgrader.errors import LabgraderError

app = typer.Typer(
    name="labgrader",
    help="Assign, check and grade orchlab's notebook labs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
err_console = Console(stderr=True)

RootOption = Annotated[
    Path | None,
    typer.Option(
        "--root",
        help="The course folder (default: found from the current folder).",
        file_okay=False,
        exists=True,
    ),
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=1, help="Seconds one notebook's checks may take.")
]


_ENGINE_OF = {"TEMPORAL_ADDRESS": "temporal", "PREFECT_API_URL": "prefect"}


def _course(root: Path | None) -> Course:
    return Course(root.resolve()) if root else find_course()


@app.command()
def assign(
    labs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Lab ids (01-pipeline-patterns) or short forms (01); default every lab.",
            show_default=False,
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Write nothing; exit 1 naming every learner notebook that is stale, "
            "missing or extra.",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Overwrite learner notebooks that have outputs (someone's work)."
        ),
    ] = False,
    root: RootOption = None,
) -> None:
    """Write labs/NN-topic/ from solutions/NN-topic/: answers stubbed, outputs cleared."""
    from labgrader.assign import assign as run_assign
    from labgrader.report import print_assign

    report = run_assign(labs=labs or None, course=_course(root), check=check, force=force)
    print_assign(report, check=check, console=console)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def check(
    notebook: Annotated[
        Path, typer.Argument(help="The notebook to check.", exists=True, dir_okay=False)
    ],
    exercise: Annotated[
        str | None, typer.Option("--exercise", "-e", help="Check only this exercise (its id).")
    ] = None,
    lab: Annotated[
        str | None,
        typer.Option("--lab", help="The lab (default: from the notebook's folder or file name)."),
    ] = None,
    checks: Annotated[
        Path | None,
        typer.Option(
            "--checks",
            help="The lab's checks folder (default: grading/checks/<lab>).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    timeout: TimeoutOption = 300.0,
) -> None:
    """Run a notebook's visible checks and show what passed. Exit 0 when all pass.

    Save the notebook first: this reads the file, not your running kernel. Inside the
    notebook, `labgrader.check("exercise-id")` checks the live kernel instead.
    """
    from labgrader.grade import grade_submission, resolve_lab
    from labgrader.notebook import build_submission, read_notebook
    from labgrader.report import print_result
    from labgrader.run import scan_checks
    from labgrader.services import service_env

    lab_id, checks_dir = resolve_lab(lab=lab, notebook=notebook, checks_dir=checks)
    services = scan_checks(checks_dir).services
    env = service_env(services, start=False)
    absent = sorted(services - {_ENGINE_OF.get(k, "") for k in env})
    if absent:
        err_console.print(
            f"[dim]{' and '.join(absent)} not running (`make lab` starts it): the checks start "
            "their own, which takes a while[/]"
        )
    submission = build_submission(read_notebook(notebook))
    result = grade_submission(
        submission,
        notebook=str(notebook),
        lab=lab_id,
        checks_dir=checks_dir,
        include_hidden=False,
        exercise=exercise,
        env=env,
        timeout=timeout,
    )
    print_result(result, exercise=exercise, exercises=submission.exercises, console=console)
    raise typer.Exit(0 if result.passed and result.checks else 1)


@app.command()
def grade(
    notebook: Annotated[
        Path, typer.Argument(help="The notebook to grade.", exists=True, dir_okay=False)
    ],
    lab: Annotated[
        str | None,
        typer.Option("--lab", help="The lab (default: from the notebook's folder or file name)."),
    ] = None,
    checks: Annotated[
        Path | None,
        typer.Option(
            "--checks",
            help="The lab's checks folder, for example hidden checks kept elsewhere.",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    visible_only: Annotated[
        bool, typer.Option("--visible-only", help="Leave hidden checks out, as learners see it.")
    ] = False,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Also write the result as JSON to this file.", dir_okay=False),
    ] = None,
    timeout: TimeoutOption = 300.0,
) -> None:
    """Grade a notebook with every check, hidden ones included. Exit 0 on full marks."""
    from labgrader.grade import grade_notebook
    from labgrader.report import print_result

    result = grade_notebook(
        notebook, lab=lab, checks_dir=checks, include_hidden=not visible_only, timeout=timeout
    )
    print_result(result, console=console)
    if json_out:
        json_out.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    raise typer.Exit(0 if result.passed and result.checks else 1)


@app.command()
def validate(
    labs: Annotated[
        list[str] | None, typer.Argument(help="Lab ids or short forms.", show_default=False)
    ] = None,
    all_labs: Annotated[bool, typer.Option("--all", help="Validate every lab.")] = False,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Check runs side by side (default: one per core)."),
    ] = None,
    root: RootOption = None,
    timeout: TimeoutOption = 300.0,
) -> None:
    """Prove each lab: its solution earns full marks, its generated starter zero.

    The solution must pass every check, hidden ones too; the starter must pass none. Exit 1
    naming the failing checks otherwise. The engines the checks need start once for the
    whole run.
    """
    from labgrader.report import print_validation
    from labgrader.validate import validate as run_validate

    if labs and all_labs:
        raise typer.BadParameter("name labs or pass --all, not both")
    if not labs and not all_labs:
        raise typer.BadParameter("name the labs to validate, or pass --all")
    report = run_validate(labs=labs or None, course=_course(root), timeout=timeout, workers=workers)
    if not report.notebooks:
        err_console.print("no labs to validate: solutions/ has no lab folders")
        raise typer.Exit(1)
    print_validation(report, console=console)
    raise typer.Exit(0 if report.ok else 1)


def main() -> None:
    """Entry point of the ``labgrader`` console script: errors become one line and exit 2."""
    try:
        app()
    except LabgraderError as exc:
        err_console.print(f"[bold red]labgrader:[/] {exc}", highlight=False)
        raise SystemExit(2) from None


__all__ = ["app", "main"]
