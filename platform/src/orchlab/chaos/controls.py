"""A chaostoolkit control: every fault into the trace and the audit log, and no process
left behind.

Add it to an experiment::

    "controls": [{"name": "orchlab", "provider": {"type": "python",
        "module": "orchlab.chaos.controls",
        "arguments": {"audit_log": ".state/chaos/audit.jsonl",
                      "trace_file": ".state/chaos/trace.jsonl"}}}]

The experiment becomes one span (``chaos:<title>``) with a child span per activity
(``chaos.action:<name>`` / ``chaos.probe:<name>``: status, duration, error), exported to
``trace_file`` (JSON lines) and to OTLP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set
(:mod:`orchlab.observability`). Each action is appended to the hash-chained audit log
(:class:`orchlab.policy.AuditLog`) before it runs (``chaos.fault``) and when it ends
(``chaos.fault.done``): who hurt what, when, and how it went. When the experiment ends, every
process its actions started is stopped (:func:`orchlab.chaos.actions.stop_everything`),
whatever happened.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from orchlab.chaos import _owned

ACTOR = "chaostoolkit"
"""The audit records' actor."""

_lock = threading.Lock()
_spans: dict[str, Any] = {}
_state: dict[str, Any] = {}


def _tracer() -> Any:
    from opentelemetry import trace

    return trace.get_tracer("orchlab.chaos")


def configure_control(
    configuration: dict[str, Any] | None = None,
    secrets: Any = None,
    settings: Any = None,
    experiment: dict[str, Any] | None = None,
    audit_log: str | None = None,
    trace_file: str | None = None,
    **kwargs: Any,
) -> None:
    """Start tracing (to ``trace_file`` when given) before the experiment loads.

    ``audit_log`` and ``trace_file`` may use the experiment's configuration
    (``${chaos_dir}/audit.jsonl``): chaostoolkit does not substitute a control's arguments,
    so it is done here.
    """
    from chaoslib import substitute

    from orchlab.observability import configure_tracing
    from orchlab.observability._tracing import JsonlSpanExporter

    if configuration:
        audit_log = substitute(audit_log, configuration, secrets) if audit_log else None
        trace_file = substitute(trace_file, configuration, secrets) if trace_file else None

    tracing = configure_tracing(service_name="orchlab-chaos")
    if trace_file and "processor" not in _state:
        _state["processor"] = tracing.attach(JsonlSpanExporter(trace_file), batch=False)
    _state["tracing"] = tracing
    _state["audit_log"] = audit_log
    _state["configuration"] = configuration or {}


def cleanup_control(**kwargs: Any) -> None:
    """Flush and detach the trace file's exporter."""
    processor = _state.pop("processor", None)
    tracing = _state.get("tracing")
    if tracing is not None:
        if processor is not None:
            tracing.detach(processor)
        tracing.force_flush()


def _audit(action: str, subject: str, data: dict[str, Any]) -> None:
    path = _state.get("audit_log")
    if not path:
        return
    from orchlab.policy import AuditLog

    AuditLog(path).append(action, actor=ACTOR, subject=subject, data=data)


def before_experiment_control(context: dict[str, Any], **kwargs: Any) -> None:
    """Open the experiment's span."""
    title = str(context.get("title", "experiment"))
    span = _tracer().start_span(f"chaos:{title}", attributes={"chaos.title": title})
    with _lock:
        _spans["experiment"] = span


def _key(activity: dict[str, Any]) -> str:
    return f"{activity.get('type')}:{activity.get('name')}:{threading.get_ident()}"


def before_activity_control(context: dict[str, Any], **kwargs: Any) -> None:
    """Open the activity's span; audit a fault before it is injected."""
    from opentelemetry import trace

    kind, name = str(context.get("type")), str(context.get("name"))
    provider = context.get("provider", {})
    parent = _spans.get("experiment")
    span = _tracer().start_span(
        f"chaos.{kind}:{name}",
        context=trace.set_span_in_context(parent) if parent is not None else None,
        attributes={
            "chaos.activity": name,
            "chaos.type": kind,
            "chaos.func": f"{provider.get('module', '')}:{provider.get('func', '')}",
        },
    )
    with _lock:
        _spans[_key(context)] = span
    if kind == "action":
        _audit(
            "chaos.fault",
            name,
            {"func": provider.get("func"), "arguments": provider.get("arguments", {})},
        )


def after_activity_control(
    context: dict[str, Any], state: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    """Close the activity's span with its outcome; audit how a fault went."""
    from opentelemetry.trace import Status, StatusCode

    state = state or {}
    with _lock:
        span = _spans.pop(_key(context), None)
    status = str(state.get("status", "unknown"))
    if span is not None:
        span.set_attribute("chaos.status", status)
        span.set_attribute("chaos.duration_seconds", float(state.get("duration") or 0.0))
        if state.get("exception"):
            span.set_status(Status(StatusCode.ERROR, str(state["exception"][-1]).strip()))
        span.end()
    if context.get("type") == "action":
        _audit("chaos.fault.done", str(context.get("name")), {"status": status})


def after_experiment_control(
    context: dict[str, Any], state: dict[str, Any] | None = None, **kwargs: Any
) -> None:
    """Stop whatever the experiment started; close its span with the verdict."""
    state = state or {}
    configuration = state.get("experiment", {}).get("configuration") or _state.get("configuration")
    with contextlib.suppress(Exception):
        stopped = _owned.stop_all(_owned.chaos_dir(_state.get("configuration") or configuration))
        if stopped:
            _audit("chaos.cleanup", "experiment", {"stopped": stopped})
    with _lock:
        span = _spans.pop("experiment", None)
    if span is not None:
        span.set_attribute("chaos.status", str(state.get("status", "unknown")))
        span.set_attribute("chaos.deviated", bool(state.get("deviated", False)))
        span.end()


__all__ = [
    "ACTOR",
    "after_activity_control",
    "after_experiment_control",
    "before_activity_control",
    "before_experiment_control",
    "cleanup_control",
    "configure_control",
]
