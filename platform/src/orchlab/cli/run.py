"""``orchlab run``: run a declarative pipeline locally, on Prefect or on Temporal.

Exit codes: 0 the run succeeded (or the dry run's plan is valid), 1 the run failed or an
engine could not be reached, 2 the spec or a parameter is invalid (nothing ran).
"""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from orchlab.cli import app
from orchlab.errors import OrchlabError, SpecError

if TYPE_CHECKING:
    from orchlab.pipelines import ExecutionPlan, PipelineResult, PipelineSpec

console = Console()
err = Console(stderr=True)


class EngineName(StrEnum):
    """Where ``orchlab run`` runs a pipeline."""

    LOCAL = "local"
    PREFECT = "prefect"
    TEMPORAL = "temporal"


class _NoTraceback(logging.Filter):
    # Engines log a failed step with its traceback; the run summary already names the error.
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


def _quiet_engine_logs(engine: EngineName) -> None:
    if engine is EngineName.PREFECT:
        for name in ("prefect.flow_runs", "prefect.task_runs"):
            logging.getLogger(name).addFilter(_NoTraceback())
    elif engine is EngineName.TEMPORAL:
        # The worker warns about every failed activity attempt; the summary reports failures.
        logging.getLogger("temporalio").setLevel(logging.ERROR)


def _fail(message: str, code: int) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            _fail(f"--param expects key=value, got {pair!r}", 2)
        params[key.strip()] = value
    return params


def _show_plan(plan: ExecutionPlan, description: str) -> None:
    params = ", ".join(f"{k}={v}" for k, v in plan.params.items()) or "none"
    console.print(
        f"[bold]{plan.pipeline}[/] v{plan.version}: {len(plan.steps)} steps in "
        f"{len(plan.stages)} stages; params: {params}",
        highlight=False,
    )
    if description:
        console.print(f"[dim]{description.strip()}[/]", highlight=False)
    table = Table("stage", "step", "task", "needs", "retries", title="execution plan")
    for step in plan.steps:
        retries = f"{step.retries} x {step.retry_delay_seconds:g}s" if step.retries else "0"
        table.add_row(str(step.stage), step.name, step.task, ", ".join(step.needs) or "-", retries)
    console.print(table)


def _show_result(result: PipelineResult) -> None:
    colour = {"succeeded": "green", "failed": "red", "skipped": "yellow"}
    table = Table("stage", "step", "status", "attempts", "seconds", "detail", title="steps")
    metrics = result.metrics
    for step in result.steps:
        if step.error:
            detail = step.error
        elif step.name in metrics:
            detail = ", ".join(f"{k}={v:.4g}" for k, v in metrics[step.name].items())
        else:
            detail = ""
        table.add_row(
            str(step.stage),
            step.name,
            f"[{colour[step.status]}]{step.status}[/]",
            str(step.attempts),
            f"{step.duration_seconds:.2f}",
            detail,
        )
    console.print(table)
    console.print(
        f"run [bold]{result.run_id}[/] on {result.engine}: {result.status}; "
        f"artifacts in {result.workdir}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("run")
def run_command(
    spec: Annotated[
        str,
        typer.Argument(
            help="A pipeline spec (YAML file) or a bundled example, e.g. wine_training."
        ),
    ],
    engine: Annotated[
        EngineName, typer.Option("--engine", "-e", help="Where to run it.")
    ] = EngineName.LOCAL,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A pipeline parameter as key=value; repeatable."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and print the execution plan; run nothing.")
    ] = False,
    task_queue: Annotated[
        str, typer.Option("--task-queue", help="The Temporal task queue (a worker runs here).")
    ] = "orchlab-pipelines",
    workdir: Annotated[
        Path | None, typer.Option(help="The run's artifact folder (default: .state/runs/<id>).")
    ] = None,
    registry_dir: Annotated[
        Path | None, typer.Option(help="The model registry folder (default: .state/registry).")
    ] = None,
) -> None:
    """Run a pipeline spec on an engine, or validate it and show its plan with --dry-run.

    Engines are found the way `orchlab status` finds them: TEMPORAL_ADDRESS and
    PREFECT_API_URL when set, else the services started by `orchlab up` (or `make lab`).
    """
    from orchlab.pipelines import build_plan, load_spec

    params = _parse_params(param or [])
    try:
        loaded = load_spec(spec)
        plan = build_plan(loaded, params)
    except SpecError as exc:
        _fail(str(exc), 2)
    if dry_run:
        _show_plan(plan, loaded.description)
        return
    try:
        result = _run(loaded, params, engine, task_queue, workdir, registry_dir)
    except SpecError as exc:
        _fail(str(exc), 2)
    except OrchlabError as exc:
        _fail(str(exc), 1)
    except Exception as exc:  # an engine's own error: report it on one line
        first = (str(exc).strip().splitlines() or [""])[0]
        _fail(f"{engine.value} run failed: {type(exc).__name__}: {first}", 1)
    _show_result(result)
    if not result.succeeded:
        _fail(f"pipeline {result.pipeline!r} failed: {result.error}", 1)


def _run(
    spec: PipelineSpec,
    params: dict[str, str],
    engine: EngineName,
    task_queue: str,
    workdir: Path | None,
    registry_dir: Path | None,
) -> PipelineResult:
    from orchlab import runtime
    from orchlab.pipelines import run_local

    options: dict[str, Any] = {"workdir": workdir, "registry_dir": registry_dir}
    if engine is EngineName.LOCAL:
        return run_local(spec, params, **options)
    if engine is EngineName.PREFECT:
        url = runtime.prefect_api_url()
        from orchlab.pipelines import run_prefect

        _quiet_engine_logs(engine)
        return run_prefect(spec, params, api_url=url, **options)
    address = runtime.temporal_address()
    from orchlab.pipelines import run_temporal

    _quiet_engine_logs(engine)
    return asyncio.run(
        run_temporal(spec, params, address=address, task_queue=task_queue, **options)
    )


__all__ = ["EngineName", "run_command"]
