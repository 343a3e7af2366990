"""A pipeline's schedule, declared once in its spec and rendered for each engine.

::

    schedule:
      cron: "0 6 * * *"          # or every: 1h (s, m, h, d), never both
      timezone: Europe/Berlin    # the cron's wall clock, across DST
      overlap: skip              # a run still going when the next is due
      catchup_window: 1d         # after an outage, start what was missed up to this long ago
      date_param: date           # set this date parameter to the scheduled day
      params: {model: random_forest}
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Overlap = Literal[
    "skip", "buffer_one", "buffer_all", "cancel_other", "terminate_other", "allow_all"
]
"""What happens when a run is due while the previous one is still going (Temporal's names)."""

_DURATION = re.compile(r"^(\d+)([smhd])$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_duration(value: Any) -> timedelta:
    """``90s``, ``15m``, ``1h``, ``3d`` or a number of seconds, as a ``timedelta``.

    Raises:
        ValueError: Anything else, with the forms that work.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return timedelta(seconds=value)
    match = _DURATION.match(str(value).strip()) if isinstance(value, str) else None
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(
            f"not a duration: {value!r} (use a positive count and s, m, h or d: 15m, 1h)"
        )
    return timedelta(**{_UNIT[match.group(2)]: int(match.group(1))})


class ScheduleSpec(BaseModel):
    """When a pipeline runs on its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cron: list[str] = Field(default_factory=list)
    """Cron expressions (five fields: minute hour day-of-month month day-of-week)."""
    every: timedelta | None = None
    """An interval instead of cron (``1h``, ``15m``, ``1d``)."""
    timezone: str = "UTC"
    """The IANA time zone the cron's wall clock is in (``Europe/Berlin``)."""
    overlap: Overlap = "skip"
    """What to do when a run is due while the previous one still runs."""
    catchup_window: timedelta = timedelta(days=1)
    """After the scheduler was down, start the runs missed up to this long ago."""
    jitter: timedelta = timedelta(0)
    """Start each run up to this much later, at random (many schedules then do not fire at once)."""
    paused: bool = False
    """Create the schedule paused."""
    params: dict[str, Any] = Field(default_factory=dict)
    """Parameters of every scheduled run."""
    date_param: str | None = None
    """A ``date`` parameter set to the scheduled day (in ``timezone``): backfills and late
    runs process the day they were scheduled for, not the day they ran."""

    @field_validator("cron", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @field_validator("cron")
    @classmethod
    def _five_fields(cls, value: list[str]) -> list[str]:
        for expr in value:
            if len(expr.split()) != 5:
                raise ValueError(
                    f"cron {expr!r} has {len(expr.split())} fields; it needs five: minute hour "
                    "day-of-month month day-of-week (for example '0 6 * * *')"
                )
        return value

    @field_validator("every", "catchup_window", "jitter", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> Any:
        if value is None or (value == 0 and not isinstance(value, bool)):
            return value if value is None else timedelta(0)
        return parse_duration(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r} (an IANA name such as 'Europe/Berlin')"
            ) from None
        return value

    @model_validator(mode="after")
    def _cron_or_every(self) -> ScheduleSpec:
        if bool(self.cron) == (self.every is not None):
            raise ValueError("a schedule needs either cron or every (and not both)")
        return self

    @property
    def zone(self) -> ZoneInfo:
        """The schedule's time zone."""
        return ZoneInfo(self.timezone)


__all__ = ["Overlap", "ScheduleSpec", "parse_duration"]
