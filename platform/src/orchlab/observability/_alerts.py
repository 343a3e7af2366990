"""Alerts on run records: multiwindow multi-burn-rate SLO alerts and plain thresholds.

The burn-rate alerts are the Google SRE workbook's ("Alerting on SLOs", its sixth and
recommended approach): an alert fires while the error budget burns at least ``burn_rate``
times too fast over a long window *and* over a short one (1/12 of the long). The long
window makes it significant, the short one makes it clear soon after the burn stops.
:data:`SRE_WORKBOOK_RULES` are the workbook's three:

====== ========= =========== ============ ===================================
name   severity  burn rate   long, short  budget spent when it fires (30 days)
====== ========= =========== ============ ===================================
fast   page      14.4        1 h, 5 min   2 %
medium page      6           6 h, 30 min  5 %
slow   ticket    1           3 d, 6 h     10 %
====== ========= =========== ============ ===================================

Thresholds alert on one window's failure rate (:class:`FailureRateThreshold`) or run
duration quantile (:class:`DurationThreshold`). Every alert evaluates on recorded runs at
a time the caller gives, so an :class:`AlertEvaluator` with an injected clock replays a
month of runs in a test; the same definitions export as Prometheus alerting rules
(:func:`orchlab.observability.alert_rules`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from orchlab.observability import _promql as promql
from orchlab.observability._runs import Clock, RunRecord, utc_now
from orchlab.observability._slo import SLO, RunHistory, as_history, burn_rate, check_name

Severity = Literal["page", "ticket"]
"""``page``: wake someone; ``ticket``: look at it in working hours."""


@dataclass(frozen=True)
class AlertState:
    """One alert, evaluated at one time."""

    alert: str
    """The alert's name."""
    severity: Severity
    """``page`` or ``ticket``."""
    at: datetime
    """When it was evaluated."""
    firing: bool
    """Whether its condition holds."""
    values: tuple[float, ...]
    """What it compared: a burn-rate alert's (long, short) burn rates, a threshold's value."""


class Alert(Protocol):
    """What every alert offers: a name, a severity, an evaluation and its PromQL."""

    @property
    def name(self) -> str:
        """The alert's name (a Prometheus name)."""
        ...

    @property
    def severity(self) -> Severity:
        """``page`` or ``ticket``."""
        ...

    @property
    def summary(self) -> str:
        """One line saying what firing means."""
        ...

    def evaluate(self, history: RunHistory, now: datetime) -> AlertState:
        """The alert's state over the runs recorded up to ``now``."""
        ...

    def promql(self) -> str:
        """The condition as a PromQL expression over orchlab's metrics."""
        ...


@dataclass(frozen=True)
class BurnRateRule:
    """A multiwindow burn-rate condition, for any SLO.

    Raises:
        ValueError: At construction, when the burn rate is not positive or the short window
            is not shorter than the long one.
    """

    name: str
    """The rule's name (``fast``): the alert is ``<slo>_<rule>_burn``."""
    severity: Severity
    """``page`` or ``ticket``."""
    burn_rate: float
    """Fire while the budget burns at least this many times too fast..."""
    long_window: timedelta
    """...over this window..."""
    short_window: timedelta
    """...and over this one (the workbook takes 1/12 of the long window)."""

    def __post_init__(self) -> None:
        check_name("burn-rate rule", self.name)
        if self.burn_rate <= 0:
            raise ValueError(f"rule {self.name!r}: burn_rate must be positive")
        if not timedelta(0) < self.short_window < self.long_window:
            raise ValueError(
                f"rule {self.name!r}: the short window must be shorter than the long one"
            )

    def budget_spent(self, slo_window: timedelta) -> float:
        """The share of the budget spent when the rule fires (over the long window)."""
        return self.burn_rate * self.long_window / slo_window


SRE_WORKBOOK_RULES: tuple[BurnRateRule, ...] = (
    BurnRateRule("fast", "page", 14.4, timedelta(hours=1), timedelta(minutes=5)),
    BurnRateRule("medium", "page", 6.0, timedelta(hours=6), timedelta(minutes=30)),
    BurnRateRule("slow", "ticket", 1.0, timedelta(days=3), timedelta(hours=6)),
)
"""The SRE workbook's rules for a 30-day SLO: page at 14.4x over 1 h and 5 min, page at
6x over 6 h and 30 min, ticket at 1x over 3 days and 6 h."""


@dataclass(frozen=True)
class BurnRateAlert:
    """An SLO under one burn-rate rule."""

    slo: SLO
    """The objective whose budget burns."""
    rule: BurnRateRule
    """The rate and windows."""

    @property
    def name(self) -> str:
        """``<slo>_<rule>_burn``."""
        return f"{self.slo.name}_{self.rule.name}_burn"

    @property
    def severity(self) -> Severity:
        """The rule's severity."""
        return self.rule.severity

    @property
    def summary(self) -> str:
        """What firing means."""
        spent = self.rule.budget_spent(self.slo.window)
        return (
            f"SLO {self.slo.name} burns its error budget {self.rule.burn_rate:g}x too fast "
            f"over {promql.duration(self.rule.long_window)} and "
            f"{promql.duration(self.rule.short_window)} ({spent:.0%} of the "
            f"{promql.duration(self.slo.window)} budget spent in "
            f"{promql.duration(self.rule.long_window)})"
        )

    def evaluate(self, history: RunHistory, now: datetime) -> AlertState:
        """Firing while both windows burn at least at the rule's rate."""
        long = burn_rate(history, self.slo, self.rule.long_window, now=now)
        short = burn_rate(history, self.slo, self.rule.short_window, now=now)
        firing = long >= self.rule.burn_rate and short >= self.rule.burn_rate
        return AlertState(self.name, self.severity, now, firing, (long, short))

    def _bad_ratio(self, window: timedelta) -> str:
        slo = self.slo
        if slo.kind == "success":
            return promql.failure_ratio(window, pipeline=slo.pipeline, engine=slo.engine)
        assert slo.latency_seconds is not None
        return promql.slow_ratio(
            window, slo.latency_seconds, pipeline=slo.pipeline, engine=slo.engine
        )

    def promql(self) -> str:
        """Both windows' bad-run ratio above ``burn_rate x budget``."""
        limit = f"({self.rule.burn_rate:g} * {self.slo.budget:.6g})"
        long = self._bad_ratio(self.rule.long_window)
        short = self._bad_ratio(self.rule.short_window)
        return f"{long} > {limit} and {short} > {limit}"


def burn_rate_alerts(
    slo: SLO, rules: Sequence[BurnRateRule] = SRE_WORKBOOK_RULES
) -> list[BurnRateAlert]:
    """The SLO under each rule (the SRE workbook's three by default)."""
    return [BurnRateAlert(slo, rule) for rule in rules]


@dataclass(frozen=True, kw_only=True)
class _Threshold:
    name: str
    window: timedelta
    severity: Severity = "ticket"
    pipeline: str | None = None
    engine: str | None = None
    min_runs: int = 1

    def __post_init__(self) -> None:
        check_name("alert", self.name)
        if self.window <= timedelta(0):
            raise ValueError(f"alert {self.name!r}: window must be positive")
        if self.min_runs < 1:
            raise ValueError(f"alert {self.name!r}: min_runs must be at least 1")

    def _runs(self, history: RunHistory, now: datetime) -> list[RunRecord]:
        return [
            r
            for r in history.between(now - self.window, now)
            if (self.pipeline is None or r.pipeline == self.pipeline)
            and (self.engine is None or r.engine == self.engine)
        ]

    def _scope(self) -> str:
        return f"pipeline {self.pipeline}" if self.pipeline else "pipeline runs"


@dataclass(frozen=True, kw_only=True)
class FailureRateThreshold(_Threshold):
    """Fires while more than ``max_ratio`` of the runs in ``window`` failed (once at least
    ``min_runs`` ran).

    Raises:
        ValueError: At construction, when the ratio is not in [0, 1) or the window or
            ``min_runs`` is not positive.
    """

    max_ratio: float = 0.1
    """The failure share above which it fires."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.max_ratio < 1:
            raise ValueError(f"alert {self.name!r}: max_ratio must be in [0, 1)")

    @property
    def summary(self) -> str:
        """What firing means."""
        return (
            f"more than {self.max_ratio:.1%} of {self._scope()} failed over "
            f"{promql.duration(self.window)}"
        )

    def evaluate(self, history: RunHistory, now: datetime) -> AlertState:
        """Firing while the window's failure share is above ``max_ratio``."""
        runs = self._runs(history, now)
        ratio = sum(not r.succeeded for r in runs) / len(runs) if runs else 0.0
        firing = len(runs) >= self.min_runs and ratio > self.max_ratio
        return AlertState(self.name, self.severity, now, firing, (ratio,))

    def promql(self) -> str:
        """The window's failure ratio above ``max_ratio``."""
        ratio = promql.failure_ratio(self.window, pipeline=self.pipeline, engine=self.engine)
        return f"{ratio} > {self.max_ratio:g}"


@dataclass(frozen=True, kw_only=True)
class DurationThreshold(_Threshold):
    """Fires while the ``quantile`` of run durations in ``window`` is above
    ``max_seconds``.

    On records the quantile is exact (linear between runs); in Prometheus it is
    interpolated inside the run-duration histogram's buckets, so put ``max_seconds`` on a
    bucket bound for the two to agree on which side of the threshold a window is.

    Raises:
        ValueError: At construction, when the quantile is not in (0, 1], ``max_seconds``
            is not positive, or the window or ``min_runs`` is not positive.
    """

    max_seconds: float = 60.0
    """The duration above which it fires."""
    quantile: float = 0.95
    """Which quantile of the window's run durations is compared."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 < self.quantile <= 1:
            raise ValueError(f"alert {self.name!r}: quantile must be in (0, 1]")
        if self.max_seconds <= 0:
            raise ValueError(f"alert {self.name!r}: max_seconds must be positive")

    @property
    def summary(self) -> str:
        """What firing means."""
        return (
            f"p{self.quantile * 100:g} duration of {self._scope()} over "
            f"{promql.duration(self.window)} is above {self.max_seconds:g} s"
        )

    def evaluate(self, history: RunHistory, now: datetime) -> AlertState:
        """Firing while the window's duration quantile is above ``max_seconds``."""
        durations = sorted(r.duration_seconds for r in self._runs(history, now))
        value = quantile(durations, self.quantile) if durations else 0.0
        firing = len(durations) >= self.min_runs and value > self.max_seconds
        return AlertState(self.name, self.severity, now, firing, (value,))

    def promql(self) -> str:
        """The window's duration quantile above ``max_seconds``."""
        q = promql.run_duration_quantile(
            self.quantile, self.window, pipeline=self.pipeline, engine=self.engine
        )
        return f"{q} > {self.max_seconds:g}"


def quantile(ordered: Sequence[float], q: float) -> float:
    """The ``q`` quantile of sorted values, linear between neighbours (numpy's default)."""
    if not ordered:
        raise ValueError("the quantile of no values is undefined")
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class AlertEvent:
    """An alert that started or stopped firing."""

    alert: str
    """The alert's name."""
    severity: Severity
    """``page`` or ``ticket``."""
    state: Literal["firing", "resolved"]
    """It started firing, or it stopped."""
    at: datetime
    """When the evaluation saw the change."""
    values: tuple[float, ...] = ()
    """The compared values at that time."""


@dataclass
class AlertEvaluator:
    """Evaluates alerts on recorded runs at the clock's time, and reports the changes.

    Args:
        alerts: The alerts (burn-rate alerts, thresholds, or any :class:`Alert`).
        clock: The evaluation time (inject one to replay recorded runs).

    Example::

        evaluator = AlertEvaluator(burn_rate_alerts(slo), clock=clock)
        for event in evaluator.check(history):
            print(event.alert, event.state)
    """

    alerts: Sequence[Alert]
    clock: Clock = utc_now
    firing: set[str] = field(default_factory=set)
    """The names of the alerts firing at the last check (a silenced alert keeps the state
    it had when the silence began)."""
    silences: dict[str, datetime] = field(default_factory=dict)
    """Silenced alerts and when each silence ends."""

    def __post_init__(self) -> None:
        seen = [a.name for a in self.alerts]
        duplicates = sorted({n for n in seen if seen.count(n) > 1})
        if duplicates:
            raise ValueError(f"alert names must be unique: {', '.join(duplicates)}")

    def evaluate(self, runs: RunHistory | Iterable[RunRecord]) -> list[AlertState]:
        """Every alert's state now, over the runs that ended by now."""
        history = as_history(runs)
        now = self.clock()
        return [alert.evaluate(history, now) for alert in self.alerts]

    def silence(self, alert: str, until: datetime) -> None:
        """Report no change of ``alert`` before ``until``. An alert still firing when the
        silence ends is reported then, as Alertmanager notifies after a silence expires.

        Raises:
            KeyError: When no alert has that name.
        """
        if alert not in {a.name for a in self.alerts}:
            raise KeyError(f"no alert named {alert!r}")
        self.silences[alert] = until

    def check(self, runs: RunHistory | Iterable[RunRecord]) -> list[AlertEvent]:
        """Evaluate now; the alerts that started or stopped firing since the last check
        (silenced ones aside)."""
        events = []
        for state in self.evaluate(runs):
            if self.silences.get(state.alert, state.at) > state.at:
                continue
            was = state.alert in self.firing
            if state.firing != was:
                change: Literal["firing", "resolved"] = "firing" if state.firing else "resolved"
                events.append(
                    AlertEvent(state.alert, state.severity, change, state.at, state.values)
                )
                (self.firing.add if state.firing else self.firing.discard)(state.alert)
        return events


def burn_rate_series(
    runs: RunHistory | Iterable[RunRecord],
    slo: SLO,
    window: timedelta,
    *,
    start: datetime,
    end: datetime,
    step: timedelta,
) -> list[tuple[datetime, float]]:
    """The SLO's burn rate over ``window``, sampled every ``step`` from ``start`` to
    ``end`` (for a burn-rate chart).

    Raises:
        ValueError: When ``step`` is not positive.
    """
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    history = as_history(runs)
    points = []
    moment = start
    while moment <= end:
        points.append((moment, burn_rate(history, slo, window, now=moment)))
        moment += step
    return points


__all__ = [
    "SRE_WORKBOOK_RULES",
    "Alert",
    "AlertEvaluator",
    "AlertEvent",
    "AlertState",
    "BurnRateAlert",
    "BurnRateRule",
    "DurationThreshold",
    "FailureRateThreshold",
    "Severity",
    "burn_rate_alerts",
    "burn_rate_series",
    "quantile",
]
