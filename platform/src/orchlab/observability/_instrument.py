"""The instrumentation every runner calls: spans, run observers and log fields.

It needs only ``opentelemetry-api`` (which Prefect already installs), never the SDK: without
a configured tracer provider the spans are no-ops that cost next to nothing, and with one
(:func:`orchlab.observability.configure_tracing`) they are exported. A runner wraps a run
in :func:`observe_run` (the ``pipeline:<name>`` root span, then the run observers, which is
how :class:`~orchlab.observability.PipelineMetrics` counts runs); :func:`execute_step` wraps
each attempt in :func:`step_span` (``step:<name>``) and logs it with the run's fields.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import Span, Status, StatusCode

from orchlab.errors import error_text
from orchlab.observability._names import TRACER_NAME, Attr, pipeline_span_name, step_span_name
from orchlab.reliability._classify import DEFAULT_CLASSIFIER

if TYPE_CHECKING:
    from temporalio.client import Client

    from orchlab.pipelines._local import RunSetup
    from orchlab.pipelines._result import Engine, PipelineResult
    from orchlab.pipelines._tasks import StepCall

LOGGER = logging.getLogger("orchlab.pipelines")
"""The logger of pipeline runs and steps; its records carry ``run_id``, ``pipeline``,
``step`` and ``attempt`` as fields (see :func:`orchlab.observability.configure_logging`)."""

RunObserver = Callable[["PipelineResult", float], None]
"""Called once per finished run with its result and its wall time in seconds."""

_observers: list[RunObserver] = []
_observers_lock = threading.Lock()


def add_run_observer(observer: RunObserver) -> None:
    """Call ``observer(result, seconds)`` after every pipeline run in this process."""
    with _observers_lock:
        if observer not in _observers:
            _observers.append(observer)


def remove_run_observer(observer: RunObserver) -> None:
    """Stop calling ``observer`` (nothing happens if it was not added)."""
    with _observers_lock:
        if observer in _observers:
            _observers.remove(observer)


def _tracer() -> trace.Tracer:
    # Looked up on each use: a provider configured after import still applies.
    return trace.get_tracer(TRACER_NAME)


@dataclass
class ObservedRun:
    """A run inside :func:`observe_run`: hand it the result with :meth:`finish`."""

    span: Span
    """The run's root span."""
    result: PipelineResult | None = None
    """The result, once :meth:`finish` has seen it."""

    def finish(self, result: PipelineResult) -> PipelineResult:
        """Record the result on the root span; returns it unchanged."""
        self.result = result
        self.span.set_attribute(Attr.STATUS, result.status)
        if result.succeeded:
            self.span.set_status(Status(StatusCode.OK))
        else:
            self.span.set_status(Status(StatusCode.ERROR, result.error or "run failed"))
        return result


@contextmanager
def observe_run(setup: RunSetup, engine: Engine) -> Iterator[ObservedRun]:
    """Run the block under the run's root span, then tell the run observers.

    Args:
        setup: The prepared run (its plan and id).
        engine: The engine running it.

    Yields:
        The observed run; pass the result to its :meth:`ObservedRun.finish`.
    """
    plan = setup.plan
    attributes: dict[str, Any] = {
        Attr.PIPELINE: plan.pipeline,
        Attr.VERSION: plan.version,
        Attr.RUN_ID: setup.run_id,
        Attr.ENGINE: engine,
        Attr.STEPS: len(plan.steps),
    }
    started = time.perf_counter()
    with _tracer().start_as_current_span(
        pipeline_span_name(plan.pipeline), attributes=attributes
    ) as span:
        observed = ObservedRun(span)
        LOGGER.info(
            "pipeline run started",
            extra={"run_id": setup.run_id, "pipeline": plan.pipeline, "engine": engine},
        )
        yield observed
        result = observed.result
        if result is not None:
            LOGGER.info(
                "pipeline run %s",
                result.status,
                extra={"run_id": setup.run_id, "pipeline": plan.pipeline, "engine": engine},
            )
    if result is None:
        return
    seconds = time.perf_counter() - started
    with _observers_lock:
        observers = list(_observers)
    for observer in observers:
        try:
            observer(result, seconds)
        except Exception as exc:  # an observer must never fail the run it watches
            LOGGER.warning("run observer %r failed: %s", observer, error_text(exc))


def tracing_active() -> bool:
    """Whether spans are exported in this process (see
    :func:`orchlab.observability.configure_tracing`)."""
    # The SDK side is imported by configure_tracing only: when it is not loaded, nothing
    # can be exporting, and the SDK is not imported here for nothing.
    module = sys.modules.get("orchlab.observability._tracing")
    return bool(module is not None and module.tracing_active())


def temporal_client_for_run(client: Client) -> Client:
    """``client``, with Temporal's tracing interceptor when spans are exported, so that a
    run's workflow and activities join its trace."""
    if not tracing_active():
        return client
    from orchlab.observability._tracing import traced_client

    return traced_client(client)


@contextmanager
def step_span(call: StepCall) -> Iterator[Span]:
    """Run one attempt of a step under its ``step:<name>`` span, and log its end.

    The span is a child of whatever is current: the engine's task-run span (Prefect), its
    ``RunActivity`` span (Temporal, through the tracing interceptor), or the run's root span
    (in-process). The span carries the attempt's CPU seconds (its thread's, as the worker
    process measures them) beside its wall time. A failure is recorded on the span (with
    its failure class, as :data:`orchlab.reliability.DEFAULT_CLASSIFIER` sees it) and
    re-raised.
    """
    fields = {"run_id": call.run_id, "step": call.step, "task": call.task, "attempt": call.attempt}
    attributes: dict[str, str | int] = {
        Attr.RUN_ID: call.run_id,
        Attr.STEP: call.step,
        Attr.TASK: call.task,
        Attr.ATTEMPT: call.attempt,
    }
    started, cpu = time.perf_counter(), time.thread_time()
    with _tracer().start_as_current_span(
        step_span_name(call.step),
        attributes=attributes,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except Exception as exc:
            span.set_attribute(Attr.CPU_SECONDS, time.thread_time() - cpu)
            failure = DEFAULT_CLASSIFIER.classify(exc).value
            span.record_exception(exc)
            span.set_attributes({Attr.STATUS: "failed", Attr.FAILURE_CLASS: failure})
            span.set_status(Status(StatusCode.ERROR, error_text(exc)))
            # INFO: a failed attempt is ordinary (the engine decides on a retry), and the
            # run's result names a step that failed for good.
            LOGGER.info(
                "step %s failed on attempt %d: %s",
                call.step,
                call.attempt,
                error_text(exc),
                extra={**fields, "failure_class": failure},
            )
            raise
        span.set_attributes({Attr.STATUS: "succeeded", Attr.CPU_SECONDS: time.thread_time() - cpu})
        span.set_status(Status(StatusCode.OK))
        LOGGER.info(
            "step %s succeeded",
            call.step,
            extra={**fields, "duration_seconds": round(time.perf_counter() - started, 6)},
        )


__all__ = [
    "LOGGER",
    "ObservedRun",
    "RunObserver",
    "add_run_observer",
    "observe_run",
    "remove_run_observer",
    "step_span",
    "temporal_client_for_run",
    "tracing_active",
]
