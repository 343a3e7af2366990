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
]
