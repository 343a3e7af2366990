"""One retry policy, rendered for Temporal, Prefect, tenacity, or run directly.

:class:`RetryPolicy` holds exponential backoff (initial interval, coefficient, maximum
interval), jitter (none, full or equal), a maximum number of attempts and an overall deadline,
and a :class:`~orchlab.reliability.FailureClassifier` deciding what is worth retrying. It runs
plain code itself (:meth:`RetryPolicy.call`, :meth:`RetryPolicy.wrap`, with an injectable
clock, sleep and seeded jitter so tests never wait), and renders as:

* :meth:`RetryPolicy.to_temporal` and :meth:`RetryPolicy.temporal_activity_options`;
* :meth:`RetryPolicy.prefect_task_options` (``retries``, ``retry_delay_seconds``,
  ``retry_jitter_factor``, ``retry_condition_fn``);
* :meth:`RetryPolicy.tenacity` (a ``tenacity.Retrying`` or ``AsyncRetrying``).

Delay before retry *n* (n = 1 after the first failure): ``base = min(max_interval,
initial_interval * backoff ** (n - 1))``; full jitter draws uniformly from ``[0, base]``,
equal jitter from ``[base / 2, base]`` (the AWS architecture blog's definitions).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import tenacity

from orchlab.reliability._classify import DEFAULT_CLASSIFIER, FailureClassifier, exception_of_state

if TYPE_CHECKING:
    from temporalio.common import RetryPolicy as TemporalRetryPolicy

P = ParamSpec("P")
R = TypeVar("R")

PREFECT_MAX_RETRIES = 50
"""Prefect refuses a ``retry_delay_seconds`` list longer than this."""

TEMPORAL_MIN_INTERVAL = 0.001
"""The shortest retry interval rendered for Temporal, in seconds: the server reads a zero
interval as unset and waits its default second instead."""


class Jitter(StrEnum):
    """How a retry delay is randomised so that many clients do not retry in lockstep."""

    NONE = "none"
    """Exactly the exponential delay."""
    FULL = "full"
    """Uniform in ``[0, delay]``: the best spread, sometimes retrying almost at once."""
    EQUAL = "equal"
    """Uniform in ``[delay / 2, delay]``: keeps at least half the backoff."""


@dataclass(frozen=True)
class RetryEvent:
    """What happened before a retry (passed to ``on_retry``)."""

    attempt: int
    """The attempt that failed (1 for the first)."""
    delay: float
    """Seconds slept before the next attempt."""
    error: BaseException
    """The failure."""
    elapsed: float
    """Seconds since the first attempt started (by the policy's clock)."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, bounded by attempts and an overall deadline.

    Raises:
        ValueError: At construction, when a bound is out of range.
    """

    max_attempts: int = 3
    """Attempts in total, the first included (1 means no retry)."""
    initial_interval: float = 1.0
    """Seconds before the first retry (before jitter)."""
    backoff: float = 2.0
    """Multiplier of the delay after each retry (>= 1)."""
    max_interval: float = 60.0
    """Upper bound of any single delay, in seconds."""
    jitter: Jitter = Jitter.FULL
    """How delays are randomised."""
    deadline: float | None = None
    """Seconds from the first attempt after which no retry starts; None for no deadline.
    Rendered as Temporal's schedule-to-close timeout."""
    classifier: FailureClassifier = DEFAULT_CLASSIFIER
    """Decides which failures are retried: only transient ones."""
    seed: int | None = None
    """Seed for jitter; None draws from the system. Fix it to make delays repeatable."""
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)
    """Seconds, monotonic; inject a fake clock in tests."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    """How :meth:`call` waits; inject a recorder in tests."""
    async_sleep: Callable[[float], Awaitable[None]] = field(
        default=asyncio.sleep, repr=False, compare=False
    )
    """How :meth:`acall` waits."""
    on_retry: Callable[[RetryEvent], None] | None = field(default=None, compare=False)
    """Called before each retry's sleep (logging, metrics)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.initial_interval < 0:
            raise ValueError(f"initial_interval must be >= 0 seconds, got {self.initial_interval}")
        if self.backoff < 1:
            raise ValueError(f"backoff must be >= 1 (Temporal requires it), got {self.backoff}")
        if self.max_interval < self.initial_interval:
            raise ValueError(
                f"max_interval ({self.max_interval}) must be >= initial_interval "
                f"({self.initial_interval})"
            )
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError(f"deadline must be > 0 seconds or None, got {self.deadline}")
        object.__setattr__(self, "jitter", Jitter(self.jitter))

    @classmethod
    def fixed(cls, *, retries: int, delay: float, **options: Any) -> RetryPolicy:
        """A fixed-delay policy: ``retries`` retries, each after exactly ``delay`` seconds.

        The shape of the pipeline spec's older ``retries`` / ``retry_delay_seconds``
        fields: no backoff, no jitter. ``options`` sets the other fields (``deadline``,
        ``classifier``, ``sleep``, ...).

        Raises:
            ValueError: When ``retries`` or ``delay`` is negative.
        """
        if retries < 0:
            raise ValueError(f"retries must be >= 0, got {retries}")
        return cls(
            max_attempts=retries + 1,
            initial_interval=delay,
            backoff=1.0,
            max_interval=delay,
            jitter=Jitter.NONE,
            **options,
        )

    # -- delays -----------------------------------------------------------------------------

    def base_delay(self, retry: int) -> float:
        """The un-jittered delay before retry ``retry`` (1-based), capped at max_interval."""
        if retry < 1:
            raise ValueError(f"retry numbers start at 1, got {retry}")
        # Cap the exponent's growth before it overflows a float.
        exponent = min(retry - 1, 1024)
        try:
            raw = self.initial_interval * self.backoff**exponent
        except OverflowError:
            raw = self.max_interval
        return min(self.max_interval, raw)

    def delay(self, retry: int, rng: random.Random | None = None) -> float:
        """The delay before retry ``retry`` (1-based), jittered with ``rng``."""
        base = self.base_delay(retry)
        if self.jitter is Jitter.NONE or base == 0:
            return base
        rng = rng or random.Random(self.seed)
        if self.jitter is Jitter.FULL:
            return rng.uniform(0.0, base)
        return base / 2 + rng.uniform(0.0, base / 2)

    def delays(self) -> list[float]:
        """Every delay this policy would sleep, in order (``max_attempts - 1`` of them),
        drawn from a fresh generator seeded with :attr:`seed`."""
        rng = random.Random(self.seed)
        return [self.delay(n, rng) for n in range(1, self.max_attempts)]

    # -- running plain code -----------------------------------------------------------------

    def _retrying(self, *, asynchronous: bool) -> tenacity.BaseRetrying:
        """The tenacity loop behind :meth:`call`, :meth:`acall` and :meth:`tenacity`.

        Each run (a call, or one ``for attempt in ...`` loop) keeps its own start time, by
        this policy's clock, and its own jitter generator seeded with :attr:`seed`, on the
        tenacity call state; so one ``Retrying`` serves many runs and a fake clock drives
        the deadline.
        """

        def before(state: tenacity.RetryCallState) -> None:
            if state.attempt_number == 1:
                setattr(state, _RUN, _Run(self.clock(), random.Random(self.seed)))

        def wait(state: tenacity.RetryCallState) -> float:
            return self.delay(state.attempt_number, _run_of(state).rng)

        def stop(state: tenacity.RetryCallState) -> bool:
            # Called after wait(): upcoming_sleep is the delay before the next attempt.
            exc = _exception_of(state)
            attempt = state.attempt_number
            if attempt >= self.max_attempts:
                exc.add_note(f"gave up after {attempt} attempts (max_attempts={self.max_attempts})")
                return True
            if self.deadline is not None:
                elapsed = self.clock() - _run_of(state).start
                if elapsed + state.upcoming_sleep > self.deadline:
                    exc.add_note(
                        f"gave up after {attempt} attempts: the next retry would start after "
                        f"the {self.deadline:g} s deadline ({elapsed:.3g} s elapsed)"
                    )
                    return True
            return False

        def before_sleep(state: tenacity.RetryCallState) -> None:
            if self.on_retry is not None:
                elapsed = self.clock() - _run_of(state).start
                event = RetryEvent(
                    state.attempt_number, state.upcoming_sleep, _exception_of(state), elapsed
                )
                self.on_retry(event)

        def retryable(exc: BaseException) -> bool:
            # Only Exception subclasses: KeyboardInterrupt and the like end the run at once.
            return isinstance(exc, Exception) and self.classifier.is_retryable(exc)

        options: dict[str, Any] = {
            "before": before,
            "wait": wait,
            "stop": stop,
            "before_sleep": before_sleep,
            "retry": tenacity.retry_if_exception(retryable),
            "reraise": True,
        }
        if asynchronous:
            return tenacity.AsyncRetrying(sleep=self.async_sleep, **options)
        return tenacity.Retrying(sleep=self.sleep, **options)

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call ``fn`` and retry its transient failures; re-raise the last failure.

        A permanent or fatal failure is raised at once. When attempts or the deadline run
        out, the last failure is raised with a note saying so. The loop is tenacity's
        (:meth:`tenacity`), waiting with :attr:`sleep`.
        """
        retrying = cast(tenacity.Retrying, self._retrying(asynchronous=False))
        return retrying(fn, *args, **kwargs)

    async def acall(self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """:meth:`call` for a coroutine function; waits with :attr:`async_sleep`."""
        retrying = cast(tenacity.AsyncRetrying, self._retrying(asynchronous=True))
        return cast(R, await retrying(fn, *args, **kwargs))

    def wrap(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Decorate ``fn`` (plain or ``async def``) so each call runs under this policy."""
        if inspect.iscoroutinefunction(fn):
            async_fn = cast(Callable[P, Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def async_wrapper(*args: P.args, **kwargs: P.kwargs) -> Any:
                return await self.acall(async_fn, *args, **kwargs)

            return cast(Callable[P, R], async_wrapper)

        @functools.wraps(fn)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            return self.call(fn, *args, **kwargs)

        return wrapper

    __call__ = wrap

    # -- Temporal ---------------------------------------------------------------------------

    def to_temporal(self) -> TemporalRetryPolicy:
        """This policy as a Temporal ``RetryPolicy``.

        Temporal has no jitter setting (every retry waits exactly its backoff) and no
        overall deadline in the retry policy: pass :meth:`temporal_activity_options` to
        ``execute_activity`` to get the deadline as a schedule-to-close timeout. Intervals
        shorter than :data:`TEMPORAL_MIN_INTERVAL` (zero) are rendered as that minimum,
        since the server reads zero as "unset" (1 s initial, 100 x that maximum).
        """
        # Imported here: plain-code users of the policy need not load Temporal.
        from temporalio.common import RetryPolicy as TemporalRetryPolicy

        initial = max(self.initial_interval, TEMPORAL_MIN_INTERVAL)
        return TemporalRetryPolicy(
            initial_interval=timedelta(seconds=initial),
            backoff_coefficient=self.backoff,
            maximum_interval=timedelta(seconds=max(self.max_interval, initial)),
            maximum_attempts=self.max_attempts,
            non_retryable_error_types=self.classifier.non_retryable_error_types() or None,
        )

    def temporal_activity_options(
        self,
        *,
        start_to_close: float | None = None,
        heartbeat: float | None = None,
    ) -> dict[str, Any]:
        """Keyword arguments for ``workflow.execute_activity``.

        Args:
            start_to_close: Seconds one attempt may run.
            heartbeat: Seconds without a heartbeat after which an attempt counts as lost
                (a crashed worker is noticed this fast instead of after start_to_close).

        Returns:
            ``retry_policy``, and the timeouts that are set (``schedule_to_close_timeout``
            from :attr:`deadline`).

        Raises:
            ValueError: When neither a start-to-close timeout nor a deadline is given
                (Temporal requires one of them).
        """
        if start_to_close is None and self.deadline is None:
            raise ValueError(
                "Temporal needs start_to_close= or a policy deadline (schedule-to-close) "
                "for an activity"
            )
        options: dict[str, Any] = {"retry_policy": self.to_temporal()}
        if start_to_close is not None:
            options["start_to_close_timeout"] = timedelta(seconds=start_to_close)
        if self.deadline is not None:
            options["schedule_to_close_timeout"] = timedelta(seconds=self.deadline)
        if heartbeat is not None:
            options["heartbeat_timeout"] = timedelta(seconds=heartbeat)
        return options

    # -- Prefect ----------------------------------------------------------------------------

    def prefect_task_options(self) -> dict[str, Any]:
        """Keyword arguments for ``@task`` / ``Task.with_options``.

        ``retry_delay_seconds`` lists the un-jittered delays, up to the first one that
        reaches :attr:`max_interval` (Prefect repeats a list's last delay for the retries
        after it); Prefect applies its own jitter (a clamped Poisson draw up to ``delay *
        (1 + retry_jitter_factor)``), set to 1.0 for full and 0.5 for equal jitter: the
        same spread, not the same distribution. ``retry_condition_fn`` retries only
        transient failures and stops once the deadline has passed since the task run
        started.

        Raises:
            ValueError: When the delays grow for more retries than Prefect accepts (50).
        """
        retries = self.max_attempts - 1
        delays = [self.base_delay(n) for n in range(1, retries + 1)]
        while len(delays) > 1 and delays[-1] == delays[-2]:
            delays.pop()  # Prefect repeats the last one
        if len(delays) > PREFECT_MAX_RETRIES:
            raise ValueError(
                f"Prefect accepts at most {PREFECT_MAX_RETRIES} retry delays; this policy's "
                f"delays grow for {len(delays)} retries: lower max_attempts or max_interval"
            )
        jitter_factor = {Jitter.NONE: None, Jitter.FULL: 1.0, Jitter.EQUAL: 0.5}[self.jitter]
        classifier, deadline = self.classifier, self.deadline

        def retry_condition(task: Any, task_run: Any, state: Any) -> bool:
            exc = exception_of_state(state)
            if exc is not None and not classifier.is_retryable(exc):
                return False
            started = getattr(task_run, "start_time", None)
            if deadline is not None and isinstance(started, datetime):
                if started.tzinfo is None:
                    started = started.replace(tzinfo=UTC)
                return (datetime.now(UTC) - started).total_seconds() < deadline
            return True

        return {
            "retries": retries,
            "retry_delay_seconds": delays,
            "retry_jitter_factor": jitter_factor,
            "retry_condition_fn": retry_condition,
        }

    # -- tenacity ---------------------------------------------------------------------------

    def tenacity(self, *, asynchronous: bool = False) -> tenacity.BaseRetrying:
        """This policy as a ``tenacity.Retrying`` (or ``AsyncRetrying``).

        Use it where code already speaks tenacity (``for attempt in policy.tenacity():``).
        It is the very loop :meth:`call` runs: the same delays, classes, notes and
        ``on_retry`` events; the deadline is measured with the policy's ``clock``, and the
        policy's ``sleep`` and ``async_sleep`` wait.
        """
        return self._retrying(asynchronous=asynchronous)


@dataclass
class _Run:
    """What one run of the loop keeps: when it started, and its jitter generator."""

    start: float
    rng: random.Random


_RUN = "_orchlab_retry_run"  # the attribute of tenacity's call state holding the _Run


def _run_of(state: tenacity.RetryCallState) -> _Run:
    run = getattr(state, _RUN, None)
    if not isinstance(run, _Run):  # pragma: no cover - before() always runs first
        raise RuntimeError("retry state was not started by RetryPolicy")
    return run


def _exception_of(state: tenacity.RetryCallState) -> Exception:
    # stop() and before_sleep() run only after a retryable (so Exception) failure.
    exc = state.outcome.exception() if state.outcome is not None else None
    if not isinstance(exc, Exception):  # pragma: no cover - guarded by retryable()
        raise RuntimeError("no failed attempt to retry")
    return exc


__all__ = ["PREFECT_MAX_RETRIES", "TEMPORAL_MIN_INTERVAL", "Jitter", "RetryEvent", "RetryPolicy"]
