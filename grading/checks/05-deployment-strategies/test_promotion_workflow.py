"""Checks for exercise ``promotion-workflow``: the Temporal workflow ``Promotion``.

Contract: gate ``run_gate(GateInput("staging", v))`` (False: blocked in dev), then
``run_gate(GateInput("prod", v))`` (False: blocked in staging), then wait at most
``approval_timeout_s`` for approve(reviewer) / reject(reason), the first decision wins:
promoted/prod/reviewer, rejected/staging/reason, expired/staging/"". Query ``reached``.
Deadlines are checked on the time-skipping server; the gates are scripted by the checks.
"""

import asyncio
import contextlib
import logging
import uuid
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowExecutionStatus

from labgrader import harness
from labgrader.checks import strictly_equal
from orchlab.testing.history import scheduled_activities

BUILD_ID = "orchlab-lab05-checks"


def scripted_gate(nb, outcomes, calls):
    """A ``run_gate`` activity answering from ``outcomes`` ({target: bool}), recording calls."""

    @activity.defn(name="run_gate")
    async def run_gate(inp: nb.GateInput) -> bool:
        calls.append((inp.target, inp.version))
        return outcomes.get(inp.target, True)

    return run_gate


@contextlib.asynccontextmanager
async def worker(nb, client, task_queue, gate):
    loggers = [logging.getLogger(n) for n in ("temporalio.workflow", "temporalio.worker")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        async with harness.worker(
            nb,
            client,
            task_queue,
            workflows=[nb.Promotion],
            activities=[gate],
            workflow_failure_exception_types=[Exception],
            build_id=BUILD_ID,
        ):
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _id(task_queue):
    return f"{task_queue}-{uuid.uuid4().hex[:8]}"


def _outcome(result):
    return (result.status, result.reached, result.detail)


async def _until_staging(nb, handle):
    async def poll():
        while not strictly_equal(await handle.query(nb.Promotion.reached), "staging"):
            await asyncio.sleep(0.05)

    try:
        await asyncio.wait_for(poll(), 15)
    except TimeoutError:
        reached = await handle.query(nb.Promotion.reached)
        pytest.fail(
            f"with both gates passing, reached() should say 'staging' while the approval is "
            f"awaited; after 15 s it says {reached!r}. Likely cause: reached() not updated "
            f"after the staging hop, or the run ended early"
        )


@pytest.mark.check(exercise="promotion-workflow", points=6)
async def test_approved_promotion_reaches_prod(nb, temporal_client, task_queue):
    calls = []
    async with worker(nb, temporal_client, task_queue, scripted_gate(nb, {}, calls)):
        handle = await temporal_client.start_workflow(
            nb.Promotion.run,
            nb.PromotionInput("1.8.0", 3600),
            id=_id(task_queue),
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=30),
        )
        await _until_staging(nb, handle)
        await handle.signal(nb.Promotion.approve, "ana")
        result = await handle.result()
        reached = await handle.query(nb.Promotion.reached)
    timeouts = [(c.name, c.start_to_close_s) for c in await scheduled_activities(handle)]
    assert strictly_equal(_outcome(result), ("promoted", "prod", "ana")), (
        f"gates passing and approve('ana') should return PromotionOutcome('promoted', 'prod', "
        f"'ana'); got {result!r}"
    )
    assert strictly_equal(reached, "prod"), (
        f"after the promotion reached() says 'prod', got {reached!r}"
    )
    assert strictly_equal(timeouts, [("run_gate", 10.0)] * 2), (
        f"each gate runs with a start_to_close_timeout of 10 s; the history shows (activity, "
        f"start-to-close s) {timeouts}"
    )
    assert strictly_equal(calls, [("staging", "1.8.0"), ("prod", "1.8.0")]), (
        f"expected the gates run for staging then prod, each once; got {calls}"
    )


@pytest.mark.check(exercise="promotion-workflow", points=4)
async def test_failed_staging_gate_blocks_in_dev(nb, temporal_client, task_queue):
    calls = []
    async with worker(
        nb, temporal_client, task_queue, scripted_gate(nb, {"staging": False}, calls)
    ):
        result = await temporal_client.execute_workflow(
            nb.Promotion.run,
            nb.PromotionInput("1.8.1", 3600),
            id=_id(task_queue),
            task_queue=task_queue,
            execution_timeout=timedelta(seconds=30),
        )
    assert strictly_equal(_outcome(result), ("blocked", "dev", "staging")), (
        f"a failing staging gate returns PromotionOutcome('blocked', 'dev', 'staging') at once; "
        f"got {result!r}"
    )
    assert strictly_equal(calls, [("staging", "1.8.1")]), (
        f"only the staging gate should run; got {calls}"
    )


@pytest.mark.check(exercise="promotion-workflow", points=4)
async def test_approval_expires(nb, temporal_time_skipping, task_queue):
    client = temporal_time_skipping.client
    async with worker(nb, client, task_queue, scripted_gate(nb, {}, [])):
        handle = await client.start_workflow(
            nb.Promotion.run,
            nb.PromotionInput("1.8.0", 2 * 86400),
            id=_id(task_queue),
            task_queue=task_queue,
        )
        # Skip the server's clock to an hour before the deadline: the run still waits.
        await temporal_time_skipping.sleep(timedelta(days=1, hours=23))
        await handle.query(nb.Promotion.reached)  # the run has handled what happened so far
        early = (await handle.describe()).status
        result = await asyncio.wait_for(handle.result(), 20)
    assert strictly_equal(early, WorkflowExecutionStatus.RUNNING), (
        f"one hour before the 2-day approval timeout the run still waits for a decision; it "
        f"had ended ({early!r}). Likely cause: a timeout other than approval_timeout_s"
    )
    assert strictly_equal(_outcome(result), ("expired", "staging", "")), (
        f"with no decision within 2 days the run returns PromotionOutcome('expired', 'staging', "
        f"''); got {result!r}. Use workflow.wait_condition with timeout= and catch "
        f"asyncio.TimeoutError"
    )


@pytest.mark.check(exercise="promotion-workflow", points=3, hidden=True)
async def test_hidden_failed_prod_gate_asks_nobody(nb, temporal_time_skipping, task_queue):
    client, calls = temporal_time_skipping.client, []
    async with worker(nb, client, task_queue, scripted_gate(nb, {"prod": False}, calls)):
        result = await asyncio.wait_for(
            client.execute_workflow(
                nb.Promotion.run,
                nb.PromotionInput("2.0.0", 600),
                id=_id(task_queue),
                task_queue=task_queue,
            ),
            20,
        )
    assert strictly_equal(_outcome(result), ("blocked", "staging", "prod")), (
        f"a failing prod gate returns PromotionOutcome('blocked', 'staging', 'prod') without "
        f"waiting for an approval; got {result!r}. Likely cause: the prod gate skipped, or the "
        f"approval awaited before it"
    )
    assert strictly_equal(calls, [("staging", "2.0.0"), ("prod", "2.0.0")]), f"gates run: {calls}"


@pytest.mark.check(exercise="promotion-workflow", points=3, hidden=True)
async def test_hidden_first_decision_wins(nb, temporal_time_skipping, task_queue):
    client = temporal_time_skipping.client
    # Both decisions reach the run before any worker does, in this order: with a worker
    # running, the first could end the run before the second arrived (a race, not a verdict).
    handle = await client.start_workflow(
        nb.Promotion.run,
        nb.PromotionInput("2.1.0", 900),
        id=_id(task_queue),
        task_queue=task_queue,
    )
    await handle.signal(nb.Promotion.reject, "drift 0.31 on amount")
    await handle.signal(nb.Promotion.approve, "bob")
    async with worker(nb, client, task_queue, scripted_gate(nb, {}, [])):
        result = await asyncio.wait_for(handle.result(), 20)
    assert strictly_equal(_outcome(result), ("rejected", "staging", "drift 0.31 on amount")), (
        f"reject('drift 0.31 on amount') came first and wins: PromotionOutcome('rejected', "
        f"'staging', 'drift 0.31 on amount'); got {result!r}"
    )
