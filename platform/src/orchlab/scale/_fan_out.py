"""Fan-out / fan-in with bounded concurrency, partial failure collected, failed shards retried
alone.

Works in Temporal workflow code (asyncio tasks and a semaphore are deterministic there) and in
any asyncio program::

    @workflow.run
    async def run(self, shards: list[str]) -> dict[int, int]:
        score = lambda shard: workflow.execute_activity(
            score_shard, shard, start_to_close_timeout=timedelta(minutes=5))
        result = await fan_out(score, shards, max_concurrent=8)
        if result.failed:                        # only the failed shards run again
            result = await result.retry_failed(score, max_concurrent=8)
        return result.succeeded

Bounded concurrency matters on Temporal: a workflow that starts 10,000 activities at once
writes 10,000 events in one task and floods the task queue; eight at a time keeps the history
growing steadily and the workers busy without a backlog.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from orchlab.errors import error_text

In = TypeVar("In")
Out = TypeVar("Out")


@dataclasses.dataclass
class FanOutResult(Generic[In, Out]):
    """Every shard's outcome, by its index in the input."""

    items: Sequence[In]
    """The shards, as given."""
    succeeded: dict[int, Out] = dataclasses.field(default_factory=dict)
    """Index to result, for the shards that succeeded."""
    failed: dict[int, str] = dataclasses.field(default_factory=dict)
    """Index to the error (``Type: message``), for the shards that failed."""
    attempts: dict[int, int] = dataclasses.field(default_factory=dict)
    """Index to how many times this fan-out called it."""

    @property
    def complete(self) -> bool:
        """Whether every shard succeeded."""
        return not self.failed and len(self.succeeded) == len(self.items)

    def results(self) -> list[Out]:
        """The results in input order.

        Raises:
            RuntimeError: Some shards failed (naming them and their first error).
        """
        if not self.complete:
            first = min(self.failed)
            raise RuntimeError(
                f"{len(self.failed)} of {len(self.items)} shards failed (indexes "
                f"{sorted(self.failed)}); shard {first}: {self.failed[first]}"
            )
        return [self.succeeded[i] for i in range(len(self.items))]

    async def retry_failed(
        self, call: Callable[[In], Awaitable[Out]], *, max_concurrent: int
    ) -> FanOutResult[In, Out]:
        """Run the failed shards again (only them); a new result with every shard's outcome."""
        again = await _run(call, self.items, sorted(self.failed), max_concurrent)
        merged = FanOutResult[In, Out](
            self.items,
            {**self.succeeded, **again.succeeded},
            dict(again.failed),
            {i: self.attempts.get(i, 0) + again.attempts.get(i, 0) for i in self.attempts},
        )
        return merged


def _reason(exc: BaseException) -> str:
    # Temporal wraps an activity's error (ActivityError -> ApplicationError): name the root.
    while getattr(exc, "cause", None) is not None:
        exc = exc.cause  # type: ignore[attr-defined]
    return error_text(exc)


async def fan_out(
    call: Callable[[In], Awaitable[Out]], items: Sequence[In], *, max_concurrent: int
) -> FanOutResult[In, Out]:
    """Call ``call`` on every item, at most ``max_concurrent`` at a time; collect every outcome.

    A failing shard does not cancel the others: the result says which failed and why. A
    cancellation of the caller (a cancelled workflow) does cancel them.

    Raises:
        ValueError: ``max_concurrent`` is not a positive int.
    """
    return await _run(call, items, range(len(items)), max_concurrent)


async def _run(
    call: Callable[[In], Awaitable[Out]],
    items: Sequence[In],
    indexes: Sequence[int] | range,
    max_concurrent: int,
) -> FanOutResult[In, Out]:
    if (
        isinstance(max_concurrent, bool)
        or not isinstance(max_concurrent, int)
        or max_concurrent < 1
    ):
        raise ValueError(f"max_concurrent must be a positive int, got {max_concurrent!r}")
    result = FanOutResult[In, Out](items, attempts={i: 0 for i in range(len(items))})
    gate = asyncio.Semaphore(max_concurrent)

    async def one(index: int) -> None:
        async with gate:
            result.attempts[index] += 1
            try:
                result.succeeded[index] = await call(items[index])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # collected, not raised: partial failure is the point
                result.failed[index] = _reason(exc)

    await asyncio.gather(*(one(i) for i in indexes))
    return result


__all__ = ["FanOutResult", "fan_out"]
