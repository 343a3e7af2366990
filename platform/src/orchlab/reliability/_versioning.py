"""Safe workflow changes: replay recorded histories against new code before deploying it.

A Temporal workflow's code must make the same decisions when it replays an execution's
history as when it first ran. Changing the order or kind of steps breaks executions that
are still open. Guard a change with ``workflow.patched("change-id")`` (new executions take the
new branch, old histories replay the old one), and prove it before the deploy:

.. code-block:: python

    histories = await recent_histories(client, "WorkflowType = 'TrainingPipeline'")
    await check_replay([TrainingPipeline], histories)   # raises ReplayMismatch when unsafe

Run it in CI against histories downloaded from production (``temporal workflow show
--output json``, loaded with ``WorkflowHistory.from_json``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from orchlab.errors import FatalError

if TYPE_CHECKING:
    from temporalio.client import Client, WorkflowHistory


class ReplayMismatch(FatalError):
    """New workflow code cannot replay recorded histories: deploying it would break them."""

    def __init__(self, report: ReplayReport) -> None:
        lines = "; ".join(f"{wid}: {err}" for wid, err in sorted(report.failures.items()))
        super().__init__(
            f"{len(report.failures)} of {report.replayed} recorded histories do not replay on "
            f"this code ({lines}); guard the change with workflow.patched(...) or keep the "
            "old code until those executions close"
        )
        self.report = report
        """What was replayed and what failed."""


@dataclass(frozen=True)
class ReplayReport:
    """The outcome of :func:`check_replay`."""

    replayed: int
    """Histories replayed."""
    failures: dict[str, str] = field(default_factory=dict)
    """Workflow id to the first line of its replay error, for each history that failed."""

    @property
    def ok(self) -> bool:
        """Whether every history replayed."""
        return not self.failures


async def recent_histories(
    client: Client, query: str = "", *, limit: int = 50
) -> list[WorkflowHistory]:
    """Download the histories of up to ``limit`` executions matching a visibility query."""
    iterator = client.list_workflows(query or None, limit=limit).map_histories()
    return [history async for history in iterator]


async def check_replay(
    workflows: Sequence[type],
    histories: Iterable[WorkflowHistory],
    *,
    raise_on_failure: bool = True,
) -> ReplayReport:
    """Replay ``histories`` with the given workflow classes (the code about to ship).

    Raises:
        ReplayMismatch: When a history does not replay and ``raise_on_failure`` is True.
    """
    from temporalio.worker import Replayer

    recorded = list(histories)
    by_run = {h.run_id: h.workflow_id for h in recorded}

    async def stream() -> AsyncIterator[WorkflowHistory]:
        for history in recorded:
            yield history

    results = await Replayer(workflows=workflows).replay_workflows(
        stream(), raise_on_replay_failure=False
    )
    failures = {
        by_run.get(run_id, run_id): (str(error).strip().splitlines() or [type(error).__name__])[0]
        for run_id, error in results.replay_failures.items()
    }
    report = ReplayReport(len(recorded), failures)
    if failures and raise_on_failure:
        raise ReplayMismatch(report)
    return report


__all__ = ["ReplayMismatch", "ReplayReport", "check_replay", "recent_histories"]
