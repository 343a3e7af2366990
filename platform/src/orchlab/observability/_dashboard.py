"""A Grafana dashboard generated from orchlab's metric names, and its validation.

:func:`grafana_dashboard` builds the dashboard JSON (Grafana's dashboard model,
``schemaVersion`` 39) that a team imports or provisions: pipeline runs, run and step
latency percentiles, failures, retries, cost (step time priced by a
:class:`~orchlab.observability.RateCard`), SLO burn rates and error budgets, and Temporal's
schedule-to-start. Every query is built from the names in
:mod:`orchlab.observability._names`, so a renamed metric changes the dashboard with it.
:func:`check_dashboard` validates a dashboard against the essentials of Grafana's schema
(unique panel ids, grid positions inside 24 columns, data source references, targets with
``refId`` and ``expr``) and parses every query as PromQL with its metric names known.

Example::

    slo = SLO("wine_success", objective=0.99, pipeline="wine_training")
    Path("orchlab.json").write_text(json.dumps(grafana_dashboard(slos=[slo]), indent=2))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from orchlab.errors import OrchlabError
from orchlab.observability import _names as names
from orchlab.observability import _promql as promql
from orchlab.observability._cost import RateCard
from orchlab.observability._rules import KNOWN_METRICS, AlertRulesError, promql_metrics
from orchlab.observability._slo import SLO

SCHEMA_VERSION = 39
"""The dashboard model version written (Grafana 10.4 / 11)."""
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": "${datasource}"}
"""Every panel's data source: the dashboard's ``datasource`` variable."""
RATE = "$__rate_interval"
PIPELINES = '"$pipeline"'
DEFAULT_SLOS: tuple[SLO, ...] = (SLO("pipelines_success", objective=0.99),)
"""The SLO drawn when none is given: 99 % of all runs succeed over 30 days."""

# Grafana's built-in variables, replaced by sample values to parse a query.
_SAMPLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
_VARIABLE = re.compile(r"\$\{?(\w+)\}?")


class DashboardError(OrchlabError, ValueError):
    """A dashboard Grafana would not load, or whose queries do not parse."""


def _target(expr: str, legend: str, ref: int) -> dict[str, Any]:
    return {
        "refId": chr(ord("A") + ref),
        "datasource": DATASOURCE,
        "expr": expr,
        "legendFormat": legend,
    }


def _panel(
    title: str,
    queries: Sequence[tuple[str, str]],
    *,
    unit: str,
    description: str = "",
    kind: str = "timeseries",
) -> dict[str, Any]:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [_target(expr, legend, i) for i, (expr, legend) in enumerate(queries)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
    }


def _runs(**labels: str) -> str:
    """The matchers of the dashboard's pipeline filter, plus ``labels`` (quoted values)."""
    return ",".join([f"pipeline=~{PIPELINES}", *(f"{k}={v}" for k, v in labels.items())])


def _cost_queries(card: RateCard | None) -> tuple[list[tuple[str, str]], str]:
    seconds = f"{names.STEP_DURATION}_sum"
    if card is None:
        expr = f"sum by (task) (increase({seconds}{{{_runs()}}}[1h]))"
        return [(expr, "{{task}}")], "s"
    queries = []
    for task in sorted(card.tasks):
        per_second = card.compute(task, 1.0)
        expr = f'sum(increase({seconds}{{{_runs()},task="{task}"}}[1h])) * {per_second:.6g}'
        queries.append((expr, task))
    listed = "|".join(sorted(card.tasks))
    others = f',task!~"{listed}"' if listed else ""
    res = card.default
    default = (res.cpus * card.cpu_hour + res.memory_gb * card.gb_hour) / 3600
    expr = f"sum(increase({seconds}{{{_runs()}{others}}}[1h])) * {default:.6g}"
    queries.append((expr, "other tasks" if listed else "all tasks"))
    known = {"USD", "EUR", "GBP", "JPY", "CHF", "CAD", "AUD"}
    return queries, f"currency{card.currency}" if card.currency in known else "none"


def _burn_queries(slos: Sequence[SLO]) -> list[tuple[str, str]]:
    queries = []
    for slo in slos:
        for window in (timedelta(hours=1), timedelta(hours=6)):
            if slo.kind == "success":
                ratio = promql.failure_ratio(window, pipeline=slo.pipeline, engine=slo.engine)
            else:
                assert slo.latency_seconds is not None
                ratio = promql.slow_ratio(
                    window, slo.latency_seconds, pipeline=slo.pipeline, engine=slo.engine
                )
            label = f"{slo.name} over {promql.duration(window)}"
            queries.append((f"{ratio} / {slo.budget:.6g}", label))
    return queries


def _budget_queries(slos: Sequence[SLO]) -> list[tuple[str, str]]:
    queries = []
    for slo in slos:
        if slo.kind == "success":
            ratio = promql.failure_ratio(slo.window, pipeline=slo.pipeline, engine=slo.engine)
        else:
            assert slo.latency_seconds is not None
            ratio = promql.slow_ratio(
                slo.window, slo.latency_seconds, pipeline=slo.pipeline, engine=slo.engine
            )
        queries.append((f"1 - {ratio} / {slo.budget:.6g}", slo.name))
    return queries


def _quantiles(metric: str, by: str, quantiles: Iterable[float]) -> list[tuple[str, str]]:
    bucket = f"{metric}_bucket{{{_runs()}}}"
    return [
        (
            f"histogram_quantile({q:g}, sum by (le, {by}) (rate({bucket}[{RATE}])))",
            f"p{q * 100:g} {{{{{by}}}}}",
        )
        for q in quantiles
    ]


def grafana_dashboard(
    *,
    slos: Sequence[SLO] = DEFAULT_SLOS,
    card: RateCard | None = None,
    title: str = "orchlab pipelines",
    uid: str = "orchlab-pipelines",
) -> dict[str, Any]:
    """The dashboard's JSON model (import it in Grafana, or provision it from a file).

    Args:
        slos: The SLOs whose burn rates and error budgets are drawn.
        card: Prices the cost panel (step time per task, by the card's resources); without
            one the panel shows step seconds per task.
        title: The dashboard's title.
        uid: Its uid (stable, so provisioning updates the same dashboard).

    Raises:
        ConfigError: When a latency SLO's threshold is not a run-duration bucket bound.
    """
    cost, cost_unit = _cost_queries(card)
    failed = _runs(status='"failed"')
    panels = [
        _panel(
            "Pipeline runs",
            [(f"sum by (pipeline, status) (rate({promql.RUNS_TOTAL}{{{_runs()}}}[{RATE}]))",
              "{{pipeline}} {{status}}")],
            unit="ops", description="Finished runs per second, by status.",
        ),
        _panel(
            "Run latency percentiles",
            _quantiles(names.PIPELINE_DURATION, "pipeline", (0.5, 0.95, 0.99)),
            unit="s", description="Wall time of whole runs.",
        ),
        _panel(
            "Step latency p95",
            _quantiles(names.STEP_DURATION, "step", (0.95,)),
            unit="s", description="Wall time of each step's successful attempt.",
        ),
        _panel(
            "Failures",
            [(f"sum by (pipeline) (rate({promql.RUNS_TOTAL}{{{failed}}}[{RATE}]))",
              "failed runs {{pipeline}}"),
             (f"sum by (step) (rate({names.STEP_RESULTS}_total{{{failed}}}[{RATE}]))",
              "failed steps {{step}}")],
            unit="ops", description="Failed runs and steps per second.",
        ),
        _panel(
            "Retries",
            [(f"sum by (pipeline, step) (increase({names.STEP_RETRIES}_total{{{_runs()}}}"
              f"[{RATE}]))", "{{pipeline}} {{step}}")],
            unit="short", description="Step attempts after the first.",
        ),
        _panel(
            "Cost per hour", cost, unit=cost_unit,
            description="Successful step time in the last hour priced by the rate card "
            "(failed attempts are priced from traces: orchlab.observability.trace_cost).",
        ),
        _panel(
            "SLO burn rate", _burn_queries(slos), unit="short",
            description="How many times too fast each SLO's error budget burns (1 spends "
            "it exactly over the SLO's window; pages fire at 14.4 and 6).",
        ),
        _panel(
            "Error budget remaining", _budget_queries(slos), unit="percentunit",
            kind="stat", description="The share of each SLO's budget left over its window.",
        ),
        _panel(
            "Temporal activity schedule-to-start p95",
            [(f"histogram_quantile(0.95, sum by (le, activity_type) (rate("
              f"{names.TEMPORAL_ACTIVITY_SCHEDULE_TO_START}_bucket[{RATE}])))",
              "{{activity_type}}")],
            unit="ms", description="Time activities wait for a worker slot (Temporal SDK).",
        ),
    ]  # fmt: skip
    for index, panel in enumerate(panels):
        panel["id"] = index + 1
        panel["gridPos"] = {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)}
    return {
        "uid": uid,
        "title": title,
        "tags": ["orchlab"],
        "timezone": "utc",
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "annotations": {"list": []},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "type": "datasource",
                    "query": "prometheus",
                    "label": "Data source",
                },
                {
                    "name": "pipeline",
                    "type": "query",
                    "datasource": DATASOURCE,
                    "label": "Pipeline",
                    "query": f"label_values({promql.RUNS_TOTAL}, pipeline)",
                    "includeAll": True,
                    "multi": True,
                    "allValue": ".*",
                    "refresh": 2,
                },
            ]
        },
        "panels": panels,
    }


def _sample(expr: str, variables: Mapping[str, str]) -> str:
    for name, value in _SAMPLES.items():
        expr = expr.replace(name, value)
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), ".*"), expr)


def check_dashboard(
    dashboard: Mapping[str, Any], *, known_metrics: Iterable[str] = KNOWN_METRICS
) -> None:
    """Validate a dashboard's JSON model against Grafana's schema essentials.

    Checks the top-level fields (``title``, ``uid``, an integer ``schemaVersion``, a
    ``panels`` list, ``templating.list``), each panel's ``id`` (unique), ``type``,
    ``title``, ``gridPos`` (inside the 24-column grid) and data source (a declared
    variable), and each target's ``refId`` (unique in its panel) and ``expr`` (valid
    PromQL once Grafana's variables are filled in, reading known metrics).

    Raises:
        DashboardError: On the first problem; the message names the panel.
    """
    fields = (("title", str, "a string"), ("uid", str, "a string"),
              ("schemaVersion", int, "an integer"), ("panels", list, "a list"))  # fmt: skip
    for key, kind, described in fields:
        if not isinstance(dashboard.get(key), kind) or isinstance(dashboard.get(key), bool):
            raise DashboardError(f"dashboard: {key} must be {described}")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", dashboard["uid"]):
        raise DashboardError("dashboard: uid must be 1-40 letters, digits, '-' or '_'")
    variables = {v.get("name"): v for v in dashboard.get("templating", {}).get("list", [])}
    samples = {name: ".*" for name in variables if isinstance(name, str)}
    known = frozenset(known_metrics)
    ids: set[int] = set()
    for panel in dashboard["panels"]:
        title = panel.get("title")
        if not isinstance(title, str) or not title or not isinstance(panel.get("type"), str):
            raise DashboardError(f"panel {panel.get('id')}: needs a type and a title")
        where = f"panel {title!r}"
        pid = panel.get("id")
        if not isinstance(pid, int) or pid in ids:
            raise DashboardError(f"{where}: id must be a unique integer, got {pid!r}")
        ids.add(pid)
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) and grid[k] >= 0 for k in ("h", "w", "x", "y")):
            raise DashboardError(f"{where}: gridPos needs whole h, w, x, y")
        if grid["w"] < 1 or grid["h"] < 1 or grid["x"] + grid["w"] > 24:
            raise DashboardError(f"{where}: gridPos must lie inside the 24-column grid")
        source = panel.get("datasource", {}).get("uid", "")
        used = _VARIABLE.fullmatch(source)
        if used and used.group(1) not in variables:
            raise DashboardError(f"{where}: data source variable {source!r} is not declared")
        targets = panel.get("targets") or []
        refs = [t.get("refId") for t in targets]
        if not targets or len(set(refs)) != len(refs) or not all(refs):
            raise DashboardError(f"{where}: needs targets with unique refIds")
        for target in targets:
            expr = target.get("expr")
            if not isinstance(expr, str) or not expr:
                raise DashboardError(f"{where} target {target.get('refId')}: no expr")
            try:
                unread = promql_metrics(_sample(expr, samples)) - known
            except AlertRulesError as exc:
                raise DashboardError(f"{where}: {exc}") from None
            if unread:
                raise DashboardError(f"{where}: reads unknown metric(s) {', '.join(unread)}")


__all__ = [
    "DATASOURCE",
    "DEFAULT_SLOS",
    "SCHEMA_VERSION",
    "DashboardError",
    "check_dashboard",
    "grafana_dashboard",
]
