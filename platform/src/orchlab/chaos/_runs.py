"""Steady-state numbers from each engine's own records: success rate and p95 duration of the
last N runs (Temporal visibility, Prefect's flow-run API), a run's status, a task queue.

Nothing here keeps its own bookkeeping: what the engine recorded is the truth, so a probe
reads the same numbers an operator sees in the Temporal Web UI or the Prefect UI.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Coroutine, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from temporalio.client import Client

T = TypeVar("T")

CLOSED = {"COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED", "CANCELED", "CONTINUED_AS_NEW"}
"""Temporal's closed workflow statuses (their enum names)."""


@dataclass(frozen=True)
class RunStats:
    """What the last runs of a pipeline looked like."""

    runs: int
    """Closed runs counted."""
    succeeded: int
    """Of those, how many succeeded."""
    success_rate: float
    """``succeeded / runs``; 1.0 when there were no runs (nothing failed)."""
    p95_seconds: float
    """The 95th percentile of their durations (nearest rank); 0.0 without runs."""
    max_seconds: float
    """The longest of them."""

    def to_dict(self) -> dict[str, Any]:
        """As JSON (what a probe returns into the journal)."""
        return asdict(self)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by nearest rank; 0.0 for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"a percentile is between 0 and 100, got {q}")
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def summarize(outcomes: Sequence[tuple[bool, float]]) -> RunStats:
    """:class:`RunStats` of ``(succeeded, seconds)`` pairs."""
    ok = sum(1 for good, _ in outcomes if good)
    durations = [seconds for _, seconds in outcomes]
    return RunStats(
        runs=len(outcomes),
        succeeded=ok,
        success_rate=ok / len(outcomes) if outcomes else 1.0,
        p95_seconds=percentile(durations, 95),
        max_seconds=max(durations, default=0.0),
    )


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from a chaostoolkit activity (a plain function, no loop running)."""
    return asyncio.run(coro)


async def temporal_client(address: str | None = None, namespace: str | None = None) -> Client:
    """A client for the configured Temporal (``TEMPORAL_ADDRESS``, a profile, ``orchlab up``)."""
    from orchlab.runtime import connect_temporal

    return await connect_temporal(address=address, namespace=namespace)


def visibility_query(
    workflow_type: str | None = None, task_queue: str | None = None, query: str | None = None
) -> str:
    """A list filter for closed workflows of a type, on a task queue, and ``query``."""
    parts = ["ExecutionStatus != 'Running'"]
    if workflow_type:
        parts.append(f"WorkflowType = '{workflow_type}'")
    if task_queue:
        parts.append(f"TaskQueue = '{task_queue}'")
    if query:
        parts.append(f"({query})")
    return " AND ".join(parts)


async def temporal_stats(
    client: Client,
    *,
    workflow_type: str | None = None,
    task_queue: str | None = None,
    query: str | None = None,
    last: int = 20,
) -> RunStats:
    """:class:`RunStats` of the last ``last`` closed workflows matching the filters."""
    if last < 1:
        raise ValueError(f"last must be at least 1 run, got {last}")
    outcomes: list[tuple[bool, float]] = []
    filter_ = visibility_query(workflow_type, task_queue, query)
    async for wf in client.list_workflows(filter_, limit=last):
        if wf.status is None or wf.close_time is None:
            continue
        seconds = (wf.close_time - wf.start_time).total_seconds()
        outcomes.append((wf.status.name == "COMPLETED", seconds))
    return summarize(outcomes)


async def workflow_status(client: Client, workflow_id: str, *, wait: float = 0.0) -> str:
    """A workflow's status name (``RUNNING``, ``COMPLETED``, ...); with ``wait``, up to that
    many seconds for it to close first."""
    deadline = time.monotonic() + wait
    while True:
        described = await client.get_workflow_handle(workflow_id).describe()
        status = described.status.name if described.status else "UNKNOWN"
        if status in CLOSED or time.monotonic() >= deadline:
            return status
        await asyncio.sleep(0.1)


async def unfinished_runs(
    client: Client, *, task_queue: str, query: str | None = None, wait: float = 0.0
) -> list[tuple[str, str]]:
    """The workflows on ``task_queue`` that did not complete: ``(workflow id, status)`` of
    those failed, timed out, terminated or cancelled, and of those still running after
    waiting up to ``wait`` seconds for them to close."""
    parts = [f"TaskQueue = '{task_queue}'"] + ([f"({query})"] if query else [])
    deadline = time.monotonic() + wait
    while True:
        found = [
            (wf.id, wf.status.name if wf.status else "UNKNOWN")
            async for wf in client.list_workflows(" AND ".join(parts))
        ]
        bad = [(wid, status) for wid, status in found if status != "COMPLETED"]
        running = any(status == "RUNNING" for _, status in bad)
        if not running or time.monotonic() >= deadline:
            return bad
        await asyncio.sleep(0.2)


async def pending_activity_started(
    client: Client, workflow_id: str, activity_id: str | None = None
) -> bool:
    """Whether a worker runs an activity of the workflow right now (the one with
    ``activity_id``, when given: a pipeline step's activity id is the step's name)."""
    from temporalio.api.enums.v1 import PendingActivityState

    described = await client.get_workflow_handle(workflow_id).describe()
    return any(
        p.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        and (activity_id is None or p.activity_id == activity_id)
        for p in described.raw_description.pending_activities
    )


async def task_queue_state(client: Client, task_queue: str) -> dict[str, Any]:
    """A task queue as the server sees it: its pollers (live workers) and backlog, for
    workflow and activity tasks."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    state: dict[str, Any] = {"task_queue": task_queue}
    kinds = (
        ("workflow", TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
        ("activity", TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
    )
    for label, kind in kinds:
        answer = await client.workflow_service.describe_task_queue(
            DescribeTaskQueueRequest(
                namespace=client.namespace,
                task_queue=TaskQueue(name=task_queue),
                task_queue_type=kind,
                report_stats=True,
            )
        )
        stats = answer.stats
        state[label] = {
            "pollers": len(answer.pollers),
            "backlog": int(stats.approximate_backlog_count),
            "backlog_age_seconds": stats.approximate_backlog_age.ToTimedelta().total_seconds(),
        }
    return state


async def prefect_stats(flow_name: str, *, last: int = 20) -> RunStats:
    """:class:`RunStats` of the last ``last`` finished runs of a Prefect flow (from the
    flow-run API: state and total run time)."""
    if last < 1:
        raise ValueError(f"last must be at least 1 run, got {last}")
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    final = [StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED]
    async with get_client() as client:
        runs = await client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])),
            flow_run_filter=FlowRunFilter(
                state=FlowRunFilterState(type=FlowRunFilterStateType(any_=final))
            ),
            sort=FlowRunSort.END_TIME_DESC,
            limit=last,
        )
    outcomes = [
        (run.state_type == StateType.COMPLETED, run.total_run_time.total_seconds()) for run in runs
    ]
    return summarize(outcomes)


__all__ = [
    "CLOSED",
    "RunStats",
    "pending_activity_started",
    "percentile",
    "prefect_stats",
    "run_sync",
    "summarize",
    "task_queue_state",
    "temporal_client",
    "temporal_stats",
    "unfinished_runs",
    "visibility_query",
    "workflow_status",
]
