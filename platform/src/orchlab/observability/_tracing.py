"""OpenTelemetry tracing for pipeline runs: one provider, exporters that come and go.

:func:`configure_tracing` installs orchlab's tracer provider as the process's global one
(OpenTelemetry allows that once per process), or joins an SDK provider already installed.
Exporters are attached and detached at will, which a command line (``--trace``), a test or
a notebook needs:

- :func:`trace_to_file`: a local JSONL file, one span per line in the SDK's own JSON form
  (offline, the default of ``orchlab run --trace``); read it back with
  :func:`orchlab.observability.read_trace`.
- OTLP over HTTP to a collector (Jaeger, Tempo, an OpenTelemetry Collector) when
  ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: :func:`configure_tracing` attaches it.
- :func:`capture_spans`: in memory, for tests and lab checks.

Prefect 3 traces its flow and task runs on the global provider by itself; Temporal needs
its tracing interceptor on the client (:func:`traced_client`), which the workers built
from that client inherit.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    SamplingResult,
)
from opentelemetry.util.types import Attributes

from orchlab.config import get_settings
from orchlab.errors import ConfigError
from orchlab.observability._names import SERVICE_NAME

if TYPE_CHECKING:
    from temporalio.client import Client


class _Switchboard(SpanProcessor):
    """Span processors that can be removed again (the SDK's provider only adds them)."""

    def __init__(self) -> None:
        self._processors: tuple[SpanProcessor, ...] = ()
        self._lock = threading.Lock()

    def add(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = (*self._processors, processor)

    def remove(self, processor: SpanProcessor) -> None:
        with self._lock:
            self._processors = tuple(p for p in self._processors if p is not processor)

    @property
    def processors(self) -> tuple[SpanProcessor, ...]:
        return self._processors

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        for processor in self._processors:
            processor.on_start(span, parent_context=parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        for processor in self._processors:
            processor.on_end(span)

    def shutdown(self) -> None:
        for processor in self._processors:
            processor.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return all(p.force_flush(timeout_millis) for p in self._processors)


class _WhileExporting(Sampler):
    """Records spans only while an exporter is attached: with none, a span costs what a
    no-op span costs, so instrumented code runs as fast as uninstrumented code."""

    def __init__(self, switchboard: _Switchboard) -> None:
        self._switchboard = switchboard
        self._sampler = ParentBased(ALWAYS_ON)

    def should_sample(
        self,
        parent_context: otel_context.Context | None,
        trace_id: int,
        name: str,
        kind: trace.SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[trace.Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        if not self._switchboard.processors:
            return SamplingResult(Decision.DROP)
        return self._sampler.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        return "WhileExporting"


class Tracing:
    """orchlab's tracer provider and the exporters attached to it."""

    def __init__(self, provider: TracerProvider, switchboard: _Switchboard | None = None) -> None:
        self.provider = provider
        """The SDK provider (global for the process)."""
        self._switchboard = switchboard or _Switchboard()
        provider.add_span_processor(self._switchboard)
        self.otlp: SpanProcessor | None = None
        """The OTLP exporter's processor, when an endpoint is configured."""

    def attach(self, exporter: SpanExporter, *, batch: bool = True) -> SpanProcessor:
        """Export every span that ends from now on to ``exporter``.

        Args:
            exporter: Any OpenTelemetry span exporter.
            batch: Export in the background in batches (the production choice); False
                exports each span as it ends (tests, which read at once).

        Returns:
            The processor; hand it to :meth:`detach` to stop.
        """
        processor: SpanProcessor = (
            BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter)
        )
        self._switchboard.add(processor)
        return processor

    def detach(self, processor: SpanProcessor) -> None:
        """Flush what ``processor`` holds, stop it and shut its exporter down."""
        self._switchboard.remove(processor)
        processor.force_flush()
        processor.shutdown()

    @property
    def exporting(self) -> bool:
        """Whether any exporter is attached (spans are worth recording)."""
        return bool(self._switchboard.processors)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export what every attached processor holds."""
        return self._switchboard.force_flush(timeout_millis)


_tracing: Tracing | None = None
_lock = threading.Lock()


def configure_tracing(*, service_name: str = SERVICE_NAME, otlp: bool | None = None) -> Tracing:
    """Install orchlab's tracer provider (once per process) and return it.

    Later calls return the same :class:`Tracing`. When another SDK provider is already
    global (a notebook or a team's own setup), orchlab's exporters join that one.

    Args:
        service_name: The ``service.name`` resource attribute (first call only).
        otlp: Attach the OTLP/HTTP exporter: by default when ``OTEL_EXPORTER_OTLP_ENDPOINT``
            (or ``ORCHLAB_OTLP_ENDPOINT``) is set. The exporter reads the standard
            ``OTEL_EXPORTER_OTLP_*`` variables (headers, timeout, compression) itself.

    Raises:
        ConfigError: When OTLP is asked for but its exporter package is not installed.
    """
    global _tracing
    with _lock:
        if _tracing is None:
            current = trace.get_tracer_provider()
            switchboard = _Switchboard()
            if isinstance(current, TracerProvider):  # a provider of the team's: join it
                provider = current
            else:
                provider = TracerProvider(
                    resource=Resource.create({"service.name": service_name}),
                    sampler=_WhileExporting(switchboard),
                )
                trace.set_tracer_provider(provider)
            _tracing = Tracing(provider, switchboard)
        tracing = _tracing
        endpoint = get_settings().otlp_endpoint
        if (otlp if otlp is not None else bool(endpoint)) and tracing.otlp is None:
            tracing.otlp = tracing.attach(otlp_exporter(endpoint))
    return tracing


def otlp_exporter(endpoint: str | None = None) -> SpanExporter:
    """The OTLP/HTTP span exporter for a collector's base URL (``http://host:4318``); None
    leaves the URL to the standard ``OTEL_EXPORTER_OTLP_*`` variables."""
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:  # pragma: no cover - the observability extra installs it
        raise ConfigError(
            "OTLP export needs opentelemetry-exporter-otlp-proto-http: "
            "pip install 'orchlab[observability]'"
        ) from exc
    # The base endpoint gets the signal's path, as the OTLP specification says.
    url = f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None
    return OTLPSpanExporter(endpoint=url)


def tracing_active() -> bool:
    """Whether spans are being exported in this process (an SDK provider with an exporter)."""
    return _tracing is not None and _tracing.exporting


class JsonlSpanExporter(ConsoleSpanExporter):
    """Appends every span to a file, one JSON object per line (the SDK's own span JSON)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        """The file the spans are appended to (created with its folder)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("a", encoding="utf-8")
        super().__init__(out=self._file, formatter=lambda span: span.to_json(indent=None) + "\n")

    def shutdown(self) -> None:
        self._file.close()


@contextmanager
def trace_to_file(path: Path | str) -> Iterator[Path]:
    """Within the block, every span is appended to ``path`` (JSON lines).

    Args:
        path: The trace file; its folder is created.

    Yields:
        The path; the file is complete once the block has ended.
    """
    tracing = configure_tracing()
    exporter = JsonlSpanExporter(path)
    processor = tracing.attach(exporter)
    try:
        yield exporter.path
    finally:
        tracing.detach(processor)


@contextmanager
def capture_spans() -> Iterator[InMemorySpanExporter]:
    """Within the block, keep every span that ends in memory (tests, lab checks).

    Yields:
        The exporter: ``get_finished_spans()`` returns the spans ended so far.
    """
    tracing = configure_tracing()
    exporter = InMemorySpanExporter()
    processor = tracing.attach(exporter, batch=False)
    try:
        yield exporter
    finally:
        tracing.detach(processor)


def traced_client(client: Client) -> Client:
    """``client`` with Temporal's OpenTelemetry tracing interceptor (the same connection).

    Workflows and activities run by workers built from the returned client continue the
    caller's trace: ``StartWorkflow`` on the client, then ``RunWorkflow``,
    ``StartActivity`` and ``RunActivity`` on the worker (workflow spans last 0 ms by
    design, so they are replay-safe). A client that already traces is returned as it is;
    asking again for the same client returns the same traced client.
    """
    from temporalio.client import Client
    from temporalio.contrib.opentelemetry import TracingInterceptor

    cached = _traced.get(client)
    if cached is not None:
        return cached
    config = client.config()
    interceptors: Sequence[Any] = config.get("interceptors", ())
    if any(isinstance(i, TracingInterceptor) for i in interceptors):
        return client
    config["interceptors"] = [*interceptors, TracingInterceptor()]
    traced = _traced[client] = Client(**config)
    return traced


# One traced client per client (a run on a long-lived client does not build a new one).
_traced: weakref.WeakKeyDictionary[Client, Client] = weakref.WeakKeyDictionary()


__all__ = [
    "JsonlSpanExporter",
    "Tracing",
    "capture_spans",
    "configure_tracing",
    "otlp_exporter",
    "trace_to_file",
    "traced_client",
    "tracing_active",
]
