"""Structured log lines: JSON or readable, with the current span's ids and bound fields,
and secrets masked in messages, fields and tracebacks."""

from __future__ import annotations

import io
import json
import logging

import pytest
from opentelemetry import trace

from orchlab.config import get_settings
from orchlab.observability import bind_log_context, capture_spans, configure_logging, get_logger
from orchlab.policy import MASK

LOG = logging.getLogger("orchlab.tests.logs")


def test_json_lines_carry_the_span_and_bound_fields(partner_secret: str) -> None:
    stream = io.StringIO()
    with configure_logging(renderer="json", stream=stream, logger="orchlab"), capture_spans():
        tracer = trace.get_tracer("tests")
        with tracer.start_as_current_span("work") as span, bind_log_context(tenant="ml-team"):
            LOG.info("using %s", partner_secret, extra={"api_token": "plain-value", "rows": 3})
            get_logger("orchlab.tests.struct", run_id="r-1").info("structured", step="load")
        context = span.get_span_context()
        LOG.info("after the span")
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    ids = {"trace_id": f"{context.trace_id:032x}", "span_id": f"{context.span_id:016x}"}
    assert first["event"] == f"using {MASK}" and first["level"] == "info"
    assert first["api_token"] == MASK  # a secret-looking key
    assert first["rows"] == 3 and first["tenant"] == "ml-team"
    assert {k: first[k] for k in ids} == ids
    assert (
        second["event"] == "structured" and second["run_id"] == "r-1" and second["step"] == "load"
    )
    assert {k: second[k] for k in ids} == ids and second["tenant"] == "ml-team"
    assert "trace_id" not in third and "tenant" not in third
    assert first["timestamp"].endswith("Z")


def test_a_traceback_is_masked_too(partner_secret: str) -> None:
    stream = io.StringIO()
    with configure_logging(renderer="json", stream=stream, logger="orchlab"):
        try:
            raise RuntimeError(f"login refused for {partner_secret}")
        except RuntimeError:
            LOG.exception("partner call failed")
    (line,) = (json.loads(text) for text in stream.getvalue().splitlines())
    assert "Traceback" in line["exception"] and MASK in line["exception"]
    assert partner_secret not in stream.getvalue()


def test_console_lines_are_readable_and_masked(partner_secret: str) -> None:
    stream = io.StringIO()
    with configure_logging(renderer="console", stream=stream, logger="orchlab"):
        LOG.warning("token %s rejected", partner_secret)
    text = stream.getvalue()
    assert f"token {MASK} rejected" in text and "[warning" in text
    assert partner_secret not in text and not text.lstrip().startswith("{")


def test_closing_removes_the_handler() -> None:
    stream = io.StringIO()
    handle = configure_logging(
        renderer="json", stream=stream, logger="orchlab", level=logging.DEBUG
    )
    handle.close()
    LOG.info("not rendered")
    assert stream.getvalue() == ""
    assert handle.handler not in logging.getLogger("orchlab").handlers


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "console"),
        ({"ORCHLAB_PROFILE": "prod", "PREFECT_API_URL": "http://127.0.0.1:1/api"}, "json"),
        ({"ORCHLAB_LOG_FORMAT": "json"}, "json"),
    ],
)
def test_the_renderer_follows_the_profile(
    env: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ORCHLAB_LOG_FORMAT", raising=False)
    monkeypatch.delenv("ORCHLAB_PROFILE", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert get_settings().log_renderer == expected
