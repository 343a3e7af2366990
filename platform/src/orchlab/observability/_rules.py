"""Prometheus alerting rules from orchlab's alert definitions, and their validation.

:func:`alert_rules` turns the same :class:`~orchlab.observability.BurnRateAlert`,
:class:`~orchlab.observability.FailureRateThreshold` and
:class:`~orchlab.observability.DurationThreshold` values that evaluate on run records into a
Prometheus rule file (``groups:`` of ``alert:`` rules with a ``severity`` label, a summary
and a runbook link). :func:`check_alert_rules` validates a rule file the way Prometheus
loads one: the structure of its groups and rules, every expression parsed by a PromQL
parser (``promql-parser``, the Rust parser's bindings), and every metric it reads one that
orchlab or the Temporal SDK exposes.

Example::

    slo = SLO("wine_success", objective=0.99, pipeline="wine_training")
    Path("orchlab-alerts.yml").write_text(alert_rules_yaml(burn_rate_alerts(slo)))
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import yaml

from orchlab.errors import OrchlabError
from orchlab.observability import _names as names
from orchlab.observability._alerts import (
    Alert,
    BurnRateAlert,
    DurationThreshold,
    FailureRateThreshold,
)

RUNBOOK = "docs/runbooks/observability.md"
"""Where the alerts' runbook is, relative to the course's site or repository."""


def _histogram(name: str) -> tuple[str, ...]:
    return (f"{name}_bucket", f"{name}_count", f"{name}_sum")


KNOWN_METRICS: frozenset[str] = frozenset(
    {
        f"{names.PIPELINE_RUNS}_total",
        *_histogram(names.PIPELINE_DURATION),
        *_histogram(names.STEP_DURATION),
        f"{names.STEP_RESULTS}_total",
        f"{names.STEP_RETRIES}_total",
        names.BREAKER_STATE,
        names.BREAKER_FAILURES,
        names.DEAD_LETTERS,
        f"{names.TEMPORAL_WORKFLOW_COMPLETED}_total",
        f"{names.TEMPORAL_WORKFLOW_FAILED}_total",
        f"{names.TEMPORAL_ACTIVITY_FAILED}_total",
        f"{names.TEMPORAL_REQUESTS}_total",
        f"{names.TEMPORAL_REQUEST_FAILURES}_total",
        names.TEMPORAL_WORKER_SLOTS_AVAILABLE,
        *_histogram(names.TEMPORAL_WORKFLOW_LATENCY),
        *_histogram(names.TEMPORAL_WORKFLOW_TASK_SCHEDULE_TO_START),
        *_histogram(names.TEMPORAL_ACTIVITY_LATENCY),
        *_histogram(names.TEMPORAL_ACTIVITY_SCHEDULE_TO_START),
    }
)
"""Every series name orchlab's metrics and the Temporal SDK's expose to Prometheus."""


class AlertRulesError(OrchlabError, ValueError):
    """A rule file Prometheus would refuse, or one that reads a metric nobody exposes."""


def runbook_anchor(alert: Alert) -> str:
    """The runbook section about ``alert`` (``fast-burn``, ``failure-rate``...)."""
    if isinstance(alert, BurnRateAlert):
        return f"{alert.rule.name}-burn"
    if isinstance(alert, FailureRateThreshold):
        return "failure-rate"
    if isinstance(alert, DurationThreshold):
        return "duration"
    return "alerts"


def alert_rules(
    alerts: Iterable[Alert], *, group: str = "orchlab", runbook: str = RUNBOOK
) -> dict[str, Any]:
    """A Prometheus rule file (as data) with one alerting rule per alert.

    Args:
        alerts: The alerts.
        group: The rule group's name.
        runbook: The runbook's URL; each rule links to its section.

    Raises:
        AlertRulesError: When an expression does not parse or reads an unknown metric (a
            definition orchlab's own check would refuse).
    """
    rules = []
    for alert in alerts:
        rules.append(
            {
                "alert": alert.name,
                "expr": alert.promql(),
                "labels": {"severity": alert.severity},
                "annotations": {
                    "summary": alert.summary,
                    "runbook_url": f"{runbook}#{runbook_anchor(alert)}",
                },
            }
        )
    doc = {"groups": [{"name": group, "rules": rules}]}
    check_alert_rules(doc)
    return doc


def alert_rules_yaml(alerts: Iterable[Alert], **options: str) -> str:
    """:func:`alert_rules` as YAML text (what Prometheus' ``rule_files`` loads)."""
    return yaml.safe_dump(alert_rules(alerts, **options), sort_keys=False, width=1000)


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for attribute in ("lhs", "rhs", "expr", "param", "vector_selector"):
        child = getattr(node, attribute, None)
        if child is not None and not isinstance(child, str | int | float):
            yield from _walk(child)
    for arg in getattr(node, "args", None) or ():
        yield from _walk(arg)


def parse_promql(expr: str) -> Any:
    """The parsed expression (``promql_parser`` nodes).

    Raises:
        AlertRulesError: When it is not valid PromQL; the message quotes the parser.
    """
    import promql_parser

    try:
        return promql_parser.parse(expr)
    except ValueError as exc:
        raise AlertRulesError(f"invalid PromQL {expr!r}: {exc}") from None


def promql_metrics(expr: str) -> set[str]:
    """The metric names an expression reads.

    Raises:
        AlertRulesError: When it is not valid PromQL.
    """
    import promql_parser

    return {
        node.name
        for node in _walk(parse_promql(expr))
        if isinstance(node, promql_parser.VectorSelector) and node.name
    }


_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_DURATION = re.compile(r"(\d+(ms|[smhdwy]))+")
_GROUP_KEYS = {"name", "rules", "interval", "limit", "query_offset", "labels"}
_RULE_KEYS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}


def _string_map(where: str, value: Any, *, label_names: bool) -> None:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise AlertRulesError(f"{where}: must map names to strings")
    for key in value:
        if label_names and not _LABEL.fullmatch(key):
            raise AlertRulesError(f"{where}: {key!r} is not a valid label name")


def _check_rule(where: str, rule: Any, known: frozenset[str]) -> None:
    if not isinstance(rule, Mapping):
        raise AlertRulesError(f"{where}: a rule must be a mapping")
    unknown = set(rule) - _RULE_KEYS
    if unknown:
        raise AlertRulesError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    if ("alert" in rule) == ("record" in rule):
        raise AlertRulesError(f"{where}: a rule needs exactly one of alert and record")
    name = rule.get("alert") or rule.get("record")
    if not isinstance(name, str) or not name:
        raise AlertRulesError(f"{where}: the rule's name must be a non-empty string")
    if "record" in rule and not re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", name):
        raise AlertRulesError(f"{where}: {name!r} is not a valid metric name")
    expr = rule.get("expr")
    if not isinstance(expr, str) or not expr.strip():
        raise AlertRulesError(f"{where} ({name}): expr must be a non-empty string")
    unread = promql_metrics(expr) - known
    if unread:
        raise AlertRulesError(
            f"{where} ({name}): reads metric(s) nothing exposes: {', '.join(sorted(unread))}"
        )
    for key in ("for", "keep_firing_for"):
        if key in rule and not (isinstance(rule[key], str) and _DURATION.fullmatch(rule[key])):
            raise AlertRulesError(f"{where} ({name}): {key} must be a duration like 5m")
    if "record" in rule and ({"for", "annotations", "keep_firing_for"} & set(rule)):
        raise AlertRulesError(f"{where} ({name}): a recording rule takes no for or annotations")
    if "labels" in rule:
        _string_map(f"{where} ({name}) labels", rule["labels"], label_names=True)
    if "annotations" in rule:
        _string_map(f"{where} ({name}) annotations", rule["annotations"], label_names=True)


def check_alert_rules(
    doc: Mapping[str, Any] | str, *, known_metrics: Iterable[str] = KNOWN_METRICS
) -> None:
    """Validate a Prometheus rule file (data or YAML text).

    Checks what Prometheus checks when it loads rules (the ``groups`` structure, unique
    group names, one of ``alert``/``record`` per rule, durations, label names, valid
    PromQL), plus that every metric read is in ``known_metrics``.

    Raises:
        AlertRulesError: On the first problem; the message names the group and rule.
    """
    if isinstance(doc, str):
        try:
            doc = yaml.safe_load(doc)
        except yaml.YAMLError as exc:
            raise AlertRulesError(f"not YAML: {exc}") from None
    if not isinstance(doc, Mapping) or set(doc) != {"groups"}:
        raise AlertRulesError("a rule file is a mapping with one key, groups")
    groups = doc["groups"]
    if not isinstance(groups, Sequence) or isinstance(groups, str):
        raise AlertRulesError("groups must be a list")
    known = frozenset(known_metrics)
    seen: set[str] = set()
    for index, group in enumerate(groups):
        if not isinstance(group, Mapping):
            raise AlertRulesError(f"group {index}: must be a mapping")
        name = group.get("name")
        if not isinstance(name, str) or not name:
            raise AlertRulesError(f"group {index}: needs a name")
        if name in seen:
            raise AlertRulesError(f"group {name!r}: repeated group name")
        seen.add(name)
        unknown = set(group) - _GROUP_KEYS
        if unknown:
            raise AlertRulesError(f"group {name!r}: unknown field(s) {', '.join(sorted(unknown))}")
        rules = group.get("rules")
        if not isinstance(rules, Sequence) or isinstance(rules, str) or not rules:
            raise AlertRulesError(f"group {name!r}: rules must be a non-empty list")
        for number, rule in enumerate(rules):
            _check_rule(f"group {name!r} rule {number}", rule, known)


__all__ = [
    "KNOWN_METRICS",
    "RUNBOOK",
    "AlertRulesError",
    "alert_rules",
    "alert_rules_yaml",
    "check_alert_rules",
    "parse_promql",
    "promql_metrics",
    "runbook_anchor",
]
