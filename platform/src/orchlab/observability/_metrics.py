"""Metrics: orchlab's own (prometheus-client) and the Temporal SDK's (its Runtime telemetry).

- :class:`PipelineMetrics` keeps orchlab's metrics in a ``CollectorRegistry``: pipeline
  runs by status, run and step durations as histograms, retries, step results, and (read
  when scraped) circuit breaker states and dead-letter depth. :meth:`PipelineMetrics.install`
  makes every pipeline run in the process count, whichever engine ran it;
  :meth:`PipelineMetrics.serve` exposes them on a loopback port for Prometheus.
- :func:`temporal_runtime` builds a Temporal ``Runtime`` whose SDK metrics (workflow and
  activity latencies, failures, schedule-to-start, worker slots: ``temporal_*``) are served
  on a Prometheus endpoint or kept in a ``MetricBuffer`` (:func:`buffered_metrics` reads it
  in process: checks need no scrape). Connect a client with ``runtime=``.

Metric names are in :mod:`orchlab.observability._names`.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import start_http_server
from prometheus_client.registry import Collector

from orchlab.errors import ConfigError
from orchlab.observability import _names as names
from orchlab.observability._instrument import add_run_observer, remove_run_observer

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from temporalio.runtime import MetricBuffer, Runtime

    from orchlab.pipelines._result import PipelineResult
    from orchlab.reliability._dlq import DeadLetterQueue

STEP_BUCKETS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900)
"""Histogram buckets (seconds) for step durations: 10 ms to 15 min."""
RUN_BUCKETS: tuple[float, ...] = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 1800, 3600)
"""Histogram buckets (seconds) for whole runs: 100 ms to 1 h."""


class _BreakerCollector(Collector):
    """The process's circuit breakers (``orchlab.reliability.get_breaker``), read at scrape."""

    def collect(self) -> Iterator[Metric]:
        from orchlab.reliability._breaker import BreakerState, breakers

        state = GaugeMetricFamily(
            names.BREAKER_STATE,
            "1 for a circuit breaker's current state.",
            labels=["breaker", "state"],
        )
        failures = GaugeMetricFamily(
            names.BREAKER_FAILURES, "A circuit breaker's consecutive failures.", labels=["breaker"]
        )
        for snapshot in breakers():
            for candidate in BreakerState:
                state.add_metric(
                    [snapshot.name, candidate.value], float(snapshot.state is candidate)
                )
            failures.add_metric([snapshot.name], float(snapshot.failures))
        yield state
        yield failures


class _DeadLetterCollector(Collector):
    """A dead-letter queue's letters by status, counted at scrape."""

    def __init__(self, queue: DeadLetterQueue) -> None:
        self.queue = queue

    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily(
            names.DEAD_LETTERS, "Letters in the dead-letter queue by status.", labels=["status"]
        )
        for status, count in self.queue.counts().items():
            family.add_metric([status.value], float(count))
        yield family


@dataclass(frozen=True)
class MetricsServer:
    """A running ``/metrics`` endpoint."""

    url: str
    """Where Prometheus scrapes it (``http://127.0.0.1:<port>/metrics``)."""
    server: WSGIServer
    """The server (a daemon thread serves it)."""

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()


def _check_loopback(host: str, allow_remote: bool) -> None:
    if allow_remote or host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ConfigError(
            f"metrics endpoint on {host!r} is not loopback; pass allow_remote=True to expose "
            "it beyond this machine"
        )


class PipelineMetrics:
    """orchlab's pipeline metrics in a Prometheus registry.

    Args:
        registry: Where the metrics live; a new registry by default (pass
            ``prometheus_client.REGISTRY`` to join the process-wide one).
        dead_letters: A dead-letter queue whose depth to report, if any.
        breakers: Report the process's circuit breakers.
    """

    def __init__(
        self,
        registry: CollectorRegistry | None = None,
        *,
        dead_letters: DeadLetterQueue | None = None,
        breakers: bool = True,
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        """The registry holding the metrics."""
        r = self.registry
        self.runs = Counter(
            names.PIPELINE_RUNS, "Finished pipeline runs.", names.RUN_LABELS, registry=r
        )
        self.run_duration = Histogram(
            names.PIPELINE_DURATION, "Wall time of pipeline runs.", names.RUN_LABELS,
            buckets=RUN_BUCKETS, registry=r,
        )  # fmt: skip
        self.step_duration = Histogram(
            names.STEP_DURATION, "Wall time of a step's successful attempt.", names.STEP_LABELS,
            buckets=STEP_BUCKETS, registry=r,
        )  # fmt: skip
        self.step_results = Counter(
            names.STEP_RESULTS, "Steps by final status.", names.STEP_RESULT_LABELS, registry=r
        )
        self.step_retries = Counter(
            names.STEP_RETRIES, "Step attempts after the first.", names.RETRY_LABELS, registry=r
        )
        if breakers:
            r.register(_BreakerCollector())
        if dead_letters is not None:
            r.register(_DeadLetterCollector(dead_letters))

    def observe(self, result: PipelineResult, seconds: float) -> None:
        """Count one finished run (a :data:`~orchlab.observability.RunObserver`)."""
        run = (result.pipeline, result.engine, result.status)
        self.runs.labels(*run).inc()
        self.run_duration.labels(*run).observe(seconds)
        for step in result.steps:
            self.step_results.labels(result.pipeline, step.name, result.engine, step.status).inc()
            if step.status == "succeeded":
                self.step_duration.labels(
                    result.pipeline, step.name, step.task, result.engine
                ).observe(step.duration_seconds)
            if step.attempts > 1:
                self.step_retries.labels(result.pipeline, step.name, result.engine).inc(
                    step.attempts - 1
                )

    def install(self) -> PipelineMetrics:
        """Count every pipeline run of this process from now on; returns ``self``."""
        add_run_observer(self.observe)
        return self

    def uninstall(self) -> None:
        """Stop counting runs."""
        remove_run_observer(self.observe)

    def value(self, name: str, labels: Mapping[str, str] | None = None) -> float | None:
        """One sample's current value (``name`` as exposed: ``..._total``, ``..._count``),
        or None when it has none."""
        return self.registry.get_sample_value(name, dict(labels or {}))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format (what ``/metrics`` answers)."""
        return generate_latest(self.registry)

    def serve(
        self, port: int = 0, *, host: str = "127.0.0.1", allow_remote: bool = False
    ) -> MetricsServer:
        """Serve ``/metrics`` from a daemon thread.

        Args:
            port: The port; 0 picks a free one (read it from the returned URL).
            host: The interface; loopback unless ``allow_remote``.
            allow_remote: Allow a non-loopback interface.

        Raises:
            ConfigError: When ``host`` is not loopback and ``allow_remote`` is False.
        """
        _check_loopback(host, allow_remote)
        server, _thread = start_http_server(port, addr=host, registry=self.registry)
        bound = server.server_address[1]
        return MetricsServer(url=f"http://{host}:{bound}/metrics", server=server)


def temporal_runtime(
    *,
    prometheus: str | None = None,
    buffer: MetricBuffer | None = None,
    global_tags: Mapping[str, str] | None = None,
    allow_remote: bool = False,
) -> Runtime:
    """A Temporal ``Runtime`` whose SDK metrics go to Prometheus or to a buffer.

    Pass it to ``Client.connect(..., runtime=...)`` (or
    :func:`orchlab.runtime.connect_temporal`); workers built from that client report
    through it too. Durations are milliseconds (the SDK's default).

    Args:
        prometheus: ``host:port`` to serve ``/metrics`` on (loopback unless
            ``allow_remote``).
        buffer: A ``temporalio.runtime.MetricBuffer`` to keep updates in process instead.
        global_tags: Labels put on every metric (``{"team": "ml"}``).
        allow_remote: Allow a non-loopback Prometheus address.

    Raises:
        ConfigError: When neither or both of ``prometheus`` and ``buffer`` are given, or
            the address is not ``host:port`` on loopback.
    """
    from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

    if (prometheus is None) == (buffer is None):
        raise ConfigError("temporal_runtime needs exactly one of prometheus= or buffer=")
    metrics: Any = buffer
    if prometheus is not None:
        host, sep, port = prometheus.rpartition(":")
        if not sep or not port.isdigit():
            raise ConfigError(f"prometheus address {prometheus!r} is not host:port")
        _check_loopback(host.strip("[]"), allow_remote)
        metrics = PrometheusConfig(bind_address=prometheus)
    return Runtime(telemetry=TelemetryConfig(metrics=metrics, global_tags=dict(global_tags or {})))


@dataclass(frozen=True)
class MetricSample:
    """One buffered Temporal SDK metric update."""

    name: str
    """The metric's name (``temporal_activity_execution_latency``...)."""
    kind: str
    """``counter`` (the value is a delta), ``gauge`` or ``histogram`` (one observation)."""
    value: float
    """The update's value."""
    labels: Mapping[str, str | int | float | bool]
    """Its attributes (``activity_type``, ``workflow_type``, ``task_queue``, ``namespace``...)."""


_KINDS = {0: "counter", 1: "gauge", 2: "histogram"}


def buffered_metrics(buffer: MetricBuffer) -> list[MetricSample]:
    """Drain a ``MetricBuffer`` into plain samples (call it regularly: a full buffer drops
    updates)."""
    return [
        MetricSample(
            name=update.metric.name,
            kind=_KINDS.get(int(update.metric.kind), "unknown"),
            value=float(update.value),
            labels=dict(update.attributes),
        )
        for update in buffer.retrieve_updates()
    ]


def select(samples: Iterable[MetricSample], name: str, **labels: str) -> Sequence[MetricSample]:
    """The samples called ``name`` whose labels include ``labels``."""
    return [
        s
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


__all__ = [
    "RUN_BUCKETS",
    "STEP_BUCKETS",
    "MetricSample",
    "MetricsServer",
    "PipelineMetrics",
    "buffered_metrics",
    "select",
    "temporal_runtime",
]
