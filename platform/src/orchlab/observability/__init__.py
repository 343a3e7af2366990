"""Observability for pipelines on Prefect, Temporal or in-process: traces, metrics, logs,
SLOs and alerts.

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
- **Cost**: :class:`CostLedger` and :class:`Budget` sum priced runs per team and day and
  alert on a passed limit; :func:`run_cost` / :func:`trace_cost` price a run's step time by a
  :class:`RateCard` (:func:`load_rate_card` reads one from YAML).
- **Logs**: :func:`configure_logging` (structlog: JSON in prod, readable in dev), each line
  with its trace and span ids and run fields, secrets masked.
- **Run records**: :class:`RunRecord` from orchlab (:class:`RunRecorder`,
  :func:`records_from_spans`) or from the engines (:func:`temporal_run_records`,
  :func:`prefect_run_records`).
- **SLOs and alerts**: :class:`SLO`, :func:`error_budget`, the SRE workbook's multiwindow
  burn-rate alerts (:func:`burn_rate_alerts`) and thresholds (:class:`FailureRateThreshold`,
  :class:`DurationThreshold`) evaluated by an :class:`AlertEvaluator` on an injectable
  clock, exported as Prometheus rules (:func:`alert_rules_yaml`, checked by
  :func:`check_alert_rules`) and drawn in a Grafana dashboard (:func:`grafana_dashboard`).
- **Run tracking**: a :class:`Tracker` (:class:`MlflowTracker`, :class:`WandbTracker`
  offline, or your own) fed by :func:`track_result` or :func:`track_runs`.
- **Profiling**: :func:`critical_path` of a trace, :func:`workflow_activity_timings`
  (schedule-to-start against execution, from Temporal's history); :func:`build_report`
  and the figures behind ``orchlab report``.

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
    from orchlab.observability._alerts import (
        SRE_WORKBOOK_RULES,
        Alert,
        AlertEvaluator,
        AlertEvent,
        AlertState,
        BurnRateAlert,
        BurnRateRule,
        DurationThreshold,
        FailureRateThreshold,
        Severity,
        burn_rate_alerts,
        burn_rate_series,
    )
    from orchlab.observability._budget import Budget, BudgetAlert, CostLedger, LedgerEntry
    from orchlab.observability._cost import (
        RateCard,
        Resources,
        RunCost,
        StepCost,
        load_rate_card,
        run_cost,
        trace_cost,
    )
    from orchlab.observability._dashboard import (
        DashboardError,
        check_dashboard,
        grafana_dashboard,
    )
    from orchlab.observability._engine_runs import (
        PIPELINE_WORKFLOW,
        TEMPORAL_QUERY,
        prefect_run_records,
        temporal_run_records,
    )
    from orchlab.observability._figures import (
        burn_rate_figure,
        figure_data,
        latency_histogram,
        waterfall_figure,
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
    from orchlab.observability._profile import (
        ActivityTiming,
        CriticalPath,
        PathStep,
        activity_timings,
        critical_path,
        workflow_activity_timings,
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
    from orchlab.observability._report import (
        Report,
        build_report,
    )
    from orchlab.observability._rules import (
        KNOWN_METRICS,
        RUNBOOK,
        AlertRulesError,
        alert_rules,
        alert_rules_yaml,
        check_alert_rules,
        promql_metrics,
    )
    from orchlab.observability._runs import (
        Clock,
        RunRecord,
        RunRecorder,
        RunRecordError,
        RunStatus,
        read_run_records,
        records_from_spans,
        utc_now,
        write_run_records,
    )
    from orchlab.observability._slo import (
        SLO,
        ErrorBudget,
        RunHistory,
        SLIKind,
        burn_rate,
        error_budget,
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
    from orchlab.observability._trackers import (
        MlflowTracker,
        Tracker,
        TrackerError,
        TrackerName,
        WandbTracker,
        make_tracker,
        result_artifacts,
        result_metrics,
        track_result,
        track_runs,
    )

_EXPORTS: dict[str, str] = {
    "MlflowTracker": "_trackers",
    "Tracker": "_trackers",
    "TrackerError": "_trackers",
    "TrackerName": "_trackers",
    "WandbTracker": "_trackers",
    "make_tracker": "_trackers",
    "result_artifacts": "_trackers",
    "result_metrics": "_trackers",
    "track_result": "_trackers",
    "track_runs": "_trackers",
    "BREAKER_FAILURES": "_names",
    "BREAKER_STATE": "_names",
    "DEAD_LETTERS": "_names",
    "KNOWN_METRICS": "_rules",
    "RUNBOOK": "_rules",
    "PIPELINE_DURATION": "_names",
    "PIPELINE_RUNS": "_names",
    "PIPELINE_WORKFLOW": "_engine_runs",
    "SERVICE_NAME": "_names",
    "SLO": "_slo",
    "SRE_WORKBOOK_RULES": "_alerts",
    "STEP_DURATION": "_names",
    "STEP_RESULTS": "_names",
    "STEP_RETRIES": "_names",
    "TEMPORAL_QUERY": "_engine_runs",
    "TRACER_NAME": "_names",
    "ActivityTiming": "_profile",
    "Alert": "_alerts",
    "AlertEvaluator": "_alerts",
    "AlertEvent": "_alerts",
    "AlertRulesError": "_rules",
    "AlertState": "_alerts",
    "Attr": "_names",
    "BurnRateAlert": "_alerts",
    "BurnRateRule": "_alerts",
    "Clock": "_runs",
    "CriticalPath": "_profile",
    "DashboardError": "_dashboard",
    "DurationThreshold": "_alerts",
    "ErrorBudget": "_slo",
    "FailureRateThreshold": "_alerts",
    "JsonlSpanExporter": "_tracing",
    "LogHandle": "_logs",
    "MetricSample": "_metrics",
    "MetricsServer": "_metrics",
    "ObservedRun": "_instrument",
    "PathStep": "_profile",
    "PipelineMetrics": "_metrics",
    "RateCard": "_cost",
    "Report": "_report",
    "Resources": "_cost",
    "RunCost": "_cost",
    "RunHistory": "_slo",
    "RunObserver": "_instrument",
    "RunRecord": "_runs",
    "RunRecordError": "_runs",
    "RunRecorder": "_runs",
    "RunStatus": "_runs",
    "SLIKind": "_slo",
    "Severity": "_alerts",
    "SpanRecord": "_records",
    "StepCost": "_cost",
    "TraceFileError": "_records",
    "Tracing": "_tracing",
    "activity_timings": "_profile",
    "add_run_observer": "_instrument",
    "add_trace_context": "_logs",
    "alert_rules": "_rules",
    "alert_rules_yaml": "_rules",
    "ancestors": "_records",
    "bind_log_context": "_logs",
    "buffered_metrics": "_metrics",
    "build_report": "_report",
    "burn_rate": "_slo",
    "burn_rate_alerts": "_alerts",
    "burn_rate_figure": "_figures",
    "burn_rate_series": "_alerts",
    "capture_spans": "_tracing",
    "check_alert_rules": "_rules",
    "check_dashboard": "_dashboard",
    "children": "_records",
    "configure_logging": "_logs",
    "configure_tracing": "_tracing",
    "critical_path": "_profile",
    "error_budget": "_slo",
    "figure_data": "_figures",
    "get_logger": "_logs",
    "grafana_dashboard": "_dashboard",
    "latency_histogram": "_figures",
    "load_rate_card": "_cost",
    "observe_run": "_instrument",
    "otlp_exporter": "_tracing",
    "pipeline_span_name": "_names",
    "prefect_run_records": "_engine_runs",
    "promql_metrics": "_rules",
    "read_run_records": "_runs",
    "read_trace": "_records",
    "records_from_spans": "_runs",
    "remove_run_observer": "_instrument",
    "run_cost": "_cost",
    "select": "_metrics",
    "span_records": "_records",
    "span_tree": "_records",
    "step_span": "_instrument",
    "step_span_name": "_names",
    "temporal_run_records": "_engine_runs",
    "temporal_runtime": "_metrics",
    "trace_cost": "_cost",
    "trace_to_file": "_tracing",
    "traced_client": "_tracing",
    "tracing_active": "_instrument",
    "utc_now": "_runs",
    "waterfall_figure": "_figures",
    "workflow_activity_timings": "_profile",
    "write_run_records": "_runs",
    "Budget": "_budget",
    "BudgetAlert": "_budget",
    "CostLedger": "_budget",
    "LedgerEntry": "_budget",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "BREAKER_FAILURES",
    "BREAKER_STATE",
    "DEAD_LETTERS",
    "KNOWN_METRICS",
    "PIPELINE_DURATION",
    "PIPELINE_RUNS",
    "PIPELINE_WORKFLOW",
    "RUNBOOK",
    "SERVICE_NAME",
    "SLO",
    "SRE_WORKBOOK_RULES",
    "STEP_DURATION",
    "STEP_RESULTS",
    "STEP_RETRIES",
    "TEMPORAL_QUERY",
    "TRACER_NAME",
    "ActivityTiming",
    "Alert",
    "AlertEvaluator",
    "AlertEvent",
    "AlertRulesError",
    "AlertState",
    "Attr",
    "Budget",
    "BudgetAlert",
    "BurnRateAlert",
    "BurnRateRule",
    "Clock",
    "CostLedger",
    "CriticalPath",
    "DashboardError",
    "DurationThreshold",
    "ErrorBudget",
    "FailureRateThreshold",
    "JsonlSpanExporter",
    "LedgerEntry",
    "LogHandle",
    "MetricSample",
    "MetricsServer",
    "MlflowTracker",
    "ObservedRun",
    "PathStep",
    "PipelineMetrics",
    "RateCard",
    "Report",
    "Resources",
    "RunCost",
    "RunHistory",
    "RunObserver",
    "RunRecord",
    "RunRecordError",
    "RunRecorder",
    "RunStatus",
    "SLIKind",
    "Severity",
    "SpanRecord",
    "StepCost",
    "TraceFileError",
    "Tracing",
    "Tracker",
    "TrackerError",
    "TrackerName",
    "WandbTracker",
    "activity_timings",
    "add_run_observer",
    "add_trace_context",
    "alert_rules",
    "alert_rules_yaml",
    "ancestors",
    "bind_log_context",
    "buffered_metrics",
    "build_report",
    "burn_rate",
    "burn_rate_alerts",
    "burn_rate_figure",
    "burn_rate_series",
    "capture_spans",
    "check_alert_rules",
    "check_dashboard",
    "children",
    "configure_logging",
    "configure_tracing",
    "critical_path",
    "error_budget",
    "figure_data",
    "get_logger",
    "grafana_dashboard",
    "latency_histogram",
    "load_rate_card",
    "make_tracker",
    "observe_run",
    "otlp_exporter",
    "pipeline_span_name",
    "prefect_run_records",
    "promql_metrics",
    "read_run_records",
    "read_trace",
    "records_from_spans",
    "remove_run_observer",
    "result_artifacts",
    "result_metrics",
    "run_cost",
    "select",
    "span_records",
    "span_tree",
    "step_span",
    "step_span_name",
    "temporal_run_records",
    "temporal_runtime",
    "trace_cost",
    "trace_to_file",
    "traced_client",
    "tracing_active",
    "track_result",
    "track_runs",
    "utc_now",
    "waterfall_figure",
    "workflow_activity_timings",
    "write_run_records",
]
