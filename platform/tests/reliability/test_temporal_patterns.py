"""Classification, retries, sagas, heartbeats, pause/resume/skip and continue-as-new on
Temporal's time-skipping server (back-off and timers take no real time)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
import reliability_workflows as wf
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchlab.errors import FailureClass
from orchlab.reliability import (
    BreakerState,
    ReplayMismatch,
    check_replay,
    classification_of,
    forget_breakers,
    get_breaker,
    recent_histories,
)

WORKFLOWS = [
    wf.RetryWorkflow,
    wf.NonRetryableTypeWorkflow,
    wf.BookingSaga,
    wf.HeartbeatWorkflow,
    wf.ControlledPipeline,
    wf.LongRunner,
    wf.SharedBreakerWorkflow,
    wf.VersionedV1,
]
ACTIVITIES = [
    wf.flaky,
    wf.plain_key_error,
    wf.saga_step,
    wf.undo_step,
    wf.count_items,
    wf.features_for_training,
    wf.features_for_scoring,
]


@pytest_asyncio.fixture(loop_scope="session")
async def client(
    temporal_time_skipping: WorkflowEnvironment, task_queue: str
) -> AsyncIterator[Client]:
    wf.CALLS.clear()
    async with Worker(
        temporal_time_skipping.client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=ACTIVITIES,
        build_id="reliability-tests",
    ):
        yield temporal_time_skipping.client


async def _run(client: Client, task_queue: str, workflow: object, *args: object) -> object:
    return await client.execute_workflow(
        workflow,  # type: ignore[arg-type]
        args=list(args),
        id=f"t-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )


async def test_transient_failures_are_retried_by_the_rendered_policy(
    client: Client, task_queue: str
) -> None:
    attempt = await _run(client, task_queue, wf.RetryWorkflow.run, wf.FlakyInput("api", 2))
    assert attempt == 3
    assert wf.CALLS == ["api"] * 3


@pytest.mark.parametrize("error", ["value", "key"])
async def test_permanent_failures_are_not_retried(
    client: Client, task_queue: str, error: str
) -> None:
    with pytest.raises(WorkflowFailureError) as caught:
        await _run(client, task_queue, wf.RetryWorkflow.run, wf.FlakyInput("db", 3, error))
    assert wf.CALLS == ["db"]
    assert classification_of(caught.value) is FailureClass.PERMANENT
    cause = caught.value.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
    assert cause.cause.non_retryable
    assert cause.cause.type == ("ValueError" if error == "value" else "KeyError")


async def test_retries_stop_at_max_attempts(client: Client, task_queue: str) -> None:
    with pytest.raises(WorkflowFailureError) as caught:
        await _run(client, task_queue, wf.RetryWorkflow.run, wf.FlakyInput("slow", 10))
    assert wf.CALLS == ["slow"] * 4
    assert classification_of(caught.value) is FailureClass.TRANSIENT


async def test_non_retryable_error_types_stop_undecorated_activities(
    client: Client, task_queue: str
) -> None:
    with pytest.raises(WorkflowFailureError):
        await _run(client, task_queue, wf.NonRetryableTypeWorkflow.run, "lookup")
    assert wf.CALLS == ["lookup"]


async def test_saga_compensates_in_reverse_order(client: Client, task_queue: str) -> None:
    with pytest.raises(WorkflowFailureError) as caught:
        await _run(client, task_queue, wf.BookingSaga.run, wf.SagaInput("flight"))
    assert wf.CALLS == ["do:car", "do:hotel", "do:flight", "undo:hotel", "undo:car"]
    assert "flight refused" in str(caught.value.cause.cause)  # the original failure


async def test_saga_surfaces_a_failing_compensation_and_runs_the_rest(
    client: Client, task_queue: str
) -> None:
    with pytest.raises(WorkflowFailureError) as caught:
        await _run(client, task_queue, wf.BookingSaga.run, wf.SagaInput("flight", ["hotel"]))
    assert wf.CALLS[-2:] == ["undo:hotel", "undo:car"]  # car still undone
    error = caught.value.cause
    assert isinstance(error, ApplicationError) and error.type == "CompensationFailed"
    assert error.non_retryable
    assert "1 compensation(s) failed (undo_step" in str(error)
    assert "flight refused" in str(error)  # the original error is kept alongside


async def test_saga_success_runs_no_compensation(client: Client, task_queue: str) -> None:
    assert await _run(client, task_queue, wf.BookingSaga.run, wf.SagaInput("none")) == []
    assert wf.CALLS == ["do:car", "do:hotel", "do:flight"]


async def test_heartbeat_details_let_a_retry_resume(client: Client, task_queue: str) -> None:
    done = await _run(client, task_queue, wf.HeartbeatWorkflow.run, 6)
    assert done == [3, 4, 5]  # the second attempt resumed after the last heartbeat
    assert wf.CALLS == ["attempt 2 from 3"]


async def test_pause_resume_and_skip_a_running_pipeline(client: Client, task_queue: str) -> None:
    handle = await client.start_workflow(
        wf.ControlledPipeline.run,
        ["ingest", "train", "publish"],
        id=f"ctl-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )
    await handle.signal(wf.ControlledPipeline.pause)
    await handle.signal(wf.ControlledPipeline.skip, "train")
    status = await handle.query(wf.ControlledPipeline.status)
    assert status.paused and status.skip_requested == ["train"]
    assert status.completed == []  # paused before the first step ran
    await handle.signal(wf.ControlledPipeline.resume)
    assert await handle.result() == ["ingest", "publish"]
    status = await handle.query(wf.ControlledPipeline.status)
    assert status.skipped == ["train"] and status.completed == ["ingest", "publish"]


async def test_long_runs_continue_as_new(client: Client, task_queue: str) -> None:
    result = await _run(client, task_queue, wf.LongRunner.run, 12)
    assert result["runs"] > 1  # type: ignore[index]


async def test_one_breaker_is_shared_by_a_workers_activities(
    client: Client, task_queue: str
) -> None:
    forget_breakers()
    wf.BREAKER_STATE["up"] = False
    try:
        result = await _run(client, task_queue, wf.SharedBreakerWorkflow.run)
        # Training's and scoring's failures opened it together; later calls never reached
        # the dependency and were served from the fallback.
        assert result == ["cached"] * 4
        assert wf.CALLS == ["train", "score"]
        assert get_breaker("feature-store").state is BreakerState.OPEN
    finally:
        forget_breakers()


async def test_check_replay_tells_a_safe_change_from_a_breaking_one(
    client: Client, task_queue: str
) -> None:
    workflow_id = f"versioned-{uuid.uuid4().hex[:8]}"
    handle = await client.start_workflow(wf.VersionedV1.run, id=workflow_id, task_queue=task_queue)
    await handle.result()
    histories = [await handle.fetch_history()]

    report = await check_replay([wf.VersionedPatched], histories)
    assert report.ok and report.replayed == 1
    with pytest.raises(ReplayMismatch, match="1 of 1 recorded histories do not replay") as caught:
        await check_replay([wf.VersionedUnsafe], histories)
    assert list(caught.value.report.failures) == [workflow_id]
    assert f"{workflow_id}: " in str(caught.value)


async def test_recent_histories_downloads_from_a_dev_server(
    temporal_client: Client, task_queue: str
) -> None:
    # The time-skipping server has no visibility API; the dev server does.
    workflow_id = f"versioned-{uuid.uuid4().hex[:8]}"
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[wf.VersionedV1],
        activities=[wf.flaky],
        build_id="reliability-tests",
    ):
        await temporal_client.execute_workflow(
            wf.VersionedV1.run, id=workflow_id, task_queue=task_queue
        )
    listed = await recent_histories(temporal_client, f"WorkflowId = '{workflow_id}'")
    assert [h.workflow_id for h in listed] == [workflow_id]
    assert listed[0].events  # the whole history, ready for check_replay
