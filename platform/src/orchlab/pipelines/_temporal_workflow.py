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
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from orchlab.errors import FailureClass
    from orchlab.pipelines._plan import ExecutionPlan, PlannedStep, resolve_inputs
    from orchlab.pipelines._result import PipelineOutcome, StepFailure
    from orchlab.pipelines._retry import StepRetry  # noqa: F401 - the converter resolves its hints
    from orchlab.pipelines._tasks import StepCall, StepOutput
    from orchlab.reliability._classify import DEFAULT_CLASSIFIER
    from orchlab.reliability._failure import FailureDetails, failure_details

RUN_STEP_ACTIVITY = "orchlab.run_step"
"""The name of the one generic activity that runs any step."""

DEFAULT_STEP_TIMEOUT = timedelta(minutes=10)
"""The start-to-close timeout of a step whose spec sets none."""


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
        """Run the plan; fail the workflow if a step fails (see :meth:`_failed` for the
        failure's details)."""
        for stage in input.plan.stages:
            self._running = [step.name for step in stage]
            await asyncio.gather(*(self._run_step(input, step) for step in stage))
            self._running = []
            if self._outcome.failures:
                raise self._failed(input.plan.pipeline)
        return self._outcome

    def _failed(self, pipeline: str) -> ApplicationError:
        # details[0] follows the one failure schema (the first failed step's failure, its
        # step named in `rule`); details[1] is the whole outcome, for run_temporal.
        name, first = next(iter(self._outcome.failures.items()))
        error_type, _, message = first.error.partition(": ")
        details = FailureDetails(
            first.failure_class or FailureClass.PERMANENT,
            error_type,
            message,
            first.attempts,
            rule=f"step {name!r}",
        )
        names = ", ".join(self._outcome.failures)
        return ApplicationError(
            f"pipeline {pipeline!r} failed at step(s): {names}",
            details.to_dict(),
            self._outcome,
            type="PipelineFailed",
            non_retryable=True,
        )

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
        # Timeouts and retries are set here, where the activity is called: the step's one
        # RetryPolicy, rendered for Temporal (retry policy, schedule-to-close deadline).
        policy = step.retry.policy(classifier=DEFAULT_CLASSIFIER)
        options = policy.temporal_activity_options(
            start_to_close=step.timeout_seconds or DEFAULT_STEP_TIMEOUT.total_seconds()
        )
        try:
            self._outcome.outputs[step.name] = await workflow.execute_activity(
                RUN_STEP_ACTIVITY,
                call,
                result_type=StepOutput,
                activity_id=step.name,
                summary=f"{step.name} ({step.task})",
                **options,
            )
        except ActivityError as err:
            details = failure_details(err)
            if details is not None:
                failure = StepFailure.from_details(step.name, details, policy.max_attempts)
            else:  # a timeout or cancellation decided by the server
                cause = err.cause or err
                text = f"{type(cause).__name__}: {cause}"
                failure = StepFailure(step.name, text, policy.max_attempts)
            self._outcome.failures[step.name] = failure


__all__ = ["DEFAULT_STEP_TIMEOUT", "RUN_STEP_ACTIVITY", "PipelineInput", "PipelineWorkflow"]
