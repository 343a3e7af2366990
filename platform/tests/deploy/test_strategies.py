"""Canary with automatic rollback, blue/green with instant rollback, and config drift."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchlab.deploy import (
    BlueGreen,
    ConfigDrift,
    ScriptedMetrics,
    check_drift,
    diff_configs,
    load_environment,
    run_canary,
)
from orchlab.errors import ConfigError, ValidationFailed
from orchlab.policy import AuditLog


def test_canary_promotes_when_healthy(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "a.jsonl")
    splits: list[int] = []
    result = run_canary(
        "v1",
        "v2",
        ScriptedMetrics([0.01, 0.012, 0.011, 0.01]),
        threshold=0.05,
        set_traffic=splits.append,
        audit=audit,
    )
    assert result.status == "promoted" and result.final_traffic == 100
    assert [p.traffic for p in result.timeline] == [5, 25, 50, 100] == splits
    assert [r.action for r in audit.records()][-1] == "canary.promoted"


def test_canary_rolls_back_on_its_own_at_the_first_breach(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "a.jsonl")
    splits: list[int] = []
    metrics = ScriptedMetrics(by_version={"v2": [0.01, 0.02, 0.09, 0.01]})
    result = run_canary("v1", "v2", metrics, threshold=0.05, set_traffic=splits.append, audit=audit)
    assert result.status == "rolled_back" and result.final_traffic == 0
    assert splits == [5, 25, 50, 0]
    assert result.reason == "metric 0.09 above threshold 0.05 at 50% traffic"
    rows = result.to_records()
    assert rows[2] == {"step": 2, "traffic": 50, "metric": 0.09, "breached": True}
    assert rows[-1]["traffic"] == 0 and rows[-1]["metric"] is None
    assert [r.action for r in audit.records()].count("canary.step") == 3


def test_canary_lower_is_worse_and_bad_steps() -> None:
    result = run_canary(
        "a", "b", ScriptedMetrics([0.95, 0.7]), threshold=0.9, higher_is_worse=False
    )
    assert result.status == "rolled_back" and "below threshold" in result.reason
    with pytest.raises(ValueError, match=r"ending at 100"):
        run_canary("a", "b", ScriptedMetrics(), threshold=1, steps=[5, 50])
    with pytest.raises(ValueError, match=r"must increase"):
        run_canary("a", "b", ScriptedMetrics(), threshold=1, steps=[50, 25, 100])


def test_scripted_metrics_noise_is_seeded() -> None:
    a = ScriptedMetrics([0.1], noise=0.01, seed=3)
    assert a("v", 5, 0) == ScriptedMetrics([0.1], noise=0.01, seed=3)("v", 5, 0) != 0.1


def test_blue_green_switch_and_instant_rollback(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "a.jsonl")
    state = tmp_path / "bg.json"
    bg = BlueGreen("wine-api", state_file=state, audit=audit)
    bg.deploy("v1")
    bg.switch()
    assert bg.route() == ("green", "v1")
    bg.deploy("v2")
    assert bg.route() == ("green", "v1")  # the live slot keeps serving during a deploy
    bg.switch()
    assert bg.route() == ("blue", "v2")
    bg.rollback("error rate up")
    assert bg.route() == ("green", "v1")
    assert BlueGreen("wine-api", state_file=state).route() == ("green", "v1")
    with pytest.raises(ValidationFailed, match=r"smoke check failed for v3"):
        bg.deploy("v3", smoke=lambda v: False)
    assert bg.version("blue") == "v2"
    actions = [r.action for r in audit.records()]
    assert actions[-2:] == ["bluegreen.rolled_back", "bluegreen.smoke_failed"]
    with pytest.raises(ValidationFailed, match=r"is empty: deploy first"):
        BlueGreen("x").switch()


def test_environment_drift_names_the_keys(tmp_path: Path) -> None:
    dev, prod = load_environment("dev"), load_environment("prod")
    report = diff_configs(dev, prod, ignore=["features.*"])
    assert "serving.replicas" in report.keys and "model.name" not in report.keys
    assert not any(k.startswith("features.") for k in report.keys)
    assert report.changed["serving.replicas"] == (1, 4)
    live = dict(prod.values)
    live["serving"] = {**live["serving"], "replicas": 2, "gpu": 1}
    audit = AuditLog(tmp_path / "a.jsonl")
    with pytest.raises(ConfigDrift) as info:
        check_drift(prod, live, audit=audit)
    message = str(info.value)
    assert "serving.replicas: 4 != 2" in message and "serving.gpu: only in prod-live" in message
    assert check_drift(prod, prod.values).drifted is False
    assert [r.data["drifted"] for r in audit.records()] == [True]
    with pytest.raises(ConfigError, match=r"unknown environment 'qa'"):
        load_environment("qa")
