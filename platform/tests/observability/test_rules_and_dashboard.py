"""Prometheus alerting rules and the Grafana dashboard, generated from the same definitions
as the evaluated alerts and from the metric names PipelineMetrics really exposes.

promtool is not installable here without root (no PyPI package ships it; Debian's
``prometheus`` package needs apt as root), so the rules are validated by a schema check of
Prometheus' rule-file structure and by parsing every expression with ``promql-parser``.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchlab.errors import ConfigError
from orchlab.observability import (
    KNOWN_METRICS,
    RUNBOOK,
    SLO,
    AlertRulesError,
    DashboardError,
    DurationThreshold,
    FailureRateThreshold,
    PipelineMetrics,
    RateCard,
    alert_rules,
    alert_rules_yaml,
    burn_rate_alerts,
    check_alert_rules,
    check_dashboard,
    grafana_dashboard,
    promql_metrics,
)
from orchlab.pipelines import PipelineResult, StepResult

SUCCESS = SLO("wine_success", objective=0.99, pipeline="wine_training")
LATENCY = SLO("wine_latency", objective=0.95, kind="latency", latency_seconds=60)
THRESHOLDS = [
    FailureRateThreshold(name="wine_failures", window=timedelta(minutes=30), max_ratio=0.2),
    DurationThreshold(name="wine_slow_runs", window=timedelta(hours=1), max_seconds=300),
]
ALERTS = [*burn_rate_alerts(SUCCESS), *burn_rate_alerts(LATENCY), *THRESHOLDS]


@pytest.fixture(scope="module")
def exposed() -> set[str]:
    """The series names a PipelineMetrics registry exposes after a failed run with a retry."""
    metrics = PipelineMetrics(breakers=False)
    steps = [
        StepResult(name="load", task="ingest", stage=0, status="succeeded", attempts=2,
                   duration_seconds=0.5),
        StepResult(name="train", task="train", stage=1, status="failed", attempts=1),
    ]  # fmt: skip
    result = PipelineResult(pipeline="wine_training", version="1", engine="temporal",
                            run_id="r1", status="failed", params={}, steps=steps)  # fmt: skip
    metrics.observe(result, 2.0)
    return {s.name for family in metrics.registry.collect() for s in family.samples}


def test_the_rules_file_has_one_rule_per_alert_with_severity_and_runbook() -> None:
    doc = yaml.safe_load(alert_rules_yaml(ALERTS))
    (group,) = doc["groups"]
    rules = {r["alert"]: r for r in group["rules"]}
    assert list(rules) == [a.name for a in ALERTS]
    fast = rules["wine_success_fast_burn"]
    assert fast["labels"] == {"severity": "page"}
    assert fast["annotations"]["runbook_url"].endswith("observability.md#fast-burn")
    assert rules["wine_success_slow_burn"]["labels"] == {"severity": "ticket"}
    # Both windows and the workbook's factor times the 1 % budget.
    assert fast["expr"].count("[1h]") == 2 and fast["expr"].count("[5m]") == 2
    assert fast["expr"].count("> (14.4 * 0.01)") == 2 and " and " in fast["expr"]
    assert 'pipeline="wine_training",status="failed"' in fast["expr"]
    assert 'le="60.0"' in rules["wine_latency_medium_burn"]["expr"]
    assert rules["wine_slow_runs"]["expr"].startswith("histogram_quantile(0.95")
    check_alert_rules(alert_rules_yaml(ALERTS))


def test_every_metric_the_rules_and_panels_read_is_one_pipeline_metrics_exposes(
    exposed: set[str],
) -> None:
    read = set()
    for rule in alert_rules(ALERTS)["groups"][0]["rules"]:
        read |= promql_metrics(rule["expr"])
    assert read and read <= exposed
    orchlab_known = {name for name in KNOWN_METRICS if name.startswith("orchlab_")}
    # KNOWN_METRICS keeps up with PipelineMetrics (prometheus-client's _created aside).
    assert {n for n in exposed if not n.endswith("_created")} <= orchlab_known
    dashboard = grafana_dashboard(slos=[SUCCESS, LATENCY])
    panels_read = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", "5m")
            panels_read |= promql_metrics(expr)
    assert {n for n in panels_read if n.startswith("orchlab_")} <= exposed


def rule(doc: dict[str, Any]) -> dict[str, Any]:
    """The rule file's first rule."""
    first: dict[str, Any] = doc["groups"][0]["rules"][0]
    return first


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(extra=1), "a rule file is a mapping with one key, groups"),
        (lambda d: d["groups"].append(copy.deepcopy(d["groups"][0])), "repeated group name"),
        (lambda d: rule(d).update(record="x"), "exactly one of alert and record"),
        (lambda d: rule(d).update(expr="sum(rate(x[5m])"), "invalid PromQL"),
        (lambda d: rule(d).update(expr="rate(nope_total[5m]) > 1"),
         "reads metric\\(s\\) nothing exposes: nope_total"),
        (lambda d: rule(d).update({"for": "5 minutes"}), "for must be a duration"),
        (lambda d: rule(d)["labels"].update({"bad-label": "x"}),
         "'bad-label' is not a valid label name"),
        (lambda d: rule(d).update(severity="page"), "unknown field\\(s\\) severity"),
        (lambda d: d["groups"][0].update(rules=[]), "rules must be a non-empty list"),
    ],
)  # fmt: skip
def test_the_rules_check_refuses_what_prometheus_would(change: Any, message: str) -> None:
    doc = alert_rules(ALERTS)
    change(doc)
    with pytest.raises(AlertRulesError, match=message):
        check_alert_rules(doc)


def test_a_latency_threshold_off_the_histograms_buckets_cannot_be_exported() -> None:
    odd = SLO("odd", objective=0.9, kind="latency", latency_seconds=42)
    with pytest.raises(ConfigError, match="latency threshold 42 s is not a run-duration bucket"):
        alert_rules(burn_rate_alerts(odd))


def test_the_dashboard_has_the_panels_and_passes_the_schema_check() -> None:
    card = RateCard(cpu_hour=0.04, currency="EUR", tasks={"train": {"cpus": 4, "memory_gb": 16}})
    dashboard = json.loads(json.dumps(grafana_dashboard(slos=[SUCCESS], card=card)))
    check_dashboard(dashboard)
    titles = [p["title"] for p in dashboard["panels"]]
    for wanted in ("Pipeline runs", "Run latency percentiles", "Failures", "Retries",
                   "Cost per hour", "SLO burn rate"):  # fmt: skip
        assert wanted in titles
    cost = next(p for p in dashboard["panels"] if p["title"] == "Cost per hour")
    assert cost["fieldConfig"]["defaults"]["unit"] == "currencyEUR"
    # train: 4 CPUs at 0.04 an hour, per second of step time.
    assert cost["targets"][0]["expr"].endswith(f"* {4 * 0.04 / 3600:.6g}")
    latency = next(p for p in dashboard["panels"] if p["title"] == "Run latency percentiles")
    assert [t["expr"].split(",")[0] for t in latency["targets"]] == [
        "histogram_quantile(0.5", "histogram_quantile(0.95", "histogram_quantile(0.99",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("uid"), "uid must be a string"),
        (lambda d: d.update(schemaVersion="39"), "schemaVersion must be an integer"),
        (lambda d: d["panels"][1].update(id=1), "id must be a unique integer"),
        (lambda d: d["panels"][1]["gridPos"].update(x=20), "inside the 24-column grid"),
        (lambda d: d["templating"]["list"].pop(0), r"variable '\$\{datasource\}' is not declared"),
        (lambda d: d["panels"][0]["targets"][0].update(expr="rate(orchlab_nope[5m])"),
         "reads unknown metric"),
        (lambda d: d["panels"][0]["targets"][0].update(expr="sum("), "invalid PromQL"),
        (lambda d: d["panels"][0].update(targets=[]), "needs targets with unique refIds"),
    ],
)  # fmt: skip
def test_the_dashboard_check_refuses_what_grafana_would(change: Any, message: str) -> None:
    dashboard = grafana_dashboard()
    change(dashboard)
    with pytest.raises(DashboardError, match=message):
        check_dashboard(dashboard)


def test_every_rules_runbook_link_has_its_section_in_the_runbook() -> None:
    root = Path(__file__).resolve().parents[3]
    runbook = (root / RUNBOOK).read_text(encoding="utf-8")
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line[3:].strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("## ")
    }
    for rule in alert_rules(ALERTS)["groups"][0]["rules"]:
        page, anchor = rule["annotations"]["runbook_url"].split("#")
        assert page == RUNBOOK and anchor in headings, anchor
