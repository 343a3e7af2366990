"""Every span, attribute and metric name orchlab emits, in one place.

The names are the same whichever engine ran the step (Prefect, Temporal or in-process), so
one dashboard, one alert rule and one trace query serve every runner. The engines' own spans
and metrics keep their names (``RunActivity:orchlab.run_step``, ``temporal_*``); orchlab's
sit beside them under ``orchlab``.
"""

from __future__ import annotations

from typing import Final

TRACER_NAME: Final = "orchlab"
"""The instrumentation scope of orchlab's spans."""
SERVICE_NAME: Final = "orchlab"
"""The ``service.name`` resource attribute of the traces orchlab's provider exports."""

PIPELINE_SPAN_PREFIX: Final = "pipeline:"
"""A pipeline run's root span is ``pipeline:<pipeline name>``."""
STEP_SPAN_PREFIX: Final = "step:"
"""One attempt of a step is ``step:<step name>``."""


def pipeline_span_name(pipeline: str) -> str:
    """The root span's name of a run of ``pipeline``."""
    return f"{PIPELINE_SPAN_PREFIX}{pipeline}"


def step_span_name(step: str) -> str:
    """The span's name of one attempt of ``step``."""
    return f"{STEP_SPAN_PREFIX}{step}"


class Attr:
    """Span attribute keys (and the keys of the matching log fields)."""

    PIPELINE: Final = "orchlab.pipeline"
    """The pipeline's name."""
    VERSION: Final = "orchlab.pipeline.version"
    """The spec's version."""
    RUN_ID: Final = "orchlab.run_id"
    """The run's id (also on every step span)."""
    ENGINE: Final = "orchlab.engine"
    """``local``, ``prefect`` or ``temporal``."""
    STATUS: Final = "orchlab.status"
    """``succeeded`` or ``failed`` (a run), ``succeeded`` or ``failed`` (a step attempt)."""
    STEPS: Final = "orchlab.steps"
    """How many steps the plan has."""
    STEP: Final = "orchlab.step"
    """The step's name."""
    TASK: Final = "orchlab.task"
    """The step's task template."""
    ATTEMPT: Final = "orchlab.attempt"
    """The attempt, from 1."""
    FAILURE_CLASS: Final = "orchlab.failure_class"
    """``transient``, ``permanent`` or ``fatal``, on a failed attempt."""
    CPU_SECONDS: Final = "orchlab.cpu_seconds"
    """CPU seconds the attempt's thread used (the worker process's own measure)."""


# orchlab's own Prometheus metrics (prometheus-client appends _total to counters).
PIPELINE_RUNS: Final = "orchlab_pipeline_runs"
"""Counter: finished pipeline runs, by ``pipeline``, ``engine`` and ``status``."""
PIPELINE_DURATION: Final = "orchlab_pipeline_run_duration_seconds"
"""Histogram: wall time of a whole run, by ``pipeline``, ``engine`` and ``status``."""
STEP_DURATION: Final = "orchlab_step_duration_seconds"
"""Histogram: wall time of a step's successful attempt, by ``pipeline``, ``step``, ``task``
and ``engine``."""
STEP_RESULTS: Final = "orchlab_step_results"
"""Counter: steps by final ``status`` (succeeded, failed, skipped), with ``pipeline``,
``step`` and ``engine``."""
STEP_RETRIES: Final = "orchlab_step_retries"
"""Counter: attempts after the first, by ``pipeline``, ``step`` and ``engine``."""
BREAKER_STATE: Final = "orchlab_breaker_state"
"""Gauge: 1 for a circuit breaker's current ``state``, 0 for the others, by ``breaker``."""
BREAKER_FAILURES: Final = "orchlab_breaker_failures"
"""Gauge: a breaker's consecutive counted failures, by ``breaker``."""
DEAD_LETTERS: Final = "orchlab_dead_letters"
"""Gauge: letters in the dead-letter queue, by ``status`` (``dead`` is the depth)."""

RUN_LABELS: Final = ("pipeline", "engine", "status")
"""The labels of :data:`PIPELINE_RUNS` and :data:`PIPELINE_DURATION`."""
STEP_LABELS: Final = ("pipeline", "step", "task", "engine")
"""The labels of :data:`STEP_DURATION`."""
STEP_RESULT_LABELS: Final = ("pipeline", "step", "engine", "status")
"""The labels of :data:`STEP_RESULTS`."""
RETRY_LABELS: Final = ("pipeline", "step", "engine")
"""The labels of :data:`STEP_RETRIES`."""

# The Temporal SDK's own metrics (its Runtime telemetry), as named on its Prometheus endpoint
# and in a MetricBuffer. Durations are milliseconds unless the Runtime says seconds.
TEMPORAL_WORKFLOW_COMPLETED: Final = "temporal_workflow_completed"
TEMPORAL_WORKFLOW_FAILED: Final = "temporal_workflow_failed"
TEMPORAL_WORKFLOW_LATENCY: Final = "temporal_workflow_endtoend_latency"
TEMPORAL_WORKFLOW_TASK_SCHEDULE_TO_START: Final = "temporal_workflow_task_schedule_to_start_latency"
TEMPORAL_ACTIVITY_LATENCY: Final = "temporal_activity_execution_latency"
TEMPORAL_ACTIVITY_SCHEDULE_TO_START: Final = "temporal_activity_schedule_to_start_latency"
TEMPORAL_ACTIVITY_FAILED: Final = "temporal_activity_execution_failed"
TEMPORAL_WORKER_SLOTS_AVAILABLE: Final = "temporal_worker_task_slots_available"
TEMPORAL_REQUESTS: Final = "temporal_request"
TEMPORAL_REQUEST_FAILURES: Final = "temporal_request_failure"

__all__ = [
    "BREAKER_FAILURES",
    "BREAKER_STATE",
    "DEAD_LETTERS",
    "PIPELINE_DURATION",
    "PIPELINE_RUNS",
    "PIPELINE_SPAN_PREFIX",
    "RETRY_LABELS",
    "RUN_LABELS",
    "SERVICE_NAME",
    "STEP_DURATION",
    "STEP_LABELS",
    "STEP_RESULTS",
    "STEP_RESULT_LABELS",
    "STEP_RETRIES",
    "STEP_SPAN_PREFIX",
    "TEMPORAL_ACTIVITY_FAILED",
    "TEMPORAL_ACTIVITY_LATENCY",
    "TEMPORAL_ACTIVITY_SCHEDULE_TO_START",
    "TEMPORAL_REQUESTS",
    "TEMPORAL_REQUEST_FAILURES",
    "TEMPORAL_WORKER_SLOTS_AVAILABLE",
    "TEMPORAL_WORKFLOW_COMPLETED",
    "TEMPORAL_WORKFLOW_FAILED",
    "TEMPORAL_WORKFLOW_LATENCY",
    "TEMPORAL_WORKFLOW_TASK_SCHEDULE_TO_START",
    "TRACER_NAME",
    "Attr",
    "pipeline_span_name",
    "step_span_name",
]
