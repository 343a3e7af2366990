"""A step's retry policy as plain data: what a spec says and an execution plan carries.

:class:`StepRetry` holds exactly the fields of :class:`orchlab.reliability.RetryPolicy` that
a spec can state (attempts, backoff, jitter, maximum interval, deadline), as JSON-able
values, so that it can travel inside a plan to a Temporal workflow or a Prefect flow.
Every runner turns it into the one :class:`~orchlab.reliability.RetryPolicy` with
:meth:`StepRetry.policy` and renders that: the local runner runs it, Prefect gets
:meth:`~orchlab.reliability.RetryPolicy.prefect_task_options` and Temporal
:meth:`~orchlab.reliability.RetryPolicy.temporal_activity_options`.

In a spec::

    retry:
      max_attempts: 4        # attempts in all, the first included
      initial_interval: 0.5  # seconds before the first retry
      backoff: 2             # each delay is the previous one times this
      max_interval: 10       # no single delay is longer
      jitter: full           # none | full | equal
      deadline: 60           # no retry starts later than this after the first attempt

The older fixed-delay fields ``retries: N`` and ``retry_delay_seconds: D`` still work: they
mean ``StepRetry.fixed(retries=N, delay=D)`` (N + 1 attempts, D seconds apart, no backoff
or jitter).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import ConfigDict

from orchlab.reliability._retry import Jitter, RetryPolicy

JitterName = Literal["none", "full", "equal"]
"""The jitter modes a spec may name (see :class:`orchlab.reliability.Jitter`)."""


@dataclass(frozen=True)
class StepRetry:
    """How a step retries transient failures; defaults are :class:`RetryPolicy`'s.

    Build the runnable policy with :meth:`policy`; check the values with :meth:`check`
    (the spec does, so a plan only holds valid ones).
    """

    # Unknown fields in a spec's retry block are refused. Not annotated, so that it is no
    # field, and Temporal's converter (which resolves every annotation) never sees it.
    __pydantic_config__ = ConfigDict(extra="forbid")

    max_attempts: int = 3
    """Attempts in all, the first included (1: no retry)."""
    initial_interval: float = 1.0
    """Seconds before the first retry, before jitter."""
    backoff: float = 2.0
    """Each delay is the previous one times this (>= 1; 1 keeps the delay fixed)."""
    max_interval: float = 60.0
    """The longest single delay, in seconds."""
    jitter: JitterName = "full"
    """How delays are randomised: ``none``, ``full`` (uniform in [0, delay]) or ``equal``
    (uniform in [delay / 2, delay])."""
    deadline: float | None = None
    """Seconds after the first attempt's start past which no retry starts; None for none.
    On Temporal it is the activity's schedule-to-close timeout."""

    @classmethod
    def fixed(cls, *, retries: int, delay: float) -> StepRetry:
        """The older spec fields' meaning: ``retries`` retries, ``delay`` seconds apart."""
        return cls.from_policy(RetryPolicy.fixed(retries=retries, delay=delay))

    @classmethod
    def from_policy(cls, policy: RetryPolicy) -> StepRetry:
        """The spec-level fields of ``policy`` (its classifier, clock and sleep stay behind)."""
        return cls(
            max_attempts=policy.max_attempts,
            initial_interval=policy.initial_interval,
            backoff=policy.backoff,
            max_interval=policy.max_interval,
            jitter=policy.jitter.value,  # type: ignore[arg-type]
            deadline=policy.deadline,
        )

    @classmethod
    def from_dict(cls, data: StepRetry | dict[str, Any]) -> StepRetry:
        """Rebuild from :meth:`to_dict` output (as a plan's JSON form holds it)."""
        return data if isinstance(data, StepRetry) else cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain JSON-able data."""
        return asdict(self)

    @property
    def retries(self) -> int:
        """Retries after the first attempt."""
        return self.max_attempts - 1

    def policy(self, **options: Any) -> RetryPolicy:
        """The runnable :class:`orchlab.reliability.RetryPolicy` these fields describe.

        Args:
            **options: The policy's other fields: ``classifier``, ``seed``, ``clock``,
                ``sleep``, ``async_sleep``, ``on_retry``.

        Raises:
            ValueError: When a bound is out of range (the policy's own message).
        """
        return RetryPolicy(
            max_attempts=self.max_attempts,
            initial_interval=self.initial_interval,
            backoff=self.backoff,
            max_interval=self.max_interval,
            jitter=Jitter(self.jitter),
            deadline=self.deadline,
            **options,
        )

    def check(self) -> None:
        """Check the fields as every runner needs them.

        Raises:
            ValueError: When the policy is invalid, or Prefect cannot render it (more
                than 50 growing delays); the message names the field.
        """
        self.policy().prefect_task_options()

    def describe(self) -> str:
        """One line for plans and listings: ``3 attempts, 1s x2 up to 60s, full jitter``."""
        if self.max_attempts == 1:
            return "no retry"
        if self.backoff == 1 or self.initial_interval == self.max_interval:
            delays = f"{self.initial_interval:g}s apart"
        else:
            delays = f"{self.initial_interval:g}s x{self.backoff:g} up to {self.max_interval:g}s"
        text = f"{self.max_attempts} attempts, {delays}"
        if self.jitter != "none":
            text += f", {self.jitter} jitter"
        if self.deadline is not None:
            text += f", deadline {self.deadline:g}s"
        return text


NO_RETRY = StepRetry(max_attempts=1)
"""One attempt: what a step without retry settings gets."""


__all__ = ["NO_RETRY", "JitterName", "StepRetry"]
