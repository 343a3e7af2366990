"""Run a pipeline as a Prefect 3 flow: one Prefect task run per step.

The flow walks the plan stage by stage and submits a stage's steps together, so
independent steps run concurrently on the flow's task runner. Each step's retry policy
(:class:`orchlab.reliability.RetryPolicy`) is rendered with its
:meth:`~orchlab.reliability.RetryPolicy.prefect_task_options`: ``retries``,
``retry_delay_seconds`` (the backoff's delays), ``retry_jitter_factor`` and a
``retry_condition_fn`` that retries only what
:data:`orchlab.reliability.DEFAULT_CLASSIFIER` calls transient and stops at the deadline,
as the Temporal adapter and the local runner do.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict
from pathlib import Path
from typing import Any

from prefect import Task, flow, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run as current_flow_run
from prefect.runtime import task_run as current_task_run
from prefect.settings import PREFECT_API_URL, temporary_settings

from orchlab.errors import OrchlabError
from orchlab.observability._instrument import observe_run
from orchlab.pipelines._local import RunSetup, SpecSource, new_run_id, prepare_run
from orchlab.pipelines._plan import ExecutionPlan, PlannedStep
from orchlab.pipelines._result import PipelineOutcome, PipelineResult, StepFailure
from orchlab.pipelines._scheduled_workflow import ScheduledRun, scheduled_params
from orchlab.pipelines._spec import PipelineSpec
from orchlab.pipelines._tasks import StepCall, StepOutput, execute_step
from orchlab.reliability._classify import DEFAULT_CLASSIFIER


class _StepsFailed(OrchlabError, RuntimeError):
    """Raised by the flow so Prefect records it as failed; carries what was collected."""

    def __init__(self, outcome: PipelineOutcome) -> None:
        names = ", ".join(outcome.failures)
        super().__init__(f"step(s) failed: {names}")
        self.outcome = outcome


_ATTEMPT = "orchlab_attempt"  # set on a step's exception: the attempt it ended


@task(name="pipeline-step", cache_policy=NO_CACHE, persist_result=False)
def run_step_task(call: dict[str, Any]) -> dict[str, Any]:
    """The Prefect task behind every step: run it with :func:`execute_step`.

    A failure is raised as it is (the attempt it ended noted on it), so that Prefect
    records the real error and the step's ``retry_condition_fn`` classifies it.
    """
    step_call = StepCall(**call)
    step_call.attempt = int(current_task_run.run_count or 1)
    try:
        return asdict(execute_step(step_call))
    except Exception as exc:
        # Prefect hands the flow this very object; its server's task-run record is
        # written asynchronously, so reading the run count back there races.
        with contextlib.suppress(AttributeError, TypeError):
            setattr(exc, _ATTEMPT, step_call.attempt)
        raise


def _attempt_of(exc: BaseException, default: int) -> int:
    attempt = getattr(exc, _ATTEMPT, None)
    return attempt if isinstance(attempt, int) and attempt >= 1 else default


def step_task(step: PlannedStep) -> Task[..., dict[str, Any]]:
    """The task that runs ``step``: its name, timeout and rendered retry policy."""
    policy = step.retry.policy(classifier=DEFAULT_CLASSIFIER)
    return run_step_task.with_options(
        name=step.name,
        task_run_name=step.name,
        timeout_seconds=step.timeout_seconds,
        **policy.prefect_task_options(),
    )


@flow(name="orchlab-pipeline", persist_result=False, validate_parameters=False)
def pipeline_flow(
    plan: dict[str, Any], run_id: str, workdir: str, registry_dir: str | None = None
) -> dict[str, Any]:
    """The Prefect flow behind every pipeline: interpret the plan, stage by stage."""
    setup = RunSetup(
        plan=ExecutionPlan.from_dict(plan),
        run_id=run_id,
        workdir=Path(workdir),
        registry_dir=Path(registry_dir) if registry_dir else None,
    )
    outcome = PipelineOutcome(engine_run_id=str(current_flow_run.id or ""))
    for stage in setup.plan.stages:
        futures = {
            step.name: step_task(step).submit(asdict(setup.call(step, outcome.outputs)))
            for step in stage
        }
        for step in stage:
            try:
                outcome.outputs[step.name] = StepOutput(**futures[step.name].result())
            except Exception as exc:  # the step's failure, or a timeout Prefect raised
                attempt = _attempt_of(exc, default=step.retry.max_attempts)
                details = DEFAULT_CLASSIFIER.details(exc, attempt=attempt)
                outcome.failures[step.name] = StepFailure.from_details(step.name, details, attempt)
        if outcome.failures:
            raise _StepsFailed(outcome)
    return asdict(outcome)


@flow(name="orchlab-scheduled-pipeline", persist_result=False, validate_parameters=False)
def scheduled_pipeline_flow(run: dict[str, Any]) -> dict[str, Any]:
    """What a pipeline's Prefect deployment runs: plan for the scheduled time, then run.

    ``run`` is :func:`orchlab.pipelines.scheduled_run` as a dict. The scheduled time is the
    flow run's own (``prefect.runtime.flow_run.scheduled_start_time``), so a late run still
    processes the day it was scheduled for.
    """
    scheduled = ScheduledRun(**run)
    spec = PipelineSpec.from_dict(scheduled.spec)
    run_id = new_run_id(spec.name)
    setup = prepare_run(
        spec,
        scheduled_params(scheduled, current_flow_run.scheduled_start_time),
        workdir=Path(scheduled.workdir_root) / run_id if scheduled.workdir_root else None,
        registry_dir=scheduled.registry_dir,
        run_id=run_id,
    )
    result: dict[str, Any] = pipeline_flow.with_options(
        name=setup.plan.pipeline, flow_run_name=setup.run_id
    )(
        plan=setup.plan.to_dict(),
        run_id=setup.run_id,
        workdir=str(setup.workdir),
        registry_dir=str(setup.registry_dir) if setup.registry_dir else None,
    )
    return result


def run_prefect(
    spec: SpecSource,
    params: Mapping[str, object] | None = None,
    *,
    api_url: str | None = None,
    workdir: Path | str | None = None,
    registry_dir: Path | str | None = None,
    run_id: str | None = None,
) -> PipelineResult:
    """Run a pipeline as a Prefect flow and wait for it.

    Args:
        spec: The spec, a path to one, or a bundled example's name.
        params: Run parameters (native values or text).
        api_url: The Prefect API (``http://host:port/api``). By default Prefect's own
            setting (``PREFECT_API_URL``); when that is unset too, the server found by
            :func:`orchlab.runtime.prefect_api_url`, so no throwaway server is started.
        workdir: The run's artifact folder.
        registry_dir: The model registry folder.
        run_id: The run's id, also the flow run's name.

    Returns:
        The run's result; a failed step gives ``status == "failed"``, not an exception.

    Raises:
        SpecError: When the spec or a parameter is invalid (nothing has run).
        ServiceError: When no Prefect API is configured or found.
    """
    setup = prepare_run(spec, params, workdir=workdir, registry_dir=registry_dir, run_id=run_id)
    from orchlab import runtime

    url = api_url
    if url is None and not PREFECT_API_URL.value():
        url = runtime.prefect_api_url()
    target = url or str(PREFECT_API_URL.value())
    runtime.reach_prefect(target, source=runtime.prefect_api_source(target))
    settings: AbstractContextManager[Any] = (
        temporary_settings({PREFECT_API_URL: url}) if url else nullcontext()
    )
    configured = pipeline_flow.with_options(name=setup.plan.pipeline, flow_run_name=setup.run_id)
    # Prefect traces the flow run and its task runs itself, under the current span.
    with settings, observe_run(setup, "prefect") as observed:
        try:
            raw = configured(
                plan=setup.plan.to_dict(),
                run_id=setup.run_id,
                workdir=str(setup.workdir),
                registry_dir=str(setup.registry_dir) if setup.registry_dir else None,
            )
            outcome = PipelineOutcome.from_dict(raw)
        except _StepsFailed as exc:
            outcome = exc.outcome
        return observed.finish(setup.finish(outcome, "prefect"))


__all__ = ["pipeline_flow", "run_prefect", "run_step_task", "scheduled_pipeline_flow", "step_task"]
