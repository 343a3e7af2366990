"""Checks for exercise ``traced-workflow``: the activity ``score_batch`` and the workflow
``TracedScoring``, on the time-skipping server.

Contract: a ``score`` span under each ``RunActivity:score_batch`` with ``model`` (str), ``rows``
(int) and, on success only, ``accepted`` (int, scores >= threshold); a score outside [0, 1]
raises and the span ends ERROR with an ``exception`` event; the workflow records a ``plan``
span with ``batches`` (int), runs one activity per batch in order, never retries (a bad batch
fails the run, no later batch runs), and returns the sum. The spans must be in the trace that
the checks' own client began.
"""

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowFailureError

from labgrader.checks import assert_equal, assert_type, strictly_equal
from orchlab.testing.history import scheduled_activities


async def _run(t, nb, env, task_queue, job, *, fails=False):
    """Run ``job`` from a traced client of the checks; return (result, the run's spans, and
    each scheduled activity's (type, start-to-close timeout, maximum attempts) from its history)."""
    client, exporter = t.traced(env.client)
    result = None
    async with t.worker(env.client, task_queue, [nb.TracedScoring], [nb.score_batch]):
        handle = await client.start_workflow(
            nb.TracedScoring.run,
            job,
            id=f"{task_queue}-{uuid.uuid4().hex[:6]}",
            task_queue=task_queue,
            execution_timeout=timedelta(minutes=10),
        )
        if fails:
            with pytest.raises(WorkflowFailureError):
                await asyncio.wait_for(handle.result(), 20)
        else:
            result = await asyncio.wait_for(handle.result(), 20)
    scheduled = [
        (call.name, call.start_to_close, call.retry_policy.maximum_attempts)
        for call in await scheduled_activities(handle)
    ]
    starts = [s for s in exporter.get_finished_spans() if s.name == "StartWorkflow:TracedScoring"]
    assert len(starts) == 1, "the checks' client recorded no StartWorkflow span"
    ctx = starts[0].get_span_context()
    trace_id, start_id = f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"
    spans = nb.recorded_spans(trace_id)
    assert_type(spans, list, what="recorded_spans(trace_id)")
    runs = [s for s in spans if s.name == "RunWorkflow:TracedScoring"]
    assert runs and all(strictly_equal(s.parent_id, start_id) for s in runs), (
        f"no RunWorkflow:TracedScoring span continues the trace the checks' client started "
        f"(trace {trace_id}); got span names {sorted({s.name for s in spans})}. Likely cause: "
        f"the worker has no interceptors=[TRACING_INTERCEPTOR]"
    )
    return result, spans, scheduled


def _scores(spans):
    """The ``score`` spans, each checked to hang under a RunActivity:score_batch span, by start."""
    by_id = {s.span_id: s for s in spans}
    scores = sorted((s for s in spans if s.name == "score"), key=lambda s: s.start)
    for s in scores:
        parent = by_id.get(s.parent_id)
        assert parent is not None and strictly_equal(parent.name, "RunActivity:score_batch"), (
            f"a 'score' span's parent is the interceptor's RunActivity:score_batch span; got "
            f"{parent.name if parent else 'no parent in the trace'}. Likely cause: a span opened "
            f"with a tracer of its own context, or outside the activity"
        )
    return scores


def _mine(span, *keys):
    return {k: span.attributes[k] for k in keys if k in span.attributes}


@pytest.mark.check(exercise="traced-workflow", points=8)
async def test_worked_example(t, nb, temporal_time_skipping, task_queue):
    job = nb.ScoreJob("wine-v3", [[0.9, 0.2], [0.7], [0.1, 0.6, 0.95]])
    result, spans, scheduled = await _run(t, nb, temporal_time_skipping, task_queue, job)
    assert_equal(result, 4, what="TracedScoring.run(ScoreJob('wine-v3', 3 batches))")
    assert_equal(
        scheduled,
        [("score_batch", timedelta(seconds=10), 1)] * 3,
        what="the activities the run scheduled (type, start_to_close_timeout, maximum_attempts)",
        hint="one per batch, start_to_close_timeout=10 s, RetryPolicy(maximum_attempts=1)",
    )
    plans = [s for s in spans if s.name == "plan"]
    assert len(plans) == 1, (
        f"one 'plan' span per run (otel_workflow.completed_span in the workflow); got {len(plans)}"
    )
    assert_equal(_mine(plans[0], "batches"), {"batches": 3}, what="the plan span's attributes")
    scores = _scores(spans)
    got = [_mine(s, "model", "rows", "accepted") for s in scores]
    assert_equal(
        got,
        [
            {"model": "wine-v3", "rows": 2, "accepted": 1},
            {"model": "wine-v3", "rows": 1, "accepted": 1},
            {"model": "wine-v3", "rows": 3, "accepted": 2},
        ],
        what="the score spans' model, rows and accepted, in batch order",
    )
    assert all(s.status != "ERROR" for s in scores), "no batch failed, yet a score span is ERROR"


@pytest.mark.check(exercise="traced-workflow", points=4)
async def test_bad_batch(t, nb, temporal_time_skipping, task_queue):
    job = nb.ScoreJob("wine-v3", [[0.9], [0.4, 1.7], [0.8]])
    _, spans, scheduled = await _run(t, nb, temporal_time_skipping, task_queue, job, fails=True)
    assert_equal(
        len(scheduled),
        2,
        what="the number of activities scheduled when the second of three batches fails",
        hint="a failed batch fails the run: no later batch is scheduled",
    )
    scores = _scores(spans)
    got = [_mine(s, "rows") for s in scores]
    assert_equal(
        got,
        [{"rows": 1}, {"rows": 2}],
        what="the score spans' rows",
        hint="a score outside [0, 1] fails the run at once: one attempt (maximum_attempts=1), "
        "and no later batch",
    )
    bad = scores[1]
    assert strictly_equal(bad.status, "ERROR") and "exception" in bad.events, (
        f"the failing batch's score span ends with status ERROR and an 'exception' event; got "
        f"status {bad.status!r}, events {bad.events!r}. Likely cause: the error caught inside "
        f"the span"
    )
    assert "accepted" not in bad.attributes, (
        f"accepted is set only on success; the failing batch's span has {bad.attributes!r}"
    )
    attempts = [s for s in spans if s.name == "RunActivity:score_batch"]
    assert len(attempts) == 2, (
        f"two activity attempts (the good batch, the bad one once); got {len(attempts)}. "
        f"Likely cause: a retry policy other than RetryPolicy(maximum_attempts=1)"
    )


@pytest.mark.check(exercise="traced-workflow", points=3, hidden=True)
async def test_hidden_threshold_and_empty(t, nb, temporal_time_skipping, task_queue):
    job = nb.ScoreJob("churn-v9", [[0.3, 0.3, 0.29], [], [1.0, 0.0]], 0.3)
    result, spans, _ = await _run(t, nb, temporal_time_skipping, task_queue, job)
    assert_equal(result, 3, what="TracedScoring.run with threshold 0.3 (scores equal to it count)")
    plans = [s for s in spans if s.name == "plan"]
    assert len(plans) == 1 and strictly_equal(_mine(plans[0], "batches"), {"batches": 3}), (
        f"one plan span with batches=3; got {[s.attributes for s in plans]!r}"
    )
    got = [_mine(s, "model", "rows", "accepted") for s in _scores(spans)]
    assert_equal(
        got,
        [
            {"model": "churn-v9", "rows": 3, "accepted": 2},
            {"model": "churn-v9", "rows": 0, "accepted": 0},
            {"model": "churn-v9", "rows": 2, "accepted": 1},
        ],
        what="the score spans (an empty batch is scored too)",
    )
