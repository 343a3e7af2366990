"""Run records from the engines' own records: Temporal's visibility, Prefect's flow runs.

The engines keep every run whoever started it and whether or not orchlab's process was
watching, so an SLI computed from them survives a crashed client and counts runs started
from a UI or a schedule. Each adapter yields the same :class:`~orchlab.observability.RunRecord`
as orchlab's own records:

- :func:`temporal_run_records` lists closed workflows through the client's visibility API
  (``orchlab-pipeline`` workflows by default): start and close time, status.
- :func:`prefect_run_records` reads finished flow runs through Prefect's client API: start
  and end time, total run time, lateness against the expected start, state.

A Temporal workflow that completed or a Prefect flow run that completed is a succeeded run;
failed, timed-out, terminated, cancelled and crashed ones are failed runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from orchlab.observability._runs import RunRecord

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient
    from temporalio.client import Client, WorkflowExecution

PIPELINE_WORKFLOW = "orchlab-pipeline"
"""The workflow type every orchlab pipeline runs as on Temporal."""
TEMPORAL_QUERY = f"WorkflowType = '{PIPELINE_WORKFLOW}' AND ExecutionStatus != 'Running'"
"""The visibility query :func:`temporal_run_records` uses by default."""


def _temporal_record(execution: WorkflowExecution) -> RunRecord | None:
    from temporalio.client import WorkflowExecutionStatus

    if execution.close_time is None or execution.status is None:
        return None  # still running
    # orchlab's workflow ids are <pipeline>/<run id>; another workflow keeps its own names.
    pipeline, sep, run_id = execution.id.partition("/")
    if not sep:
        pipeline, run_id = execution.workflow_type, execution.id
    return RunRecord(
        pipeline=pipeline,
        run_id=run_id,
        engine="temporal",
        status="succeeded" if execution.status is WorkflowExecutionStatus.COMPLETED else "failed",
        started=execution.start_time,
        ended=execution.close_time,
        engine_run_id=execution.id,
    )


async def temporal_run_records(
    client: Client, *, query: str = TEMPORAL_QUERY, limit: int | None = 1000
) -> list[RunRecord]:
    """The closed workflows ``query`` finds in the client's namespace, as run records.

    Args:
        client: A connected Temporal client.
        query: A visibility list filter (``WorkflowType = '...' AND StartTime > '...'``).
        limit: At most this many workflows (the most recent first, as visibility lists).

    Returns:
        The records, by start time.
    """
    records = []
    async for execution in client.list_workflows(query, limit=limit):
        record = _temporal_record(execution)
        if record is not None:
            records.append(record)
    return sorted(records, key=lambda r: r.started)


async def prefect_run_records(
    client: PrefectClient | None = None,
    *,
    flows: Sequence[str] | None = None,
    limit: int = 200,
) -> list[RunRecord]:
    """Finished flow runs from Prefect's API, as run records.

    Args:
        client: A Prefect client; by default ``prefect.get_client()`` (the API in
            ``PREFECT_API_URL``).
        flows: Only the runs of these flows (orchlab names a pipeline's flow after the
            pipeline); every flow by default.
        limit: At most this many runs, the most recently started first.

    Returns:
        The records, by start time; ``run_seconds`` is Prefect's ``total_run_time`` and
        ``lateness_seconds`` its ``estimated_start_time_delta``.
    """
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    finished = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]
    run_filter = FlowRunFilter(state=FlowRunFilterState(type=FlowRunFilterStateType(any_=finished)))
    flow_filter = FlowFilter(name=FlowFilterName(any_=list(flows))) if flows else None

    async def read(api: PrefectClient) -> list[RunRecord]:
        runs = await api.read_flow_runs(
            flow_filter=flow_filter,
            flow_run_filter=run_filter,
            sort=FlowRunSort.START_TIME_DESC,
            limit=limit,
        )
        # One read per flow (runs share a few): read_flows' filter request is refused by
        # Prefect 3.8's own server when its optional fields go out as nulls.
        flow_names = {}
        for flow_id in {run.flow_id for run in runs}:
            flow_names[flow_id] = (await api.read_flow(flow_id)).name
        records = []
        for run in runs:
            if run.start_time is None or run.end_time is None:
                continue  # cancelled before it started: no run to time
            lateness = run.estimated_start_time_delta
            records.append(
                RunRecord(
                    pipeline=flow_names.get(run.flow_id, str(run.flow_id)),
                    run_id=run.name,
                    engine="prefect",
                    status="succeeded" if run.state_type is StateType.COMPLETED else "failed",
                    started=run.start_time,
                    ended=run.end_time,
                    engine_run_id=str(run.id),
                    run_seconds=run.total_run_time.total_seconds(),
                    lateness_seconds=lateness.total_seconds() if lateness is not None else None,
                )
            )
        return sorted(records, key=lambda r: r.started)

    if client is not None:
        return await read(client)
    async with get_client() as api:
        return await read(api)


__all__ = [
    "PIPELINE_WORKFLOW",
    "TEMPORAL_QUERY",
    "prefect_run_records",
    "temporal_run_records",
]
