"""Checks for exercise ``pause-resume-skip``: the workflow ``ControlledPipeline``.

Contract: before each step wait while paused; a step named by ``skip`` is recorded as
skipped and not run; query ``progress`` returns Progress(paused, done, skipped); run returns
the outputs of the steps that ran.
"""

import asyncio

import pytest
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle

from labgrader.checks import strictly_equal
from orchlab.testing.history import scheduled_activities

_CLOSING = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
}


def _step_activity(nb, ran, on_step=None):
    @activity.defn(name="run_step")
    async def step(inp: nb.StepInput) -> str:
        ran.append(inp.step)
        if on_step:
            await on_step(inp.step)
        return f"{inp.step}:ok"

    return step


async def _start_paused(t, nb, client, task_queue, steps):
    return await client.start_workflow(
        nb.ControlledPipeline.run,
        nb.RunInput("r-ctl", steps),
        id=t.workflow_id(task_queue),
        task_queue=task_queue,
        start_signal="pause",
        execution_timeout=t.TIMEOUT,
    )


async def _scheduled_once_decided(handle, completed, timeout=20):
    """How many activities the run has scheduled, read once a workflow task has completed
    after its ``completed``-th activity completion (or once the run has closed)."""

    async def poll():
        while True:
            events = [event async for event in handle.fetch_history_events()]
            finished = [
                e.event_id for e in events if e.HasField("activity_task_completed_event_attributes")
            ]
            closed = any(e.event_type in _CLOSING for e in events)
            decided = len(finished) >= completed and any(
                e.event_id > finished[completed - 1]
                and e.HasField("workflow_task_completed_event_attributes")
                for e in events
            )
            if decided or closed:
                return sum(e.HasField("activity_task_scheduled_event_attributes") for e in events)
            await asyncio.sleep(0.05)

    try:
        return await asyncio.wait_for(poll(), timeout)
    except TimeoutError:
        pytest.fail(
            f"after {timeout} s the run had not completed {completed} activities and decided "
            f"what to do next; its steps are not being run"
        )


@pytest.mark.check(exercise="pause-resume-skip", points=5)
async def test_started_paused_then_skip_and_resume(t, nb, temporal_client, task_queue):
    ran = []
    async with t.worker(
        temporal_client, task_queue, [nb.ControlledPipeline], [_step_activity(nb, ran)]
    ):
        handle = await _start_paused(t, nb, temporal_client, task_queue, ["a", "b", "c"])
        paused = await handle.query(nb.ControlledPipeline.progress)
        await handle.signal(nb.ControlledPipeline.skip, "b")
        await handle.signal(nb.ControlledPipeline.resume)
        result = await handle.result()
        final = await handle.query(nb.ControlledPipeline.progress)
    configs = [
        (
            c.name,
            c.start_to_close_s,
            c.retry_policy.initial_interval.total_seconds(),
            c.retry_policy.maximum_attempts,
        )
        for c in await scheduled_activities(handle)
    ]
    assert strictly_equal(configs, [("run_step", 10.0, 0.2, 5)] * 2), (
        f"each run_step call has start_to_close_timeout 10 s and retry_policy QUICK_RETRY (first "
        f"retry after 0.2 s, at most 5 attempts); the history shows (activity, start-to-close s, "
        f"first interval s, maximum attempts) {configs}"
    )
    assert strictly_equal((paused.paused, paused.done, paused.skipped), (True, [], [])), (
        f"started with the pause signal, nothing may run before resume: progress {paused!r}"
    )
    assert strictly_equal(result, ["a:ok", "c:ok"]) and strictly_equal(ran, ["a", "c"]), (
        f"b was skipped: expected outputs ['a:ok', 'c:ok'] and steps run ['a', 'c'], got "
        f"{result!r} and {ran}"
    )
    assert strictly_equal((final.paused, final.done, final.skipped), (False, ["a", "c"], ["b"])), (
        f"final progress should be Progress(paused=False, done=['a', 'c'], skipped=['b']), "
        f"got {final!r}"
    )


@pytest.mark.check(exercise="pause-resume-skip", points=5)
async def test_pause_mid_run_holds_the_next_step(t, nb, temporal_client, task_queue):
    ran = []
    box: dict[str, WorkflowHandle] = {}

    async def pause_after_b(step):
        if step == "b":
            await box["handle"].signal(nb.ControlledPipeline.pause)

    activities = [_step_activity(nb, ran, pause_after_b)]
    async with t.worker(temporal_client, task_queue, [nb.ControlledPipeline], activities):
        box["handle"] = handle = await temporal_client.start_workflow(
            nb.ControlledPipeline.run,
            nb.RunInput("r-mid", ["a", "b", "c", "d"]),
            id=t.workflow_id(task_queue),
            task_queue=task_queue,
            execution_timeout=t.TIMEOUT,
        )
        # Drive the run to the exact point: the workflow task that saw b complete (and the
        # pause, sent before b returned) has completed, so whatever the run decided to do next
        # is in the history. A pause that works leaves c unscheduled; a run that ignores it
        # scheduled c in that same task.
        scheduled = await _scheduled_once_decided(handle, completed=2)
        progress = await handle.query(nb.ControlledPipeline.progress)
        held = list(ran)
        await handle.signal(nb.ControlledPipeline.skip, "a")  # already done: changes nothing
        await handle.signal(nb.ControlledPipeline.resume)
        result = await handle.result()
        final = await handle.query(nb.ControlledPipeline.progress)
    assert strictly_equal((progress.paused, progress.done, held), (True, ["a", "b"], ["a", "b"])), (
        f"a pause sent during b must hold c: expected paused with done ['a', 'b'], got "
        f"{progress!r}, steps run by then {held}"
    )
    assert scheduled == 2, (
        f"a pause sent during b must hold c, but {scheduled} activities were scheduled while "
        "paused (expected 2: a and b). Wait while paused before EVERY step, not only the first"
    )
    assert strictly_equal(result, ["a:ok", "b:ok", "c:ok", "d:ok"]), (
        f"after resume all steps run, got {result!r}"
    )
    assert strictly_equal((final.done, final.skipped), (["a", "b", "c", "d"], [])), (
        f"skipping a step already done changes nothing: expected done ['a', 'b', 'c', 'd'] and "
        f"skipped [], got {final!r}"
    )


@pytest.mark.check(exercise="pause-resume-skip", points=5, hidden=True)
async def test_hidden_skips_unknown_and_several(t, nb, temporal_client, task_queue):
    ran = []
    async with t.worker(
        temporal_client, task_queue, [nb.ControlledPipeline], [_step_activity(nb, ran)]
    ):
        handle = await _start_paused(t, nb, temporal_client, task_queue, ["x", "y", "z", "w"])
        for step in ("nope", "z", "x"):
            await handle.signal(nb.ControlledPipeline.skip, step)
        await handle.signal(nb.ControlledPipeline.resume)
        result = await handle.result()
        final = await handle.query(nb.ControlledPipeline.progress)
    assert strictly_equal(
        (result, final.done, final.skipped), (["y:ok", "w:ok"], ["y", "w"], ["x", "z"])
    ), (
        f"skipping x and z (and an unknown step): expected outputs ['y:ok', 'w:ok'], done "
        f"['y', 'w'], skipped ['x', 'z'] in run order; got {result!r}, {final!r}"
    )
