"""A circuit breaker for an unstable dependency, shared by a worker's activities.

Built on ``pybreaker``: after ``fail_max`` consecutive *transient* failures the breaker
opens and calls fail fast with :class:`CircuitOpenError` (or go to a fallback) instead of
piling onto a struggling service. After ``reset_timeout`` seconds it lets one probe through
(half-open): a success closes it, a failure opens it again. Permanent failures (a bad
request) say nothing about the dependency's health and do not count.

:func:`get_breaker` returns one breaker per name for the whole process, so every activity a
worker runs against the same dependency shares its state. Both ``def`` and ``async def``
callables are supported; :meth:`CircuitBreaker.snapshot` exposes the state for metrics and
``orchlab`` status output.
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ParamSpec, TypeVar, cast

import pybreaker

from orchlab.errors import FailureClass, TransientError
from orchlab.reliability._classify import DEFAULT_CLASSIFIER, FailureClassifier

P = ParamSpec("P")
R = TypeVar("R")


class BreakerState(StrEnum):
    """Where a circuit breaker stands."""

    CLOSED = "closed"
    """Calls go through; consecutive failures are counted."""
    OPEN = "open"
    """Calls fail fast until the reset timeout has passed."""
    HALF_OPEN = "half-open"
    """The next call is a probe: success closes, failure re-opens."""


class CircuitOpenError(TransientError):
    """A call was refused because the breaker is open (transient: retry after a while)."""

    def __init__(self, breaker: str, retry_after: float) -> None:
        super().__init__(
            f"circuit breaker {breaker!r} is open after repeated failures of its dependency; "
            f"the next probe is allowed in {retry_after:.1f} s (use a fallback, or retry later)"
        )
        self.breaker = breaker
        """The breaker's name."""
        self.retry_after = retry_after
        """Seconds until the breaker lets a probe through."""


@dataclass(frozen=True)
class BreakerSnapshot:
    """A breaker's observable state at one moment."""

    name: str
    """The breaker's name."""
    state: BreakerState
    """Closed, open or half-open."""
    failures: int
    """Consecutive counted failures."""
    fail_max: int
    """Failures that open it."""
    retry_after: float
    """Seconds until a probe is allowed (0 unless open)."""


class _ClockStorage(pybreaker.CircuitMemoryStorage):
    # pybreaker compares `datetime.now(UTC)` with `opened_at + reset_timeout`. Recording
    # the open time on an injectable clock and translating it back keeps that comparison
    # equal to `clock() < opened + reset_timeout`, so tests can move time without sleeping.
    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__(pybreaker.STATE_CLOSED)
        self._clock = clock
        self._opened_clock: float | None = None

    @property
    def opened_at(self) -> datetime | None:
        if self._opened_clock is None:
            return None
        offset = self._opened_clock - self._clock()
        return datetime.now(UTC) + timedelta(seconds=offset)

    @opened_at.setter
    def opened_at(self, value: datetime) -> None:
        self._opened_clock = self._clock()


class CircuitBreaker:
    """A named circuit breaker around calls to one dependency.

    Args:
        name: The dependency's name (shown in errors and snapshots).
        fail_max: Consecutive transient failures that open the breaker.
        reset_timeout: Seconds the breaker stays open before a probe.
        success_threshold: Successful probes needed to close it again.
        classifier: Which failures count: only transient ones do.
        clock: Monotonic seconds; inject a fake clock in tests.
    """

    def __init__(
        self,
        name: str,
        *,
        fail_max: int = 5,
        reset_timeout: float = 30.0,
        success_threshold: int = 1,
        classifier: FailureClassifier = DEFAULT_CLASSIFIER,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fail_max < 1:
            raise ValueError(f"fail_max must be at least 1, got {fail_max}")
        if reset_timeout <= 0:
            raise ValueError(f"reset_timeout must be > 0 seconds, got {reset_timeout}")
        self.name = name
        self.classifier = classifier
        self._clock = clock
        self._storage = _ClockStorage(clock)
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            success_threshold=success_threshold,
            # Only transient failures say the dependency is unhealthy.
            exclude=[lambda exc: classifier.classify(exc) is not FailureClass.TRANSIENT],
            state_storage=self._storage,
            name=name,
            # The call that trips the breaker raises its own error, not a generic one.
            throw_new_error_on_trip=False,
        )

    # -- state ------------------------------------------------------------------------------

    @property
    def state(self) -> BreakerState:
        """The current state (an open breaker whose timeout passed still reads open until
        the next call probes)."""
        return BreakerState(self._breaker.current_state)

    def add_listener(self, listener: pybreaker.CircuitBreakerListener) -> None:
        """Observe state changes, failures and successes (pybreaker's listener interface)."""
        self._breaker.add_listener(listener)

    def retry_after(self) -> float:
        """Seconds until an open breaker allows a probe (0 unless open)."""
        opened = self._storage._opened_clock
        if self.state is not BreakerState.OPEN or opened is None:
            return 0.0
        return max(0.0, opened + self._breaker.reset_timeout - self._clock())

    def snapshot(self) -> BreakerSnapshot:
        """The breaker's observable state now."""
        return BreakerSnapshot(
            self.name,
            self.state,
            self._breaker.fail_counter,
            self._breaker.fail_max,
            self.retry_after(),
        )

    def reset(self) -> None:
        """Close the breaker by hand (after fixing the dependency)."""
        self._breaker.close()

    def force_open(self) -> None:
        """Open the breaker by hand (take a dependency out of service)."""
        self._breaker.open()

    # -- calls ------------------------------------------------------------------------------

    def _refused(self) -> CircuitOpenError:
        return CircuitOpenError(self.name, self.retry_after())

    def _fallback_applies(self, exc: BaseException) -> bool:
        return isinstance(exc, CircuitOpenError) or self.classifier.is_retryable(exc)

    def call(
        self,
        fn: Callable[..., R],
        /,
        *args: Any,
        fallback: Callable[[BaseException], R] | None = None,
        **kwargs: Any,
    ) -> R:
        """Call ``fn`` through the breaker.

        Args:
            fn: The guarded call.
            fallback: Called with the error when the breaker refuses the call or the call
                fails transiently; its return value is returned instead. Permanent
                failures are raised regardless.

        Raises:
            CircuitOpenError: When open and there is no fallback.
        """
        try:
            try:
                return self._breaker.call(fn, *args, **kwargs)
            except pybreaker.CircuitBreakerError:
                raise self._refused() from None
        except Exception as exc:
            if fallback is not None and self._fallback_applies(exc):
                return fallback(exc)
            raise

    async def acall(
        self,
        fn: Callable[..., Awaitable[R]],
        /,
        *args: Any,
        fallback: Callable[[BaseException], Awaitable[R] | R] | None = None,
        **kwargs: Any,
    ) -> R:
        """:meth:`call` for a coroutine function (the fallback may be async too)."""
        try:
            try:
                # pybreaker's `calling()` counts the block's outcome without tornado.
                with self._breaker.calling():
                    return await fn(*args, **kwargs)
            except pybreaker.CircuitBreakerError:
                raise self._refused() from None
        except Exception as exc:
            if fallback is not None and self._fallback_applies(exc):
                value = fallback(exc)
                if inspect.isawaitable(value):
                    return cast(R, await value)
                return value
            raise

    def protect(
        self, fallback: Callable[[BaseException], Any] | None = None
    ) -> Callable[[Callable[P, R]], Callable[P, R]]:
        """Decorator form of :meth:`call` / :meth:`acall`."""

        def decorate(fn: Callable[P, R]) -> Callable[P, R]:
            if inspect.iscoroutinefunction(fn):
                async_fn = cast(Callable[..., Awaitable[Any]], fn)

                @functools.wraps(fn)
                async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                    return await self.acall(async_fn, *args, fallback=fallback, **kwargs)

                return cast(Callable[P, R], async_wrapper)

            @functools.wraps(fn)
            def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
                result: R = self.call(fn, *args, fallback=fallback, **kwargs)
                return result

            return wrapper

        return decorate


_registry: dict[str, CircuitBreaker] = {}
_registry_lock = threading.Lock()


def get_breaker(name: str, **options: Any) -> CircuitBreaker:
    """The process-wide breaker called ``name``, created with ``options`` on first use.

    Every activity in a worker that calls ``get_breaker("feature-store")`` shares one
    breaker, so failures seen by one open it for all.
    """
    with _registry_lock:
        breaker = _registry.get(name)
        if breaker is None:
            breaker = _registry[name] = CircuitBreaker(name, **options)
        return breaker


def breakers() -> list[BreakerSnapshot]:
    """Snapshots of every breaker :func:`get_breaker` created in this process."""
    with _registry_lock:
        return [b.snapshot() for b in _registry.values()]


def forget_breakers() -> None:
    """Drop every shared breaker (tests, or a worker reloading its configuration)."""
    with _registry_lock:
        _registry.clear()


__all__ = [
    "BreakerSnapshot",
    "BreakerState",
    "CircuitBreaker",
    "CircuitOpenError",
    "breakers",
    "forget_breakers",
    "get_breaker",
]
