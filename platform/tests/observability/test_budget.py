"""Cost budgets: priced runs summed per team and UTC day, every passed limit named once, and
refusals for a ledger that would mix currencies or times without a zone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from orchlab.observability import Budget, CostLedger, RateCard, run_cost
from orchlab.pipelines import PipelineResult, StepResult

CARD = RateCard.model_validate(
    {"currency": "EUR", "cpu_hour": 0.04, "gb_hour": 0.005,
     "default": {"cpus": 1, "memory_gb": 2}, "tasks": {"train": {"cpus": 4, "memory_gb": 16}}}
)  # fmt: skip


def _run(run_id: str, train_seconds: float) -> PipelineResult:
    return PipelineResult(
        pipeline="wine", version="1", engine="local", run_id=run_id, status="succeeded",
        params={},
        steps=[
            StepResult(name="load", task="ingest", stage=1, status="succeeded", attempts=1,
                       duration_seconds=360.0),
            StepResult(name="fit", task="train", stage=2, status="succeeded", attempts=1,
                       duration_seconds=train_seconds),
        ],
    )  # fmt: skip


DAY = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)


def _ledger() -> CostLedger:
    ledger = CostLedger()
    # 0.005 (load) + train at 0.24 EUR an hour: 0.125, 0.245 and 0.065 EUR.
    ledger.add(run_cost(_run("a", 1800), CARD), team="fraud", at=DAY)
    ledger.add(run_cost(_run("b", 3600), CARD), team="fraud", at=DAY + timedelta(hours=3))
    # 23:30 in UTC-3 is the next UTC day.
    ledger.add(
        run_cost(_run("c", 900), CARD),
        team="search",
        at=datetime(2026, 11, 30, 23, 30, tzinfo=timezone(timedelta(hours=-3))),
    )
    return ledger


def test_spend_is_summed_per_team_and_utc_day() -> None:
    ledger = _ledger()
    assert ledger.currency == "EUR"
    assert {d.isoformat(): round(v, 6) for d, v in ledger.by_day().items()} == {
        "2026-11-30": 0.125,
        "2026-12-01": round(0.245 + 0.065, 6),
    }
    assert {t: round(v, 6) for t, v in ledger.by_team().items()} == {
        "fraud": 0.37,
        "search": 0.065,
    }


def test_every_passed_limit_is_named_and_a_limit_met_exactly_is_not() -> None:
    alerts = Budget(per_run=0.125, per_day=0.3, per_team_day={"fraud": 0.2}).alerts(_ledger())
    assert [(a.kind, a.subject) for a in alerts] == [
        ("run", "b"),  # 0.245 > 0.125; run a costs exactly 0.125: not passed
        ("day", "2026-12-01"),  # 0.31 > 0.3
        ("team-day", "fraud on 2026-12-01"),  # run b alone: 0.245 > 0.2
    ]
    assert alerts[0].message == ("cost budget passed (run): b spent 0.2450 EUR, limit 0.1250 EUR")
    assert Budget().alerts(_ledger()) == []


def test_a_ledger_refuses_mixed_currencies_naive_times_and_negative_limits() -> None:
    ledger = _ledger()
    usd = dataclasses.replace(run_cost(_run("d", 60), CARD), currency="USD")
    with pytest.raises(ValueError, match="run d is priced in USD; this ledger is in EUR"):
        ledger.add(usd, at=DAY)
    with pytest.raises(ValueError, match="'at' needs a time zone"):
        ledger.add(run_cost(_run("e", 60), CARD), at=datetime(2026, 11, 30, 12, 0))
    with pytest.raises(ValueError, match="non-negative amount, got -1"):
        Budget(per_team_day={"fraud": -1})
