"""Where a run's time goes: its critical path, and scheduling against running.

- :func:`critical_path` reads a run's trace and finds the chain of step attempts that bound
  its total time: from the attempt that ended last, back through the attempt that ended
  last before it started, and so on (a trace's "last finisher" walk). Speeding up a step
  off that path does not shorten the run; the gaps between path steps are the engine's
  own time (scheduling, retry back-off, hand-offs).
- :func:`activity_timings` reads a Temporal workflow's event history and splits each
  activity's time into schedule-to-start (waiting for a worker slot) and execution
  (:func:`workflow_activity_timings` fetches the history first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from orchlab.observability._names import STEP_SPAN_PREFIX, Attr
from orchlab.observability._records import SpanRecord, run_root

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHistory


@dataclass(frozen=True)
class PathStep:
    """One step attempt on the critical path."""

    step: str
    """The step's name."""
    attempt: int
    """The attempt (from 1)."""
    start_ns: int
    """Its start, nanoseconds since the epoch."""
    end_ns: int
    """Its end."""
    wait_seconds: float
    """Time between the previous path step's end (or the run's start) and this start."""

    @property
    def seconds(self) -> float:
        """The attempt's wall time."""
        return (self.end_ns - self.start_ns) / 1e9


@dataclass(frozen=True)
class CriticalPath:
    """The step attempts that bound a run's total time, in order."""

    run_id: str
    """The run's id."""
    total_seconds: float
    """The run's wall time (its root span)."""
    steps: tuple[PathStep, ...]
    """The path, first to last."""

    @property
    def busy_seconds(self) -> float:
        """Time the path's steps ran."""
        return sum(s.seconds for s in self.steps)

    @property
    def waiting_seconds(self) -> float:
        """Time on the path no step ran (the engine's scheduling, back-off, hand-offs)."""
        return max(self.total_seconds - self.busy_seconds, 0.0)

    @property
    def bottleneck(self) -> PathStep | None:
        """The longest attempt on the path (None when the run had no steps)."""
        return max(self.steps, key=lambda s: s.seconds, default=None)


def critical_path(records: Iterable[SpanRecord]) -> CriticalPath:
    """The critical path of one run's trace (its ``step:`` spans, every attempt).

    Raises:
        ValueError: When the records hold no run's root span, or several.
    """
    spans = list(records)
    root = run_root(spans)
    attempts = [
        s for s in spans if s.trace_id == root.trace_id and s.name.startswith(STEP_SPAN_PREFIX)
    ]
    path: list[SpanRecord] = []
    limit = root.end_ns
    while True:
        # The attempt that ended last before the current one started; on a tie, the
        # longer one (it is the one that held the path).
        before = [s for s in attempts if s.end_ns <= limit and s not in path]
        if not before:
            break
        last = max(before, key=lambda s: (s.end_ns, s.end_ns - s.start_ns))
        path.append(last)
        limit = last.start_ns
    path.reverse()
    steps = []
    previous = root.start_ns
    for span in path:
        steps.append(
            PathStep(
                step=str(span.attributes.get(Attr.STEP, span.name[len(STEP_SPAN_PREFIX) :])),
                attempt=int(span.attributes.get(Attr.ATTEMPT, 1)),
                start_ns=span.start_ns,
                end_ns=span.end_ns,
                wait_seconds=max(span.start_ns - previous, 0) / 1e9,
            )
        )
        previous = span.end_ns
    return CriticalPath(str(root.attributes[Attr.RUN_ID]), root.duration_seconds, tuple(steps))


@dataclass(frozen=True)
class ActivityTiming:
    """One activity of a Temporal workflow, from its event history."""

    activity_id: str
    """The activity's id (orchlab uses the step's name)."""
    activity_type: str
    """Its type (``orchlab.run_step``)."""
    attempt: int
    """The attempt history recorded as started (the last one)."""
    status: str
    """``completed``, ``failed``, ``timed_out``, ``canceled``, or ``running``."""
    scheduled: datetime
    """When the workflow scheduled it."""
    started: datetime | None
    """When a worker picked up the recorded attempt (None if none did)."""
    closed: datetime | None
    """When it closed (None while running)."""

    @property
    def schedule_to_start_seconds(self) -> float | None:
        """Scheduled to started. Temporal records only the last attempt's start, so for a
        retried activity this spans the earlier attempts and their back-off (the SDK's
        ``temporal_activity_schedule_to_start_latency`` metric has each attempt's)."""
        return (self.started - self.scheduled).total_seconds() if self.started else None

    @property
    def execution_seconds(self) -> float | None:
        """Started to closed: the recorded attempt's run."""
        if self.started is None or self.closed is None:
            return None
        return (self.closed - self.started).total_seconds()


_CLOSED = {
    "activity_task_completed_event_attributes": "completed",
    "activity_task_failed_event_attributes": "failed",
    "activity_task_timed_out_event_attributes": "timed_out",
    "activity_task_canceled_event_attributes": "canceled",
}


def activity_timings(history: WorkflowHistory) -> list[ActivityTiming]:
    """Every activity in a workflow's history, in the order it was scheduled."""
    scheduled: dict[int, tuple[str, str, datetime]] = {}
    started: dict[int, tuple[int, datetime]] = {}
    closed: dict[int, tuple[str, datetime]] = {}
    for event in history.events:
        when = event.event_time.ToDatetime(tzinfo=UTC)
        kind = event.WhichOneof("attributes")
        if kind == "activity_task_scheduled_event_attributes":
            attrs = event.activity_task_scheduled_event_attributes
            scheduled[event.event_id] = (attrs.activity_id, attrs.activity_type.name, when)
        elif kind == "activity_task_started_event_attributes":
            begun = event.activity_task_started_event_attributes
            started[begun.scheduled_event_id] = (begun.attempt, when)
        elif kind in _CLOSED:
            attrs_closed = getattr(event, kind)
            closed[attrs_closed.scheduled_event_id] = (_CLOSED[kind], when)
    timings = []
    for event_id, (activity_id, activity_type, when) in scheduled.items():
        attempt, began = started.get(event_id, (0, None))
        status, ended = closed.get(event_id, ("running", None))
        timings.append(
            ActivityTiming(activity_id, activity_type, attempt, status, when, began, ended)
        )
    return timings


async def workflow_activity_timings(
    client: Client, workflow_id: str, run_id: str | None = None
) -> list[ActivityTiming]:
    """Fetch a workflow's history and time its activities (:func:`activity_timings`)."""
    history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
    return activity_timings(history)


__all__ = [
    "ActivityTiming",
    "CriticalPath",
    "PathStep",
    "activity_timings",
    "critical_path",
    "workflow_activity_timings",
]
