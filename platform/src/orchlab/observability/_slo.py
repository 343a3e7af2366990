"""Service level objectives for pipelines: SLIs and error budgets from run records.

An :class:`SLO` says which runs count (a pipeline, an engine, or all) and which of them are
*good*: a ``success`` SLO counts succeeded runs, a ``latency`` SLO counts runs that ended
within ``latency_seconds`` (failed runs are judged by the success SLO, not here). Over its
rolling window (30 days by default), the SLI is good / total, and the error budget is the
share of runs allowed to be bad, ``1 - objective``.

A :class:`RunHistory` holds run records in end-time order with running counts per SLO, so
that a window's totals cost two binary searches: a burn-rate backtest over a month of runs
evaluates thousands of windows in milliseconds.

Example::

    slo = SLO("wine_success", objective=0.99, pipeline="wine_training")
    history = RunHistory(read_run_records(".state/runs.jsonl"))
    budget = error_budget(history, slo)
    print(f"{budget.sli:.4f}, {budget.remaining:.0%} of the budget left")
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Literal

from orchlab.observability._runs import Clock, RunRecord, utc_now

SLIKind = Literal["success", "latency"]
"""What makes a run good: it succeeded, or it ended within the latency threshold."""

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_name(kind: str, name: str) -> str:
    """``name`` when it is a valid Prometheus name (letters, digits, ``_``), for alert and
    rule names exported from it.

    Raises:
        ValueError: When it is not.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(
            f"{kind} name {name!r} must be letters, digits and '_' (not starting with a digit)"
        )
    return name


@dataclass(frozen=True)
class SLO:
    """A service level objective on pipeline runs.

    Raises:
        ValueError: At construction, when the name is not a Prometheus name, the objective
            is not strictly between 0 and 1, a latency SLO has no positive threshold (or a
            success SLO has one), or the window is not positive.
    """

    name: str
    """Its name (letters, digits, ``_``): alerts exported from it are named after it."""
    objective: float
    """The share of runs that must be good over the window (``0.99``)."""
    kind: SLIKind = "success"
    """``success`` or ``latency``."""
    latency_seconds: float | None = None
    """A latency SLO's threshold: a run is good when it took at most this long."""
    window: timedelta = timedelta(days=30)
    """The rolling window the objective holds over."""
    pipeline: str | None = None
    """Count only this pipeline's runs (None: every pipeline)."""
    engine: str | None = None
    """Count only runs on this engine (None: every engine)."""

    def __post_init__(self) -> None:
        check_name("SLO", self.name)
        if not 0 < self.objective < 1:
            raise ValueError(
                f"SLO {self.name!r}: objective must be between 0 and 1, got {self.objective}"
            )
        if self.kind == "latency" and not (self.latency_seconds and self.latency_seconds > 0):
            raise ValueError(f"latency SLO {self.name!r} needs latency_seconds > 0")
        if self.kind == "success" and self.latency_seconds is not None:
            raise ValueError(f"success SLO {self.name!r} takes no latency_seconds")
        if self.kind not in ("success", "latency"):
            raise ValueError(f"SLO {self.name!r}: kind must be success or latency")
        if self.window <= timedelta(0):
            raise ValueError(f"SLO {self.name!r}: window must be positive")

    @property
    def budget(self) -> float:
        """The error budget: the share of runs allowed to be bad (``1 - objective``)."""
        return 1 - self.objective

    def counts(self, record: RunRecord) -> bool:
        """Whether ``record`` is one of this SLO's runs."""
        return (self.pipeline is None or record.pipeline == self.pipeline) and (
            self.engine is None or record.engine == self.engine
        )

    def is_good(self, record: RunRecord) -> bool:
        """Whether ``record`` is a good run."""
        if self.kind == "success":
            return record.succeeded
        assert self.latency_seconds is not None  # checked at construction
        return record.duration_seconds <= self.latency_seconds


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


class RunHistory:
    """Run records in end-time order, with window queries (a run belongs to the window its
    end falls in: ``start < ended <= end``).

    Args:
        records: The runs, in any order.
    """

    def __init__(self, records: Iterable[RunRecord]) -> None:
        self.records: Sequence[RunRecord] = sorted(records, key=lambda r: r.ended)
        """Every run, by end time."""
        # Whole microseconds: integer comparisons keep a month's backtest fast.
        self._ends = [_micros(r.ended) for r in self.records]
        self._prefix: dict[SLO, tuple[list[int], list[int]]] = {}

    def __len__(self) -> int:
        return len(self.records)

    def _bounds(self, start: datetime, end: datetime) -> tuple[int, int]:
        return bisect_right(self._ends, _micros(start)), bisect_right(self._ends, _micros(end))

    def between(self, start: datetime, end: datetime) -> Sequence[RunRecord]:
        """The runs that ended after ``start`` and at or before ``end``."""
        low, high = self._bounds(start, end)
        return self.records[low:high]

    def tally(self, slo: SLO, start: datetime, end: datetime) -> tuple[int, int]:
        """``(total, bad)``: the SLO's runs that ended in the window, and the bad ones."""
        if slo not in self._prefix:
            counted = [int(slo.counts(r)) for r in self.records]
            bad = [int(slo.counts(r) and not slo.is_good(r)) for r in self.records]
            self._prefix[slo] = ([0, *accumulate(counted)], [0, *accumulate(bad)])
        totals, bads = self._prefix[slo]
        low, high = self._bounds(start, end)
        return totals[high] - totals[low], bads[high] - bads[low]


def as_history(runs: RunHistory | Iterable[RunRecord]) -> RunHistory:
    """``runs`` as a :class:`RunHistory` (itself when it is one)."""
    return runs if isinstance(runs, RunHistory) else RunHistory(runs)


@dataclass(frozen=True)
class ErrorBudget:
    """An SLO over one window: its SLI and how much of its error budget is spent."""

    slo: SLO
    """The objective."""
    start: datetime
    """The window's start (exclusive)."""
    end: datetime
    """The window's end (inclusive): when it was measured."""
    total: int
    """The SLO's runs that ended in the window."""
    bad: int
    """The bad ones among them."""

    @property
    def good(self) -> int:
        """The good runs."""
        return self.total - self.bad

    @property
    def sli(self) -> float | None:
        """good / total; None when no run ended in the window."""
        return self.good / self.total if self.total else None

    @property
    def allowed_bad(self) -> float:
        """How many bad runs the budget allows for this many runs."""
        return self.total * self.slo.budget

    @property
    def consumed(self) -> float:
        """The share of the budget spent (1.0 is all of it; above 1 the SLO is missed)."""
        return self.bad / self.allowed_bad if self.total else 0.0

    @property
    def remaining(self) -> float:
        """The share of the budget left (negative once overspent)."""
        return 1.0 - self.consumed

    @property
    def met(self) -> bool:
        """Whether the SLI is at or above the objective (True with no runs)."""
        return self.sli is None or self.sli >= self.slo.objective


def error_budget(
    runs: RunHistory | Iterable[RunRecord],
    slo: SLO,
    *,
    now: datetime | None = None,
    window: timedelta | None = None,
    clock: Clock = utc_now,
) -> ErrorBudget:
    """The SLO's SLI and error budget over the window that ends now.

    Args:
        runs: Run records (or a :class:`RunHistory` of them).
        slo: The objective.
        now: The window's end; ``clock()`` by default.
        window: The window's length; the SLO's own by default.
        clock: Where ``now`` comes from when it is not given.
    """
    end = now if now is not None else clock()
    start = end - (window or slo.window)
    total, bad = as_history(runs).tally(slo, start, end)
    return ErrorBudget(slo, start, end, total, bad)


def burn_rate(
    runs: RunHistory | Iterable[RunRecord], slo: SLO, window: timedelta, *, now: datetime
) -> float:
    """How fast the SLO's budget burns over ``window`` ending at ``now``: the window's bad
    share divided by the budget (1.0 spends exactly the budget over the SLO's window; 0.0
    with no runs)."""
    total, bad = as_history(runs).tally(slo, now - window, now)
    return bad / total / slo.budget if total else 0.0


__all__ = [
    "SLO",
    "ErrorBudget",
    "RunHistory",
    "SLIKind",
    "as_history",
    "burn_rate",
    "check_name",
    "error_budget",
]
