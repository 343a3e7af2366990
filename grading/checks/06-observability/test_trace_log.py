"""Checks for exercise ``trace-log``: ``add_trace_ids`` and ``log_step``, on the lines the
lab's logger wrote and the spans recorded in the notebook's process.

Contract: inside a valid span, trace_id (32 lowercase hex) and span_id (16) are added, other
keys untouched; outside, the dict comes back unchanged; log_step runs work once in a span
step:<step> (attribute step) and logs one line: info 'step finished' with step and seconds
(float >= 0) and returns work's value, or error 'step failed' with step and error (the class
name) and the exception propagates.
"""

import json

import pytest

from labgrader.checks import assert_equal, assert_type


class Work:
    """A step's work for the checks: counts its calls, returns or raises."""

    def __init__(self, value=None, error=None):
        self.calls, self.value, self.error = 0, value, error

    def __call__(self):
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.value


def _lines(nb):
    lines = nb.take_log_lines()
    assert_type(lines, list, what="take_log_lines()")
    out = []
    for line in lines:
        assert_type(line, str, what="a log line")
        record = json.loads(line)
        assert_type(record, dict, what="a log line's JSON")
        out.append(record)
    return out


def _span(nb, name):
    spans = [s for s in nb.recorded_spans() if s.name == name]
    assert spans, f"no span named {name!r} was recorded; log_step opens one with TRACER"
    return spans[-1]


def _ids(record):
    return {k: record.get(k) for k in ("trace_id", "span_id")}


@pytest.mark.check(exercise="trace-log", points=5)
def test_worked_example(nb):
    nb.take_log_lines()
    work = Work(value=42)
    got = nb.log_step("train", work)
    assert_equal(got, 42, what="log_step('train', work) (work returns 42)")
    assert_equal(work.calls, 1, what="the number of calls of work")
    lines = _lines(nb)
    assert len(lines) == 1, f"one line per log_step call; got {len(lines)}: {lines!r}"
    line = lines[0]
    span = _span(nb, "step:train")
    seconds = line.pop("seconds", None)
    assert type(seconds) is float and seconds >= 0, (
        f"'seconds' is the call's wall time as a float >= 0; got {seconds!r}"
    )
    assert_equal(
        line,
        {
            "event": "step finished",
            "level": "info",
            "step": "train",
            "trace_id": span.trace_id,
            "span_id": span.span_id,
        },
        what="the log line (without seconds)",
        hint="trace_id and span_id are the step:train span's, as 32 and 16 lowercase hex digits",
    )
    assert_equal(
        span.attributes.get("step"), "train", what="the step:train span's 'step' attribute"
    )
    outside = nb.add_trace_ids(None, "info", {"event": "idle", "n": 1})
    assert_equal(
        outside,
        {"event": "idle", "n": 1},
        what="add_trace_ids outside any span",
        hint="no current span: add nothing, not even None",
    )


@pytest.mark.check(exercise="trace-log", points=5, hidden=True)
def test_hidden_failure_is_logged_and_raised(nb):
    nb.take_log_lines()
    work = Work(error=KeyError("features"))
    with pytest.raises(KeyError):
        nb.log_step("join_events", work)
    assert_equal(work.calls, 1, what="the number of calls of a failing work (no retry)")
    lines = _lines(nb)
    assert len(lines) == 1, f"one line for a failed step; got {len(lines)}: {lines!r}"
    span = _span(nb, "step:join_events")
    assert_equal(
        lines[0],
        {
            "event": "step failed",
            "level": "error",
            "step": "join_events",
            "error": "KeyError",
            "trace_id": span.trace_id,
            "span_id": span.span_id,
        },
        what="the failed step's log line",
    )
    assert span.status == "ERROR", (
        f"the exception propagates through the span, which ends ERROR; got {span.status!r}"
    )
    nb.log_step("a", Work(value=None))
    nb.log_step("b", Work(value=[1, 2]))
    first, second = _lines(nb)
    span_a, span_b = _span(nb, "step:a"), _span(nb, "step:b")
    assert_equal(
        [_ids(first), _ids(second)],
        [
            {"trace_id": span_a.trace_id, "span_id": span_a.span_id},
            {"trace_id": span_b.trace_id, "span_id": span_b.span_id},
        ],
        what="each line's ids (each step its own span)",
    )
