"""One root error for orchlab, and the failure classes every engine understands.

Every error orchlab raises derives from :class:`OrchlabError`. Narrow errors also inherit
the matching built-in (``ValueError``, ``PermissionError``, ...) so callers that only know
the standard library still catch them.

Failures are classified as :class:`TransientError` (retry it), :class:`PermanentError`
(retrying will not help: fix the input) or :class:`FatalError` (stop the whole pipeline).
Engine adapters map these onto Temporal's non-retryable ``ApplicationError`` and Prefect's
``retry_condition_fn``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import StrEnum


class FailureClass(StrEnum):
    """How a failure should be handled by an orchestrator."""

    TRANSIENT = "transient"
    """Likely to succeed on retry (a timeout, a dropped connection, a 503)."""
    PERMANENT = "permanent"
    """Will fail the same way on retry (bad input, a 404, a schema violation)."""
    FATAL = "fatal"
    """Must stop the whole run at once (corrupted state, a security violation)."""


class OrchlabError(Exception):
    """Root of every error raised by orchlab."""

    failure_class: FailureClass = FailureClass.PERMANENT


class TransientError(OrchlabError):
    """A failure worth retrying."""

    failure_class = FailureClass.TRANSIENT


class PermanentError(OrchlabError):
    """A failure that retrying cannot fix."""

    failure_class = FailureClass.PERMANENT


class FatalError(OrchlabError):
    """A failure that must stop the whole run."""

    failure_class = FailureClass.FATAL


class ConfigError(PermanentError, ValueError):
    """Invalid configuration or settings."""


class SpecError(PermanentError, ValueError):
    """A pipeline spec that cannot run: a cycle, an unknown step, a bad parameter."""


class ValidationFailed(PermanentError, ValueError):
    """Data or an artifact failed validation between pipeline steps."""


class ServiceError(OrchlabError, RuntimeError):
    """An embedded or external service could not be started, reached or stopped."""


def first_line(message: BaseException | str, default: str = "") -> str:
    """Return the first non-blank line of a message or an exception's text, stripped.

    Args:
        message: The text, or an exception (its ``str``).
        default: What to return when there is no non-blank line.

    Returns:
        The line, or ``default``.
    """
    return next((line.strip() for line in str(message).splitlines() if line.strip()), default)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` when a known name is close to ``name``, else ``""``."""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def error_text(exc: BaseException) -> str:
    """Return ``ErrorType: first line of the message`` (just the type when it has no text):
    what a person needs to read, without a traceback.

    Args:
        exc: The exception.
    """
    line = first_line(exc)
    return f"{type(exc).__name__}: {line}" if line else type(exc).__name__


def classify(exc: BaseException) -> FailureClass:
    """Return the failure class of an exception.

    orchlab errors carry their class; ``TimeoutError`` and ``ConnectionError`` are
    transient; anything else is permanent.

    Args:
        exc: The exception to classify.

    Returns:
        The failure class.
    """
    if isinstance(exc, OrchlabError):
        return exc.failure_class
    if isinstance(exc, TimeoutError | ConnectionError):
        return FailureClass.TRANSIENT
    return FailureClass.PERMANENT


_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def http_status_class(status: int) -> FailureClass:
    """Return the failure class of an HTTP(-like) error status code.

    ``408``, ``425``, ``429``, ``500``, ``502``, ``503`` and ``504`` (timeouts, throttling, an
    overloaded or restarting service) are transient; every other ``4xx`` and ``5xx`` (bad
    request, not found, forbidden, not implemented) is permanent.

    Args:
        status: The status code, 400-599.

    Returns:
        The failure class.

    Raises:
        ValueError: When the status is not an error status (below 400 or above 599).
    """
    if not 400 <= status <= 599:
        raise ValueError(f"HTTP status {status} is not an error status (expected 400-599)")
    return FailureClass.TRANSIENT if status in _TRANSIENT_STATUSES else FailureClass.PERMANENT


__all__ = [
    "ConfigError",
    "FailureClass",
    "FatalError",
    "OrchlabError",
    "PermanentError",
    "ServiceError",
    "SpecError",
    "TransientError",
    "ValidationFailed",
    "classify",
    "did_you_mean",
    "error_text",
    "first_line",
    "http_status_class",
]
