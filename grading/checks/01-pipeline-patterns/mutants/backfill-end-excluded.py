# exercise: backfill
# why: off by one: range((end - start).days) leaves out the last day
def backfill(pipeline: str, start: date, end: date, *, at: time, tz: str) -> list[ScheduledRun]:
    """The runs of a daily schedule at local time ``at`` in ``tz``, for each day start..end."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    zone = ZoneInfo(tz)
    runs = []
    for offset in range((end - start).days):
        day = start + timedelta(days=offset)
        local = datetime.combine(day, at, tzinfo=zone)
        runs.append(ScheduledRun(day, local.astimezone(UTC), f"{pipeline}-{day.isoformat()}"))
    return runs
