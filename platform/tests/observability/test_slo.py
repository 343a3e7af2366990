"""Run records, SLIs and error budgets on synthetic runs (no engine, no waiting)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from orchlab.observability import (
    SLO,
    RunHistory,
    RunRecord,
    RunRecorder,
    RunRecordError,
    SpanRecord,
    burn_rate,
    error_budget,
    read_run_records,
    records_from_spans,
    write_run_records,
)
from orchlab.observability import _names as names
from orchlab.pipelines import run_local

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def run(minute: float, seconds: float = 60, status: str = "succeeded", **kw: str) -> RunRecord:
    ended = T0 + timedelta(minutes=minute)
    fields = {"pipeline": "wine", "engine": "local", **kw}
    return RunRecord(
        pipeline=fields["pipeline"],
        run_id=f"r{minute}",
        engine=fields["engine"],
        status=status,  # type: ignore[arg-type]
        started=ended - timedelta(seconds=seconds),
        ended=ended,
    )


def test_a_record_refuses_naive_times_reversed_times_and_unknown_statuses() -> None:
    with pytest.raises(RunRecordError, match="started has no timezone"):
        RunRecord("p", "r", "local", "succeeded", datetime(2026, 1, 1), T0)
    with pytest.raises(RunRecordError, match=r"ends .* before it starts"):
        RunRecord("p", "r", "local", "succeeded", T0, T0 - timedelta(seconds=1))
    with pytest.raises(RunRecordError, match="status 'running' is not succeeded or failed"):
        RunRecord("p", "r", "local", "running", T0, T0)  # type: ignore[arg-type]


def test_records_round_trip_through_a_jsonl_file(tmp_path: Path) -> None:
    records = [run(1), run(2, status="failed", engine="temporal")]
    path = write_run_records(tmp_path / "runs" / "runs.jsonl", records)
    assert read_run_records(path) == records
    path.write_text(path.read_text() + '{"pipeline": "p"}\n')
    with pytest.raises(RunRecordError, match=r"runs.jsonl:3: not a run record: KeyError"):
        read_run_records(path)
    with pytest.raises(RunRecordError, match="no run records at"):
        read_run_records(tmp_path / "missing.jsonl")


def test_the_root_spans_of_a_trace_are_its_runs() -> None:
    def span(name: str, span_id: str, parent: str | None, status: str | None) -> SpanRecord:
        attrs = {names.Attr.RUN_ID: "run-1", names.Attr.ENGINE: "prefect"}
        if parent is None:
            attrs[names.Attr.PIPELINE] = "wine"
        if status:
            attrs[names.Attr.STATUS] = status
        start = int(T0.timestamp() * 1e9)
        return SpanRecord(name, "t" * 32, span_id, parent, start, start + 2_500_000_000,
                          attributes=attrs)  # fmt: skip

    spans = [
        span("pipeline:wine", "a" * 16, None, "failed"),
        span("step:load", "b" * 16, "a" * 16, "succeeded"),
    ]
    (record,) = records_from_spans(spans)
    assert (record.pipeline, record.run_id, record.engine, record.status) == (
        "wine", "run-1", "prefect", "failed",
    )  # fmt: skip
    assert record.started == T0 and record.duration_seconds == 2.5


def test_the_recorder_records_every_run_of_the_process(
    tmp_path: Path, partner_spec: dict[str, object]
) -> None:
    clock_time = T0 + timedelta(days=3)
    recorder = RunRecorder(tmp_path / "runs.jsonl", clock=lambda: clock_time).install()
    try:
        result = run_local(partner_spec, workdir=tmp_path / "run", registry_dir=tmp_path / "reg")
    finally:
        recorder.uninstall()
    (record,) = recorder.records
    assert (record.run_id, record.status, record.ended) == (result.run_id, "succeeded", clock_time)
    # The call step's retry waits 0.1 s: the run took at least that long.
    assert record.duration_seconds >= 0.1
    assert read_run_records(tmp_path / "runs.jsonl") == [record]


def test_an_slo_checks_its_definition() -> None:
    with pytest.raises(ValueError, match=r"objective must be between 0 and 1, got 1\.5"):
        SLO("s", objective=1.5)
    with pytest.raises(ValueError, match="latency SLO 's' needs latency_seconds > 0"):
        SLO("s", objective=0.9, kind="latency")
    with pytest.raises(ValueError, match="success SLO 's' takes no latency_seconds"):
        SLO("s", objective=0.9, latency_seconds=3)
    with pytest.raises(ValueError, match="SLO name 'wine-success' must be letters"):
        SLO("wine-success", objective=0.9)


def test_the_error_budget_counts_the_window_and_the_slos_runs_only() -> None:
    records = [run(m) for m in range(1, 201)]  # 200 runs, one a minute
    records[10] = run(11, status="failed")
    records[20] = run(21, status="failed")
    records.append(run(100.5, status="failed", pipeline="other"))  # another pipeline
    slo = SLO("wine_success", objective=0.98, pipeline="wine", window=timedelta(hours=2))
    budget = error_budget(records, slo, now=T0 + timedelta(minutes=200))
    # The window is (80 min, 200 min]: 120 runs, none of the two failures.
    assert (budget.total, budget.bad, budget.sli, budget.consumed) == (120, 0, 1.0, 0.0)
    whole = error_budget(records, slo, now=T0 + timedelta(minutes=200), window=timedelta(days=1))
    assert (whole.total, whole.bad) == (200, 2)
    assert whole.sli == pytest.approx(0.99)
    assert whole.allowed_bad == pytest.approx(4.0)
    assert (whole.consumed, whole.remaining, whole.met) == (pytest.approx(0.5),
                                                            pytest.approx(0.5), True)  # fmt: skip
    clocked = error_budget(records, slo, window=timedelta(days=1),
                           clock=lambda: T0 + timedelta(minutes=200))  # fmt: skip
    assert clocked == whole


def test_a_latency_slo_counts_slow_runs_as_bad_and_an_empty_window_burns_nothing() -> None:
    records = [run(m, seconds=30 if m % 4 else 120) for m in range(1, 101)]  # every 4th slow
    slo = SLO("wine_latency", objective=0.9, kind="latency", latency_seconds=60)
    history = RunHistory(records)
    budget = error_budget(history, slo, now=T0 + timedelta(minutes=100))
    assert (budget.total, budget.bad, budget.met) == (100, 25, False)
    assert budget.consumed == pytest.approx(2.5) and budget.remaining == pytest.approx(-1.5)
    assert burn_rate(history, slo, timedelta(minutes=8), now=T0 + timedelta(minutes=100)) == (
        pytest.approx(2 / 8 / 0.1)
    )
    assert burn_rate(history, slo, timedelta(hours=1), now=T0 - timedelta(days=1)) == 0.0
    empty = error_budget([], slo, now=T0)
    assert (empty.sli, empty.consumed, empty.met) == (None, 0.0, True)
