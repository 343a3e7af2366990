"""Checks for exercise ``burn-rate-alert``: ``BurnRateAlert(objective, windows, clock)``,
on a clock the checks move by hand.

Contract: record(good, bad) at clock(), ValueError for a negative count; burn_rate(window_s)
= bad/(good+bad)/(1-objective) over records with now - window_s < t <= now, 0.0 when empty;
firing() when for any (long, short, threshold) both burn rates >= threshold. Time comes only
from the clock.
"""

import pytest

from labgrader.checks import assert_close, assert_equal, assert_type


class Clock:
    def __init__(self, now=0.0):
        self.now = now

    def __call__(self):
        return self.now


def _feed(alert, clock, minutes, good, bad):
    for minute in minutes:
        clock.now = minute * 60.0
        alert.record(good, bad)


def _firing(alert, what):
    got = alert.firing()
    assert_type(got, bool, what=what)
    return got


@pytest.mark.check(exercise="burn-rate-alert", points=5)
def test_fast_burn_pages_and_clears(nb):
    clock = Clock()
    alert = nb.BurnRateAlert(0.999, clock=clock)
    _feed(alert, clock, range(0, 60, 5), 500, 0)  # a healthy hour, one record per 5 minutes
    assert _firing(alert, "firing() after a healthy hour") is False, "a healthy hour does not page"
    _feed(alert, clock, range(60, 70), 70, 30)
    short, long = alert.burn_rate(300), alert.burn_rate(3600)
    assert_type(short, float, what="burn_rate(300)")
    assert_close(
        [short, long],
        [300.0, 50.0],
        rel=1e-9,
        what="burn_rate(300) and burn_rate(3600) after 10 minutes at 30 % errors",
        hint="the 5-minute window holds the records of minutes 65-69; the hour, minutes 10-69",
    )
    assert _firing(alert, "firing() during the outage") is True, "a 30 % outage pages"
    clock.now = 69 * 60.0 + 300  # 5 minutes after the last outage record
    assert_close(alert.burn_rate(300), 0.0, what="burn_rate(300) of an empty window")
    assert _firing(alert, "firing() 5 minutes after") is True, (
        "5 minutes after the outage the 1 h pair has cleared (its 5-minute window is empty), but "
        "the 6 h / 30 min pair still holds the outage: any pair fires. Likely cause: only the "
        "first pair of windows checked"
    )
    clock.now = 69 * 60.0 + 1800  # 30 minutes after: the record has left the 30-minute window
    assert _firing(alert, "firing() 30 minutes after") is False, (
        "30 minutes after the last outage record both short windows are empty, so the page "
        "clears (the long windows alone still burn high). Likely cause: only the long windows "
        "checked, or the window closed at its old end (<=)"
    )
    with pytest.raises(ValueError):
        alert.record(-1, 0)


@pytest.mark.check(exercise="burn-rate-alert", points=5)
def test_slow_burn_never_pages(nb):
    clock = Clock()
    alert = nb.BurnRateAlert(0.999, clock=clock)
    fired = []
    for minute in range(0, 360, 15):  # six hours at 0.5 % errors: burn 5, below 6 and 14.4
        clock.now = minute * 60.0
        alert.record(995, 5)
        fired.append(alert.firing())
    assert_equal(
        any(fired),
        False,
        what="firing() at any time in a 6-hour 0.5 % leak",
        hint="burn rate 5 is below both pairs' thresholds (14.4 and 6): a ticket, not a page",
    )
    assert_close(alert.burn_rate(21600), 5.0, rel=1e-9, what="burn_rate(6 h) of a 0.5 % leak")


@pytest.mark.check(exercise="burn-rate-alert", points=5, hidden=True)
def test_hidden_windows_edges_and_second_pair(nb):
    clock = Clock(1000.0)
    alert = nb.BurnRateAlert(0.75, windows=((600.0, 60.0, 2.0),), clock=clock)
    assert_close(alert.burn_rate(600), 0.0, what="burn_rate with no record at all")
    assert _firing(alert, "firing() with no record") is False, "no records, no page"
    alert.record(50, 50)  # t=1000: 50 % errors against a 25 % budget: burn 2.0
    clock.now = 1060.0  # exactly 60 s later: the record has left the 60 s window
    assert_close(
        alert.burn_rate(60),
        0.0,
        what="burn_rate(60) 60 s after the only record",
        hint="the window is now - window_s < t <= now: a record exactly window_s old is out",
    )
    assert _firing(alert, "firing() when only the long window burns") is False, (
        "both windows of a pair must burn: the 60 s one is empty"
    )
    alert.record(1, 1)  # t=1060: burn exactly 2.0 over both windows
    assert_close(
        [alert.burn_rate(60), alert.burn_rate(600)],
        [2.0, 2.0],
        rel=1e-12,
        what="burn_rate(60) and burn_rate(600)",
    )
    assert _firing(alert, "firing() at exactly the threshold") is True, (
        "a burn rate equal to the threshold fires (>=)"
    )
    clock.now = 2000.0
    future = nb.BurnRateAlert(0.9, windows=((100.0, 10.0, 1.0),), clock=clock)
    future.record(0, 5)
    clock.now = 1999.0  # a record from 'the future' is outside every window
    assert_close(future.burn_rate(100), 0.0, what="burn_rate of records after now")
    # The 6 h / 30 min pair at 6x pages a steady 0.8 % burn (8x) that the 1 h pair (14.4x) does not.
    clock2 = Clock()
    steady = nb.BurnRateAlert(0.999, clock=clock2)
    _feed(steady, clock2, range(0, 120, 5), 992, 8)
    assert _firing(steady, "firing() at a steady 8x burn") is True, (
        "a steady 8x burn pages through the second pair (6 h and 30 min at 6x): check every pair"
    )
    with pytest.raises(ValueError):
        steady.record(0, -3)
