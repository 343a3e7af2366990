"""One schema for what a failure was: its class, its error, the attempt it ended.

:class:`FailureDetails` is what every runner records about a failed call, and the one shape
orchlab puts in a Temporal ``ApplicationError.details[0]`` (as a JSON object, so any SDK and
the Web UI can read it)::

    {
      "failure_class": "transient",       # transient | permanent | fatal
      "error_type": "ConnectionError",    # the original exception's class name
      "message": "partner reset the connection",   # its first line
      "attempt": 2,                       # the attempt that failed, from 1; null if unknown
      "rule": "default"                   # the classifier rule that decided
    }

:meth:`orchlab.reliability.FailureClassifier.details` builds one from an exception,
:meth:`~orchlab.reliability.FailureClassifier.to_temporal` writes it into an
``ApplicationError``, and :func:`failure_details` reads it back from a failure seen in a
workflow or a client (following ``cause`` links). Nothing else goes in ``details[0]``: the
attempt number, in particular, is a field of this object, not a detail of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from orchlab.errors import FailureClass

_CLASSES = frozenset(c.value for c in FailureClass)
_FIELDS = ("failure_class", "error_type", "message", "attempt", "rule")


def _first_line(exc: BaseException) -> str:
    # The first line of an exception's message ("" when it has none).
    lines = str(exc).strip().splitlines()
    return lines[0].strip() if lines else ""


@dataclass(frozen=True)
class FailureDetails:
    """What a failure was, as every runner records it (see the module docstring).

    Raises:
        ValueError: At construction, when ``attempt`` is below 1.
    """

    failure_class: FailureClass
    """Transient (retry it), permanent (fix the input) or fatal (stop the run)."""
    error_type: str
    """The class name of the original exception (what Temporal's
    ``non_retryable_error_types`` matches)."""
    message: str = ""
    """The first line of the original exception's message."""
    attempt: int | None = None
    """The attempt that failed, from 1; None when the runner does not know it."""
    rule: str = ""
    """The classifier rule that decided (as :meth:`FailureClassifier.explain` labels it)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "failure_class", FailureClass(self.failure_class))
        if self.attempt is not None and self.attempt < 1:
            raise ValueError(f"attempt numbers start at 1, got {self.attempt}")

    @classmethod
    def describe(
        cls,
        exc: BaseException,
        failure_class: FailureClass,
        *,
        attempt: int | None = None,
        rule: str = "",
    ) -> FailureDetails:
        """Details of ``exc``, classified as ``failure_class`` by ``rule``."""
        return cls(failure_class, type(exc).__name__, _first_line(exc), attempt, rule)

    @property
    def retryable(self) -> bool:
        """Whether retrying may help (the failure is transient)."""
        return self.failure_class is FailureClass.TRANSIENT

    @property
    def text(self) -> str:
        """``ErrorType: message``: what a person needs, no traceback."""
        return f"{self.error_type}: {self.message}" if self.message else self.error_type

    def at_attempt(self, attempt: int | None) -> FailureDetails:
        """A copy recording ``attempt`` (unchanged when ``attempt`` is None)."""
        return self if attempt is None else replace(self, attempt=attempt)

    def to_dict(self) -> dict[str, Any]:
        """The JSON object form, as stored in ``ApplicationError.details[0]``."""
        data = asdict(self)
        data["failure_class"] = self.failure_class.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FailureDetails:
        """Rebuild details from :meth:`to_dict` output.

        Raises:
            ValueError: When ``data`` does not follow the schema; the message says how.
        """
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ValueError(f"unknown failure detail field(s): {', '.join(unknown)}")
        kind = data.get("failure_class")
        if kind not in _CLASSES:
            raise ValueError(
                f"failure_class must be one of {', '.join(sorted(_CLASSES))}, got {kind!r}"
            )
        attempt = data.get("attempt")
        if attempt is not None and (not isinstance(attempt, int) or isinstance(attempt, bool)):
            raise ValueError(f"attempt must be an integer or null, got {attempt!r}")
        return cls(
            failure_class=FailureClass(kind),
            error_type=str(data.get("error_type", "")),
            message=str(data.get("message", "")),
            attempt=attempt,
            rule=str(data.get("rule", "")),
        )

    @classmethod
    def of_detail(cls, value: object) -> FailureDetails | None:
        """Read details from an ``ApplicationError.details[0]`` value, if it holds them.

        Accepts the schema's JSON object; also the bare failure class text that orchlab
        versions before this schema wrote there, so histories recorded then still read.

        Returns:
            The details, or None when ``value`` is something else.
        """
        if isinstance(value, FailureDetails):
            return value
        if isinstance(value, str) and value in _CLASSES:
            return cls(FailureClass(value), error_type="", rule="recorded")
        if isinstance(value, Mapping) and value.get("failure_class") in _CLASSES:
            try:
                return cls.from_dict(value)
            except ValueError:
                return None
        return None


def carried_details(exc: BaseException) -> FailureDetails | None:
    """The details an ``ApplicationError`` itself carries in ``details[0]``, if any.

    Unlike :func:`failure_details` this looks at ``exc`` only, not at its causes.
    """
    details = getattr(exc, "details", None)
    if is_application_error(exc) and isinstance(details, tuple | list) and details:
        found = FailureDetails.of_detail(details[0])
        if found is not None and not found.error_type:
            # The schema's predecessor recorded the class only: the error's type stands in.
            found = replace(found, error_type=str(getattr(exc, "type", "") or ""))
        return found
    return None


def failure_details(error: BaseException) -> FailureDetails | None:
    """Read :class:`FailureDetails` back from a Temporal failure seen in a workflow or client.

    Follows ``cause`` links (``WorkflowFailureError`` -> ``ActivityError`` ->
    ``ApplicationError``) to the first ``ApplicationError`` whose first detail follows the
    schema.

    Returns:
        The details, or None when no classified error is in the chain.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = carried_details(current)
        if found is not None:
            return found
        current = current.__cause__ or getattr(current, "cause", None)
    return None


def is_application_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a Temporal ``ApplicationError`` (checked by class name through the
    MRO, so that plain-code users of the classifier need not import Temporal)."""
    return any(
        klass.__name__ == "ApplicationError" and klass.__module__.startswith("temporalio")
        for klass in type(exc).__mro__
    )


__all__ = ["FailureDetails", "carried_details", "failure_details", "is_application_error"]
