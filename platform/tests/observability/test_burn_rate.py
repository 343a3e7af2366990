"""Multiwindow multi-burn-rate alerts and thresholds, replayed over a synthetic month of runs
with a clock that skips ahead five minutes per evaluation (no waiting)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from orchlab.observability import (
    SLO,
    SRE_WORKBOOK_RULES,
    AlertEvaluator,
    AlertEvent,
    BurnRateRule,
    DurationThreshold,
    FailureRateThreshold,
    RunHistory,
    RunRecord,
    burn_rate_alerts,
    burn_rate_series,
    error_budget,
)

START = datetime(2026, 3, 1, tzinfo=UTC)
EVERY = timedelta(minutes=5)
"""A run ends every five minutes."""
MONTH = timedelta(days=30)
FAST = (START + timedelta(days=10, hours=10), START + timedelta(days=10, hours=11))
"""An hour's outage: every run fails, a burn rate of 100 against a 1 % budget."""
SLOW = (START + timedelta(days=20), START + timedelta(days=23))
"""Three days in which one run in 33 fails: a burn rate of about 3."""
SLO_ = SLO("wine_success", objective=0.99, pipeline="wine")


def failed(index: int, ended: datetime) -> bool:
    if FAST[0] < ended <= FAST[1]:
        return True
    if SLOW[0] < ended <= SLOW[1]:
        return index % 33 == 0
    return index % 1500 == 1499  # the baseline: one run in 1500, a fifteenth of the budget


def month_of_runs() -> list[RunRecord]:
    runs = []
    for index in range(int(MONTH / EVERY)):
        ended = START + EVERY * (index + 1)
        runs.append(
            RunRecord("wine", f"run-{index}", "temporal",
                      "failed" if failed(index, ended) else "succeeded",
                      ended - timedelta(seconds=40), ended)
        )  # fmt: skip
    return runs


def step(now: datetime) -> timedelta:
    near = (FAST[0] - timedelta(hours=2), FAST[1] + timedelta(hours=2)), (
        SLOW[0] - timedelta(hours=6), SLOW[1] + timedelta(hours=12),
    )  # fmt: skip
    return timedelta(minutes=5) if any(a <= now <= b for a, b in near) else timedelta(hours=1)


@dataclass
class SkippedClock:
    """A clock the test moves by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(scope="module")
def replay() -> tuple[RunHistory, list[AlertEvent]]:
    """Every alert change over the month and four days after. The clock skips an hour at a
    time, and five minutes around the burns; the history holds the whole month, and each
    check sees only the runs that ended by its clock's time."""
    history = RunHistory(month_of_runs())
    clock = SkippedClock(START)
    evaluator = AlertEvaluator(burn_rate_alerts(SLO_), clock=clock)
    events = []
    while clock.now <= START + MONTH + timedelta(days=4):
        events.extend(evaluator.check(history))
        clock.now += step(clock.now)
    assert not evaluator.firing
    return history, events


def changes(events: list[AlertEvent], alert: str) -> list[tuple[str, datetime]]:
    return [(e.state, e.at) for e in events if e.alert == alert]


def test_the_workbook_rules_are_the_sre_workbooks() -> None:
    table = [(r.severity, r.burn_rate, r.long_window, r.short_window) for r in SRE_WORKBOOK_RULES]
    assert table == [
        ("page", 14.4, timedelta(hours=1), timedelta(minutes=5)),
        ("page", 6.0, timedelta(hours=6), timedelta(minutes=30)),
        ("ticket", 1.0, timedelta(days=3), timedelta(hours=6)),
    ]
    spent = [round(r.budget_spent(timedelta(days=30)), 3) for r in SRE_WORKBOOK_RULES]
    assert spent == [0.02, 0.05, 0.1]
    with pytest.raises(ValueError, match="the short window must be shorter than the long one"):
        BurnRateRule("x", "page", 2, timedelta(hours=1), timedelta(hours=1))


def test_a_fast_burn_pages_within_the_hour_and_clears_soon_after_it_stops(
    replay: tuple[RunHistory, list[AlertEvent]],
) -> None:
    _, events = replay
    (fired, cleared) = changes(events, "wine_success_fast_burn")
    assert fired[0] == "firing" and FAST[0] < fired[1] <= FAST[0] + timedelta(minutes=30)
    # The 5-minute window clears it within ten minutes of the burn's end, although the
    # 1-hour window still burns well above 14.4 then.
    assert cleared[0] == "resolved" and FAST[1] < cleared[1] <= FAST[1] + timedelta(minutes=10)
    resolved = [e for e in events if e.alert == "wine_success_fast_burn"][1]
    long_burn, short_burn = resolved.values
    assert long_burn >= 14.4 > short_burn
    medium = changes(events, "wine_success_medium_burn")
    assert [state for state, _ in medium] == ["firing", "resolved"]
    assert FAST[0] < medium[0][1] < medium[1][1] <= FAST[1] + timedelta(minutes=35)


def test_a_slow_burn_opens_a_ticket_and_never_pages(
    replay: tuple[RunHistory, list[AlertEvent]],
) -> None:
    _, events = replay
    pages = [e for e in events if e.severity == "page"]
    assert all(FAST[0] < e.at <= FAST[1] + timedelta(hours=1) for e in pages)
    # The outage opened a ticket too (it spent 14 % of the month's budget in an hour); the
    # slow burn opens one of its own.
    tickets = changes(events, "wine_success_slow_burn")
    before, (fired, cleared) = tickets[:2], tickets[2:]
    assert [state for state, _ in before] == ["firing", "resolved"]
    assert all(FAST[0] < at <= FAST[1] + timedelta(hours=6, minutes=5) for _, at in before)
    assert fired[0] == "firing" and SLOW[0] < fired[1] < SLOW[1]
    # Once the burn stops, the 6-hour window clears the ticket within about six hours.
    assert cleared[0] == "resolved"
    assert SLOW[1] < cleared[1] <= SLOW[1] + timedelta(hours=6, minutes=5)


def test_the_month_spent_the_budget_the_runs_say(
    replay: tuple[RunHistory, list[AlertEvent]],
) -> None:
    history, _ = replay
    runs = history.records
    bad = sum(not r.succeeded for r in runs)
    budget = error_budget(history, SLO_, now=START + MONTH)
    assert (budget.total, budget.bad) == (len(runs), bad)
    assert budget.consumed == pytest.approx(bad / (0.01 * len(runs)))
    series = burn_rate_series(history, SLO_, timedelta(hours=1), start=FAST[0],
                              end=FAST[1], step=timedelta(minutes=30))  # fmt: skip
    assert [t for t, _ in series] == [FAST[0], FAST[0] + timedelta(minutes=30), FAST[1]]
    assert series[-1][1] == pytest.approx(100.0)


def test_thresholds_fire_on_the_failure_rate_and_on_the_duration_quantile() -> None:
    clock = SkippedClock(START + timedelta(hours=1))
    runs = [
        RunRecord("wine", f"r{i}", "prefect", "failed" if i < 3 else "succeeded",
                  START + timedelta(minutes=i), START + timedelta(minutes=i, seconds=10 + i))
        for i in range(10)
    ]  # fmt: skip
    failures = FailureRateThreshold(name="wine_failures", window=timedelta(hours=1),
                                    max_ratio=0.25, min_runs=5, pipeline="wine")  # fmt: skip
    slow = DurationThreshold(name="wine_slow", window=timedelta(hours=1), max_seconds=18,
                             quantile=0.9)  # fmt: skip
    evaluator = AlertEvaluator([failures, slow], clock=clock)
    states = {s.alert: s for s in evaluator.evaluate(runs)}
    assert states["wine_failures"].firing and states["wine_failures"].values == (0.3,)
    # Durations are 10..19 s: their 0.9 quantile is 18.1 s.
    assert states["wine_slow"].firing
    assert states["wine_slow"].values[0] == pytest.approx(18.1)
    assert (
        not FailureRateThreshold(name="few", window=timedelta(hours=1), max_ratio=0.25, min_runs=11)
        .evaluate(RunHistory(runs), clock.now)
        .firing
    )
    clock.now += timedelta(hours=2)  # the window is empty now
    assert [e.state for e in evaluator.check(runs)] == []
    with pytest.raises(ValueError, match="alert names must be unique: wine_slow"):
        AlertEvaluator([slow, slow])
    with pytest.raises(ValueError, match="max_ratio must be in"):
        FailureRateThreshold(name="x", window=timedelta(hours=1), max_ratio=1.0)


def test_a_silenced_alert_reports_nothing_until_its_silence_ends(
    replay: tuple[RunHistory, list[AlertEvent]],
) -> None:
    history, _ = replay
    clock = SkippedClock(FAST[0])
    evaluator = AlertEvaluator(burn_rate_alerts(SLO_), clock=clock)
    evaluator.silence("wine_success_fast_burn", until=FAST[0] + timedelta(minutes=30))
    seen = []
    while clock.now <= FAST[0] + timedelta(minutes=40):
        clock.now += timedelta(minutes=5)
        seen += [(e.alert, e.at) for e in evaluator.check(history)]
    fast = [at for alert, at in seen if alert == "wine_success_fast_burn"]
    # Still firing when the silence ends: reported at the first check after it.
    assert fast == [FAST[0] + timedelta(minutes=30)]
    assert any(alert == "wine_success_medium_burn" for alert, _ in seen)
    with pytest.raises(KeyError, match="no alert named 'nope'"):
        evaluator.silence("nope", until=FAST[1])
