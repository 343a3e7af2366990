"""Rich tables for results: what ``labgrader check``, ``validate`` and ``assign`` print.

In Jupyter, rich renders the same tables as HTML below the cell.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from labgrader.assign import AssignReport, FileState
from labgrader.batch import BatchReport
from labgrader.gradebook import Row
from labgrader.results import GradeResult, RunStatus
from labgrader.validate import ValidationReport

_SKIPPED_SHOWN = 20
"""How many skipped files the summary lists (the log lists them all)."""


def _pts(value: float) -> str:
    return f"{value:g}"


def result_table(result: GradeResult, *, title: str | None = None) -> Table:
    """One row per exercise: passed or failed, points, and why each failing check failed."""
    table = Table(title=title or f"{result.lab}: {result.notebook}", title_justify="left")
    table.add_column("exercise", style="bold")
    table.add_column("result")
    table.add_column("points", justify="right")
    table.add_column("time", justify="right")
    table.add_column("why it failed", overflow="fold")
    ran = result.status is RunStatus.OK
    for ex in result.exercises:
        verdict = (
            Text("passed", style="green") if ex.passed and ran else Text("failed", style="red")
        )
        failed = [c for c in ex.checks if not c.passed]
        if len({c.message for c in failed}) == 1 and len(failed) > 1:
            reasons = [failed[0].message]  # one cause (e.g. not answered yet): say it once
        else:
            reasons = [f"{c.name.rpartition('::')[2]}: {c.message}" for c in failed]
        table.add_row(
            Text(ex.exercise),
            verdict,
            f"{_pts(ex.points)}/{_pts(ex.max_points)}",
            f"{ex.seconds:.2f} s",
            # Plain text: a check's message quotes learner values ("[1, 2]"), never markup.
            Text("\n".join(reasons)),
        )
    return table


def print_result(
    result: GradeResult,
    *,
    exercise: str | None = None,
    exercises: Sequence[str] = (),
    console: Console | None = None,
) -> None:
    """Print a result: its table, the total, and what went wrong with the run if anything."""
    console = console or Console()
    if not result.checks and result.status is RunStatus.OK:
        scope = f"exercise {exercise!r}" if exercise else "this lab"
        known = f" (the notebook's exercises: {', '.join(exercises)})" if exercises else ""
        console.print(
            Text(f"no checks to run for {scope} in lab {result.lab}{known}", style="yellow")
        )
        return
    console.print(result_table(result))
    if result.status is not RunStatus.OK:
        console.print(Text(f"run {result.status.value}: {result.message}", style="red"))
    for note in result.notes:
        console.print(Text(f"note: {note}", style="dim"))
    style = "green" if result.passed else "red"
    console.print(
        Text(f"{_pts(result.points)}/{_pts(result.max_points)} points", style=f"bold {style}")
        + Text(f" in {result.duration:.1f} s", style="dim")
    )


def result_html(result: GradeResult) -> str:
    """A check cell's output in JupyterLab: one compact table, a mark per check, the total."""
    from labgrader.feedback import templates

    checks = [
        {
            "exercise": c.exercise,
            "short": c.name.rpartition("::")[2],
            "passed": c.passed and result.status is RunStatus.OK,
            "points": c.points,
            "max_points": c.max_points,
            "seconds": c.seconds,
            "message": c.message,
        }
        for c in result.checks
    ]
    problem = (
        f"run {result.status.value}: {result.message}" if result.status is not RunStatus.OK else ""
    )
    if not result.checks and not problem:
        problem = f"no checks to run in lab {result.lab}"
    return (
        templates()
        .get_template("check_result.html.j2")
        .render(
            checks=checks,
            problem=problem,
            passed=result.passed,
            points=result.points,
            max_points=result.max_points,
            duration=result.duration,
        )
    )


def validation_table(report: ValidationReport) -> Table:
    """One row per solution notebook: solution score, starter score, maximum, verdict."""
    table = Table(title="labgrader validate", title_justify="left")
    # A lab's notebook is usually named after the lab: show it only when it adds something.
    show_notebook = any(n.notebook != f"{n.lab}.ipynb" for n in report.notebooks)
    right = {"solution", "starter", "max", "mutants caught"}
    columns = ["lab", *(["notebook"] if show_notebook else []), "solution", "starter", "max"]
    for column in (*columns, "mutants caught", "result"):
        table.add_column(
            column, justify="right" if column in right else "left", no_wrap=column == "lab"
        )
    for n in report.notebooks:
        verdict = (
            Text("ok", style="green")
            if n.ok
            else Text(f"{len(n.problems)} problem(s)", style="red")
        )
        table.add_row(
            n.lab,
            *([n.notebook] if show_notebook else []),
            _pts(n.solution.points),
            _pts(n.starter.points),
            _pts(n.solution.max_points),
            f"{n.mutants_caught}/{len(n.mutants)}" if n.mutants else "-",
            verdict,
        )
    return table


def print_validation(report: ValidationReport, *, console: Console | None = None) -> None:
    """Print the validation table, then every problem found."""
    console = console or Console()
    console.print(validation_table(report))
    for n in report.notebooks:
        for problem in n.problems:
            console.print(Text(f"{n.lab}: {problem}", style="red"))


def batch_table(report: BatchReport) -> Table:
    """One row per submission: learner, status, score, and what went wrong."""
    table = Table(title=f"{report.lab}: {len(report.rows)} submission(s)", title_justify="left")
    table.add_column("learner", style="bold")
    table.add_column("status")
    table.add_column("score", justify="right")
    table.add_column("message", overflow="fold")
    styles = {
        "graded": "green",
        "timeout": "yellow",
        "crashed": "red",
        "invalid": "red",
        "error": "magenta",
    }
    for row in report.rows:
        table.add_row(
            Text(row.learner),  # file names and messages are the learners': never markup
            Text(row.status.value, style=styles[row.status.value]),
            f"{_pts(row.score)}/{_pts(row.max_score)}",
            Text(row.message),
        )
    return table


def print_batch(report: BatchReport, *, console: Console | None = None) -> None:
    """Print a batch's table, its counts and where the files are."""
    console = console or Console()
    console.print(batch_table(report))
    counts = ", ".join(f"{v} {k}" for k, v in report.counts().items() if v)
    reused = f" ({report.reused} unchanged, kept from the last run)" if report.reused else ""
    console.print(
        Text(f"{counts}{reused} in {report.duration:.1f} s", style="bold")
        + Text(f"\ngradebook: {report.out / 'gradebook.csv'}", style="dim")
        + (Text(f"\nlog: {report.log}", style="dim") if report.log else Text(""))
    )
    if report.skipped:
        console.print(Text(f"{len(report.skipped)} file(s) or folder(s) skipped:", style="yellow"))
        for item in report.skipped[:_SKIPPED_SHOWN]:
            console.print(Text(f"  {item.line()}", style="yellow"), overflow="fold")
        if len(report.skipped) > _SKIPPED_SHOWN:
            left = len(report.skipped) - _SKIPPED_SHOWN
            console.print(Text(f"  ... and {left} more: see {report.log}", style="yellow"))
    errors = report.counts().get("error", 0)
    if errors:
        console.print(
            Text(
                f"{errors} submission(s) hit an error of the grader's (not the learners'): "
                "their tracebacks are in the log; regrade them with --force once fixed",
                style="magenta",
            )
        )
    flagged = [r for r in report.rows if r.review]
    if flagged:
        names = ", ".join(f"{r.learner} ({len(r.review)})" for r in flagged[:10])
        more = f" and {len(flagged) - 10} more" if len(flagged) > 10 else ""
        console.print(
            Text(f"flagged for review: {names}{more}", style="yellow")
            + Text(" (the review column; the notes in their feedback.html)", style="dim")
        )
    slow = slowest_checks(report.rows)
    if slow:
        console.print(
            Text("slowest checks (median seconds): ", style="dim")
            + Text(", ".join(f"{name} {sec:.2f}" for name, sec in slow), style="dim")
        )
    if report.isolation:
        console.print(Text(f"isolation: {report.isolation}", style="dim"))


def slowest_checks(rows: Sequence[Row], count: int = 5) -> list[tuple[str, float]]:
    """The checks with the largest median time over the rows that ran them, slowest first."""
    times: dict[str, list[float]] = {}
    for row in rows:
        for c in row.checks:
            if c.get("seconds"):
                times.setdefault(c["name"], []).append(float(c["seconds"]))
    medians = [(name, statistics.median(ts)) for name, ts in times.items()]
    return sorted(medians, key=lambda item: (-item[1], item[0]))[:count]


def print_assign(report: AssignReport, *, check: bool, console: Console | None = None) -> None:
    """Print what assign wrote, kept, or (with ``check``) found out of date."""
    console = console or Console()
    for f in report.files:
        if f.state is FileState.FRESH:
            continue
        if f.state is FileState.WRITTEN:
            console.print(f"wrote {f.path}")
        elif f.state is FileState.KEPT:
            console.print(
                Text(
                    f"kept {f.path}: it has outputs (someone's work); --force overwrites it",
                    style="yellow",
                )
            )
        elif f.state is FileState.EXTRA:
            console.print(
                Text(
                    f"{f.path} has no solution notebook in solutions/{f.lab}/: delete it",
                    style="red",
                )
            )
        else:
            console.print(
                Text(
                    f"{f.path} is {f.state.value}: run `labgrader assign` to regenerate it",
                    style="red",
                )
            )
    if check and report.ok:
        count = len(report.files)
        console.print(
            Text(f"labs are up to date ({count} notebook{'s' * (count != 1)})", style="green")
        )


__all__ = [
    "batch_table",
    "print_assign",
    "print_batch",
    "print_result",
    "print_validation",
    "result_html",
    "result_table",
    "slowest_checks",
    "validation_table",
]
