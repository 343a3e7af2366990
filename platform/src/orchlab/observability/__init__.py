"""Observability for pipelines on Prefect, Temporal or in-process: traces, metrics, logs.

One trace follows a pipeline run across its steps on either engine, under the same names
(:mod:`orchlab.observability._names`):

- **Tracing** (OpenTelemetry): :func:`configure_tracing` installs the SDK provider; spans go
  to a JSONL file (:func:`trace_to_file`, offline, what ``orchlab run --trace`` writes), to an
  OTLP collector when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set, or to memory
  (:func:`capture_spans`). Every runner opens a ``pipeline:<name>`` root span and each step
  attempt a ``step:<name>`` span; Prefect adds its flow-run and task-run spans by itself,
  Temporal its ``StartWorkflow``/``RunWorkflow``/``StartActivity``/``RunActivity`` spans
  through the tracing interceptor (:func:`traced_client`). Read a trace back with
  :func:`read_trace` and draw it with :func:`span_tree`.
- **Metrics**: :class:`PipelineMetrics` (prometheus-client: runs by status, run and step
  durations, retries, breaker states, dead-letter depth) and :func:`temporal_runtime` for
  the Temporal SDK's own metrics (a Prometheus endpoint, or a ``MetricBuffer`` read with
  :func:`buffered_metrics`).
- **Cost**: :func:`run_cost` / :func:`trace_cost` price a run's step time by a
  :class:`RateCard` (:func:`load_rate_card` reads one from YAML).
- **Logs**: :func:`configure_logging` (structlog: JSON in prod, readable in dev), each line
  with its trace and span ids and run fields, secrets masked.

Example::

    from orchlab.observability import PipelineMetrics, read_trace, span_tree, trace_to_file
    from orchlab.pipelines import run_local

    metrics = PipelineMetrics().install()
    with trace_to_file("trace.jsonl"):
        run_local("wine_training")
    print(span_tree(read_trace("trace.jsonl")))

Everything loads on first use: the pipelines import only the API-level instrumentation.
See docs/platform/observability.md.
"""

from typing import TYPE_CHECKING

from orchlab._lazy import lazy_exports

if TYPE_CHECKING:
    from orchlab.observability._cost import (
        RateCard,
        Resources,
        RunCost,
        StepCost,
        load_rate_card,
        run_cost,
        trace_cost,
    )
    from orchlab.observability._instrument import (
        ObservedRun,
        RunObserver,
        add_run_observer,
        observe_run,
        remove_run_observer,
        step_span,
        tracing_active,
    )
    from orchlab.observability._logs import (
        LogHandle,
        add_trace_context,
        bind_log_context,
        configure_logging,
        get_logger,
    )
    from orchlab.observability._metrics import (
        MetricSample,
        MetricsServer,
        PipelineMetrics,
        buffered_metrics,
        select,
        temporal_runtime,
    )
    from orchlab.observability._names import (
        BREAKER_FAILURES,
        BREAKER_STATE,
        DEAD_LETTERS,
        PIPELINE_DURATION,
        PIPELINE_RUNS,
        SERVICE_NAME,
        STEP_DURATION,
        STEP_RESULTS,
        STEP_RETRIES,
        TRACER_NAME,
        Attr,
        pipeline_span_name,
        step_span_name,
    )
    from orchlab.observability._records import (
        SpanRecord,
        TraceFileError,
        ancestors,
        children,
        read_trace,
        span_records,
        span_tree,
    )
    from orchlab.observability._tracing import (
        JsonlSpanExporter,
        Tracing,
        capture_spans,
        configure_tracing,
        otlp_exporter,
        trace_to_file,
        traced_client,
    )

_EXPORTS: dict[str, str] = {
    "Attr": "_names",
    "BREAKER_FAILURES": "_names",
    "BREAKER_STATE": "_names",
    "DEAD_LETTERS": "_names",
    "JsonlSpanExporter": "_tracing",
    "LogHandle": "_logs",
    "MetricSample": "_metrics",
    "MetricsServer": "_metrics",
    "ObservedRun": "_instrument",
    "PIPELINE_DURATION": "_names",
    "PIPELINE_RUNS": "_names",
    "PipelineMetrics": "_metrics",
    "RateCard": "_cost",
    "Resources": "_cost",
    "RunCost": "_cost",
    "RunObserver": "_instrument",
    "SERVICE_NAME": "_names",
    "STEP_DURATION": "_names",
    "STEP_RESULTS": "_names",
    "STEP_RETRIES": "_names",
    "SpanRecord": "_records",
    "StepCost": "_cost",
    "TRACER_NAME": "_names",
    "TraceFileError": "_records",
    "Tracing": "_tracing",
    "add_run_observer": "_instrument",
    "add_trace_context": "_logs",
    "ancestors": "_records",
    "bind_log_context": "_logs",
    "buffered_metrics": "_metrics",
    "capture_spans": "_tracing",
    "children": "_records",
    "configure_logging": "_logs",
    "configure_tracing": "_tracing",
    "get_logger": "_logs",
    "load_rate_card": "_cost",
    "observe_run": "_instrument",
    "otlp_exporter": "_tracing",
    "pipeline_span_name": "_names",
    "read_trace": "_records",
    "remove_run_observer": "_instrument",
    "run_cost": "_cost",
    "select": "_metrics",
    "span_records": "_records",
    "span_tree": "_records",
    "step_span": "_instrument",
    "step_span_name": "_names",
    "temporal_runtime": "_metrics",
    "trace_cost": "_cost",
    "trace_to_file": "_tracing",
    "traced_client": "_tracing",
    "tracing_active": "_instrument",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "BREAKER_FAILURES",
    "BREAKER_STATE",
    "DEAD_LETTERS",
    "PIPELINE_DURATION",
    "PIPELINE_RUNS",
    "SERVICE_NAME",
    "STEP_DURATION",
    "STEP_RESULTS",
    "STEP_RETRIES",
    "TRACER_NAME",
    "Attr",
    "JsonlSpanExporter",
    "LogHandle",
    "MetricSample",
    "MetricsServer",
    "ObservedRun",
    "PipelineMetrics",
    "RateCard",
    "Resources",
    "RunCost",
    "RunObserver",
    "SpanRecord",
    "StepCost",
    "TraceFileError",
    "Tracing",
    "add_run_observer",
    "add_trace_context",
    "ancestors",
    "bind_log_context",
    "buffered_metrics",
    "capture_spans",
    "children",
    "configure_logging",
    "configure_tracing",
    "get_logger",
    "load_rate_card",
    "observe_run",
    "otlp_exporter",
    "pipeline_span_name",
    "read_trace",
    "remove_run_observer",
    "run_cost",
    "select",
    "span_records",
    "span_tree",
    "step_span",
    "step_span_name",
    "temporal_runtime",
    "trace_cost",
    "trace_to_file",
    "traced_client",
    "tracing_active",
]
