"""``orchlab demo``: lab 01's reference pipeline, once on Prefect and once on Temporal.

It proves the point of the declarative spec: the same pipeline, two engines, the same
results. The engines come from TEMPORAL_ADDRESS / PREFECT_API_URL, a running ``make lab``,
or are started for the demo and stopped after it.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from orchlab.cli import app
from orchlab.cli._errors import fail
from orchlab.cli.run import _show_link
from orchlab.logs import quiet_engine_logs

console = Console()


@app.command()
def demo(
    spec: Annotated[str, typer.Argument(help="A spec file or a bundled example.")] = (
        "wine_training"
    ),
) -> None:
    """Run a pipeline on Prefect and on Temporal and show that both give the same results.

    Exit 1 when a run fails or the engines disagree.

    Example: orchlab demo
    """
    from orchlab.pipelines import PipelineResult, run_prefect, run_temporal
    from orchlab.runtime import connect_temporal, ensure_prefect, ensure_temporal

    # Prefect logs every task run at INFO, a Temporal worker every retried attempt: the
    # table below is the summary a person wants.
    with console.status("finding or starting the engines (Prefect takes 10-30 s)..."):
        temporal, prefect = ensure_temporal(), ensure_prefect()
    console.print(f"Temporal {temporal}, Prefect {prefect}", highlight=False)
    results: dict[str, PipelineResult] = {}
    timings: dict[str, float] = {}

    async def on_temporal(workdir: Path, registry: Path) -> PipelineResult:
        return await run_temporal(
            spec,
            client=await connect_temporal(address=temporal),
            task_queue=f"orchlab-demo-{uuid.uuid4().hex[:8]}",
            workdir=workdir,
            registry_dir=registry,
        )

    with quiet_engine_logs(), tempfile.TemporaryDirectory(prefix="orchlab-demo-") as tmp:
        for engine in ("prefect", "temporal"):
            started = time.monotonic()
            with console.status(f"running {spec} on {engine}..."):
                workdir, registry = Path(tmp) / engine, Path(tmp) / f"registry-{engine}"
                if engine == "prefect":
                    results[engine] = run_prefect(spec, workdir=workdir, registry_dir=registry)
                else:
                    results[engine] = asyncio.run(on_temporal(workdir, registry))
            timings[engine] = time.monotonic() - started

    table = Table("engine", "status", "steps", "seconds", "metrics (evaluate)", title=spec)
    for engine, result in results.items():
        evaluate = result.metrics.get("evaluate", {})
        shown = ", ".join(f"{k}={v:.4f}" for k, v in sorted(evaluate.items()))
        table.add_row(
            engine, result.status, str(len(result.steps)), f"{timings[engine]:.1f}", shown
        )
    console.print(table)
    failed = [engine for engine, result in results.items() if not result.succeeded]
    if failed:
        fail(f"failed on: {', '.join(failed)}")
    if results["prefect"].metrics != results["temporal"].metrics:
        fail("the engines disagree on the metrics")
    console.print("[green]same pipeline, two engines, identical metrics.[/]")
    for result in results.values():
        _show_link(result)


__all__ = ["demo"]
