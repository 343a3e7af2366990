"""Checks for exercise ``rebuild-state``: ``rebuild_state(events, up_to)``.

Contract: a fold of the simplified events into a new RunState: attempts (highest Started
attempt per activity), completed results, failure messages, signals, and the status from the
workflow's closing event; only events with ``id <= up_to`` when given; other types ignored;
the events are not modified.
"""

import copy
import uuid
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.common import RetryPolicy

from labgrader.checks import assert_equal

EVENTS = [
    {"id": 1, "type": "WorkflowExecutionStarted"},
    {"id": 2, "type": "WorkflowTaskScheduled"},
    {"id": 5, "type": "ActivityTaskScheduled", "activity": "ingest"},
    {"id": 6, "type": "ActivityTaskStarted", "activity": "ingest", "attempt": 1},
    {"id": 7, "type": "ActivityTaskCompleted", "activity": "ingest", "result": {"rows": 120}},
    {"id": 8, "type": "WorkflowExecutionSignaled", "signal": "pause"},
    {"id": 11, "type": "ActivityTaskScheduled", "activity": "train"},
    {"id": 12, "type": "ActivityTaskStarted", "activity": "train", "attempt": 3},
    {"id": 13, "type": "ActivityTaskFailed", "activity": "train", "failure": "GPU lost"},
    {"id": 14, "type": "WorkflowExecutionSignaled", "signal": "resume"},
    {"id": 17, "type": "ActivityTaskScheduled", "activity": "train"},
    {"id": 18, "type": "ActivityTaskStarted", "activity": "train", "attempt": 2},
    {"id": 19, "type": "ActivityTaskCompleted", "activity": "train", "result": {"auc": 0.91}},
    {"id": 20, "type": "TimerFired"},
    {"id": 23, "type": "WorkflowExecutionCompleted"},
]


FRESH = {"status": "running", "completed": {}, "attempts": {}, "failures": [], "signals": []}
"""A new RunState's fields."""


def _fields(state):
    return {
        "status": state.status,
        "completed": state.completed,
        "attempts": state.attempts,
        "failures": state.failures,
        "signals": state.signals,
    }


@pytest.mark.check(exercise="rebuild-state", points=5)
def test_folds_a_whole_history(t, nb):
    events = copy.deepcopy(EVENTS)
    got = _fields(nb.rebuild_state(events))
    expected = {
        "status": "completed",
        "completed": {"ingest": {"rows": 120}, "train": {"auc": 0.91}},
        "attempts": {"ingest": 1, "train": 3},
        "failures": ["GPU lost"],
        "signals": ["pause", "resume"],
    }
    assert_equal(
        got,
        expected,
        what="rebuild_state(EVENTS)",
        hint="Note that attempts keeps the highest attempt seen (3, then a second call's 2).",
    )
    assert_equal(events, EVENTS, what="rebuild_state must not modify the events")


@pytest.mark.check(exercise="rebuild-state", points=4)
def test_state_as_of_an_earlier_event(t, nb):
    got = _fields(nb.rebuild_state(EVENTS, up_to=12))
    expected = {
        "status": "running",
        "completed": {"ingest": {"rows": 120}},
        "attempts": {"ingest": 1, "train": 3},
        "failures": [],
        "signals": ["pause"],
    }
    assert_equal(got, expected, what="rebuild_state(EVENTS, up_to=12)")


@pytest.mark.check(exercise="rebuild-state", points=2, hidden=True)
def test_hidden_failed_runs_and_fresh_state(t, nb):
    events = [
        {"id": 1, "type": "WorkflowExecutionStarted"},
        {"id": 5, "type": "ActivityTaskScheduled", "activity": "fetch"},
        {"id": 6, "type": "ActivityTaskStarted", "activity": "fetch", "attempt": 4},
        {
            "id": 7,
            "type": "ActivityTaskTimedOut",
            "activity": "fetch",
            "failure": "activity timeout",
        },
        {"id": 10, "type": "WorkflowExecutionTimedOut"},
    ]
    got = _fields(nb.rebuild_state(events))
    assert_equal(
        (got["status"], got["failures"]),
        ("failed", ["activity timeout"]),
        what="a timed-out activity and a timed-out workflow: (status, failures)",
    )
    for kind in ("WorkflowExecutionFailed", "WorkflowExecutionTerminated"):
        status = nb.rebuild_state([{"id": 1, "type": kind}]).status
        assert_equal(status, "failed", what=f"the status after {kind}")
    assert_equal(
        _fields(nb.rebuild_state(EVENTS[:1])),
        FRESH,
        what="after a started event only",
        hint="Each call starts from a fresh RunState.",
    )
    assert_equal(
        _fields(nb.rebuild_state(EVENTS, up_to=0)), FRESH, what="rebuild_state(EVENTS, up_to=0)"
    )


@workflow.defn(name="RebuildCheck", sandboxed=False)
class _RebuildCheck:
    @workflow.run
    async def run(self, n: int) -> int:
        total = 0
        for name in ("load", "score"):
            total += await workflow.execute_activity(
                name,
                n,
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50)),
                result_type=int,
            )
        await workflow.wait_condition(lambda: self.go)
        return total

    def __init__(self) -> None:
        self.go = False

    @workflow.signal
    def release(self) -> None:
        self.go = True


@pytest.mark.check(exercise="rebuild-state", points=4, hidden=True)
async def test_hidden_a_real_history_from_the_server(t, nb, temporal_time_skipping, task_queue):
    client = temporal_time_skipping.client
    calls = {"score": 0}

    @activity.defn(name="load")
    async def load(n: int) -> int:
        return n

    @activity.defn(name="score")
    async def score(n: int) -> int:
        calls["score"] += 1
        if calls["score"] < 3:
            raise ConnectionError("scorer unreachable")
        return n * 10

    with t.quiet():
        async with t.worker(client, task_queue, [_RebuildCheck], [load, score]):
            handle = await client.start_workflow(
                _RebuildCheck.run,
                4,
                id=f"{task_queue}-{uuid.uuid4().hex[:6]}",
                task_queue=task_queue,
                execution_timeout=timedelta(seconds=30),
            )
            await handle.signal(_RebuildCheck.release)
            assert await handle.result() == 44
    events = await nb.simple_history(handle)
    got = _fields(nb.rebuild_state(events))
    expected = {
        "status": "completed",
        "completed": {"load": 4, "score": 40},
        "attempts": {"load": 1, "score": 3},
        "failures": [],
        "signals": ["release"],
    }
    assert_equal(got, expected, what="the real history of a run, rebuilt")
