"""Fan-out in a real Temporal workflow (time-skipping server): at most N shards at once, a
failed shard does not stop the others, and only the failed ones run again."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from orchlab.scale import fan_out

CALLS: Counter[int] = Counter()
RUNNING = {"now": 0, "max": 0}


@activity.defn
async def score_shard(shard: int) -> int:
    CALLS[shard] += 1
    RUNNING["now"] += 1
    RUNNING["max"] = max(RUNNING["max"], RUNNING["now"])
    try:
        await asyncio.sleep(0.05)
        if shard in (2, 4) and CALLS[shard] == 1:
            raise ApplicationError(f"shard {shard}: partner timed out", non_retryable=True)
        return shard * 10
    finally:
        RUNNING["now"] -= 1


@workflow.defn
class ScoreAll:
    @workflow.run
    async def run(self, shards: list[int]) -> dict[str, Any]:
        def score(shard: int):  # type: ignore[no-untyped-def]
            return workflow.execute_activity(
                score_shard,
                shard,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RetryPolicy(maximum_attempts=1),  # the fan-out decides retries
            )

        first = await fan_out(score, shards, max_concurrent=2)
        second = await first.retry_failed(score, max_concurrent=2)
        return {
            "first_failed": sorted(first.failed),
            "first_reason": first.failed.get(2, ""),
            "results": second.results(),
            "attempts": [second.attempts[i] for i in range(len(shards))],
        }


async def test_bounded_fan_out_retries_only_the_failed_shards(
    temporal_time_skipping: WorkflowEnvironment,
) -> None:
    CALLS.clear()
    RUNNING.update(now=0, max=0)
    client = temporal_time_skipping.client
    queue = f"fan-out-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=queue, workflows=[ScoreAll], activities=[score_shard]):
        out = await client.execute_workflow(
            ScoreAll.run, list(range(6)), id=queue, task_queue=queue
        )
    assert out["first_failed"] == [2, 4]
    assert out["first_reason"] == "ApplicationError: shard 2: partner timed out"
    assert out["results"] == [0, 10, 20, 30, 40, 50]
    assert out["attempts"] == [1, 1, 2, 1, 2, 1]
    assert dict(CALLS) == {0: 1, 1: 1, 2: 2, 3: 1, 4: 2, 5: 1}
    assert RUNNING["max"] == 2


async def test_results_name_the_failed_shards_and_bad_bounds_are_refused() -> None:
    async def half(x: int) -> int:
        if x % 2:
            raise ValueError(f"odd {x}")
        return x

    result = await fan_out(half, [0, 1, 2, 3], max_concurrent=4)
    assert result.succeeded == {0: 0, 2: 2} and not result.complete
    with pytest.raises(
        RuntimeError, match=r"2 of 4 shards failed \(indexes \[1, 3\]\); shard 1: ValueError: odd 1"
    ):
        result.results()
    for bad in (0, -1, True, 1.5):
        with pytest.raises(ValueError, match="max_concurrent must be a positive int"):
            await fan_out(half, [0], max_concurrent=bad)  # type: ignore[arg-type]
