"""Checks for exercise ``approval-workflow``: the workflow ``ModelApproval``.

Contract: signal decide(Vote); votes from non-approvers or the requester are ignored (their
names recorded in ``ignored``); the first valid vote decides; no valid vote within
``timeout_s`` gives 'timed-out'; query status: 'waiting' then the outcome. Runs on the
time-skipping server, so a timeout of days takes no real time.
"""

import asyncio
from datetime import timedelta

import pytest

from labgrader.checks import strictly_equal


async def _start(t, nb, client, task_queue, ask):
    return await client.start_workflow(
        nb.ModelApproval.run, ask, id=t.workflow_id(task_queue), task_queue=task_queue
    )


@pytest.mark.check(exercise="approval-workflow", points=4)
async def test_worked_example(t, nb, temporal_time_skipping, task_queue):
    client = temporal_time_skipping.client
    async with t.worker(client, task_queue, [nb.ModelApproval]):
        ask = nb.ApprovalAsk("fraud v7 -> prod", "ana", ["raj", "lee"], 86400)
        handle = await _start(t, nb, client, task_queue, ask)
        before = await handle.query(nb.ModelApproval.status)
        await handle.signal(nb.ModelApproval.decide, nb.Vote("ana", True, "trust me"))
        await handle.signal(nb.ModelApproval.decide, nb.Vote("raj", True, "fine"))
        result = await asyncio.wait_for(handle.result(), 20)
        after = await handle.query(nb.ModelApproval.status)
    assert strictly_equal(before, "waiting"), (
        f"before any vote the status is 'waiting', got {before!r}"
    )
    assert strictly_equal(
        (result.outcome, result.approver, result.ignored), ("approved", "raj", ["ana"])
    ), (
        f"the requester's vote is ignored and raj's approval decides: expected "
        f"ApprovalResult('approved', 'raj', ['ana']), got {result!r}"
    )
    assert strictly_equal(after, "approved"), (
        f"after approval the status is 'approved', got {after!r}"
    )


@pytest.mark.check(exercise="approval-workflow", points=3)
async def test_times_out(t, nb, temporal_time_skipping, task_queue):
    client = temporal_time_skipping.client
    async with t.worker(client, task_queue, [nb.ModelApproval]):
        ask = nb.ApprovalAsk("fraud v8 -> prod", "ana", ["raj"], 2 * 86400)
        handle = await _start(t, nb, client, task_queue, ask)
        # Skip the server's clock to an hour before the deadline: the approval still waits.
        await temporal_time_skipping.sleep(timedelta(days=1, hours=23))
        early = await handle.query(nb.ModelApproval.status)
        result = await asyncio.wait_for(handle.result(), 20)
        status = await handle.query(nb.ModelApproval.status)
    assert strictly_equal(early, "waiting"), (
        f"one hour before the 2-day timeout the approval still waits (status 'waiting'), got "
        f"{early!r}. Likely cause: a timeout other than ask.timeout_s"
    )
    assert strictly_equal(
        (result.outcome, result.approver, status), ("timed-out", None, "timed-out")
    ), (
        f"with no vote within 2 days the run returns ApprovalResult('timed-out', None) and the "
        f"status is 'timed-out'; got {result!r}, status {status!r}. Use workflow.wait_condition "
        f"with timeout= and catch asyncio.TimeoutError"
    )


@pytest.mark.check(exercise="approval-workflow", points=3, hidden=True)
async def test_hidden_strangers_rejection_and_first_vote(t, nb, temporal_time_skipping, task_queue):
    client = temporal_time_skipping.client
    # Every vote reaches the run before any worker does, in this order: with a worker
    # running, omar's rejection could end the run before his later vote arrived (a race).
    ask = nb.ApprovalAsk("churn v2 -> prod", "kim", ["kim", "omar"], 3600)
    handle = await _start(t, nb, client, task_queue, ask)
    for vote in (
        nb.Vote("mallory", True),
        nb.Vote("kim", True),
        nb.Vote("omar", False, "drift too high"),
        nb.Vote("omar", True),
    ):
        await handle.signal(nb.ModelApproval.decide, vote)
    async with t.worker(client, task_queue, [nb.ModelApproval]):
        result = await asyncio.wait_for(handle.result(), 20)
    assert strictly_equal((result.outcome, result.approver), ("rejected", "omar")), (
        f"omar's rejection is the first valid vote (mallory is no approver, kim is the "
        f"requester even though listed); expected outcome 'rejected' by 'omar', got {result!r}"
    )
    assert strictly_equal(result.ignored, ["mallory", "kim"]), (
        f"ignored lists the invalid voters in arrival order, not the later valid vote: "
        f"expected ['mallory', 'kim'], got {result.ignored!r}"
    )
    async with t.worker(client, task_queue, [nb.ModelApproval]):
        ask = nb.ApprovalAsk("churn v3 -> prod", "kim", ["omar"], 600)
        handle = await _start(t, nb, client, task_queue, ask)
        await handle.signal(nb.ModelApproval.decide, nb.Vote("kim", True))
        result = await asyncio.wait_for(handle.result(), 20)
    assert strictly_equal((result.outcome, result.ignored), ("timed-out", ["kim"])), (
        f"only an ignored vote before the 600 s timeout: expected 'timed-out' with ignored "
        f"['kim'], got {result!r}"
    )
    async with t.worker(client, task_queue, [nb.ModelApproval]):
        ask = nb.ApprovalAsk("churn v4 -> prod", "kim", ["omar"], 600)
        # Signal-with-start: the vote is delivered before run has started executing.
        handle = await client.start_workflow(
            nb.ModelApproval.run,
            ask,
            id=t.workflow_id(task_queue),
            task_queue=task_queue,
            start_signal="decide",
            start_signal_args=[nb.Vote("omar", True, "sent with the start")],
        )
        result = await asyncio.wait_for(handle.result(), 20)
    assert strictly_equal(
        (result.outcome, result.approver, result.ignored), ("approved", "omar", [])
    ), (
        f"a vote that arrives before run starts is kept and judged then: omar's approval "
        f"(sent with the start) decides; got {result!r}"
    )
