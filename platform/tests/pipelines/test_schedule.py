"""A pipeline's schedule from its spec: checked at load, a Temporal Schedule whose backfill
runs each past day with that day as its date (on the real dev server), and a Prefect
deployment with the same cron, time zone and parameters (on the real Prefect server)."""

from __future__ import annotations

import asyncio
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.settings import PREFECT_API_URL, temporary_settings
from temporalio.client import Client, ScheduleOverlapPolicy, WorkflowExecutionStatus

from orchlab.errors import SpecError
from orchlab.pipelines import (
    PipelineInput,
    PipelineSpec,
    backfill_temporal,
    create_temporal_schedule,
    create_worker,
    prefect_deployment,
    prefect_schedules,
    scheduled_pipeline_flow,
    scheduled_run,
)


def _spec(**schedule: Any) -> dict[str, Any]:
    return {
        "name": f"daily_{uuid.uuid4().hex[:6]}",
        "parameters": {
            "date": {"type": "date", "default": "today"},
            "source": {"type": "str", "default": "wine"},
        },
        "steps": [{"name": "load", "task": "ingest", "params": {"source": "${params.source}"}}],
        "schedule": {
            "cron": "0 6 * * *",
            "timezone": "Europe/Berlin",
            "date_param": "date",
            "params": {"source": "diabetes"},
            **schedule,
        },
    }


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ({"every": "1h"}, "either cron or every (and not both)"),
        ({"cron": [], "every": None}, "either cron or every"),
        ({"cron": "0 6 * *"}, "has 4 fields; it needs five"),
        ({"timezone": "Europe/Berlinn"}, "unknown time zone 'Europe/Berlinn'"),
        ({"catchup_window": "1 day"}, "not a duration: '1 day'"),
        ({"overlap": "queue"}, "overlap"),
        ({"params": {"sorce": "x"}}, "unknown parameter 'sorce' (did you mean 'source'?)"),
        ({"date_param": "source"}, "date_param 'source' must be a date parameter, not str"),
    ],
)
def test_a_bad_schedule_is_refused_at_load_naming_the_problem(
    schedule: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        PipelineSpec.from_dict(_spec(**schedule))


def test_durations_and_a_single_cron_are_read() -> None:
    spec = PipelineSpec.from_dict(_spec(cron=None, every="90m", catchup_window="3d", jitter=30))
    assert spec.schedule is not None
    assert spec.schedule.every == timedelta(minutes=90)
    assert spec.schedule.catchup_window == timedelta(days=3)
    assert spec.schedule.jitter == timedelta(seconds=30)
    assert PipelineSpec.from_dict(_spec()).schedule.cron == ["0 6 * * *"]  # type: ignore[union-attr]


async def test_a_backfill_runs_each_past_day_for_that_day(
    temporal_client: Client, task_queue: str, tmp_path: Path
) -> None:
    spec = PipelineSpec.from_dict(_spec(paused=True))
    schedule_id = f"{spec.name}-{uuid.uuid4().hex[:6]}"
    handle = await create_temporal_schedule(
        temporal_client,
        spec,
        task_queue=task_queue,
        schedule_id=schedule_id,
        workdir_root=tmp_path,
    )
    try:
        described = await handle.describe()
        assert described.schedule.spec.time_zone_name == "Europe/Berlin"
        assert described.schedule.policy.overlap == ScheduleOverlapPolicy.SKIP
        assert described.schedule.state.paused is True

        # 06:00 in Berlin on 1, 2 and 3 November; paused schedules still backfill.
        await backfill_temporal(handle, date(2026, 11, 1), date(2026, 11, 4))
        query = f"TemporalScheduledById = '{schedule_id}'"
        with ThreadPoolExecutor(max_workers=4) as pool:
            async with create_worker(temporal_client, task_queue, activity_executor=pool):
                runs: list[Any] = []
                for _ in range(600):  # bounded: the three runs take a second or two
                    runs = [wf async for wf in temporal_client.list_workflows(query)]
                    if len(runs) == 3 and all(
                        wf.status == WorkflowExecutionStatus.COMPLETED for wf in runs
                    ):
                        break
                    await asyncio.sleep(0.1)
        assert sorted(wf.status for wf in runs) == [WorkflowExecutionStatus.COMPLETED] * 3

        dates = []
        for wf in runs:
            child = temporal_client.get_workflow_handle(f"{wf.id}/pipeline")
            history = await child.fetch_history()
            [plan_input] = await temporal_client.data_converter.decode(
                history.events[0].workflow_execution_started_event_attributes.input.payloads,
                [PipelineInput],
            )
            assert plan_input.plan.params["source"] == "diabetes"  # the schedule's parameter
            assert Path(plan_input.workdir).parent == tmp_path.resolve()
            dates.append(plan_input.plan.params["date"])
        assert sorted(dates) == ["2026-11-01", "2026-11-02", "2026-11-03"]
    finally:
        await handle.delete()


async def test_an_empty_backfill_range_is_refused(temporal_client: Client) -> None:
    handle = temporal_client.get_schedule_handle("never-created")
    with pytest.raises(ValueError, match="backfill range is empty"):
        await backfill_temporal(handle, date(2026, 11, 4), date(2026, 11, 1))


def test_prefect_gets_the_schedule_and_is_told_what_it_cannot_do() -> None:
    skip = prefect_schedules(PipelineSpec.from_dict(_spec()))
    [cron] = skip.schedules
    assert (cron.cron, cron.timezone, cron.parameters) == (
        "0 6 * * *",
        "Europe/Berlin",
        {"source": "diabetes"},
    )
    assert skip.concurrency_limit.limit == 1
    assert skip.concurrency_limit.collision_strategy.value == "CANCEL_NEW"
    assert any("catchup_window" in line for line in skip.unsupported)

    terminate = prefect_schedules(PipelineSpec.from_dict(_spec(overlap="terminate_other")))
    assert terminate.concurrency_limit is None
    assert any("overlap 'terminate_other'" in line for line in terminate.unsupported)

    with pytest.raises(SpecError, match="has no schedule"):
        prefect_schedules(PipelineSpec.from_dict({**_spec(), "schedule": None}))


async def test_the_prefect_deployment_carries_the_schedule_and_its_runs_plan_their_day(
    prefect_api_url: str, tmp_path: Path
) -> None:
    spec = PipelineSpec.from_dict(_spec(paused=True))
    with temporary_settings({PREFECT_API_URL: prefect_api_url}):
        deployment_id = await prefect_deployment(spec, workdir_root=tmp_path).apply()
        async with get_client() as client:
            deployment = await client.read_deployment(deployment_id)
        [schedule] = deployment.schedules
        assert schedule.schedule.cron == "0 6 * * *"
        assert schedule.schedule.timezone == "Europe/Berlin"
        assert schedule.active is False
        assert deployment.parameters["run"]["params"] == {"source": "diabetes"}

        # What a scheduled run executes: planned for its scheduled day, in its own folder.
        run = scheduled_run(spec, workdir_root=tmp_path).__dict__
        result = await asyncio.to_thread(scheduled_pipeline_flow, run=run)
    assert result["failures"] == {}
    assert list(result["outputs"]) == ["load"]
    [folder] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert folder.name.startswith(spec.name)
