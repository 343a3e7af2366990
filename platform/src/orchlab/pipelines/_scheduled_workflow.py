"""The workflow a Temporal Schedule starts for a pipeline: it plans the run for its scheduled
time, then runs the plan as a child :class:`PipelineWorkflow`.

The schedule's action has a fixed input, but every run needs its own id, folder and, for a
daily pipeline, its own business date. So the schedule starts this small workflow with the
spec and the schedule's parameters; it reads the time it was scheduled for from the
``TemporalScheduledStartTime`` search attribute (a backfill sets it to the past time it
fills), and an activity (:func:`orchlab.pipelines._temporal.plan_scheduled_run`: files and settings
are not for workflow code) binds the parameters and makes the plan. This module stays light:
it is loaded inside the workflow sandbox.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio import workflow
from temporalio.common import SearchAttributeKey

with workflow.unsafe.imports_passed_through():
    # The converter resolves a dataclass's hints in its module as the sandbox sees it, so
    # every module of PipelineInput's field types is imported here, in the sandbox, too.
    import orchlab.pipelines._plan
    import orchlab.pipelines._retry
    import orchlab.pipelines._tasks  # noqa: F401
    from orchlab.pipelines._result import PipelineOutcome
    from orchlab.pipelines._temporal_workflow import PipelineInput, PipelineWorkflow

SCHEDULED_WORKFLOW = "orchlab-scheduled-pipeline"
"""The workflow type a pipeline's schedule starts."""
PLAN_ACTIVITY = "orchlab-plan-scheduled-run"
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")


@dataclasses.dataclass
class ScheduledRun:
    """The fixed input of every run a pipeline's schedule starts."""

    spec: dict[str, Any]
    """The pipeline spec as plain data."""
    params: dict[str, Any]
    """The schedule's parameters."""
    timezone: str = "UTC"
    """The schedule's time zone (the scheduled day is taken there)."""
    date_param: str | None = None
    """The date parameter set to the scheduled day."""
    workdir_root: str | None = None
    """Runs' folders go under it (default: the workers' state folder)."""
    registry_dir: str | None = None
    """The model registry folder, or None for the workers' default."""


@dataclasses.dataclass
class PlanCall:
    """What the planning activity needs."""

    run: ScheduledRun
    scheduled_for: str
    """The scheduled time, ISO 8601 UTC."""
    run_id: str


def scheduled_params(run: ScheduledRun, scheduled_for: datetime) -> dict[str, Any]:
    """The run's parameters: the schedule's, and the scheduled day in the schedule's zone."""
    params = dict(run.params)
    if run.date_param:
        params[run.date_param] = scheduled_for.astimezone(ZoneInfo(run.timezone)).date().isoformat()
    return params


@workflow.defn(name=SCHEDULED_WORKFLOW)
class ScheduledPipelineWorkflow:
    """Plan the run for the time it was scheduled for, then run it as a child workflow."""

    @workflow.run
    async def run(self, run: ScheduledRun) -> PipelineOutcome:
        info = workflow.info()
        # Started by hand (not by the schedule): the run is for now.
        when = info.typed_search_attributes.get(SCHEDULED_START) or workflow.now()
        name = str(run.spec.get("name", "pipeline"))
        run_id = f"{name}-{when:%Y%m%dT%H%M%SZ}-{info.run_id[:6]}"
        payload = await workflow.execute_activity(
            PLAN_ACTIVITY,
            PlanCall(run=run, scheduled_for=when.isoformat(), run_id=run_id),
            result_type=PipelineInput,
            start_to_close_timeout=timedelta(minutes=1),
        )
        return await workflow.execute_child_workflow(
            PipelineWorkflow.run, payload, id=f"{info.workflow_id}/pipeline"
        )


__all__ = [
    "PLAN_ACTIVITY",
    "SCHEDULED_WORKFLOW",
    "PlanCall",
    "ScheduledPipelineWorkflow",
    "ScheduledRun",
    "scheduled_params",
]
