"""Run a pipeline on its schedule: Temporal Schedules and Prefect deployment schedules, from
the one :class:`ScheduleSpec` in its spec.

Temporal::

    handle = await create_temporal_schedule(client, "wine_training", task_queue="ml")
    await handle.trigger()                               # one run now
    await backfill_temporal(handle, date(2026, 11, 1), date(2026, 11, 8))  # a week, again
    await handle.pause(note="data source migration")

The schedule starts :class:`ScheduledPipelineWorkflow` on ``task_queue``: workers made by
:func:`orchlab.pipelines.create_worker` run it. Prefect: :func:`prefect_schedules` gives the
deployment schedules, :func:`prefect_deployment` a deployment of
:func:`scheduled_pipeline_flow` to serve.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleBackfill,
    ScheduleHandle,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleState,
)
from temporalio.client import ScheduleSpec as TemporalScheduleSpec

from orchlab.errors import SpecError
from orchlab.pipelines._schedule_spec import Overlap, ScheduleSpec
from orchlab.pipelines._scheduled_workflow import SCHEDULED_WORKFLOW, ScheduledRun
from orchlab.pipelines._spec import PipelineSpec, load_spec

_OVERLAP = {
    "skip": ScheduleOverlapPolicy.SKIP,
    "buffer_one": ScheduleOverlapPolicy.BUFFER_ONE,
    "buffer_all": ScheduleOverlapPolicy.BUFFER_ALL,
    "cancel_other": ScheduleOverlapPolicy.CANCEL_OTHER,
    "terminate_other": ScheduleOverlapPolicy.TERMINATE_OTHER,
    "allow_all": ScheduleOverlapPolicy.ALLOW_ALL,
}


def _scheduled(spec: PipelineSpec | str | Path) -> tuple[PipelineSpec, ScheduleSpec]:
    loaded = spec if isinstance(spec, PipelineSpec) else load_spec(spec)
    if loaded.schedule is None:
        raise SpecError(
            f"pipeline {loaded.name!r} has no schedule: add a 'schedule:' section "
            "(cron or every) to its spec"
        )
    return loaded, loaded.schedule


def scheduled_run(
    spec: PipelineSpec,
    *,
    workdir_root: Path | str | None = None,
    registry_dir: Path | str | None = None,
) -> ScheduledRun:
    """The fixed input every scheduled run of ``spec`` starts with."""
    schedule = spec.schedule or ScheduleSpec(every=timedelta(days=1))
    return ScheduledRun(
        spec=spec.model_dump(mode="json", exclude={"schedule"}),
        params=dict(schedule.params),
        timezone=schedule.timezone,
        date_param=schedule.date_param,
        workdir_root=str(Path(workdir_root).resolve()) if workdir_root else None,
        registry_dir=str(Path(registry_dir).resolve()) if registry_dir else None,
    )


def temporal_schedule(
    spec: PipelineSpec | str | Path,
    *,
    task_queue: str,
    workdir_root: Path | str | None = None,
    registry_dir: Path | str | None = None,
) -> Schedule:
    """The Temporal Schedule for a pipeline's ``schedule:`` section.

    Raises:
        SpecError: The spec is invalid or has no schedule.
    """
    loaded, schedule = _scheduled(spec)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SCHEDULED_WORKFLOW,
            scheduled_run(loaded, workdir_root=workdir_root, registry_dir=registry_dir),
            id=f"{loaded.name}-scheduled",
            task_queue=task_queue,
        ),
        spec=TemporalScheduleSpec(
            cron_expressions=list(schedule.cron),
            intervals=[ScheduleIntervalSpec(every=schedule.every)] if schedule.every else [],
            time_zone_name=schedule.timezone,
            jitter=schedule.jitter or None,
        ),
        policy=SchedulePolicy(
            overlap=_OVERLAP[schedule.overlap], catchup_window=schedule.catchup_window
        ),
        state=ScheduleState(
            paused=schedule.paused,
            note=f"pipeline {loaded.name} v{loaded.version}, from its spec",
        ),
    )


async def create_temporal_schedule(
    client: Client,
    spec: PipelineSpec | str | Path,
    *,
    task_queue: str,
    schedule_id: str | None = None,
    workdir_root: Path | str | None = None,
    registry_dir: Path | str | None = None,
) -> ScheduleHandle:
    """Create the pipeline's schedule on the Temporal server (id: ``<pipeline>`` by default).

    Raises:
        SpecError: The spec is invalid or has no schedule.
        temporalio.service.RPCError: The server refused it (a schedule with that id exists).
    """
    loaded, _ = _scheduled(spec)
    schedule = temporal_schedule(
        loaded, task_queue=task_queue, workdir_root=workdir_root, registry_dir=registry_dir
    )
    return await client.create_schedule(schedule_id or loaded.name, schedule)


async def backfill_temporal(
    handle: ScheduleHandle,
    start: date | datetime,
    end: date | datetime,
    *,
    overlap: Overlap = "allow_all",
) -> None:
    """Start the runs the schedule would have started in ``[start, end)``, for those times.

    Dates mean midnight UTC. Each run gets the time it fills as its scheduled time, so a
    ``date_param`` pipeline processes each past day. ``overlap`` applies among the backfilled
    runs (``allow_all`` by default: a backfill is usually meant to run in full).
    """
    begin, finish = _instant(start), _instant(end)
    if finish <= begin:
        raise ValueError(f"backfill range is empty: end {finish:%Y-%m-%d %H:%M} is not after start")
    await handle.backfill(
        ScheduleBackfill(start_at=begin, end_at=finish, overlap=_OVERLAP[overlap])
    )


def _instant(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(value, time(0), tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class PrefectScheduling:
    """What a Prefect deployment gets for a pipeline's schedule."""

    schedules: list[Any]
    """``prefect.schedules.Cron`` / ``Interval`` objects."""
    concurrency_limit: Any
    """An int, a ``ConcurrencyLimitConfig`` or None."""
    unsupported: list[str]
    """What Prefect cannot express, in words (shown as warnings; nothing is silently dropped)."""


def prefect_schedules(spec: PipelineSpec | str | Path) -> PrefectScheduling:
    """The pipeline's schedule as Prefect deployment schedules and a concurrency limit.

    Prefect has no per-schedule overlap policy: ``skip`` becomes a concurrency limit of one
    that cancels the new run, ``buffer_one``/``buffer_all`` one that enqueues it;
    ``cancel_other``/``terminate_other`` have no equivalent. Prefect does not catch up runs
    missed while its scheduler was down: ``catchup_window`` has no equivalent either.
    """
    from prefect.client.schemas.objects import (
        ConcurrencyLimitConfig,
        ConcurrencyLimitStrategy,
    )
    from prefect.schedules import Cron, Interval

    _, schedule = _scheduled(spec)
    params = dict(schedule.params)
    active = not schedule.paused
    schedules: list[Any] = [
        Cron(expr, timezone=schedule.timezone, active=active, parameters=params)
        for expr in schedule.cron
    ]
    if schedule.every is not None:
        schedules.append(
            Interval(schedule.every, timezone=schedule.timezone, active=active, parameters=params)
        )
    unsupported = []
    limit: Any = None
    if schedule.overlap == "skip":
        limit = ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        )
    elif schedule.overlap in ("buffer_one", "buffer_all"):
        limit = ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE)
        if schedule.overlap == "buffer_one":
            unsupported.append(
                "overlap 'buffer_one': Prefect enqueues every overlapping run (buffer_all)"
            )
    elif schedule.overlap != "allow_all":
        unsupported.append(
            f"overlap {schedule.overlap!r}: Prefect cannot cancel or terminate the running run "
            "when the next is due; runs overlap"
        )
    unsupported.append(
        f"catchup_window {schedule.catchup_window}: Prefect does not start runs missed while its "
        "scheduler was down (late runs start late, missed ones are not created)"
    )
    if schedule.jitter:
        unsupported.append(f"jitter {schedule.jitter}: Prefect schedules have no jitter")
    return PrefectScheduling(schedules, limit, unsupported)


def prefect_deployment(
    spec: PipelineSpec | str | Path,
    *,
    name: str | None = None,
    workdir_root: Path | str | None = None,
    registry_dir: Path | str | None = None,
) -> Any:
    """A Prefect deployment of the pipeline on its schedule, to ``apply()`` or ``serve()``.

    ``prefect.serve(prefect_deployment("wine_training"))`` registers it and runs its
    scheduled runs in this process (``deployment.apply()`` only registers it; from async code
    ``await deployment.apply()``); what Prefect cannot express is in
    :func:`prefect_schedules`' ``unsupported``.
    """
    from orchlab.pipelines._prefect import scheduled_pipeline_flow

    loaded, _ = _scheduled(spec)
    scheduling = prefect_schedules(loaded)
    run = dataclasses.asdict(
        scheduled_run(loaded, workdir_root=workdir_root, registry_dir=registry_dir)
    )
    return scheduled_pipeline_flow.to_deployment(
        name=name or loaded.name,
        schedules=scheduling.schedules,
        parameters={"run": run},
        concurrency_limit=scheduling.concurrency_limit,
        description=f"pipeline {loaded.name} v{loaded.version} on its schedule",
        tags=["orchlab", f"pipeline:{loaded.name}"],
        _sync=True,  # type: ignore[call-arg]  # a deployment, also when called from async code
    )


__all__ = [
    "PrefectScheduling",
    "backfill_temporal",
    "create_temporal_schedule",
    "prefect_deployment",
    "prefect_schedules",
    "scheduled_run",
    "temporal_schedule",
]
