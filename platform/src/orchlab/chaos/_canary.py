"""Synthetic traffic for steady state: a canary workflow that calls a dependency the way a
pipeline step does, and the ``lookup`` task pipelines use for the same call.

A steady-state hypothesis needs runs to measure. The canary is the smallest real one: a
Temporal workflow whose one activity fetches a URL (a feature store, a model server, through
a :class:`~orchlab.chaos.FaultProxy` in an experiment), guarded the way the reliability lab
teaches: a client timeout, the activity's ``RetryPolicy``, a shared
:class:`~orchlab.reliability.CircuitBreaker` and a fallback. Switch the guards off and the
same fault shows what they were worth.

The activity heartbeats while it holds (``hold`` seconds, to be caught mid-activity), so a
killed worker is noticed after ``heartbeat`` seconds and the attempt retried elsewhere.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from orchlab.reliability._retry import RetryPolicy

CANARY_WORKFLOW = "orchlab-canary"
"""The canary workflow's type name."""
LOOKUP_ACTIVITY = "orchlab.canary_lookup"
"""Its activity's name."""


@dataclass
class LookupInput:
    """One guarded call of a dependency."""

    url: str
    """What to fetch (an HTTP URL)."""
    timeout: float = 10.0
    """The client timeout of one call, in seconds (the first mitigation)."""
    breaker: str | None = None
    """A shared circuit breaker's name; None calls without one."""
    fallback: bool = False
    """Answer from a fallback when the call fails transiently or the breaker is open."""
    hold: float = 0.0
    """Seconds to work (heartbeating) before the call, so a fault can land mid-activity."""


@dataclass
class LookupOutput:
    """What a guarded call returned."""

    source: str
    """``dependency`` or ``fallback``."""
    status: int
    """The HTTP status (0 from the fallback)."""
    seconds: float
    """How long the call took."""
    attempt: int = 1
    """The activity attempt that answered."""


@dataclass
class CanaryInput:
    """The canary workflow's input."""

    lookup: LookupInput
    """The call to make."""
    attempts: int = 3
    """Activity attempts (retries with back-off between them)."""
    attempt_timeout: float = 30.0
    """Start-to-close timeout of one attempt, in seconds."""
    heartbeat: float = 2.0
    """Heartbeat timeout: a worker that died is noticed this fast."""


def guarded_fetch(call: LookupInput, heartbeat: Any = None) -> LookupOutput:
    """Fetch ``call.url`` with its timeout, breaker and fallback.

    Args:
        call: The call and its guards.
        heartbeat: Called every 0.1 s while holding (an activity's heartbeat).

    Raises:
        OSError: When the call fails and no fallback applies (a transient failure for the
            classifier: a timeout, a refused or reset connection).
    """
    end = time.monotonic() + call.hold
    while time.monotonic() < end:
        if heartbeat is not None:
            heartbeat()
        time.sleep(min(0.1, max(0.0, end - time.monotonic())))
    started = time.monotonic()

    def fetch() -> LookupOutput:
        with urllib.request.urlopen(call.url, timeout=call.timeout) as resp:
            resp.read()
            return LookupOutput("dependency", int(resp.status), time.monotonic() - started)

    def fallback(_: BaseException) -> LookupOutput:
        return LookupOutput("fallback", 0, time.monotonic() - started)

    if call.breaker:
        from orchlab.reliability import get_breaker

        breaker = get_breaker(call.breaker, fail_max=3, reset_timeout=30.0)
        return breaker.call(fetch, fallback=fallback if call.fallback else None)
    try:
        return fetch()
    except (OSError, urllib.error.URLError) as exc:
        if call.fallback:
            return fallback(exc)
        raise


@activity.defn(name=LOOKUP_ACTIVITY)
def canary_lookup(call: LookupInput) -> LookupOutput:
    """The canary's activity: :func:`guarded_fetch`, heartbeating while it holds."""
    result = guarded_fetch(call, heartbeat=activity.heartbeat)
    result.attempt = activity.info().attempt
    return result


# Not sandboxed: it reads no clock and does no I/O, and a sandbox re-imports its modules
# for every run, which costs a busy worker more than the call it makes.
@workflow.defn(name=CANARY_WORKFLOW, sandboxed=False)
class CanaryWorkflow:
    """One guarded dependency call as a durable workflow."""

    @workflow.run
    async def run(self, input: CanaryInput) -> LookupOutput:
        """Call the dependency with the input's retries and timeouts."""
        policy = RetryPolicy(max_attempts=input.attempts, initial_interval=0.2, max_interval=1.0)
        options = policy.temporal_activity_options(
            start_to_close=input.attempt_timeout, heartbeat=input.heartbeat
        )
        result: LookupOutput = await workflow.execute_activity(
            LOOKUP_ACTIVITY, input.lookup, result_type=LookupOutput, **options
        )
        return result


def canary_input(
    url: str,
    *,
    timeout: float = 10.0,
    breaker: str | None = None,
    fallback: bool = False,
    hold: float = 0.0,
    attempts: int = 3,
    heartbeat: float = 2.0,
) -> CanaryInput:
    """A :class:`CanaryInput` from flat arguments (what an experiment passes)."""
    return CanaryInput(
        LookupInput(url, timeout=timeout, breaker=breaker, fallback=fallback, hold=hold),
        attempts=attempts,
        attempt_timeout=max(30.0, hold + timeout * 2),
        # No heartbeat is sent during the call itself: the timeout must outlast it.
        heartbeat=max(heartbeat, timeout + 2.0),
    )


__all__ = [
    "CANARY_WORKFLOW",
    "LOOKUP_ACTIVITY",
    "CanaryInput",
    "CanaryWorkflow",
    "LookupInput",
    "LookupOutput",
    "canary_input",
    "canary_lookup",
    "guarded_fetch",
]
