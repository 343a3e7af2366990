"""The Temporal workflow that interprets an execution plan.

The workflow only orchestrates: it walks the plan's stages, starts one activity per step
(a stage's steps concurrently), and passes artifact references from step to step. It does
no I/O and reads no clock, so replaying its history always takes the same path. The data
work happens in the ``orchlab.run_step`` activity (:mod:`orchlab.pipelines._temporal`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from orchlab.pipelines._plan import ExecutionPlan, PlannedStep, resolve_inputs
    from orchlab.pipelines._result import PipelineOutcome, StepFailure
    from orchlab.pipelines._tasks import StepCall, StepOutput

RUN_STEP_ACTIVITY = "orchlab.run_step"
"""The name of the one generic activity that runs any step."""

DEFAULT_STEP_TIMEOUT = timedelta(minutes=10)
"""The start-to-close timeout of a step whose spec sets none."""

_MIN_RETRY_INTERVAL = timedelta(milliseconds=100)


@dataclass
class PipelineInput:
    """The workflow's single input."""

    plan: ExecutionPlan
    """The plan to run."""
    run_id: str
    """The run's id."""
    workdir: str
    """The run's artifact folder, visible to every worker."""
    registry_dir: str | None = None
    """The model registry folder, or None for the workers' default."""


@workflow.defn(name="orchlab-pipeline")
class PipelineWorkflow:
    """Run an execution plan: stages in order, a stage's steps concurrently."""

    def __init__(self) -> None:
        self._outcome = PipelineOutcome()
        self._running: list[str] = []

    @workflow.query
    def progress(self) -> dict[str, list[str]]:
        """Which steps succeeded, failed and are running now."""
        return {
            "succeeded": list(self._outcome.outputs),
            "failed": list(self._outcome.failures),
            "running": list(self._running),
        }

    @workflow.run
    async def run(self, input: PipelineInput) -> PipelineOutcome:
        """Run the plan; fail the workflow (with the outcome as details) if a step fails."""
        for stage in input.plan.stages:
            self._running = [step.name for step in stage]
            await asyncio.gather(*(self._run_step(input, step) for step in stage))
            self._running = []
            if self._outcome.failures:
                names = ", ".join(self._outcome.failures)
                raise ApplicationError(
                    f"pipeline {input.plan.pipeline!r} failed at step(s): {names}",
                    self._outcome,
                    type="PipelineFailed",
                    non_retryable=True,
                )
        return self._outcome

    async def _run_step(self, input: PipelineInput, step: PlannedStep) -> None:
        call = StepCall(
            run_id=input.run_id,
            step=step.name,
            task=step.task,
            params=step.params,
            inputs=resolve_inputs(step, self._outcome.outputs),
            workdir=input.workdir,
            registry_dir=input.registry_dir,
        )
        # Timeouts and retries are set here, where the activity is called.
        timeout = (
            timedelta(seconds=step.timeout_seconds)
            if step.timeout_seconds
            else DEFAULT_STEP_TIMEOUT
        )
        retry = RetryPolicy(
            initial_interval=max(timedelta(seconds=step.retry_delay_seconds), _MIN_RETRY_INTERVAL),
            backoff_coefficient=1.0,
            maximum_attempts=step.retries + 1,
        )
        try:
            self._outcome.outputs[step.name] = await workflow.execute_activity(
                RUN_STEP_ACTIVITY,
                call,
                result_type=StepOutput,
                activity_id=step.name,
                summary=f"{step.name} ({step.task})",
                start_to_close_timeout=timeout,
                retry_policy=retry,
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError):
                attempts = int(cause.details[0]) if cause.details else step.retries + 1
                text = f"{cause.type}: {cause.message}" if cause.message else str(cause.type)
            else:  # a timeout or cancellation decided by the server
                attempts = step.retries + 1
                text = f"{type(cause or err).__name__}: {cause or err}"
            self._outcome.failures[step.name] = StepFailure(step.name, text, attempts)


__all__ = ["DEFAULT_STEP_TIMEOUT", "RUN_STEP_ACTIVITY", "PipelineInput", "PipelineWorkflow"]
