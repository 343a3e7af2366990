"""Checks for exercise ``approval-gate``: the workflow ``ApprovalGate``.

Contract: signals approve(reviewer) / reject(reason), the first decision wins; query status:
``waiting`` then the outcome; run waits at most ``timeout_s`` and returns
Decision(approved, reviewer), Decision(rejected, reason) or Decision(expired). Deadlines are
checked on the time-skipping server.
"""

import asyncio
from datetime import timedelta

import pytest

from labgrader.checks import strictly_equal


@pytest.mark.check(exercise="approval-gate", points=4)
async def test_approve_and_query(t, nb, temporal_client, task_queue):
    async with t.worker(temporal_client, task_queue, [nb.ApprovalGate]):
        handle = await temporal_client.start_workflow(
            nb.ApprovalGate.run,
            3600,
            id=t.workflow_id(task_queue),
            task_queue=task_queue,
            execution_timeout=t.TIMEOUT,
        )
        before = await handle.query(nb.ApprovalGate.status)
        await handle.signal(nb.ApprovalGate.approve, "ana")
        result = await handle.result()
        after = await handle.query(nb.ApprovalGate.status)
    assert strictly_equal(before, "waiting"), (
        f"before any signal the status is 'waiting', got {before!r}"
    )
    assert strictly_equal((result.outcome, result.detail), ("approved", "ana")), (
        f"approve('ana') should end the run with Decision('approved', 'ana'), got {result!r}"
    )
    assert strictly_equal(after, "approved"), (
        f"after approval the status is 'approved', got {after!r}"
    )


@pytest.mark.check(exercise="approval-gate", points=3)
async def test_expires_at_the_deadline(t, nb, temporal_time_skipping, task_queue):
    client = temporal_time_skipping.client
    async with t.worker(client, task_queue, [nb.ApprovalGate]):
        handle = await client.start_workflow(
            nb.ApprovalGate.run, 2 * 86400, id=t.workflow_id(task_queue), task_queue=task_queue
        )
        # Skip the server's clock to an hour before the deadline: the gate still waits.
        await temporal_time_skipping.sleep(timedelta(days=1, hours=23))
        early = await handle.query(nb.ApprovalGate.status)
        result = await asyncio.wait_for(handle.result(), 20)
        status = await handle.query(nb.ApprovalGate.status)
    assert strictly_equal(early, "waiting"), (
        f"one hour before the 2-day deadline the gate still waits (status 'waiting'), got "
        f"{early!r}. Likely cause: a timeout other than timeout_s"
    )
    assert strictly_equal((result.outcome, status), ("expired", "expired")), (
        f"with no signal within 2 days, the run returns Decision('expired') and the status is "
        f"'expired'; got {result!r}, status {status!r}. Use workflow.wait_condition with "
        f"timeout= and catch asyncio.TimeoutError"
    )


@pytest.mark.check(exercise="approval-gate", points=3, hidden=True)
async def test_hidden_first_decision_wins_and_no_early_expiry(
    t, nb, temporal_time_skipping, task_queue
):
    client = temporal_time_skipping.client
    # Both decisions reach the run before any worker does, in this order: with a worker
    # running, the first could end the run before the second arrived (a race, not a verdict).
    handle = await client.start_workflow(
        nb.ApprovalGate.run, 600, id=t.workflow_id(task_queue), task_queue=task_queue
    )
    await handle.signal(nb.ApprovalGate.reject, "drift too high")
    await handle.signal(nb.ApprovalGate.approve, "bob")
    async with t.worker(client, task_queue, [nb.ApprovalGate]):
        result = await asyncio.wait_for(handle.result(), 20)
    assert strictly_equal((result.outcome, result.detail), ("rejected", "drift too high")), (
        f"reject('drift too high') came first and wins; got {result!r}"
    )
