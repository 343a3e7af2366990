"""Checks for exercise ``deadline-fallback``: the workflow ``FetchWithDeadline``.

Contract: fetch_features with start-to-close = attempt_timeout_s, schedule-to-close =
total_timeout_s, retries 0.1 s apart without limit; a timeout returns
FetchResult(default, "fallback"); any other failure is re-raised.
"""

import asyncio

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError

from labgrader.checks import strictly_equal
from orchlab.testing.history import scheduled_activities


async def _run(t, nb, client, task_queue, inp, fetch):
    with t.quiet():
        async with t.worker(client, task_queue, [nb.FetchWithDeadline], [fetch]):
            handle = await client.start_workflow(
                nb.FetchWithDeadline.run,
                inp,
                id=t.workflow_id(task_queue),
                task_queue=task_queue,
                execution_timeout=t.TIMEOUT,
            )
            try:
                result = await handle.result()
            except WorkflowFailureError as exc:
                result = exc
            return result, handle


async def _first_call(handle):
    """The first activity call of the run, as the server recorded it (None if there is none)."""
    calls = await scheduled_activities(handle)
    return calls[0] if calls else None


async def _timeouts(handle):
    """(start-to-close, schedule-to-close) of the first scheduled activity, in seconds."""
    call = await _first_call(handle)
    if call is None:
        return None
    return (call.start_to_close_s, call.schedule_to_close_s)


async def _retry(handle):
    """(first interval in s, back-off coefficient, maximum attempts) the server retries with."""
    call = await _first_call(handle)
    if call is None:
        return None
    policy = call.retry_policy
    return (
        policy.initial_interval.total_seconds(),
        policy.backoff_coefficient,
        policy.maximum_attempts,
    )


@pytest.mark.check(exercise="deadline-fallback", points=3)
async def test_a_fast_partner_answers(t, nb, temporal_client, task_queue):
    @activity.defn(name="fetch_features")
    async def fetch(key: str) -> str:
        return f"f({key})"

    inp = nb.FetchInput("user-1", 0.5, 3.0, "defaults")
    result, handle = await _run(t, nb, temporal_client, task_queue, inp, fetch)
    assert strictly_equal((result.value, result.source), ("f(user-1)", "partner")), (
        f"expected FetchResult('f(user-1)', 'partner'), got {result!r}"
    )
    timeouts = await _timeouts(handle)
    assert strictly_equal(timeouts, (0.5, 3.0)), (
        f"expected start_to_close_timeout 0.5 s and schedule_to_close_timeout 3.0 s on the "
        f"activity call, the history shows {timeouts}"
    )


@pytest.mark.check(exercise="deadline-fallback", points=4)
async def test_a_hanging_partner_is_retried_then_falls_back(t, nb, temporal_client, task_queue):
    attempts = []

    @activity.defn(name="fetch_features")
    async def hang(key: str) -> str:
        attempts.append(activity.info().attempt)
        await asyncio.sleep(60)
        return "never"

    # Every attempt hangs, so the run waits out the whole budget: 1 s keeps the check short,
    # and the verdict holds however slow the machine (the outcome cannot be anything else).
    inp = nb.FetchInput("user-2", 0.3, 1.0, "defaults-v3")
    result, handle = await _run(t, nb, temporal_client, task_queue, inp, hang)
    assert not isinstance(result, Exception) and strictly_equal(
        (result.value, result.source), ("defaults-v3", "fallback")
    ), (
        f"every attempt hangs: after the 1 s budget the run should return "
        f"FetchResult('defaults-v3', 'fallback'), got {result!r}"
    )
    retry = await _retry(handle)
    assert strictly_equal(retry, (0.1, 1.0, 0)), (
        f"the budget is the only limit: the call retries every 0.1 s (initial_interval 100 ms, "
        f"backoff_coefficient 1.0) with no maximum of attempts (0); the history shows "
        f"(initial interval s, coefficient, maximum attempts) = {retry} after "
        f"{len(attempts)} attempt(s)"
    )


@pytest.mark.check(exercise="deadline-fallback", points=3, hidden=True)
async def test_hidden_a_reported_error_is_not_hidden(t, nb, temporal_client, task_queue):
    from temporalio.exceptions import ApplicationError

    @activity.defn(name="fetch_features")
    async def refuse(key: str) -> str:
        raise ApplicationError(f"unknown key {key}", type="NotFound", non_retryable=True)

    inp = nb.FetchInput("user-3", 0.5, 3.0, "defaults")
    result, _ = await _run(t, nb, temporal_client, task_queue, inp, refuse)
    cause = t.application_error(result) if isinstance(result, WorkflowFailureError) else None
    assert cause is not None and strictly_equal(cause.type, "NotFound"), (
        f"a NotFound error from the partner is not a timeout: the workflow must fail with it, "
        f"not fall back; got {result!r}"
    )
