"""Quieting the engines' own loggers while orchlab reports on their work.

Prefect logs every flow and task run at INFO and a failed one with its traceback; a Temporal
worker warns on every failed activity attempt. A command line with its own summary, a demo, or
a failure provoked on purpose wants less: :func:`quiet_engine_logs` raises the engines'
loggers to a level, optionally drops the tracebacks, and puts everything back on exit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

Engine = Literal["prefect", "temporal"]
"""An engine whose loggers :func:`quiet_engine_logs` knows."""

ENGINE_LOGGERS: dict[Engine, tuple[str, ...]] = {
    "prefect": ("prefect", "prefect.flow_runs", "prefect.task_runs", "prefect.engine"),
    "temporal": ("temporalio", "temporalio.activity", "temporalio.workflow", "temporalio.worker"),
}
"""The loggers of each engine (their run loggers carry their own level, so each is named)."""


class _NoTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


@contextmanager
def quiet_engine_logs(
    *engines: Engine, level: int = logging.ERROR, tracebacks: bool = True
) -> Iterator[None]:
    """Within the block, the engines' loggers drop records below ``level``.

    Args:
        *engines: ``"prefect"`` and/or ``"temporal"``; both when none is given.
        level: The lowest level still logged (a logger already stricter keeps its level).
        tracebacks: False drops the tracebacks of the records still logged (the message
            stays).

    Raises:
        ValueError: When an engine is not one of :data:`ENGINE_LOGGERS`.
    """
    unknown = [e for e in engines if e not in ENGINE_LOGGERS]
    if unknown:
        raise ValueError(
            f"no logger list for {', '.join(map(repr, unknown))}; known engines: "
            + ", ".join(ENGINE_LOGGERS)
        )
    names = [name for engine in engines or tuple(ENGINE_LOGGERS) for name in ENGINE_LOGGERS[engine]]
    loggers = [logging.getLogger(name) for name in names]
    saved = [logger.level for logger in loggers]
    strip = None if tracebacks else _NoTraceback()
    for logger in loggers:
        if logger.getEffectiveLevel() < level:
            logger.setLevel(level)
        if strip is not None:
            logger.addFilter(strip)
    try:
        yield
    finally:
        for logger, old in zip(loggers, saved, strict=True):
            logger.setLevel(old)
            if strip is not None:
                logger.removeFilter(strip)


__all__ = ["ENGINE_LOGGERS", "Engine", "quiet_engine_logs"]
