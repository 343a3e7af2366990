"""Checks for exercise ``heartbeat-resume``: the activity ``process_shards``.

Contract: start at the previous attempt's last heartbeat details (else 0); for each shard
``await handle_shard(job_id, shard)`` then ``activity.heartbeat(shard + 1)``; return
ShardReport(resumed_from, processed, attempt). Faults: a shard that fails on attempt 1, and a
worker shut down mid-activity.
"""

import asyncio

import pytest
from temporalio import activity

from labgrader.checks import strictly_equal


def _recording_handler(seen, fail_at=None, hang_at=None, hung=None):
    async def handle_shard(job_id: str, shard: int) -> None:
        attempt = activity.info().attempt
        if shard == hang_at and attempt == 1:
            hung.set()
            await asyncio.sleep(3600)
        seen.append((attempt, shard))
        if shard == fail_at and attempt == 1:
            raise ConnectionError(f"lost shard {shard} of {job_id}")

    return handle_shard


async def _run(t, nb, client, task_queue, job):
    async with t.worker(client, task_queue, [nb.ShardWorkflow], [nb.process_shards]):
        return await client.execute_workflow(
            nb.ShardWorkflow.run,
            job,
            id=t.workflow_id(task_queue),
            task_queue=task_queue,
            execution_timeout=t.TIMEOUT,
        )


@pytest.mark.check(exercise="heartbeat-resume", points=3)
async def test_fresh_run_processes_every_shard(t, nb, temporal_client, task_queue, monkeypatch):
    seen = []
    monkeypatch.setattr(nb, "handle_shard", _recording_handler(seen))
    report = await _run(t, nb, temporal_client, task_queue, nb.ShardJob("tok-a", 5))
    assert strictly_equal(seen, [(1, s) for s in range(5)]), (
        f"expected shards 0-4 once on attempt 1, got {seen}"
    )
    assert strictly_equal((report.resumed_from, report.processed, report.attempt), (0, 5, 1)), (
        f"expected ShardReport(resumed_from=0, processed=5, attempt=1), got {report!r}"
    )


@pytest.mark.check(exercise="heartbeat-resume", points=4)
async def test_retry_resumes_from_the_last_heartbeat(
    t, nb, temporal_client, task_queue, monkeypatch
):
    seen = []
    monkeypatch.setattr(nb, "handle_shard", _recording_handler(seen, fail_at=3))
    with t.quiet():
        report = await _run(t, nb, temporal_client, task_queue, nb.ShardJob("tok-b", 8))
    expected = [(1, 0), (1, 1), (1, 2), (1, 3)] + [(2, s) for s in range(3, 8)]
    assert strictly_equal(seen, expected), (
        f"shard 3 failed on attempt 1 after shards 0-2 were heartbeated: attempt 2 must start at "
        f"shard 3. Expected (attempt, shard) {expected}, got {seen}. Likely cause: the start "
        f"is not read from activity.info().heartbeat_details, or the heartbeat is sent before "
        f"the shard is done"
    )
    assert strictly_equal((report.resumed_from, report.processed, report.attempt), (3, 5, 2)), (
        f"expected ShardReport(resumed_from=3, processed=5, attempt=2), got {report!r}"
    )


@pytest.mark.check(exercise="heartbeat-resume", points=3, hidden=True)
async def test_hidden_worker_shut_down_mid_activity(
    t, nb, temporal_client, task_queue, monkeypatch
):
    seen = []
    hung = asyncio.Event()
    monkeypatch.setattr(nb, "handle_shard", _recording_handler(seen, hang_at=4, hung=hung))
    job = nb.ShardJob("tok-c", 6)
    with t.quiet():
        async with t.worker(temporal_client, task_queue, [nb.ShardWorkflow], [nb.process_shards]):
            handle = await temporal_client.start_workflow(
                nb.ShardWorkflow.run,
                job,
                id=t.workflow_id(task_queue),
                task_queue=task_queue,
                execution_timeout=t.TIMEOUT,
            )
            await t.until_hung_or_closed(hung, handle)
        async with t.worker(temporal_client, task_queue, [nb.ShardWorkflow], [nb.process_shards]):
            report = await handle.result()
    assert strictly_equal(seen, [(1, 0), (1, 1), (1, 2), (1, 3), (2, 4), (2, 5)]), (
        f"the worker died in shard 4: the next attempt must resume at shard 4, got {seen}"
    )
    assert strictly_equal((report.resumed_from, report.processed), (4, 2)), f"got {report!r}"
