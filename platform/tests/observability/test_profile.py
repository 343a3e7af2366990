"""The critical path of a synthetic trace: which step attempts bound the run's time."""

from __future__ import annotations

import pytest

from orchlab.observability import SpanRecord, critical_path
from orchlab.observability import _names as names

S = 1_000_000_000  # a second in nanoseconds
ROOT = "r" * 16


def step(name: str, start: float, end: float, attempt: int = 1, trace: str = "t") -> SpanRecord:
    attrs = {names.Attr.STEP: name, names.Attr.ATTEMPT: attempt, names.Attr.RUN_ID: "run-1"}
    span_id = f"{name}{attempt}".ljust(16, "0")
    return SpanRecord(names.step_span_name(name), trace * 32, span_id, ROOT,
                      int(start * S), int(end * S), attributes=attrs)  # fmt: skip


def run_trace() -> list[SpanRecord]:
    """ingest, then prepare and features side by side (features is the longer), then train
    (failed once, retried after a pause)."""
    root = SpanRecord("pipeline:wine", "t" * 32, ROOT, None, 0, 10 * S,
                      attributes={names.Attr.RUN_ID: "run-1"})  # fmt: skip
    return [
        root,
        step("ingest", 0.1, 1.0),
        step("prepare", 1.1, 2.0),
        step("features", 1.1, 4.0),
        step("train", 4.2, 5.0, attempt=1),
        step("train", 6.0, 9.5, attempt=2),
        step("other", 0.0, 9.9, trace="u"),  # another trace: not this run's
    ]


def test_the_path_runs_through_the_longest_branch_and_every_attempt() -> None:
    path = critical_path(run_trace())
    assert path.run_id == "run-1" and path.total_seconds == 10.0
    assert [(s.step, s.attempt) for s in path.steps] == [
        ("ingest", 1), ("features", 1), ("train", 1), ("train", 2),
    ]  # fmt: skip
    assert [round(s.wait_seconds, 3) for s in path.steps] == [0.1, 0.1, 0.2, 1.0]
    assert path.busy_seconds == pytest.approx(0.9 + 2.9 + 0.8 + 3.5)
    assert path.waiting_seconds == pytest.approx(10.0 - 8.1)
    assert path.bottleneck is not None and path.bottleneck.step == "train"


def test_a_trace_without_one_run_has_no_path() -> None:
    with pytest.raises(ValueError, match="found 0 root span"):
        critical_path(run_trace()[1:])
