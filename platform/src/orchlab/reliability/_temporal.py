"""Small Temporal helpers: heartbeats that resume, pause/resume/skip, continue-as-new.

* :func:`resume_point` and :class:`Heartbeat`: a long activity heartbeats its progress; when
  its worker dies, the heartbeat timeout notices within seconds (not after start-to-close)
  and the next attempt resumes from the last heartbeat's details.
* :class:`PipelineControl`: a workflow base class whose signals pause, resume and skip
  steps of a running pipeline, and whose query reports where it stands.
* :func:`continue_as_new_due`: when a long-running workflow should start afresh with its
  state carried over, before its event history grows too large.

Durable state itself needs no helper: a workflow's local variables are rebuilt from its
event history on any worker, which is why workflow code must be deterministic (no clocks,
randomness or I/O outside ``workflow.*`` APIs and activities). For changing a running
workflow's code use ``workflow.patched("change-id")``: new code paths run for new
executions while histories recorded before the change replay the old path.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

from temporalio import activity, workflow

T = TypeVar("T")


def resume_point(default: T) -> T:
    """The first heartbeat detail of the previous attempt of this activity, or ``default``.

    Call at the start of an activity that heartbeats its progress (an index, a cursor) to
    skip work an earlier attempt already did. Details arrive as JSON types (a dataclass
    heartbeated comes back as a dict).
    """
    details = activity.info().heartbeat_details
    if not details:
        return default
    return details[0]  # type: ignore[no-any-return]


class Heartbeat:
    """Heartbeat an async activity in the background while it works.

    ``async with Heartbeat(interval=2.0) as hb:`` sends a heartbeat every ``interval``
    seconds with the latest details given to :meth:`progress`, so the worker's death is
    seen within the activity's ``heartbeat_timeout`` and a cancellation reaches the
    activity even while it awaits something slow. Choose ``interval`` well below the
    heartbeat timeout (a third is usual); the SDK throttles what it sends to the server.
    """

    def __init__(self, *, interval: float = 1.0, details: Any = None) -> None:
        if interval <= 0:
            raise ValueError(f"interval must be > 0 seconds, got {interval}")
        self.interval = interval
        self._details: tuple[Any, ...] = () if details is None else (details,)
        self._task: asyncio.Task[None] | None = None

    def progress(self, *details: Any) -> None:
        """Record progress and heartbeat it now."""
        self._details = details
        activity.heartbeat(*details)

    async def _beat(self) -> None:
        while True:
            activity.heartbeat(*self._details)
            await asyncio.sleep(self.interval)

    async def __aenter__(self) -> Heartbeat:
        self._task = asyncio.create_task(self._beat())
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


@dataclass
class ControlStatus:
    """What :meth:`PipelineControl.status` reports."""

    paused: bool = False
    """Whether the pipeline waits at its next step."""
    current: str | None = None
    """The step running or about to run."""
    completed: list[str] = field(default_factory=list)
    """Steps done, in order."""
    skipped: list[str] = field(default_factory=list)
    """Steps skipped by request, in order."""
    skip_requested: list[str] = field(default_factory=list)
    """Steps asked to be skipped that have not been reached yet."""


class PipelineControl:
    """Base class for a workflow that can be paused, resumed and told to skip steps.

    Subclass it with ``@workflow.defn`` and call ``await self.step_gate("train")`` before
    each step: it waits while paused and returns False when the step should be skipped.
    Call :meth:`step_done` after each step. The handlers are inherited signals and a query:
    ``pause``, ``resume``, ``skip(step)`` and ``status``. A subclass with its own
    ``__init__`` (``@workflow.init``) calls ``super().__init__()``. Sandbox-safe.
    """

    def __init__(self) -> None:
        self._control = ControlStatus()

    @workflow.signal
    def pause(self) -> None:
        """Stop before the next step until resumed."""
        self._control.paused = True

    @workflow.signal
    def resume(self) -> None:
        """Continue after a pause."""
        self._control.paused = False

    @workflow.signal
    def skip(self, step: str) -> None:
        """Skip ``step`` when the pipeline reaches it."""
        if step not in self._control.skip_requested:
            self._control.skip_requested.append(step)

    @workflow.query
    def status(self) -> ControlStatus:
        """Paused or not, the current step, and what was done and skipped."""
        return self._control

    async def step_gate(self, step: str) -> bool:
        """Wait while paused; return whether ``step`` should run (False: skip it)."""
        self._control.current = step
        await workflow.wait_condition(lambda: not self._control.paused)
        if step in self._control.skip_requested:
            self._control.skip_requested.remove(step)
            self._control.skipped.append(step)
            return False
        return True

    def step_done(self, step: str) -> None:
        """Record that ``step`` finished."""
        self._control.completed.append(step)
        self._control.current = None


def continue_as_new_due(*, max_history_events: int = 10_000) -> bool:
    """Whether this workflow should ``workflow.continue_as_new`` now.

    True when the server suggests it (history near its size or count limits) or the history
    holds ``max_history_events`` events or more. Check it between units of work of a
    long-running workflow, and carry the remaining state in the new run's input.
    """
    info = workflow.info()
    return info.is_continue_as_new_suggested() or (
        info.get_current_history_length() >= max_history_events
    )


__all__ = [
    "ControlStatus",
    "Heartbeat",
    "PipelineControl",
    "continue_as_new_due",
    "resume_point",
]
