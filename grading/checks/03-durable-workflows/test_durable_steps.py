"""Checks for exercise ``durable-steps``: the workflow ``TrainingRun``.

Contract: run_step for each step in order (start-to-close 10 s, QUICK_RETRY), outputs kept in
the workflow object and returned; query ``progress`` returns the outputs so far. A worker
shut down mid-activity is replaced and the run completes; completed steps do not run again.
"""

import asyncio

import pytest
from temporalio import activity

from labgrader.checks import strictly_equal
from orchlab.testing.history import scheduled_activities

QUICK = ("run_step", 10.0, 0.2, 2.0, 5)
"""(activity, start-to-close s, first retry interval s, back-off, maximum attempts): QUICK_RETRY."""


async def _configs(handle):
    """How each activity call of the run was configured, as the server recorded it."""
    return [
        (
            c.name,
            c.start_to_close_s,
            c.retry_policy.initial_interval.total_seconds(),
            c.retry_policy.backoff_coefficient,
            c.retry_policy.maximum_attempts,
        )
        for c in await scheduled_activities(handle)
    ]


@pytest.mark.check(exercise="durable-steps", points=4)
async def test_runs_the_steps_in_order(t, nb, temporal_client, task_queue):
    ran = []

    @activity.defn(name="run_step")
    async def step(inp: nb.StepInput) -> str:
        ran.append((inp.run_id, inp.step))
        return f"{inp.step}:ok"

    inp = nb.RunInput("r-1", ["ingest", "features", "train"])
    async with t.worker(temporal_client, task_queue, [nb.TrainingRun], [step]):
        handle = await temporal_client.start_workflow(
            nb.TrainingRun.run,
            inp,
            id=t.workflow_id(task_queue),
            task_queue=task_queue,
            execution_timeout=t.TIMEOUT,
        )
        result = await handle.result()
        progress = await handle.query(nb.TrainingRun.progress)
    configs = await _configs(handle)
    assert strictly_equal(ran, [("r-1", "ingest"), ("r-1", "features"), ("r-1", "train")]), (
        f"expected run_step for ingest, features, train in order with run_id 'r-1', got {ran}"
    )
    assert strictly_equal(configs, [QUICK] * 3), (
        f"each run_step call has start_to_close_timeout 10 s and retry_policy QUICK_RETRY (first "
        f"retry after 0.2 s, at most 5 attempts): expected {[QUICK] * 3}, the history shows "
        f"(activity, start-to-close s, first interval s, back-off, maximum attempts) {configs}"
    )
    outputs = ["ingest:ok", "features:ok", "train:ok"]
    assert strictly_equal(result, outputs) and strictly_equal(progress, outputs), (
        f"expected the outputs ['ingest:ok', 'features:ok', 'train:ok'] from run and from the "
        f"progress query, got {result!r} and {progress!r}"
    )


async def _crash_and_recover(t, nb, client, task_queue, steps, crash_at):
    """Worker 1 hangs in ``crash_at`` and is shut down; worker 2 finishes the run."""
    ran = []
    hung = asyncio.Event()

    @activity.defn(name="run_step")
    async def dying(inp: nb.StepInput) -> str:
        ran.append(("worker-1", inp.step))
        if inp.step == crash_at:
            hung.set()
            await asyncio.sleep(3600)
        return f"{inp.step}:ok"

    @activity.defn(name="run_step")
    async def healthy(inp: nb.StepInput) -> str:
        ran.append(("worker-2", inp.step))
        return f"{inp.step}:ok"

    with t.quiet():
        async with t.worker(client, task_queue, [nb.TrainingRun], [dying]):
            handle = await client.start_workflow(
                nb.TrainingRun.run,
                nb.RunInput("r-crash", steps),
                id=t.workflow_id(task_queue),
                task_queue=task_queue,
                execution_timeout=t.TIMEOUT,
            )
            await t.until_hung_or_closed(hung, handle)
        async with t.worker(client, task_queue, [nb.TrainingRun], [healthy]):
            progress = await handle.query(nb.TrainingRun.progress)
            result = await handle.result()
    return ran, progress, result, handle


@pytest.mark.check(exercise="durable-steps", points=6)
async def test_a_crashed_worker_is_replaced_and_nothing_done_runs_again(
    t, nb, temporal_client, task_queue
):
    steps = ["export", "tokenize", "train", "evaluate"]
    ran, progress, result, _ = await _crash_and_recover(
        t, nb, temporal_client, task_queue, steps, "train"
    )
    assert strictly_equal(result, [f"{s}:ok" for s in steps]), (
        f"after the crash the new worker should finish the run with every output, got {result!r}"
    )
    assert strictly_equal(progress, ["export:ok", "tokenize:ok"]), (
        f"right after the crash the progress query (replayed on worker 2) should show the two "
        f"completed steps, got {progress!r}"
    )
    expected = [
        ("worker-1", "export"),
        ("worker-1", "tokenize"),
        ("worker-1", "train"),
        ("worker-2", "train"),
        ("worker-2", "evaluate"),
    ]
    assert strictly_equal(ran, expected), (
        f"expected worker 2 to run only train (again) and evaluate, the completed steps "
        f"coming from the history; step runs were {ran}. Likely cause: progress kept outside "
        f"the workflow object, or the activity called without a retry policy"
    )


@pytest.mark.check(exercise="durable-steps", points=5, hidden=True)
async def test_hidden_crash_in_the_first_step_and_a_single_step_run(
    t, nb, temporal_client, task_queue
):
    ran, progress, result, _ = await _crash_and_recover(
        t, nb, temporal_client, task_queue, ["a", "b"], "a"
    )
    assert strictly_equal(progress, []) and strictly_equal(result, ["a:ok", "b:ok"]), (
        f"a crash in the first step: progress [] right after, result ['a:ok', 'b:ok'], got "
        f"{progress!r} and {result!r}"
    )
    assert strictly_equal(ran, [("worker-1", "a"), ("worker-2", "a"), ("worker-2", "b")]), (
        f"step runs {ran}"
    )
