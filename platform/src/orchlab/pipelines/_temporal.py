"""Run a pipeline as a Temporal workflow: one activity execution per step.

:func:`run_step_activity` is the one generic activity: it runs any step with
:func:`orchlab.pipelines.execute_step` and turns a failure into an ``ApplicationError``
with :meth:`orchlab.reliability.FailureClassifier.to_temporal` (non-retryable unless
transient, the failure's :class:`~orchlab.reliability.FailureDetails` in ``details[0]``),
so the step's ``RetryPolicy`` only spends attempts on transient failures.
:func:`create_worker` builds a worker for a task queue (run it on as many machines as you
like, all seeing the run folder); :func:`run_temporal` can also run one for the duration
of a single pipeline run, as Temporal's samples do.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from orchlab import __version__
from orchlab.observability._instrument import observe_run, temporal_client_for_run
from orchlab.pipelines._local import SpecSource, prepare_run
from orchlab.pipelines._result import PipelineOutcome, PipelineResult
from orchlab.pipelines._scheduled_workflow import (
    PLAN_ACTIVITY,
    PlanCall,
    ScheduledPipelineWorkflow,
    scheduled_params,
)
from orchlab.pipelines._spec import PipelineSpec
from orchlab.pipelines._tasks import StepCall, StepOutput, execute_step
from orchlab.pipelines._temporal_workflow import RUN_STEP_ACTIVITY, PipelineInput, PipelineWorkflow
from orchlab.reliability._classify import DEFAULT_CLASSIFIER

DEFAULT_TASK_QUEUE = "orchlab-pipelines"
"""The task queue pipelines run on unless told otherwise."""


@activity.defn(name=RUN_STEP_ACTIVITY)
def run_step_activity(call: StepCall) -> StepOutput:
    """Run one pipeline step (a synchronous activity: workers need an executor).

    Raises:
        ApplicationError: On failure, from
            :meth:`orchlab.reliability.FailureClassifier.to_temporal`: non-retryable unless
            the failure is transient, its ``details[0]`` the failure's
            :class:`orchlab.reliability.FailureDetails` (class, error, attempt). A step
            that raises an already classified ``ApplicationError`` (one wrapped with
            ``FailureClassifier.temporal_activity``) keeps its classification.
    """
    call.attempt = activity.info().attempt
    try:
        return execute_step(call)
    except Exception as exc:
        error = DEFAULT_CLASSIFIER.to_temporal(exc)
        if error is exc:  # already classified: as it is (`from` itself would loop)
            raise
        raise error from exc


@activity.defn(name=PLAN_ACTIVITY)
def plan_scheduled_run(call: PlanCall) -> PipelineInput:
    """Bind the parameters for the scheduled time and plan the run (on a worker)."""
    when = datetime.fromisoformat(call.scheduled_for)
    workdir = f"{call.run.workdir_root}/{call.run_id}" if call.run.workdir_root else None
    setup = prepare_run(
        PipelineSpec.from_dict(call.run.spec),
        scheduled_params(call.run, when),
        workdir=workdir,
        registry_dir=call.run.registry_dir,
        run_id=call.run_id,
    )
    return PipelineInput(
        plan=setup.plan,
        run_id=setup.run_id,
        workdir=str(setup.workdir),
        registry_dir=str(setup.registry_dir) if setup.registry_dir else None,
    )


def create_worker(
    client: Client,
    task_queue: str = DEFAULT_TASK_QUEUE,
    *,
    activity_executor: Executor,
    max_concurrent_activities: int = 4,
    build_id: str | None = None,
) -> Worker:
    """A worker that runs pipeline workflows (scheduled ones too) and steps from ``task_queue``.

    Args:
        client: A connected Temporal client.
        task_queue: The queue to poll.
        activity_executor: Runs the (synchronous) step activities, for example a
            ``ThreadPoolExecutor``; the caller shuts it down.
        max_concurrent_activities: How many steps this worker runs at once.
        build_id: Identifies the worker's code; by default ``orchlab-<version>``. (Left
            unset, Temporal hashes every loaded module, which takes seconds.)
    """
    return Worker(
        client,
        task_queue=task_queue,
        # The schedule's small workflow plans each run, then runs it as a PipelineWorkflow.
        workflows=[PipelineWorkflow, ScheduledPipelineWorkflow],
        activities=[run_step_activity, plan_scheduled_run],
        activity_executor=activity_executor,
        max_concurrent_activities=max_concurrent_activities,
        build_id=build_id or f"orchlab-{__version__}",
    )


async def run_temporal(
    spec: SpecSource,
    params: Mapping[str, object] | None = None,
    *,
    client: Client | None = None,
    address: str | None = None,
    namespace: str | None = None,
    task_queue: str = DEFAULT_TASK_QUEUE,
    run_worker: bool = True,
    workdir: Path | str | None = None,
    registry_dir: Path | str | None = None,
    run_id: str | None = None,
) -> PipelineResult:
    """Run a pipeline as a Temporal workflow and wait for it.

    Args:
        spec: The spec, a path to one, or a bundled example's name.
        params: Run parameters (native values or text).
        client: A connected client; else one is connected to ``address``.
        address: The Temporal frontend (``host:port``); by default
            :func:`orchlab.runtime.temporal_address`.
        namespace: The namespace when connecting; by default the configured one.
        task_queue: The task queue for the workflow and its activities.
        run_worker: Run a worker in this process for the duration of the run. Pass False
            when workers already poll ``task_queue``.
        workdir: The run's artifact folder; every worker must see it.
        registry_dir: The model registry folder.
        run_id: The run's id; the workflow id is ``<pipeline>/<run id>``.

    Returns:
        The run's result; a failed step gives ``status == "failed"``, not an exception.

    Raises:
        SpecError: When the spec or a parameter is invalid (nothing has run).
        ServiceError: When no Temporal address is given or found.
    """
    setup = prepare_run(spec, params, workdir=workdir, registry_dir=registry_dir, run_id=run_id)
    if client is None:
        from orchlab import runtime

        client = await runtime.connect_temporal(address=address, namespace=namespace)
    # When spans are exported, the workflow and its activities join the run's trace (the
    # worker below inherits the client's tracing interceptor).
    client = temporal_client_for_run(client)
    payload = PipelineInput(
        plan=setup.plan,
        run_id=setup.run_id,
        workdir=str(setup.workdir),
        registry_dir=str(setup.registry_dir) if setup.registry_dir else None,
    )

    workflow_id = f"{setup.plan.pipeline}/{setup.run_id}"

    async def execute() -> PipelineOutcome:
        try:
            return await client.execute_workflow(
                PipelineWorkflow.run,
                payload,
                id=workflow_id,
                task_queue=task_queue,
                static_summary=f"pipeline {setup.plan.pipeline} v{setup.plan.version}",
            )
        except WorkflowFailureError as exc:
            cause = exc.cause
            if isinstance(cause, ApplicationError) and cause.type == "PipelineFailed":
                return PipelineOutcome.from_dict(cause.details[1])
            raise

    with observe_run(setup, "temporal") as observed:
        if run_worker:
            with ThreadPoolExecutor(max_workers=4, thread_name_prefix="orchlab-step") as pool:
                async with create_worker(client, task_queue, activity_executor=pool):
                    outcome = await execute()
        else:
            outcome = await execute()
        outcome.engine_run_id = workflow_id
        return observed.finish(setup.finish(outcome, "temporal"))


__all__ = [
    "DEFAULT_TASK_QUEUE",
    "create_worker",
    "plan_scheduled_run",
    "run_step_activity",
    "run_temporal",
]
