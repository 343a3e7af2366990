"""Idempotency keys and the SQLite ledger: claims, leases, takeovers, and many processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from pydantic import BaseModel

from orchlab.reliability import (
    Checkpointer,
    ClaimStatus,
    IdempotencyConflict,
    IdempotencyLedger,
    LeaseLost,
    idempotency_key,
)


@dataclass
class Order:
    id: int
    items: list[str]


class Charge(BaseModel):
    order: int
    cents: int


HERE = Path(__file__).parent


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_keys_are_stable_and_ignore_dict_order() -> None:
    a = idempotency_key({"b": 1, "a": [1, 2]}, date(2026, 1, 31), namespace="charge")
    b = idempotency_key({"a": [1, 2], "b": 1}, date(2026, 1, 31), namespace="charge")
    assert a == b and a.startswith("charge:") and len(a) == len("charge:") + 32
    assert idempotency_key({"a": [2, 1]}) != idempotency_key({"a": [1, 2]})
    assert idempotency_key(Order(1, ["x"])) == idempotency_key(Order(1, ["x"]))
    assert idempotency_key(Charge(order=1, cents=5)) != idempotency_key(Charge(order=1, cents=6))
    assert idempotency_key(b"payload") == idempotency_key(b"payload")


def test_keys_are_the_same_in_another_process() -> None:
    code = (
        "from orchlab.reliability import idempotency_key;"
        "print(idempotency_key({'order': 7, 'tags': {'b', 'a'}}, namespace='ship'))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == idempotency_key({"tags": {"a", "b"}, "order": 7}, namespace="ship")


def test_keys_reject_values_without_a_stable_form() -> None:
    with pytest.raises(TypeError, match="cannot derive an idempotency key from a object"):
        idempotency_key(object())


def test_claim_complete_and_done(tmp_path: Path) -> None:
    ledger = IdempotencyLedger(tmp_path / "l.sqlite")
    claim = ledger.claim("k")
    assert claim.status is ClaimStatus.CLAIMED and claim.claims == 1
    assert ledger.claim("k").status is ClaimStatus.BUSY
    ledger.complete(claim, {"receipt": 42})
    again = ledger.claim("k")
    assert again.status is ClaimStatus.DONE and again.result == {"receipt": 42}
    entry = ledger.get("k")
    assert entry is not None and entry.state == "done" and entry.claims == 1
    with pytest.raises(ValueError, match="only a claimed key can be completed"):
        ledger.complete(again, 1)


def test_an_expired_lease_is_taken_over_and_the_old_claimant_loses(tmp_path: Path) -> None:
    clock = Clock()
    first = IdempotencyLedger(tmp_path / "l.sqlite", lease_seconds=10, clock=clock, owner="w1")
    second = IdempotencyLedger(tmp_path / "l.sqlite", lease_seconds=10, clock=clock, owner="w2")
    stale = first.claim("k")
    clock.now += 5
    assert second.claim("k").status is ClaimStatus.BUSY
    clock.now += 6  # the first claimant went silent past its lease
    fresh = second.claim("k")
    assert fresh.status is ClaimStatus.CLAIMED and fresh.claims == 2
    with pytest.raises(LeaseLost, match="lease on 'k' was lost \\(now held or completed by w2\\)"):
        first.complete(stale, "late")
    second.complete(fresh, "ok")
    assert first.claim("k").result == "ok"


def test_renew_keeps_long_work_owned(tmp_path: Path) -> None:
    clock = Clock()
    ledger = IdempotencyLedger(tmp_path / "l.sqlite", lease_seconds=10, clock=clock)
    claim = ledger.claim("k")
    clock.now += 8
    claim = ledger.renew(claim)
    clock.now += 8
    assert ledger.claim("k").status is ClaimStatus.BUSY
    ledger.complete(claim, None)


def test_run_executes_once_and_releases_on_failure(tmp_path: Path) -> None:
    ledger = IdempotencyLedger(tmp_path / "l.sqlite")
    calls: list[int] = []

    def effect(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            raise ConnectionError("dropped")
        return x * 2

    with pytest.raises(ConnectionError):
        ledger.run("k", effect, 21)
    assert ledger.run("k", effect, 21) == 42  # released at once: the retry runs it
    assert ledger.run("k", effect, 21) == 42  # done: not run again
    assert calls == [21, 21]


async def test_arun_and_busy_conflicts(tmp_path: Path) -> None:
    ledger = IdempotencyLedger(tmp_path / "l.sqlite")

    async def effect() -> str:
        return "done"

    held = ledger.claim("busy")
    with pytest.raises(IdempotencyConflict, match="'busy' is being worked on by another caller"):
        await ledger.arun("busy", effect)
    ledger.release(held)
    assert await ledger.arun("busy", effect) == "done"


def test_results_must_be_json(tmp_path: Path) -> None:
    ledger = IdempotencyLedger(tmp_path / "l.sqlite")
    with pytest.raises(TypeError, match="stores results as JSON; set is not JSON-serialisable"):
        ledger.run("k", lambda: {1, 2})


def test_concurrent_processes_apply_each_effect_once(tmp_path: Path) -> None:
    keys = [f"k{i}" for i in range(40)]
    sink = tmp_path / "sink.txt"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, json; from reliability_handlers import hammer; "
                "hammer(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3])",
                str(tmp_path / "l.sqlite"),
                json.dumps(keys[::step]),  # two in order, two in reverse: they collide
                str(sink),
            ],
            env=env,
        )
        for step in (1, 1, -1, -1)
    ]
    assert [proc.wait(60) for proc in procs] == [0, 0, 0, 0]
    assert sorted(sink.read_text().split()) == sorted(keys)
    ledger = IdempotencyLedger(tmp_path / "l.sqlite")
    assert [e.state for e in ledger.entries("k")] == ["done"] * len(keys)


def test_checkpointer_resumes_after_the_last_good_step(tmp_path: Path) -> None:
    ledger = IdempotencyLedger(tmp_path / "l.sqlite")
    ran: list[str] = []

    def step(name: str, fail: bool = False) -> str:
        ran.append(name)
        if fail:
            raise TimeoutError(f"{name} timed out")
        return f"{name}-out"

    run = Checkpointer(ledger, "run-1")
    run.step("ingest", step, "ingest")
    with pytest.raises(TimeoutError):
        run.step("train", step, "train", fail=True)
    resumed = Checkpointer(IdempotencyLedger(tmp_path / "l.sqlite"), "run-1")
    assert resumed.step("ingest", step, "ingest") == "ingest-out"
    assert resumed.step("train", step, "train") == "train-out"
    assert ran == ["ingest", "train", "train"]
    assert resumed.completed() == ["ingest", "train"]
    with pytest.raises(ValueError, match="run_key must be non-empty and contain no '/'"):
        Checkpointer(ledger, "a/b")
