"""The engines' own records of a run, read back through their APIs: Temporal's visibility and
event history on a real dev server, Prefect's flow-run API on a real server. One run of the
``partner`` spec per engine (its first step fails once, then succeeds on its retry)."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from orchlab.observability import (
    RunRecord,
    capture_spans,
    critical_path,
    prefect_run_records,
    span_records,
    temporal_run_records,
    workflow_activity_timings,
)
from orchlab.pipelines import run_prefect, run_temporal
from orchlab.runtime import connect_temporal

VISIBILITY_WAIT = 10.0
"""Seconds to wait for a closed workflow to show in visibility (it is written after the
close, asynchronously)."""


async def _visible(client: Any, workflow_id: str) -> list[RunRecord]:
    query = f"WorkflowId = '{workflow_id}' AND ExecutionStatus != 'Running'"
    deadline = asyncio.get_running_loop().time() + VISIBILITY_WAIT
    while True:
        records = await temporal_run_records(client, query=query)
        if records or asyncio.get_running_loop().time() > deadline:
            return records
        await asyncio.sleep(0.1)


async def test_temporal_visibility_and_history_give_the_run_and_its_activity_timings(
    temporal_address: str, partner_spec: dict[str, Any], tmp_path: Path
) -> None:
    client = await connect_temporal(address=temporal_address)
    with capture_spans() as exporter:
        result = await run_temporal(
            partner_spec, client=client, task_queue=f"records-{uuid.uuid4().hex[:8]}",
            workdir=tmp_path / "run", registry_dir=tmp_path / "registry",
        )  # fmt: skip
    assert result.succeeded
    (record,) = await _visible(client, result.engine_run_id)
    assert (record.pipeline, record.run_id, record.engine, record.status) == (
        "partner", result.run_id, "temporal", "succeeded",
    )  # fmt: skip
    assert record.engine_run_id == result.engine_run_id and record.duration_seconds > 0

    timings = {
        t.activity_id: t for t in await workflow_activity_timings(client, record.engine_run_id)
    }
    assert list(timings) == ["call", "load", "check"]
    assert [timings[s].status for s in timings] == ["completed"] * 3
    # History keeps the last attempt's start: the call step's second.
    assert (timings["call"].attempt, timings["load"].attempt) == (2, 1)
    for timing in timings.values():
        assert timing.started is not None and timing.closed is not None
        assert timing.scheduled <= timing.started <= timing.closed
        assert timing.schedule_to_start_seconds is not None
        assert timing.execution_seconds is not None
    # The call step's recorded start comes after its first attempt and the retry's back-off.
    assert timings["call"].schedule_to_start_seconds >= 0.1  # type: ignore[operator]
    assert timings["load"].scheduled >= timings["call"].closed  # type: ignore[operator]

    path = critical_path(span_records(exporter.get_finished_spans()))
    assert [(s.step, s.attempt) for s in path.steps] == [
        ("call", 1), ("call", 2), ("load", 1), ("check", 1),
    ]  # fmt: skip
    # The second attempt waited for the retry's back-off (0.1 s) after the first.
    assert path.steps[1].wait_seconds >= 0.1
    assert path.busy_seconds + path.waiting_seconds == path.total_seconds


async def test_prefect_flow_runs_give_the_run_with_its_run_time(
    prefect_api_url: str, partner_spec: dict[str, Any], tmp_path: Path
) -> None:
    result = run_prefect(partner_spec, api_url=prefect_api_url, workdir=tmp_path / "run",
                         registry_dir=tmp_path / "registry")  # fmt: skip
    assert result.succeeded
    records = {r.run_id: r for r in await prefect_run_records(flows=["partner"])}
    record = records[result.run_id]
    assert (record.pipeline, record.engine, record.status) == ("partner", "prefect", "succeeded")
    assert record.engine_run_id == result.engine_run_id
    assert record.run_seconds is not None and 0 < record.run_seconds <= record.duration_seconds
    assert record.lateness_seconds is not None
    assert await prefect_run_records(flows=[f"none-{uuid.uuid4().hex}"]) == []
