"""The errors orchlab.policy raises; each also inherits the matching built-in."""

from __future__ import annotations

from collections.abc import Sequence

from orchlab.errors import FatalError, PermanentError, ValidationFailed


class PolicyDenied(PermanentError, PermissionError):
    """A policy gate or an access check said no.

    Args:
        policy: The policy's name.
        reasons: Why it denied, one line each.
    """

    def __init__(self, policy: str, reasons: Sequence[str]) -> None:
        self.policy = policy
        self.reasons = tuple(reasons)
        detail = "; ".join(self.reasons) or "no reason given"
        super().__init__(f"denied by policy {policy!r}: {detail}")


class AccessDenied(PolicyDenied):
    """A principal may not start, signal, cancel or approve a workflow."""


class PolicyError(PermanentError, ValueError):
    """A policy that cannot be loaded: a missing file, a parse error, bad test cases."""


class InputRejected(ValidationFailed):
    """A workflow input or signal failed its schema; the message names each bad field."""

    def __init__(self, message: str, fields: Sequence[str] = ()) -> None:
        self.fields = tuple(fields)
        super().__init__(message)


class AuditIntegrityError(FatalError, ValueError):
    """The audit log was edited, reordered or cut: names the first bad record."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


class DecryptionError(FatalError, ValueError):
    """A payload could not be decrypted: unknown or retired key, or tampered bytes."""


class SecretNotFound(PermanentError, LookupError):
    """A secret is not in any configured source."""


class ApprovalRejected(PolicyDenied):
    """An approval request was rejected or timed out."""


__all__ = [
    "AccessDenied",
    "ApprovalRejected",
    "AuditIntegrityError",
    "DecryptionError",
    "InputRejected",
    "PolicyDenied",
    "PolicyError",
    "SecretNotFound",
]
