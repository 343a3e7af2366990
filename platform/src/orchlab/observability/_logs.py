"""Structured logs with structlog: JSON in prod, readable in dev, tied to traces, redacted.

:func:`configure_logging` puts one handler on a stdlib logger (the root by default) that
renders every record (orchlab's, the engines', a team's own) through structlog, and
configures structlog's own loggers (:func:`get_logger`) the same way. Each line carries:

- ``timestamp`` (UTC, ISO 8601), ``level``, ``logger`` and ``event``;
- ``trace_id`` and ``span_id`` of the span current when the line was logged, so a line
  leads to its trace (and a span to its lines);
- the record's fields: orchlab's pipeline lines carry ``run_id``, ``pipeline``, ``step``,
  ``attempt``; anything bound with :func:`bind_log_context` is added too;
- secrets masked by :data:`orchlab.policy.REDACTOR` (every value fetched through a secret
  store, and values under secret-looking keys), in the message, the fields and tracebacks.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import IO, Any, Literal

import structlog
from opentelemetry import trace
from structlog.typing import Processor

from orchlab.config import get_settings
from orchlab.policy._secrets import REDACTOR

Renderer = Literal["json", "console"]
"""How lines are rendered: one JSON object a line, or readable columns."""


def add_trace_context(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: the current span's ``trace_id`` and ``span_id`` (hex, as
    trace backends show them), when a span is recording."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event_dict.setdefault("trace_id", trace.format_trace_id(context.trace_id))
        event_dict.setdefault("span_id", trace.format_span_id(context.span_id))
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_context,
    ]


def _final_processors(renderer: Renderer) -> list[Processor]:
    # Tracebacks become text before redaction, so a secret in one is masked too (the
    # console renderer's own pretty tracebacks would bypass the redactor).
    return [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        REDACTOR,
        structlog.processors.JSONRenderer(sort_keys=False)
        if renderer == "json"
        else structlog.dev.ConsoleRenderer(colors=False),
    ]


class LogHandle:
    """The handler :func:`configure_logging` installed; :meth:`close` takes it away."""

    def __init__(self, logger: logging.Logger, handler: logging.Handler, level: int) -> None:
        self.logger = logger
        """The stdlib logger the handler is on."""
        self.handler = handler
        """The handler rendering the lines."""
        self._old_level = level

    def close(self) -> None:
        """Remove the handler and restore the logger's level."""
        self.logger.removeHandler(self.handler)
        self.logger.setLevel(self._old_level)

    def __enter__(self) -> LogHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def configure_logging(
    *,
    renderer: Renderer | None = None,
    level: int = logging.INFO,
    stream: IO[str] | None = None,
    logger: str = "",
) -> LogHandle:
    """Render log records as structured lines (see the module's text for the fields).

    Args:
        renderer: ``json`` or ``console``; by default the setting ``ORCHLAB_LOG_FORMAT``,
            else ``json`` in the ``prod`` profile and ``console`` otherwise.
        level: The lowest level logged.
        stream: Where lines go; standard error by default.
        logger: The stdlib logger to attach to; the root (every library) by default,
            ``"orchlab"`` for orchlab's lines only.

    Returns:
        The installed handler; close it to undo (or use it as a context manager).
    """
    chosen: Renderer = renderer or get_settings().log_renderer
    shared = _shared_processors()
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
        processors=_final_processors(chosen),
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    target = logging.getLogger(logger)
    old_level = target.level
    target.addHandler(handler)
    target.setLevel(level)
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return LogHandle(target, handler, old_level)


def get_logger(name: str = "orchlab", **fields: Any) -> Any:
    """A structlog logger (rendered by :func:`configure_logging`'s handler), with fields."""
    return structlog.stdlib.get_logger(name).bind(**fields)


@contextmanager
def bind_log_context(**fields: Any) -> Iterator[None]:
    """Within the block (this task or thread's context), every line also carries
    ``fields`` (``run_id=...``, ``tenant=...``)."""
    with structlog.contextvars.bound_contextvars(**fields):
        yield


__all__ = [
    "LogHandle",
    "Renderer",
    "add_trace_context",
    "bind_log_context",
    "configure_logging",
    "get_logger",
]
