"""Failure classification: one set of rules that drives Temporal, Prefect and plain code.

A :class:`FailureClassifier` turns an exception into a :class:`~orchlab.errors.FailureClass`
(transient, permanent or fatal), in this order:

1. ordered :class:`ClassifierRule` s (exception types, HTTP-like status codes, predicates):
   the first rule that matches wins;
2. a Temporal ``ApplicationError`` keeps the class it carries: the one its
   :class:`~orchlab.reliability.FailureDetails` record, or else Temporal's own meaning of
   its ``non_retryable`` flag (set: permanent, unset: transient). So a step wrapped with
   :meth:`FailureClassifier.temporal_activity` is classified the same on every runner;
3. an HTTP-like status (:func:`status_of`) by :func:`orchlab.errors.http_status_class`;
4. :func:`orchlab.errors.classify` (orchlab errors carry their class; ``TimeoutError`` and
   ``ConnectionError`` are transient; anything else is permanent).

:meth:`FailureClassifier.details` describes a failure in the one schema every runner uses
(:class:`~orchlab.reliability.FailureDetails`). The same classifier then renders for each
engine:

* Temporal: :meth:`FailureClassifier.to_temporal` wraps an exception in an ``ApplicationError``
  that is non-retryable unless transient, with the failure's details as a JSON object in
  ``details[0]`` (its attempt included when raised in an activity);
  :meth:`FailureClassifier.temporal_activity` does it for every exception an activity
  raises; :meth:`FailureClassifier.non_retryable_error_types` lists the type names for
  ``RetryPolicy.non_retryable_error_types``.
* Prefect: :meth:`FailureClassifier.prefect_retry_condition` is a ``retry_condition_fn``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from orchlab.errors import FailureClass, classify, http_status_class
from orchlab.reliability._failure import (
    FailureDetails,
    carried_details,
    failure_details,
    is_application_error,
)

if TYPE_CHECKING:
    from temporalio.exceptions import ApplicationError

P = ParamSpec("P")
R = TypeVar("R")

_STATUS_ATTRIBUTES = ("status_code", "status", "http_status", "code")


def status_of(exc: BaseException) -> int | None:
    """Find an HTTP-like error status on an exception, if it carries one.

    Looks at ``status_code``, ``status``, ``http_status`` and ``code`` on the exception and
    on its ``response`` (as ``requests`` and ``httpx`` errors have). Only integers 400-599
    count, so an errno in ``code`` is not mistaken for a status.

    Args:
        exc: The exception.

    Returns:
        The status code, or None.
    """
    holders: list[object] = [exc]
    response = getattr(exc, "response", None)
    if response is not None:
        holders.append(response)
    for holder in holders:
        for name in _STATUS_ATTRIBUTES:
            value = getattr(holder, name, None)
            if isinstance(value, int) and not isinstance(value, bool) and 400 <= value <= 599:
                return value
    return None


@dataclass(frozen=True)
class ClassifierRule:
    """One classification rule: which failures it matches and the class it assigns.

    A rule matches when any of its criteria does: the exception is an instance of one of
    ``types``, carries one of ``statuses`` (see :func:`status_of`), or ``predicate`` returns
    True. A rule with no criteria is rejected.
    """

    failure_class: FailureClass
    """The class assigned to a matching failure."""
    types: tuple[type[BaseException], ...] = ()
    """Exception types (subclasses match too)."""
    statuses: frozenset[int] = frozenset()
    """HTTP-like status codes."""
    predicate: Callable[[BaseException], bool] | None = None
    """Any other test, e.g. on the message of a driver's error."""
    name: str = ""
    """A label shown in :meth:`FailureClassifier.explain`."""

    def __post_init__(self) -> None:
        if not (self.types or self.statuses or self.predicate):
            raise ValueError(
                "a ClassifierRule needs at least one of types=, statuses= or predicate="
            )
        bad = [s for s in self.statuses if not 400 <= s <= 599]
        if bad:
            raise ValueError(f"statuses must be error statuses 400-599, got {sorted(bad)}")

    def matches(self, exc: BaseException) -> bool:
        """Whether this rule applies to ``exc``."""
        if self.types and isinstance(exc, self.types):
            return True
        if self.statuses:
            status = status_of(exc)
            if status is not None and status in self.statuses:
                return True
        return self.predicate is not None and bool(self.predicate(exc))

    def label(self) -> str:
        """A short description of the rule."""
        if self.name:
            return self.name
        parts = [t.__name__ for t in self.types] + [str(s) for s in sorted(self.statuses)]
        if self.predicate is not None:
            parts.append(getattr(self.predicate, "__name__", "predicate"))
        return " | ".join(parts)


@dataclass(frozen=True)
class FailureClassifier:
    """Classify failures as transient, permanent or fatal from ordered rules.

    Example::

        classifier = FailureClassifier().with_rule(
            FailureClass.TRANSIENT, types=(sqlite3.OperationalError,)
        ).with_rule(FailureClass.FATAL, statuses={401})
    """

    rules: tuple[ClassifierRule, ...] = ()
    """Rules tried in order; the first match wins."""
    use_http_status: bool = True
    """When no rule matches, classify an exception carrying an HTTP-like status with
    :func:`orchlab.errors.http_status_class`."""
    fallback: Callable[[BaseException], FailureClass] = field(default=classify)
    """What decides when nothing else does; :func:`orchlab.errors.classify` by default."""

    def with_rule(
        self,
        failure_class: FailureClass,
        *,
        types: Iterable[type[BaseException]] = (),
        statuses: Iterable[int] = (),
        predicate: Callable[[BaseException], bool] | None = None,
        name: str = "",
    ) -> FailureClassifier:
        """Return a copy with one more rule, tried after the existing ones."""
        rule = ClassifierRule(
            FailureClass(failure_class), tuple(types), frozenset(statuses), predicate, name
        )
        return FailureClassifier((*self.rules, rule), self.use_http_status, self.fallback)

    def explain(self, exc: BaseException) -> tuple[FailureClass, str]:
        """Classify ``exc`` and say which rule decided.

        Returns:
            The class and the deciding rule's label (``"http status 503"``, ``"default"``).
        """
        for rule in self.rules:
            if rule.matches(exc):
                return rule.failure_class, rule.label()
        carried = carried_details(exc)
        if carried is not None:
            return carried.failure_class, "classified upstream"
        if is_application_error(exc):
            non_retryable = bool(getattr(exc, "non_retryable", False))
            kind = FailureClass.PERMANENT if non_retryable else FailureClass.TRANSIENT
            return kind, f"temporal non_retryable={non_retryable}"
        if self.use_http_status:
            status = status_of(exc)
            if status is not None:
                return http_status_class(status), f"http status {status}"
        return self.fallback(exc), "default"

    def classify(self, exc: BaseException) -> FailureClass:
        """Return the failure class of ``exc``."""
        return self.explain(exc)[0]

    def details(self, exc: BaseException, *, attempt: int | None = None) -> FailureDetails:
        """Describe ``exc`` in the one failure schema (see :class:`FailureDetails`).

        An ``ApplicationError`` that already carries details (from :meth:`to_temporal`)
        keeps them, so the original error's type and message survive the wrapping; a
        rule of this classifier that matches still decides the class.

        Args:
            exc: The failure.
            attempt: The attempt that failed, from 1, when the caller knows it.
        """
        failure_class, rule = self.explain(exc)
        carried = carried_details(exc)
        if carried is not None and carried.error_type:
            return replace(carried, failure_class=failure_class).at_attempt(attempt)
        return FailureDetails.describe(exc, failure_class, attempt=attempt, rule=rule)

    def is_retryable(self, exc: BaseException) -> bool:
        """Whether retrying ``exc`` may help (it is transient)."""
        return self.classify(exc) is FailureClass.TRANSIENT

    # -- Temporal ---------------------------------------------------------------------------

    def to_temporal(self, exc: BaseException) -> ApplicationError:
        """Wrap ``exc`` in a Temporal ``ApplicationError`` carrying its classification.

        The error's ``type`` is the exception's class name (what
        ``RetryPolicy.non_retryable_error_types`` matches), its only detail the failure's
        :class:`FailureDetails` as a JSON object (with the activity's attempt when called
        inside an activity), and it is ``non_retryable`` unless the failure is transient.
        An ``ApplicationError`` that already carries details is returned unchanged; one
        without is wrapped so that it does (its type, message and ``non_retryable`` flag
        kept).
        """
        # Imported here: plain-code users of the classifier need not load Temporal.
        from temporalio import activity
        from temporalio.exceptions import ApplicationError

        if isinstance(exc, ApplicationError) and carried_details(exc) is not None:
            return exc
        attempt = activity.info().attempt if activity.in_activity() else None
        details = self.details(exc, attempt=attempt)
        if isinstance(exc, ApplicationError):
            return ApplicationError(
                exc.message,
                details.to_dict(),
                type=exc.type,
                non_retryable=exc.non_retryable,
            )
        return ApplicationError(
            f"{details.failure_class.value}: {exc}",
            details.to_dict(),
            type=details.error_type,
            non_retryable=not details.retryable,
        )

    def non_retryable_error_types(self, *extra: type[BaseException]) -> list[str]:
        """Type names for ``RetryPolicy.non_retryable_error_types``.

        Names every exception type that a permanent or fatal rule lists, plus ``extra``
        types. Temporal matches an activity failure on its type name, so this stops retries
        even for activities that raise without :meth:`temporal_activity`.
        """
        names = [
            t.__name__
            for rule in self.rules
            if rule.failure_class is not FailureClass.TRANSIENT
            for t in rule.types
        ]
        names += [t.__name__ for t in extra]
        return sorted(set(names))

    def temporal_activity(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate an activity so every exception it raises is classified for Temporal.

        Apply it under ``@activity.defn``. Works for ``async def`` and plain functions.
        """
        from temporalio.exceptions import ApplicationError

        if inspect.iscoroutinefunction(fn):
            async_fn = cast(Callable[P, Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                try:
                    return await async_fn(*args, **kwargs)
                except ApplicationError:
                    raise
                except Exception as exc:
                    raise self.to_temporal(exc) from exc

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except ApplicationError:
                raise
            except Exception as exc:
                raise self.to_temporal(exc) from exc

        return wrapper

    # -- Prefect ----------------------------------------------------------------------------

    def prefect_retry_condition(self) -> Callable[[Any, Any, Any], bool]:
        """A Prefect ``retry_condition_fn``: retry only transient failures.

        Prefect calls it only when a plain function (``inspect.isfunction``), so this
        returns a closure rather than a bound method.
        """

        def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
            exc = exception_of_state(state)
            return exc is None or self.is_retryable(exc)

        return retry_transient


def exception_of_state(state: Any) -> BaseException | None:
    """The exception behind a failed Prefect state, or None when it holds none."""
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return data
    try:
        result = state.result(raise_on_failure=False)
    except Exception as exc:  # a result that cannot be loaded: treat it as that failure
        return exc
    if inspect.isawaitable(result):  # called from async code: cannot wait for it here
        close = getattr(result, "close", None)
        if callable(close):
            close()
        return None
    return result if isinstance(result, BaseException) else None


def classification_of(error: BaseException) -> FailureClass | None:
    """Read the failure class back from a Temporal failure seen in a workflow or client.

    Follows ``cause`` links (``WorkflowFailureError`` -> ``ActivityError`` ->
    ``ApplicationError``) to the first ``ApplicationError`` carrying
    :class:`FailureDetails` (as :meth:`FailureClassifier.to_temporal` writes); see
    :func:`~orchlab.reliability.failure_details` for the whole record.

    Returns:
        The failure class, or None when no classified error is in the chain.
    """
    found = failure_details(error)
    return found.failure_class if found is not None else None


DEFAULT_CLASSIFIER = FailureClassifier()
"""Rules-free classifier: HTTP-like statuses, then :func:`orchlab.errors.classify`."""


__all__ = [
    "DEFAULT_CLASSIFIER",
    "ClassifierRule",
    "FailureClassifier",
    "classification_of",
    "exception_of_state",
    "status_of",
]
