"""Sagas: undo the steps that succeeded, in reverse, when a later step fails.

A :class:`Saga` records a compensation after each step that succeeded. On failure it runs
them last-first; every compensation runs even if an earlier one fails, and any failure is
surfaced in :class:`CompensationFailed` together with the original error, never swallowed.

It is plain async code with no clocks, randomness or I/O of its own, so it is safe inside a
Temporal workflow (the sandbox), where compensations are usually activities::

    async with Saga("book-trip") as saga:
        car = await workflow.execute_activity(book_car, trip, **opts)
        saga.add_activity(cancel_car, car, **opts)
        hotel = await workflow.execute_activity(book_hotel, trip, **opts)
        saga.add_activity(cancel_hotel, hotel, **opts)

:class:`CompensationFailed` is a Temporal ``ApplicationError`` (non-retryable), so it fails
the workflow with a readable error instead of retrying the workflow task forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError, FailureError

from orchlab.errors import FailureClass, OrchlabError


@dataclass(frozen=True)
class Compensation:
    """One recorded undo step."""

    name: str
    """Shown in errors and :attr:`Saga.compensated`."""
    action: Callable[[], Awaitable[Any]]
    """The coroutine function that undoes the step."""


class CompensationFailed(ApplicationError, OrchlabError):
    """One or more compensations failed while undoing a saga.

    Holds the original failure (:attr:`original`) and each failed compensation
    (:attr:`failures`); the message names them all. Fatal: the system may be half-undone
    and needs a person.
    """

    failure_class = FailureClass.FATAL

    def __init__(
        self,
        saga: str,
        original: BaseException | None,
        failures: list[tuple[str, BaseException]],
    ) -> None:
        names = "; ".join(f"{n}: {describe_failure(e)}" for n, e in failures)
        cause = describe_failure(original) if original is not None else "none"
        super().__init__(
            f"saga {saga!r}: {len(failures)} compensation(s) failed ({names}) while undoing "
            f"after {cause}; the system may be partly undone: fix and compensate by hand",
            [n for n, _ in failures],
            cause,
            type="CompensationFailed",
            non_retryable=True,
        )
        self.saga = saga
        """The saga's name."""
        self.original = original
        """The failure that triggered compensation (None when compensated by hand)."""
        self.failures = failures
        """``(compensation name, error)`` for each failed compensation, in run order."""


def describe_failure(error: BaseException) -> str:
    """``Type: message`` of the innermost error behind Temporal's wrappers.

    An activity's failure reaches a workflow as ``ActivityError("Activity task failed")``
    whose ``cause`` holds the real error; this names the real one.
    """
    current = error
    while isinstance(current, FailureError) and current.cause is not None:
        current = current.cause
    if isinstance(current, ApplicationError) and current.type:
        return f"{current.type}: {current.message}"
    return f"{type(current).__name__}: {current}"


class Saga:
    """Record compensations and run them in reverse on failure.

    Use as ``async with Saga(...) as saga:`` (compensates on any exception, then re-raises
    it, or raises :class:`CompensationFailed` from it), or call :meth:`compensate` yourself.

    Args:
        name: Shown in errors.
        compensate_on_cancel: Also compensate when the work is cancelled (a Temporal
            workflow cancellation arrives as ``asyncio.CancelledError``).
    """

    def __init__(self, name: str = "saga", *, compensate_on_cancel: bool = True) -> None:
        self.name = name
        self.compensate_on_cancel = compensate_on_cancel
        self._pending: list[Compensation] = []
        self.compensated: list[str] = []
        """Names of compensations that ran successfully, in the order they ran."""

    @property
    def pending(self) -> list[str]:
        """Names of recorded compensations not yet run, in the order they would run."""
        return [c.name for c in reversed(self._pending)]

    def add(self, action: Callable[[], Awaitable[Any]], name: str | None = None) -> None:
        """Record how to undo the step that just succeeded."""
        label = name or getattr(action, "__name__", None) or f"compensation-{len(self._pending)}"
        self._pending.append(Compensation(label, action))

    def add_activity(
        self, activity: Callable[..., Any], *args: Any, name: str | None = None, **options: Any
    ) -> None:
        """Record a Temporal activity as the compensation (``options`` go to
        ``workflow.execute_activity``: timeouts, retry policy)."""

        async def run() -> Any:
            return await workflow.execute_activity(activity, args=list(args), **options)

        label = name or getattr(activity, "__name__", None) or "activity"
        self.add(run, label)

    def clear(self) -> None:
        """Forget the recorded compensations (the saga committed)."""
        self._pending.clear()

    async def compensate(self, original: BaseException | None = None) -> None:
        """Run every recorded compensation, last first, each once.

        Raises:
            CompensationFailed: When any failed (all the others still ran).
        """
        failures: list[tuple[str, BaseException]] = []
        while self._pending:
            step = self._pending.pop()
            try:
                await step.action()
            except Exception as exc:
                failures.append((step.name, exc))
            else:
                self.compensated.append(step.name)
        if failures:
            raise CompensationFailed(self.name, original, failures) from original

    async def __aenter__(self) -> Saga:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        if exc is None:
            return False
        cancelled = isinstance(exc, asyncio.CancelledError)
        if isinstance(exc, Exception) or (cancelled and self.compensate_on_cancel):
            await self.compensate(exc)
        return False  # re-raise the original failure


__all__ = ["Compensation", "CompensationFailed", "Saga", "describe_failure"]
