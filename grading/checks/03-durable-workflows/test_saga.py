"""Checks for exercise ``saga``: the workflow ``ProvisionSaga``.

Contract: the steps of SAGA_STEPS in order (STEP_RETRY: 2 attempts); on a step's failure the
compensations of the succeeded steps in reverse (COMPENSATION_RETRY: 3 attempts each), a
failing one not stopping the others; then the step's ActivityError is re-raised, or, if a
compensation failed, ApplicationError type ``CompensationFailed`` naming them. Run on the
time-skipping server, so the retry back-off takes no real time.
"""

import re

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError

from labgrader.checks import strictly_equal, text
from orchlab.testing.history import scheduled_activities


def _activities(nb, failing, calls):
    def make(name):
        @activity.defn(name=name)
        async def act(run_id: str) -> str:
            calls.append(name)
            if name in failing:
                raise RuntimeError(f"{name} failed for {run_id}")
            return f"{name}:{run_id}"

        return act

    return [make(name) for pair in nb.SAGA_STEPS for name in pair]


def _listed(message, names):
    """Whether ``message`` lists ``names`` in this order, comma-separated (any spaces)."""
    pattern = r"\s*,\s*".join(re.escape(name) for name in names)
    return re.search(rf"(?<![\w-]){pattern}(?![\w-])", message) is not None


async def _run(t, nb, client, task_queue, failing, run_id="m-1", timeouts=None):
    """Run the saga; ``timeouts``, when given, receives (activity, start-to-close s) per call."""
    calls = []
    with t.quiet():
        async with t.worker(
            client, task_queue, [nb.ProvisionSaga], _activities(nb, failing, calls)
        ):
            handle = await client.start_workflow(
                nb.ProvisionSaga.run,
                run_id,
                id=t.workflow_id(task_queue),
                task_queue=task_queue,
                execution_timeout=t.TIMEOUT,
            )
            try:
                result = await handle.result()
            except WorkflowFailureError as exc:
                result = exc
    if timeouts is not None:
        timeouts.extend((c.name, c.start_to_close_s) for c in await scheduled_activities(handle))
    return calls, result


@pytest.mark.check(exercise="saga", points=3)
async def test_all_steps_succeed(t, nb, temporal_time_skipping, task_queue):
    calls, result = await _run(
        t, nb, temporal_time_skipping.client, task_queue, set(), run_id="m-9"
    )
    assert strictly_equal(result, ["reserve_gpu:m-9", "copy_data:m-9", "deploy_endpoint:m-9"]), (
        f"with no failure the saga returns the three step results, got {result!r}"
    )
    assert strictly_equal(calls, ["reserve_gpu", "copy_data", "deploy_endpoint"]), (
        f"no compensation may run when every step succeeds, calls {calls}"
    )


@pytest.mark.check(exercise="saga", points=5)
async def test_compensations_run_in_reverse_and_the_failure_propagates(
    t, nb, temporal_time_skipping, task_queue
):
    timeouts = []
    calls, result = await _run(
        t, nb, temporal_time_skipping.client, task_queue, {"deploy_endpoint"}, timeouts=timeouts
    )
    expected = [
        "reserve_gpu",
        "copy_data",
        "deploy_endpoint",
        "deploy_endpoint",
        "delete_data",
        "release_gpu",
    ]
    assert strictly_equal(calls, expected), (
        f"deploy_endpoint fails (2 attempts), then the compensations of copy_data and "
        f"reserve_gpu run in reverse: expected {expected}, got {calls}"
    )
    assert isinstance(result, WorkflowFailureError), (
        f"the workflow must fail with the step's error, it returned {result!r}"
    )
    names = ["reserve_gpu", "copy_data", "deploy_endpoint", "delete_data", "release_gpu"]
    assert strictly_equal(timeouts, [(name, 10.0) for name in names]), (
        f"every step and every compensation runs with a start_to_close_timeout of 10 s; the "
        f"history shows (activity, start-to-close s) {timeouts}"
    )
    cause = t.application_error(result)
    assert cause is not None and "deploy_endpoint failed" in text(cause.message), (
        f"expected the workflow to fail with deploy_endpoint's own error, got {result.cause!r}"
    )


@pytest.mark.check(exercise="saga", points=4)
async def test_a_failed_compensation_is_surfaced_and_the_others_still_run(
    t, nb, temporal_time_skipping, task_queue
):
    calls, result = await _run(
        t, nb, temporal_time_skipping.client, task_queue, {"deploy_endpoint", "delete_data"}
    )
    expected = [
        "reserve_gpu",
        "copy_data",
        "deploy_endpoint",
        "deploy_endpoint",
        "delete_data",
        "delete_data",
        "delete_data",
        "release_gpu",
    ]
    assert strictly_equal(calls, expected), (
        f"delete_data fails 3 times (COMPENSATION_RETRY), then release_gpu must still run: "
        f"expected {expected}, got {calls}"
    )
    cause = t.application_error(result) if isinstance(result, WorkflowFailureError) else None
    assert cause is not None and strictly_equal(cause.type, "CompensationFailed"), (
        f"expected the workflow to fail with ApplicationError type 'CompensationFailed', got "
        f"{result!r} ({getattr(cause, 'type', None)!r})"
    )
    message = text(cause.message)
    assert "delete_data" in message and "deploy_endpoint" in message, (
        f"the message names the failed compensation and the failed step, got {cause.message!r}"
    )


@pytest.mark.check(exercise="saga", points=3, hidden=True)
async def test_hidden_first_step_fails_and_two_compensations_fail(
    t, nb, temporal_time_skipping, task_queue
):
    calls, result = await _run(t, nb, temporal_time_skipping.client, task_queue, {"reserve_gpu"})
    assert strictly_equal(calls, ["reserve_gpu", "reserve_gpu"]), (
        f"the first step failed: nothing to compensate, calls {calls}"
    )
    cause = t.application_error(result) if isinstance(result, WorkflowFailureError) else None
    assert cause is not None and not strictly_equal(cause.type, "CompensationFailed"), (
        f"with nothing to compensate the step's error propagates, got {result!r}"
    )
    calls, result = await _run(
        t,
        nb,
        temporal_time_skipping.client,
        task_queue,
        {"deploy_endpoint", "delete_data", "release_gpu"},
    )
    cause = t.application_error(result) if isinstance(result, WorkflowFailureError) else None
    assert cause is not None and strictly_equal(cause.type, "CompensationFailed"), f"got {result!r}"
    assert _listed(text(cause.message), ["delete_data", "release_gpu"]), (
        f"the message names both failed compensations, comma-separated, in the order they ran "
        f"(delete_data, then release_gpu); got {cause.message!r}"
    )
