"""``orchlab report``: an HTML report of the last runs, from trace files and run records.

Exit codes: 0 the report is written, 2 a bad input (a missing or unreadable trace or
records file, no runs in them, an invalid SLO).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from orchlab.cli import app
from orchlab.cli._errors import USAGE_EXIT, fail
from orchlab.files import write_atomic

console = Console()


def _trace_files(sources: list[Path]) -> list[Path]:
    files: list[Path] = []
    for source in sources:
        if source.is_dir():
            files.extend(sorted(source.glob("*.jsonl")))
        elif source.is_file():
            files.append(source)
        else:
            fail(f"no trace file or folder at {source}", USAGE_EXIT)
    return files


@app.command("report")
def report_command(
    traces: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Trace files (orchlab run --trace) or folders of them (default: .state/traces)."
        ),
    ] = None,
    runs: Annotated[
        list[Path] | None,
        typer.Option("--runs", help="A run-records file (JSONL of RunRecord); repeatable."),
    ] = None,
    last: Annotated[int, typer.Option("--last", "-n", min=1, help="Report the last N runs.")] = 50,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="The HTML file (default: .state/reports/runs.html)."),
    ] = None,
    objective: Annotated[
        float, typer.Option(help="The SLO's objective: the share of good runs.")
    ] = 0.99,
    latency_seconds: Annotated[
        float | None,
        typer.Option(help="A latency SLO instead: a run is good when it took at most this."),
    ] = None,
    pipeline: Annotated[
        str | None, typer.Option(help="The SLO counts this pipeline's runs only.")
    ] = None,
    svg: Annotated[
        bool, typer.Option("--svg", help="Embed the figures as SVG instead of PNG.")
    ] = False,
) -> None:
    """Write an HTML report of the last runs: a step waterfall of the latest traced run
    with its critical path, a latency histogram, the SLO's burn rate over time, and the
    runs with their SLI and error budget. The figures are embedded: the page needs no
    other file and no network.

    Runs come from trace files (each run's root span; orchlab run --trace writes one per
    run) and from run-records files (written by orchlab.observability.RunRecorder); a run
    in both counts once.

    Example: orchlab report --last 20 -o report.html
    """
    from orchlab.config import get_settings
    from orchlab.observability import SLO, SLIKind, build_report, read_run_records, read_trace

    settings = get_settings()
    sources = list(traces or [])
    if not sources and settings.traces_dir.is_dir():
        sources = [settings.traces_dir]
    elif not sources and not runs:
        fail(
            f"no traces in {settings.traces_dir}: run a pipeline with --trace first, "
            "or name trace files or --runs files",
            USAGE_EXIT,
        )
    # An unreadable file is an OrchlabError and a ValueError: reported on one line, exit 2.
    spans = [span for path in _trace_files(sources) for span in read_trace(path)]
    records = [record for path in runs or [] for record in read_run_records(path)]
    kind: SLIKind = "latency" if latency_seconds is not None else "success"
    try:
        slo = SLO(f"pipelines_{kind}", objective=objective, kind=kind,
                  latency_seconds=latency_seconds, pipeline=pipeline)  # fmt: skip
        report = build_report(spans=spans, records=records, slo=slo, last=last,
                              image="svg" if svg else "png")  # fmt: skip
    except ValueError as exc:
        fail(str(exc), USAGE_EXIT)
    target = out or settings.state_dir / "reports" / "runs.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, report.html)
    budget = report.budget
    sli = f"{budget.sli:.2%}" if budget.sli is not None else "n/a"
    console.print(
        f"{len(report.runs)} runs: SLI {sli} against {objective:.2%}, "
        f"{budget.remaining:.0%} of the error budget left; report written to {target}",
        highlight=False,
        soft_wrap=True,
    )


__all__ = ["report_command"]
