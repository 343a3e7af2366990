"""Tracing in process: the JSONL file holds exactly the spans the SDK ended, it reads back
and draws as a tree, a failed run marks its spans, and OTLP reaches a real receiver."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from orchlab.observability import (
    SpanRecord,
    TraceFileError,
    capture_spans,
    configure_tracing,
    otlp_exporter,
    read_trace,
    span_records,
    span_tree,
    trace_to_file,
    traced_client,
    tracing_active,
)
from orchlab.observability import _names as names
from orchlab.pipelines import run_local

TWO_STEPS = {
    "name": "two",
    "steps": [
        {"name": "load", "task": "ingest", "params": {"source": "wine"}},
        {"name": "check", "task": "validate", "needs": ["load"],
         "params": {"dataset": "${steps.load.dataset}"}},
    ],
}  # fmt: skip


def _run(tmp_path: Path, spec: dict[str, Any] = TWO_STEPS) -> Any:
    return run_local(spec, workdir=tmp_path / "run", registry_dir=tmp_path / "registry")


def test_the_trace_file_holds_the_spans_the_sdk_ended(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "run.jsonl"
    with capture_spans() as memory, trace_to_file(path) as written:
        result = _run(tmp_path)
    assert written == path and result.succeeded
    from_file = read_trace(path)
    from_memory = span_records(memory.get_finished_spans())
    key = [
        (r.name, r.trace_id, r.span_id, r.parent_id, r.status, dict(r.attributes))
        for r in from_file
    ]
    assert key == [
        (r.name, r.trace_id, r.span_id, r.parent_id, r.status, dict(r.attributes))
        for r in from_memory
    ]
    # The file keeps microseconds.
    for a, b in zip(from_file, from_memory, strict=True):
        assert abs(a.start_ns - b.start_ns) < 1000 and abs(a.end_ns - b.end_ns) < 1000
    assert [r.name for r in from_file] == ["pipeline:two", "step:load", "step:check"]


def test_file_times_read_back_exactly() -> None:
    line = (
        '{"name": "x", "context": {"trace_id": "0x'
        + "1" * 32
        + '", "span_id": "0x'
        + "2" * 16
        + '"}, "parent_id": null, "start_time": "2026-12-03T10:32:36.999999Z",'
        ' "end_time": "2026-12-03T10:32:37.000001Z", "status": {"status_code": "OK"}}'
    )
    (record,) = [SpanRecord.from_json(json.loads(line))]
    assert record.start_ns == 1796293956_999999000 and record.end_ns == 1796293957_000001000
    assert record.duration_seconds == pytest.approx(2e-6)


def test_span_tree_draws_parents_and_children(tmp_path: Path) -> None:
    with capture_spans() as memory:
        _run(tmp_path)
    drawing = re.sub(r"\d+\.\d{3} s", "T s", span_tree(span_records(memory.get_finished_spans())))
    assert drawing.splitlines() == [
        "pipeline:two  T s  [orchlab.engine=local, orchlab.status=succeeded]",
        "├─ step:load  T s  [orchlab.attempt=1, orchlab.status=succeeded]",
        "└─ step:check  T s  [orchlab.attempt=1, orchlab.status=succeeded]",
    ]


def test_a_failed_run_marks_its_root_and_the_failed_step(tmp_path: Path) -> None:
    spec = {
        "name": "broken",
        "steps": [
            TWO_STEPS["steps"][0],
            {
                **TWO_STEPS["steps"][1],
                "params": {**TWO_STEPS["steps"][1]["params"], "min_rows": 10**6},
            },
        ],
    }
    with capture_spans() as memory:
        result = _run(tmp_path, spec)
    assert not result.succeeded
    root, load, check = span_records(memory.get_finished_spans())
    assert root.status == "ERROR" and root.attributes[names.Attr.STATUS] == "failed"
    assert load.status == "OK" and load.parent_id == root.span_id
    assert check.status == "ERROR" and check.attributes[names.Attr.FAILURE_CLASS] == "permanent"
    assert check.parent_id == root.span_id and "exception" in check.events


def test_nothing_is_recorded_or_exported_outside_an_exporter(tmp_path: Path) -> None:
    tracer = trace.get_tracer("tests")
    with capture_spans() as memory:
        assert tracing_active()
        with tracer.start_as_current_span("kept") as span:
            assert span.is_recording()
    assert not tracing_active()
    with tracer.start_as_current_span("dropped") as span:
        assert not span.is_recording()  # costs what a no-op span costs
    assert [s.name for s in memory.get_finished_spans()] == ["kept"]
    memory.clear()
    _run(tmp_path)
    assert memory.get_finished_spans() == ()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"name": "x"}\n', r"run\.jsonl:1: not a span"),
        ("\n\nnot json\n", r"run\.jsonl:3: not a span"),
    ],
)
def test_read_trace_names_the_bad_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "run.jsonl"
    path.write_text(content)
    with pytest.raises(TraceFileError, match=message):
        read_trace(path)


def test_read_trace_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TraceFileError, match=r"no trace file at .*absent\.jsonl"):
        read_trace(tmp_path / "absent.jsonl")


async def test_traced_client_adds_the_interceptor_once(temporal_client: Client) -> None:
    traced = traced_client(temporal_client)
    assert traced is not temporal_client
    assert traced.service_client is temporal_client.service_client  # the same connection
    assert [type(i) for i in traced.config()["interceptors"]] == [TracingInterceptor]
    assert traced_client(traced) is traced
    assert traced_client(temporal_client) is traced


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[str]:
    """A loopback HTTP server that accepts OTLP exports; yields its base URL."""
    _Collector.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_otlp_export_reaches_a_collector(collector: str, tmp_path: Path) -> None:
    tracing = configure_tracing()
    processor = tracing.attach(otlp_exporter(collector), batch=False)
    try:
        _run(tmp_path)
    finally:
        tracing.detach(processor)
    assert {path for path, _ in _Collector.received} == {"/v1/traces"}
    exported = []
    for _, body in _Collector.received:
        request = ExportTraceServiceRequest.FromString(body)
        for resource in request.resource_spans:
            service = {a.key: a.value.string_value for a in resource.resource.attributes}
            assert service["service.name"] == names.SERVICE_NAME
            exported += [s.name for scope in resource.scope_spans for s in scope.spans]
    assert sorted(exported) == ["pipeline:two", "step:check", "step:load"]


def test_configure_tracing_is_one_provider_for_the_process() -> None:
    first = configure_tracing()
    assert configure_tracing() is first
    assert trace.get_tracer_provider() is first.provider
