"""Checks for exercise ``versioned-workflow``: the workflow ``Scoring``, version 2.

Contract: score as version 1; behind ``workflow.patched("calibrate-scores")`` calibrate the
raw score and return it; version-1 histories replay without a nondeterminism error.
"""

from datetime import timedelta

import pytest
from temporalio import workflow

from labgrader.checks import strictly_close, strictly_equal
from orchlab.testing.history import scheduled_activities


@workflow.defn(name="Scoring", sandboxed=False)
class ScoringV1:
    """Version 1 of the Scoring workflow, as in production before the change."""

    @workflow.run
    async def run(self, features: list[float]) -> float:
        return await workflow.execute_activity(
            "score", features, start_to_close_timeout=timedelta(seconds=10), result_type=float
        )


async def _v1_history(t, nb, client, task_queue, features):
    v1 = ScoringV1
    wid = t.workflow_id(task_queue)
    async with t.worker(client, task_queue, [v1], [nb.score_activity]):
        await client.execute_workflow(
            v1.run, features, id=wid, task_queue=task_queue, execution_timeout=t.TIMEOUT
        )
    return await client.get_workflow_handle(wid).fetch_history()


async def _replays(t, nb, history):
    try:
        await t.replay([nb.Scoring], history)
    except Exception as exc:  # the check reports any replay failure
        return exc
    return None


@pytest.mark.check(exercise="versioned-workflow", points=4)
async def test_new_runs_calibrate(t, nb, temporal_client, task_queue):
    activities = [nb.score_activity, nb.calibrate_activity]
    async with t.worker(temporal_client, task_queue, [nb.Scoring], activities):
        handle = await temporal_client.start_workflow(
            nb.Scoring.run,
            [0.4, 1.9],
            id=t.workflow_id(task_queue),
            task_queue=task_queue,
            execution_timeout=t.TIMEOUT,
        )
        result = await handle.result()
    calls = [(c.name, c.start_to_close_s) for c in await scheduled_activities(handle)]
    names = [name for name, _ in calls]
    assert strictly_equal(names, ["score", "calibrate"]) and strictly_close(result, 1.0), (
        f"a new run scores then calibrates (raw 1.15 clipped to 1.0): activities {names}, "
        f"result {result!r}"
    )
    assert strictly_equal(calls, [("score", 10.0), ("calibrate", 10.0)]), (
        f"both calls run with a start_to_close_timeout of 10 s; the history shows (activity, "
        f"start-to-close s) {calls}"
    )


@pytest.mark.check(exercise="versioned-workflow", points=4)
async def test_version_one_histories_still_replay(t, nb, temporal_client, task_queue):
    history = await _v1_history(t, nb, temporal_client, task_queue, [0.2, 0.4])
    error = await _replays(t, nb, history)
    assert error is None, (
        f"a history recorded by version 1 must replay on version 2, it failed: {error!r}. "
        f"Likely cause: the calibrate call is not behind workflow.patched('calibrate-scores')"
    )


@pytest.mark.check(exercise="versioned-workflow", points=2, hidden=True)
async def test_hidden_replay_of_a_version_two_history(t, nb, temporal_client, task_queue):
    activities = [nb.score_activity, nb.calibrate_activity]
    wid = t.workflow_id(task_queue)
    async with t.worker(temporal_client, task_queue, [nb.Scoring], activities):
        result = await temporal_client.execute_workflow(
            nb.Scoring.run, [-3.0, 1.0], id=wid, task_queue=task_queue, execution_timeout=t.TIMEOUT
        )
    assert strictly_close(result, 0.0), f"raw -1.0 calibrates to 0.0, got {result!r}"
    history = await temporal_client.get_workflow_handle(wid).fetch_history()
    error = await _replays(t, nb, history)
    assert error is None, f"a version-2 history must replay on version 2: {error!r}"
