"""``orchlab chaos report|cleanup``: resilience reports from chaostoolkit journals, and
stopping what experiments left running.

Run experiments with chaostoolkit itself (``chaos --no-version-check run EXPERIMENT
--journal-path J``; ``make chaos`` runs every one in ``chaos/``). Exit codes of ``report``:
0 every run went as expected (held; a run given with ``--without-mitigation`` deviated),
1 one did not, 2 a file is not a journal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from orchlab.cli import app
from orchlab.cli._errors import USAGE_EXIT, fail

chaos_app = typer.Typer(
    name="chaos",
    help="Resilience reports from chaos experiments' journals.",
    no_args_is_help=True,
)
app.add_typer(chaos_app)

console = Console()


@chaos_app.command("report")
def report_command(
    journals: Annotated[
        list[Path], typer.Argument(help="chaostoolkit journals (journal.json files).")
    ],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for resilience-report.md and .html.")
    ] = Path(".state/chaos/report"),
    without_mitigation: Annotated[
        list[Path] | None,
        typer.Option(
            "--without-mitigation",
            help="A journal of a run with the mitigation off: expected to deviate (repeatable).",
        ),
    ] = None,
) -> None:
    """Turn journals into a Markdown and HTML resilience report: per experiment the
    hypothesis before and after, each fault, the deviations and the rollbacks.

    Exit 1 when a run did not complete, deviated, or (given with --without-mitigation)
    held although its mitigation was off.

    Example: orchlab chaos report .state/chaos/journals/*.json --out .state/chaos/report
    """
    from orchlab.chaos import resilience_report

    controls = list(without_mitigation or [])
    for journal in [*journals, *controls]:
        if not journal.is_file():
            fail(f"no journal at {journal}", USAGE_EXIT)
    md_path, html_path, summaries = resilience_report(
        list(journals), out, without_mitigation=list(controls)
    )
    for summary in summaries:
        colour = "green" if summary.as_expected else "red"
        note = " (without mitigation)" if summary.control else ""
        console.print(
            f"[{colour}]{summary.verdict:<9}[/] {summary.title}{note}  [dim]{summary.source}[/]",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"report: {md_path} and {html_path}", highlight=False, soft_wrap=True)
    if not all(s.as_expected for s in summaries):
        raise typer.Exit(1)


@chaos_app.command("cleanup")
def cleanup_command(
    chaos_dir: Annotated[
        Path | None,
        typer.Option("--chaos-dir", help="The experiments' state folder (default .state/chaos)."),
    ] = None,
) -> None:
    """Stop every process chaos actions started (workers, proxies, servers) and forget them.

    Example: orchlab chaos cleanup
    """
    from orchlab.chaos import chaos_dir as default_dir
    from orchlab.chaos._owned import stop_all

    folder = chaos_dir or default_dir()
    stopped = stop_all(folder) if folder.is_dir() else []
    console.print(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")


__all__ = ["cleanup_command", "report_command"]
