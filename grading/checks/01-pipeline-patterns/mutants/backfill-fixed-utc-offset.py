# exercise: backfill
# why: takes the UTC offset of the first day for every day, so runs drift by an hour after a DST change
def backfill(pipeline: str, start: date, end: date, *, at: time, tz: str) -> list[ScheduledRun]:
    """The runs of a daily schedule at local time ``at`` in ``tz``, for each day start..end."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    first = datetime.combine(start, at, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    return [
        ScheduledRun(start + timedelta(days=n), first + timedelta(days=n), f"{pipeline}-{start + timedelta(days=n)}")
        for n in range((end - start).days + 1)
    ]
