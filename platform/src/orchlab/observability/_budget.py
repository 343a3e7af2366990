"""Cost budgets: what each team spent per run and per day, and an alert when a limit is passed.

:class:`CostLedger` keeps priced runs (:class:`~orchlab.observability.RunCost`) with the team or
tenant they are billed to and when they ran; :class:`Budget` holds the limits (per run, per
day, per team and day) and :meth:`Budget.alerts` names every one that was passed. The team
comes from the caller (a run parameter, a Temporal search attribute, a Prefect tag), so one
ledger can hold every engine's runs::

    ledger = CostLedger()
    ledger.add(run_cost(result, card), team="fraud", at=result.finished_at)
    for alert in Budget(per_run=2.0, per_team_day={"fraud": 20.0}).alerts(ledger):
        print(alert.message)
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import TypeVar

from orchlab.observability._cost import RunCost

K = TypeVar("K")


@dataclasses.dataclass(frozen=True)
class LedgerEntry:
    """One priced run."""

    cost: RunCost
    team: str
    """The team or tenant billed ("" when unknown)."""
    at: datetime
    """When the run finished (timezone-aware)."""

    @property
    def day(self) -> date:
        """The UTC day the run is billed to."""
        return self.at.astimezone(UTC).date()


class CostLedger:
    """Priced runs by team and day, in one currency."""

    def __init__(self) -> None:
        self.entries: list[LedgerEntry] = []

    def add(self, cost: RunCost, *, team: str = "", at: datetime) -> LedgerEntry:
        """Record a priced run.

        Raises:
            ValueError: ``at`` has no time zone, or the run's currency differs from the
                ledger's.
        """
        if at.tzinfo is None:
            raise ValueError(f"run {cost.run_id}: 'at' needs a time zone, got {at.isoformat()}")
        if self.entries and cost.currency != self.currency:
            raise ValueError(
                f"run {cost.run_id} is priced in {cost.currency}; this ledger is in {self.currency}"
            )
        entry = LedgerEntry(cost, team, at)
        self.entries.append(entry)
        return entry

    @property
    def currency(self) -> str:
        """The ledger's currency (the first run's)."""
        return self.entries[0].cost.currency if self.entries else ""

    def by_day(self) -> dict[date, float]:
        """Total spend per UTC day."""
        return _sum((e.day, e.cost.total) for e in self.entries)

    def by_team(self) -> dict[str, float]:
        """Total spend per team."""
        return _sum((e.team, e.cost.total) for e in self.entries)

    def by_team_day(self) -> dict[tuple[str, date], float]:
        """Total spend per team and UTC day."""
        return _sum(((e.team, e.day), e.cost.total) for e in self.entries)


def _sum(pairs: Iterable[tuple[K, float]]) -> dict[K, float]:
    totals: defaultdict[K, float] = defaultdict(float)
    for key, value in pairs:
        totals[key] += value
    return dict(totals)


@dataclasses.dataclass(frozen=True)
class BudgetAlert:
    """A limit that was passed."""

    kind: str
    """``run``, ``day`` or ``team-day``."""
    subject: str
    """The run id, the day, or ``team on day``."""
    spent: float
    limit: float
    currency: str

    @property
    def message(self) -> str:
        """One line for a page or a ticket."""
        return (
            f"cost budget passed ({self.kind}): {self.subject} spent {self.spent:.4f} "
            f"{self.currency}, limit {self.limit:.4f} {self.currency}"
        )


@dataclasses.dataclass(frozen=True)
class Budget:
    """Spending limits, in the ledger's currency; None means no limit of that kind."""

    per_run: float | None = None
    """The most one run may cost."""
    per_day: float | None = None
    """The most all runs of one UTC day may cost."""
    per_team_day: Mapping[str, float] = dataclasses.field(default_factory=dict)
    """The most one team's runs of one UTC day may cost."""

    def __post_init__(self) -> None:
        limits = [self.per_run, self.per_day, *self.per_team_day.values()]
        for limit in limits:
            if limit is not None and (isinstance(limit, bool) or limit < 0):
                raise ValueError(f"a budget limit must be a non-negative amount, got {limit!r}")

    def alerts(self, ledger: CostLedger) -> list[BudgetAlert]:
        """Every limit passed (spent strictly more than the limit), runs first, then days."""
        out: list[BudgetAlert] = []
        currency = ledger.currency
        if self.per_run is not None:
            out += [
                BudgetAlert("run", e.cost.run_id, e.cost.total, self.per_run, currency)
                for e in ledger.entries
                if e.cost.total > self.per_run
            ]
        if self.per_day is not None:
            out += [
                BudgetAlert("day", day.isoformat(), spent, self.per_day, currency)
                for day, spent in sorted(ledger.by_day().items())
                if spent > self.per_day
            ]
        for (team, day), spent in sorted(ledger.by_team_day().items()):
            limit = self.per_team_day.get(team)
            if limit is not None and spent > limit:
                out.append(BudgetAlert("team-day", f"{team} on {day}", spent, limit, currency))
        return out


__all__ = ["Budget", "BudgetAlert", "CostLedger", "LedgerEntry"]
