"""orchlab.testing.history: activity calls as the Temporal server recorded them."""

from __future__ import annotations

import uuid
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from orchlab.testing.history import ScheduledActivity, scheduled_activities


@activity.defn(name="double")
async def double(n: int) -> int:
    return 2 * n


@workflow.defn(name="HistoryProbe", sandboxed=False)
class HistoryProbe:
    @workflow.run
    async def run(self, n: int) -> int:
        first = await workflow.execute_activity(
            double,
            n,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(milliseconds=200), maximum_attempts=5
            ),
        )
        return await workflow.execute_activity(
            double, first, schedule_to_close_timeout=timedelta(seconds=7)
        )


async def test_each_call_with_its_timeouts_and_retry_policy(
    temporal_client: Client, task_queue: str
) -> None:
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[HistoryProbe],
        activities=[double],
        build_id="test-history",
    ):
        handle = await temporal_client.start_workflow(
            HistoryProbe.run,
            3,
            id=f"history-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=30),
        )
        assert await handle.result() == 12
    first, second = await scheduled_activities(handle)
    assert isinstance(first, ScheduledActivity)
    assert (first.name, first.start_to_close) == ("double", timedelta(seconds=10))
    assert (first.start_to_close_s, second.schedule_to_close_s) == (10.0, 7.0)
    assert first.retry_policy.initial_interval == timedelta(milliseconds=200)
    assert first.retry_policy.maximum_attempts == 5
    # The server fills in what the call left out: its default back-off and unlimited attempts.
    assert (second.name, second.schedule_to_close) == ("double", timedelta(seconds=7))
    assert second.retry_policy.initial_interval == timedelta(seconds=1)
    assert (second.retry_policy.backoff_coefficient, second.retry_policy.maximum_attempts) == (
        2.0,
        0,
    )
