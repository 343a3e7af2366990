"""The ``labgrader`` command line: a thin layer over the Python API.

``labgrader assign`` writes learner notebooks from solutions, ``labgrader check`` runs a
notebook's visible checks, ``labgrader grade`` runs all of them (on one notebook, or on a
batch of submissions into a gradebook), and ``labgrader validate`` proves each lab's checks
on its solution, starter and mutants.
"""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from labgrader.course import Course, find_course
from labgrader.errors import LabgraderError
from orchlab.cli.help import EXIT_CODES, run_app, version_option

app = typer.Typer(
    name="labgrader",
    help="Assign, check and grade orchlab's notebook labs.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="markdown",
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


class Backend(StrEnum):
    """Where a batch is graded (validated by the CLI)."""

    local = "local"
    temporal = "temporal"


class ExportTarget(StrEnum):
    """Where ``labgrader export`` writes (validated by the CLI)."""

    canvas = "canvas"
    moodle = "moodle"
    bundles = "bundles"


_ENGINE_OF = {"TEMPORAL_ADDRESS": "temporal", "PREFECT_API_URL": "prefect"}


def _course(root: Path | None) -> Course:
    return Course(root.resolve()) if root else find_course()


def _notebook_in(path: Path) -> Path:
    """The notebook to check: ``path`` itself, or the one notebook in the lab folder ``path``."""
    if not path.is_dir():
        return path
    notebooks = sorted(path.glob("*.ipynb"))
    if len(notebooks) == 1:
        return notebooks[0]
    if not notebooks:
        raise typer.BadParameter(f"{path} holds no notebook (*.ipynb): name the notebook to check")
    names = ", ".join(n.name for n in notebooks)
    raise typer.BadParameter(f"{path} holds {len(notebooks)} notebooks ({names}): name one")


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
    """Write labs/NN-topic/ from solutions/NN-topic/: answers stubbed, outputs cleared.

    Example: labgrader assign 01 --check
    """
    from labgrader.assign import assign as run_assign
    from labgrader.report import print_assign

    report = run_assign(labs=labs or None, course=_course(root), check=check, force=force)
    print_assign(report, check=check, console=console)
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def check(
    notebook: Annotated[
        Path,
        typer.Argument(
            help="The notebook to check, or its lab folder (labs/01-pipeline-patterns).",
            exists=True,
        ),
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
    """Run a notebook's visible checks (a lab folder: its one notebook). Exit 0 when all pass.

    Save the notebook first: this reads the file, not your running kernel. Inside the
    notebook, `labgrader.check("exercise-id")` checks the live kernel instead.

    Example: labgrader check 01-pipeline-patterns.ipynb --exercise dag-order
    """
    from labgrader.grade import grade_submission, resolve_lab
    from labgrader.notebook import build_submission, read_notebook
    from labgrader.report import print_result
    from labgrader.run import scan_checks
    from labgrader.services import service_env

    notebook = _notebook_in(notebook)
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
    targets: Annotated[
        list[str],
        typer.Argument(
            help="With --out: LAB SUBMISSION... (notebooks, folders of notebooks, zips). "
            "Without: one NOTEBOOK.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Grade a batch into this folder: results.json and feedback.html per learner, "
            "gradebook.csv and gradebook.json.",
            file_okay=False,
        ),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="Submissions side by side (default: two per core)."
        ),
    ] = None,
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
    release: Annotated[
        bool, typer.Option("--release", help="Show hidden checks' results in feedback pages.")
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Grade again submissions already graded in --out.")
    ] = False,
    due: Annotated[
        Path | None,
        typer.Option(
            "--due",
            help="A CSV learner,due[,extension_days] ('*' for everyone): late submissions "
            "lose 10% per started day.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    backend: Annotated[
        Backend,
        typer.Option(
            "--backend",
            help="local (this machine) or temporal (one workflow per submission, graded by "
            "`labgrader worker` processes).",
        ),
    ] = Backend.local,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Temporal frontend for --backend temporal."),
    ] = None,
    task_queue: Annotated[
        str | None, typer.Option("--task-queue", help="The workers' task queue.")
    ] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="The workers' key (default $LABGRADER_KEY_FILE): only rows signed with it "
            "count. Make one with `labgrader keygen FILE`.",
            dir_okay=False,
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="Shared storage for the notebooks (a folder every worker mounts; default "
            "DIR/.submissions).",
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
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No progress: only the summary (and errors)."),
    ] = False,
    check_timeout: Annotated[
        float,
        typer.Option(
            "--check-timeout",
            min=1,
            help="Seconds one check may take in a batch: past it, that check fails and the "
            "next one runs.",
        ),
    ] = 60.0,
) -> None:
    """Grade a batch (LAB SUBMISSION... --out DIR) or one NOTEBOOK, hidden checks included.

    A batch gives every submission one gradebook row, whatever happens to it, and exits 0
    once the gradebook is written. One notebook exits 0 on full marks.

    Example: labgrader grade 01 lms-download.zip --out graded --due due.csv
    """
    if out is not None:
        if len(targets) < 2:
            raise typer.BadParameter("with --out, give the lab then the submissions: LAB SUB...")
        _grade_batch(
            targets[0],
            [Path(t) for t in targets[1:]],
            out=out,
            jobs=jobs,
            checks=checks,
            release=release,
            force=force,
            due=due,
            timeout=timeout,
            check_timeout=check_timeout,
            backend=backend.value,
            address=address,
            task_queue=task_queue,
            key_file=key_file,
            store=store,
            quiet=quiet,
        )
        return
    from labgrader.grade import grade_notebook
    from labgrader.report import print_result

    if len(targets) != 1:
        raise typer.BadParameter("grade one NOTEBOOK, or a batch with LAB SUBMISSION... --out DIR")
    notebook = Path(targets[0])
    if not notebook.is_file():
        raise typer.BadParameter(f"{notebook} is not a notebook file")
    result = grade_notebook(
        notebook, lab=lab, checks_dir=checks, include_hidden=not visible_only, timeout=timeout
    )
    print_result(result, console=console)
    if json_out:
        json_out.write_text(json.dumps(result.to_dict(), indent=2) + "\n", encoding="utf-8")
    raise typer.Exit(0 if result.passed and result.checks else 1)


def _grade_batch(
    lab: str,
    submissions: list[Path],
    *,
    out: Path,
    jobs: int | None,
    checks: Path | None,
    release: bool,
    force: bool,
    due: Path | None,
    timeout: float,
    check_timeout: float,
    backend: str,
    address: str | None,
    task_queue: str | None,
    key_file: Path | None = None,
    store: Path | None = None,
    quiet: bool = False,
) -> None:
    from labgrader.batch import grade_batch
    from labgrader.limits import Limits
    from labgrader.progress import BatchProgress
    from labgrader.report import print_batch

    with BatchProgress(err_console, quiet=quiet) as shown:
        report = grade_batch(
            lab=lab,
            submissions=submissions,
            out=out,
            jobs=jobs,
            checks_dir=checks,
            release=release,
            force=force,
            due=due,
            timeout=timeout,
            limits=Limits(check_seconds=check_timeout),
            progress=shown.done,
            on_start=shown.start,
            on_stage=shown.stage,
            backend=backend,
            address=address,
            task_queue=task_queue,
            key_file=key_file,
            store=store,
        )
    print_batch(report, console=console)


OutArgument = Annotated[
    Path,
    typer.Argument(
        help="The output folder of `labgrader grade LAB SUBMISSION... --out DIR`.",
        exists=True,
        file_okay=False,
        show_default=False,
        metavar="OUT",
    ),
]


@app.command()
def override(
    out: OutArgument,
    learner: Annotated[str, typer.Argument(help="The learner id, as in the gradebook.")],
    item: Annotated[
        str, typer.Argument(help="An exercise id, or an item of the lab's rubric.yaml.")
    ],
    points: Annotated[
        float | None,
        typer.Argument(help="The points (before the late policy); omit with --remove."),
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (the learner sees it in the feedback page).")
    ] = "",
    by: Annotated[
        str | None, typer.Option("--by", help="Who decides (default: your user name).")
    ] = None,
    remove: Annotated[
        bool, typer.Option("--remove", help="Let the automatic points count again.")
    ] = False,
) -> None:
    """Record a manual decision: POINTS for a learner's exercise or rubric item.

    The decision goes to OUT/overrides.json (who, when, why, the points it replaces); the
    gradebook and the learner's files are rewritten with it, and every later export and
    regrade keeps it.

    Example: labgrader override graded ada dag-order 4 --reason "accepted: a valid order"
    """
    from labgrader.overrides import OverrideError, record_override
    from labgrader.publish import Publication

    if remove == (points is not None):
        raise OverrideError("give POINTS, or --remove to drop the learner's override")
    publication = Publication.load(out.resolve())
    row = publication.record(learner)
    decision = record_override(
        publication.out,
        row,
        item,
        None if remove else points,
        reason=reason or ("override removed" if remove else ""),
        rubric=publication.rubric,
        by=by,
    )
    shown = publication.republish(learners=[learner])
    new = next(r for r in shown if r.learner == learner)
    what = "removed" if remove else f"{decision.points:g} point(s)"
    console.print(
        f"{learner} {item}: {what}; total now {new.score:g}/{new.max_score:g} "
        f"(gradebook and {learner}/feedback.html rewritten)",
        highlight=False,
    )


@app.command()
def regrade(
    out: OutArgument,
    learners: Annotated[
        list[str] | None,
        typer.Argument(
            help="Learner ids (default: every learner of the batch).", metavar="LEARNER"
        ),
    ] = None,
    exercise: Annotated[
        str | None,
        typer.Option("--exercise", "-e", help="Only this exercise's checks and points change."),
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, metavar="N", help="Engines kept warm.")
    ] = None,
    timeout: TimeoutOption = 300.0,
) -> None:
    """Grade learners of a batch again with the checks as they are now, into OUT.

    Only those learners' files (or, with --exercise, only that exercise's points) and the
    gradebook change; the rest stays as it was. Late days and overrides are kept.

    Example: labgrader regrade graded ada bob --exercise dag-order
    """
    from labgrader.regrade import Regraded
    from labgrader.regrade import regrade as run

    def done(outcome: Regraded) -> None:
        change = f"{outcome.before:g} -> {outcome.after:g}"
        kept = " (kept: the new run was not graded)" if outcome.kept else ""
        console.print(
            f"{outcome.learner}: {change} ({outcome.status.value}){kept}", highlight=False
        )

    outcomes = run(
        out.resolve(), learners or [], exercise=exercise, jobs=jobs, timeout=timeout, progress=done
    )
    changed = sum(o.before != o.after for o in outcomes)
    console.print(
        f"regraded {len(outcomes)} learner(s), {changed} score(s) changed; gradebook rewritten"
    )


@app.command()
def export(
    out: OutArgument,
    to: Annotated[
        ExportTarget,
        typer.Option("--to", help="canvas.csv, moodle.csv, or a zip per learner (bundles/)."),
    ],
    assignment: Annotated[
        str | None,
        typer.Option("--assignment", help="The grade column's name in the LMS (default: Lab ID)."),
    ] = None,
    dest: Annotated[
        Path | None,
        typer.Option("--file", help="Where to write (default: inside OUT).", metavar="PATH"),
    ] = None,
) -> None:
    """Export the batch's grades for an LMS, or bundles to hand back (overrides applied).

    Example: labgrader export graded --to canvas --assignment "Lab 01 (1234)"
    """
    from labgrader.exports import Target
    from labgrader.exports import export as write

    paths = write(out.resolve(), Target(to.value), assignment=assignment, dest=dest)
    where = paths[0] if len(paths) == 1 else f"{len(paths)} files in {paths[0].parent}"
    console.print(f"wrote {where}", highlight=False)


@app.command()
def report(out: OutArgument) -> None:
    """Write OUT/report.html: score distribution, pass rate per check, times, statuses.

    The page works offline (its figures are embedded) and links each learner's feedback.

    Example: labgrader report graded
    """
    from labgrader.class_report import write_report

    console.print(f"wrote {write_report(out.resolve())}", highlight=False)


@app.command()
def worker(
    lab: Annotated[str, typer.Option("--lab", help="The lab this worker grades.")],
    checks: Annotated[
        Path | None,
        typer.Option(
            "--checks",
            help="The lab's checks folder (default: grading/checks/<lab>).",
            exists=True,
            file_okay=False,
        ),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Temporal frontend (default: the one orchlab runs)."),
    ] = None,
    task_queue: Annotated[
        str | None, typer.Option("--task-queue", help="The task queue to poll.")
    ] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Submissions at once.")] = 2,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="The key rows are signed with (default $LABGRADER_KEY_FILE), the same file "
            "the coordinator reads.",
            dir_okay=False,
        ),
    ] = None,
    store: Annotated[
        Path | None,
        typer.Option(
            "--store",
            help="The coordinator's notebook store, as mounted here (default $LABGRADER_STORE).",
            file_okay=False,
        ),
    ] = None,
) -> None:
    """Grade submissions sent by `labgrader grade ... --backend temporal`, until stopped.

    Example: labgrader worker --lab 01 --address grader.example.org:7233 --key-file grading.key
    """
    import asyncio
    import os

    from labgrader.distributed import TASK_QUEUE, local_grader, run_worker
    from labgrader.errors import WorkerKeyError
    from labgrader.services import service_env
    from labgrader.worker_auth import load_key

    try:
        key = load_key(key_file)
    except WorkerKeyError as exc:
        raise typer.BadParameter(str(exc)) from exc
    where_store = store or (
        Path(os.environ["LABGRADER_STORE"]) if "LABGRADER_STORE" in os.environ else None
    )
    if where_store is None:
        raise typer.BadParameter(
            "a worker reads notebooks from the coordinator's store: pass --store DIR (the "
            "folder `labgrader grade --store` writes, mounted on this machine)"
        )
    grade_fn, close, isolation = local_grader(
        lab=lab, checks_dir=checks, store=where_store, jobs=jobs
    )
    where = address or service_env({"temporal"}, start=False)["TEMPORAL_ADDRESS"]
    queue = task_queue or TASK_QUEUE

    def ready() -> None:
        print(f"worker ready: lab {lab}, task queue {queue} on {where}", flush=True)
        print(f"isolation: {isolation}", flush=True)

    try:
        asyncio.run(
            run_worker(
                grade_fn,
                address=where,
                key=key,
                store=where_store,
                task_queue=queue,
                jobs=jobs,
                ready=ready,
            )
        )
    except KeyboardInterrupt:
        pass
    finally:
        close()


@app.command()
def keygen(
    path: Annotated[Path, typer.Argument(help="The key file to write (must not exist).")],
) -> None:
    """Make the key distributed grading signs rows with: a new file, readable by you only.

    Copy it to each worker machine (mode 600) and pass --key-file to `labgrader grade` and
    `labgrader worker`.

    Example: labgrader keygen grading.key
    """
    from labgrader.errors import WorkerKeyError
    from labgrader.worker_auth import write_key

    try:
        write_key(path)
    except WorkerKeyError as exc:
        raise typer.BadParameter(str(exc)) from exc
    console.print(f"wrote a new worker key to {path} (mode 600)")


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
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No line per run: only the table.")
    ] = False,
) -> None:
    """Prove each lab: its solution earns full marks, its generated starter zero.

    The solution must pass every check, hidden ones too; the starter must pass none. Exit 1
    naming the failing checks otherwise. The engines the checks need start once for the
    whole run.

    Example: labgrader validate 01 02
    """
    import threading

    from labgrader.report import print_validation
    from labgrader.results import GradeResult, RunStatus
    from labgrader.validate import validate as run_validate

    if labs and all_labs:
        raise typer.BadParameter("name labs or pass --all, not both")
    if not labs and not all_labs:
        raise typer.BadParameter("name the labs to validate, or pass --all")
    lock = threading.Lock()

    def ran(lab: str, stage: str, result: GradeResult) -> None:
        if quiet:
            return
        with lock:
            if stage.startswith("mutant "):
                verdict = "caught" if not result.passed else "NOT caught"
            else:
                verdict = f"{result.points:g}/{result.max_points:g}"
                if result.status is not RunStatus.OK:
                    verdict += f" ({result.status.value})"
            err_console.print(
                f"[dim]{lab} {stage}: {verdict} in {result.duration:.1f} s[/]", highlight=False
            )

    def stage(text: str) -> None:
        if not quiet:
            err_console.print(f"[dim]{text}[/]", highlight=False)

    report = run_validate(
        labs=labs or None,
        course=_course(root),
        timeout=timeout,
        workers=workers,
        progress=ran,
        on_stage=stage,
    )
    if not report.notebooks:
        err_console.print("no labs to validate: solutions/ has no lab folders")
        raise typer.Exit(1)
    print_validation(report, console=console)
    raise typer.Exit(0 if report.ok else 1)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=version_option("orchlab", "labgrader"),
            is_eager=True,
            help="Print labgrader's version and exit.",
        ),
    ] = False,
) -> None:
    """Assign, check and grade orchlab's notebook labs."""


def main() -> None:
    """Entry point of the ``labgrader`` console script: errors become one line and exit 2."""
    try:
        run_app(app, "labgrader")
    except LabgraderError as exc:
        err_console.print(f"[bold red]labgrader:[/] {exc}", highlight=False)
        raise SystemExit(2) from None


__all__ = ["app", "main"]
