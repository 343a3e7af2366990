"""Checks for exercise ``backfill``: ``backfill(pipeline, start, end, at=..., tz=...)``.

Contract: one ``ScheduledRun`` per calendar day from ``start`` through ``end`` (inclusive), in
order; ``run_at`` is the wall-clock time ``at`` in the time zone ``tz`` on that day, as an
aware datetime in UTC (a DST gap or overlap resolves as
``datetime.combine(day, at, tzinfo=ZoneInfo(tz))`` does); ``run_id`` is
``"<pipeline>-<YYYY-MM-DD>"``; ``end`` before ``start`` raises ``ValueError``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from labgrader.checks import assert_equal, assert_type


def _assert_runs(nb, pipeline, start, end, at, tz, expected_utc: list[datetime]) -> None:
    call = f"backfill({pipeline!r}, {start}, {end}, at={at}, tz={tz!r})"
    runs = nb.backfill(pipeline, start, end, at=at, tz=tz)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    assert_equal(
        [r.logical_date for r in runs],
        days,
        what=f"{call}: the logical dates (one run per day {[str(d) for d in days]})",
    )
    assert_equal(
        [r.run_id for r in runs],
        [f"{pipeline}-{d.isoformat()}" for d in days],
        what=f"{call}: the run ids",
        hint="Run ids are '<pipeline>-<YYYY-MM-DD>'.",
    )
    for run, want in zip(runs, expected_utc, strict=True):
        assert_type(run.run_at, datetime, what=f"{call}: run_at")
        assert run.run_at.tzinfo is not None and run.run_at.utcoffset() == timedelta(0), (
            f"{call}: run_at must be an aware datetime in UTC, got {run.run_at!r}"
        )
        assert run.run_at == want, (
            f"{call}: the run for {run.logical_date} should start at {want:%Y-%m-%d %H:%M} UTC "
            f"({at} in {tz} that day), got {run.run_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC. "
            f"Build each day's wall-clock time in the zone (datetime.combine(day, at, "
            f"tzinfo=ZoneInfo(tz))) and convert it; adding 24 h to a UTC time drifts by the "
            f"DST change."
        )


@pytest.mark.check(exercise="backfill", points=6)
def test_daily_runs_keep_local_time_across_the_dst_change(nb):
    _assert_runs(
        nb,
        "wine-quality",
        date(2024, 3, 30),
        date(2024, 4, 1),
        time(6, 0),
        "Europe/Berlin",
        [
            datetime(2024, 3, 30, 5, 0, tzinfo=UTC),
            datetime(2024, 3, 31, 4, 0, tzinfo=UTC),
            datetime(2024, 4, 1, 4, 0, tzinfo=UTC),
        ],
    )


@pytest.mark.check(exercise="backfill", points=3)
def test_single_day_and_reversed_range(nb):
    _assert_runs(
        nb,
        "wine-quality",
        date(2024, 7, 1),
        date(2024, 7, 1),
        time(6, 0),
        "Europe/Berlin",
        [datetime(2024, 7, 1, 4, 0, tzinfo=UTC)],
    )
    with pytest.raises(ValueError):
        runs = nb.backfill(
            "wine-quality", date(2024, 7, 2), date(2024, 7, 1), at=time(6), tz="Europe/Berlin"
        )
        raise AssertionError(f"end before start returned {runs}, expected a ValueError")


@pytest.mark.check(exercise="backfill", points=4, hidden=True)
def test_hidden_new_york_fall_back_and_overlap(nb):
    _assert_runs(
        nb,
        "fraud",
        date(2024, 11, 2),
        date(2024, 11, 4),
        time(7, 15),
        "America/New_York",
        [
            datetime(2024, 11, 2, 11, 15, tzinfo=UTC),
            datetime(2024, 11, 3, 12, 15, tzinfo=UTC),
            datetime(2024, 11, 4, 12, 15, tzinfo=UTC),
        ],
    )
    # 01:30 happens twice on 2024-11-03; fold=0 (what datetime.combine gives) is the first
    _assert_runs(
        nb,
        "fraud",
        date(2024, 11, 3),
        date(2024, 11, 3),
        time(1, 30),
        "America/New_York",
        [datetime(2024, 11, 3, 5, 30, tzinfo=UTC)],
    )


@pytest.mark.check(exercise="backfill", points=2, hidden=True)
def test_hidden_spring_gap_and_long_range(nb):
    # 02:30 does not exist in Berlin on 2024-03-31; fold=0 maps it to 01:30 UTC
    _assert_runs(
        nb,
        "nightly",
        date(2024, 3, 31),
        date(2024, 3, 31),
        time(2, 30),
        "Europe/Berlin",
        [datetime(2024, 3, 31, 1, 30, tzinfo=UTC)],
    )
    runs = nb.backfill(
        "nightly", date(2023, 12, 30), date(2024, 1, 31), at=time(23, 0), tz="Asia/Kolkata"
    )
    assert len(runs) == 33, f"2023-12-30 through 2024-01-31 is 33 days, got {len(runs)} runs"
    assert_equal(runs[-1].run_id, "nightly-2024-01-31", what="the last run's id")
    assert_equal(
        runs[0].run_at,
        datetime(2023, 12, 30, 17, 30, tzinfo=UTC),
        what="the first run's run_at",
        hint="23:00 in Asia/Kolkata (UTC+05:30) is 17:30 UTC.",
    )
