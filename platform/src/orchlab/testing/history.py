"""Read how a workflow called its activities, from the history the Temporal server recorded.

A test that asserts a workflow's configuration (each call's timeouts and retry policy)
should read what the server was told, not infer it from how many attempts fitted in a few
seconds: the history is the same on a busy machine as on an idle one::

    calls = await scheduled_activities(handle)
    assert [c.name for c in calls] == ["ingest", "train"]
    assert calls[0].start_to_close == timedelta(seconds=10)
    assert calls[0].retry_policy.maximum_attempts == 3
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio.client import WorkflowHandle
from temporalio.common import RetryPolicy


@dataclass(frozen=True)
class ScheduledActivity:
    """One activity call as the server recorded it (its ``ActivityTaskScheduled`` event)."""

    name: str
    """The activity type's name."""
    start_to_close: timedelta | None
    """The call's start-to-close timeout (None when the call set none)."""
    schedule_to_close: timedelta | None
    """The call's schedule-to-close timeout (None when the call set none)."""
    retry_policy: RetryPolicy
    """The retry policy the server applies: the call's, with the server's defaults filled in."""

    @property
    def start_to_close_s(self) -> float | None:
        """:attr:`start_to_close` in seconds (None when the call set none)."""
        return self.start_to_close.total_seconds() if self.start_to_close else None

    @property
    def schedule_to_close_s(self) -> float | None:
        """:attr:`schedule_to_close` in seconds (None when the call set none)."""
        return self.schedule_to_close.total_seconds() if self.schedule_to_close else None


def _duration(value: object, present: bool) -> timedelta | None:
    if not present:
        return None
    duration = value.ToTimedelta()  # type: ignore[attr-defined]
    assert isinstance(duration, timedelta)
    return duration if duration else None


async def scheduled_activities(handle: WorkflowHandle[object, object]) -> list[ScheduledActivity]:
    """Every activity call of a workflow run so far, in the order it was scheduled.

    Args:
        handle: The run's handle.

    Returns:
        One entry per ``ActivityTaskScheduled`` event (a retry is not a new call).
    """
    calls = []
    async for event in handle.fetch_history_events():
        if not event.HasField("activity_task_scheduled_event_attributes"):
            continue
        attributes = event.activity_task_scheduled_event_attributes
        calls.append(
            ScheduledActivity(
                name=attributes.activity_type.name,
                start_to_close=_duration(
                    attributes.start_to_close_timeout,
                    attributes.HasField("start_to_close_timeout"),
                ),
                schedule_to_close=_duration(
                    attributes.schedule_to_close_timeout,
                    attributes.HasField("schedule_to_close_timeout"),
                ),
                retry_policy=RetryPolicy.from_proto(attributes.retry_policy),
            )
        )
    return calls


__all__ = ["ScheduledActivity", "scheduled_activities"]
