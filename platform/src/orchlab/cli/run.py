"""``orchlab run``: run a declarative pipeline locally, on Prefect or on Temporal.

Exit codes: 0 the run succeeded (or the dry run's plan is valid), 1 the run failed or an
engine could not be reached, 2 the spec or a parameter is invalid (nothing ran).
"""

from __future__ import annotations

import asyncio
from contextlib import AbstractContextManager, nullcontext
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from orchlab.cli import app
from orchlab.cli._errors import USAGE_EXIT, fail
from orchlab.logs import quiet_engine_logs

if TYPE_CHECKING:
    from orchlab.pipelines import ExecutionPlan, PipelineResult, PipelineSpec

console = Console()


class TrackerChoice(StrEnum):
    """Where ``orchlab run --track`` records the run."""

    MLFLOW = "mlflow"
    WANDB = "wandb"


class EngineName(StrEnum):
    """Where ``orchlab run`` runs a pipeline."""

    LOCAL = "local"
    PREFECT = "prefect"
    TEMPORAL = "temporal"


def _parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--param expects key=value, got {pair!r}", USAGE_EXIT)
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
    _show_link(result)


def _show_link(result: PipelineResult) -> None:
    """The run's id in its engine and, when its UI is up, a direct link to it."""
    from orchlab.runtime import run_link

    if not result.engine_run_id:
        return
    kind = "workflow" if result.engine == "temporal" else "flow run"
    link = run_link(result.engine, result.engine_run_id)
    where = f": {link}" if link else " (no UI known: `make lab` starts one)"
    console.print(
        f"{result.engine} {kind} [bold]{result.engine_run_id}[/]{where}",
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
    trace: Annotated[
        bool,
        typer.Option(
            "--trace", help="Write the run's trace (JSON lines) to .state/traces/<run id>.jsonl."
        ),
    ] = False,
    trace_file: Annotated[
        Path | None,
        typer.Option("--trace-file", help="Write the run's trace to this file (implies --trace)."),
    ] = None,
    track: Annotated[
        TrackerChoice | None,
        typer.Option(
            "--track",
            help="Record the run in MLflow (.state/mlflow) or W&B offline (.state/wandb).",
        ),
    ] = None,
) -> None:
    """Run a pipeline spec on an engine, or validate it and show its plan with --dry-run.

    Engines are found the way `orchlab status` finds them: a configured Temporal
    (TEMPORAL_ADDRESS or a Temporal profile, with its TLS and API key) and PREFECT_API_URL
    (with PREFECT_API_KEY) when set, else the services started by `orchlab up` (or
    `make lab`).

    With --trace, the run's spans (the run, each step attempt, and the engine's own flow,
    task, workflow and activity spans) are written to a JSONL file and drawn as a tree;
    with OTEL_EXPORTER_OTLP_ENDPOINT set they also go to that collector. With --track, the
    run (parameters, step metrics, the registered model) is recorded in a local MLflow store
    or an offline W&B run (no account, no network).

    Example: orchlab run wine_training --engine temporal -p seed=7 --trace
    """
    from orchlab.pipelines import build_plan, load_spec

    params = _parse_params(param or [])
    loaded = load_spec(spec)
    plan = build_plan(loaded, params)
    if dry_run:
        _show_plan(plan, loaded.description)
        return
    # Engines log a failed step with its traceback, and a Temporal worker warns on every
    # failed attempt: the run summary below already names each error.
    quiet = (
        nullcontext()
        if engine is EngineName.LOCAL
        else quiet_engine_logs("prefect", "temporal", tracebacks=False)
    )
    from orchlab.pipelines._local import new_run_id

    run_id = new_run_id(loaded.name)
    trace_path = trace_file or (_default_trace_path(run_id) if trace else None)
    with quiet, _tracing(trace_path):
        result = _run(loaded, params, engine, task_queue, workdir, registry_dir, run_id)
    _show_result(result)
    if track is not None:
        _track(track, result)
    if trace_path is not None:
        _show_trace(trace_path)
    if not result.succeeded:
        fail(f"pipeline {result.pipeline!r} failed: {result.error}")


def _track(choice: TrackerChoice, result: PipelineResult) -> None:
    from orchlab.observability import TrackerError, make_tracker, track_result

    try:
        tracked = track_result(make_tracker(choice.value), result)
    except TrackerError as exc:
        fail(str(exc))
    console.print(f"tracked in {choice.value} as run {tracked}", highlight=False, soft_wrap=True)


def _default_trace_path(run_id: str) -> Path:
    from orchlab.config import get_settings

    return get_settings().traces_dir / f"{run_id}.jsonl"


def _tracing(path: Path | None) -> AbstractContextManager[Any]:
    if path is None:
        return nullcontext()
    from orchlab.observability import trace_to_file

    return trace_to_file(path)


def _show_trace(path: Path) -> None:
    from orchlab.observability import read_trace, span_tree

    records = read_trace(path)
    traces = len({r.trace_id for r in records})
    console.print(span_tree(records), highlight=False, soft_wrap=True, markup=False)
    console.print(
        f"trace: {len(records)} spans in {traces} trace(s), written to {path}",
        highlight=False,
        soft_wrap=True,
    )


def _run(
    spec: PipelineSpec,
    params: dict[str, str],
    engine: EngineName,
    task_queue: str,
    workdir: Path | None,
    registry_dir: Path | None,
    run_id: str,
) -> PipelineResult:
    from orchlab import runtime
    from orchlab.pipelines import run_local

    options: dict[str, Any] = {"workdir": workdir, "registry_dir": registry_dir, "run_id": run_id}
    if engine is EngineName.LOCAL:
        return run_local(spec, params, **options)
    if engine is EngineName.PREFECT:
        url = runtime.prefect_api_url()
        runtime.use_prefect(url)  # with the configured API key, if any
        # Parameters checked and the server reached before Prefect is imported (seconds of
        # imports), so a bad parameter or an unreachable server fails at once.
        from orchlab.pipelines import build_plan

        build_plan(spec, params)
        runtime.reach_prefect(url, source=runtime.prefect_api_source(url))
        from orchlab.pipelines import run_prefect

        return run_prefect(spec, params, api_url=url, **options)
    from orchlab.pipelines import run_temporal

    async def on_temporal() -> PipelineResult:
        client = await runtime.connect_temporal()  # TLS, API key, namespace as configured
        return await run_temporal(spec, params, client=client, task_queue=task_queue, **options)

    return asyncio.run(on_temporal())


__all__ = ["EngineName", "TrackerChoice", "run_command"]
