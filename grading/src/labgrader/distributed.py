"""Grading past one machine: each submission a Temporal workflow, graded by ``labgrader worker``.

``labgrader grade LAB SUB... --out DIR --backend temporal`` starts one workflow per
submission (its id derived from the lab, the learner and the submission's fingerprint, so
a rerun finds the same workflow instead of grading twice) on a task queue; any number of
``labgrader worker --lab LAB`` processes, on any machine connected to the same Temporal
cluster, run its one activity: grade the submission exactly as the local backend does
(pre-warmed server, sandbox, limits). The activity heartbeats while it grades; a worker
that dies mid-way stops heartbeating, and Temporal retries the activity on another worker.
The client writes every file in DIR, so workers need no shared disk.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy
from temporalio.worker import Worker

from labgrader.gradebook import Row, Status
from labgrader.intake import Entry

TASK_QUEUE = "labgrader-grading"
"""The default task queue of grading workflows."""
BUILD_ID = "labgrader-worker-1"
"""The workers' explicit build id (the default hashes every loaded module: seconds)."""


@dataclass(frozen=True)
class GradeTask:
    """One submission to grade, as a workflow's input."""

    lab: str
    """The lab id."""
    learner: str
    """The learner id."""
    source: str
    """Where the submission came from."""
    data: str
    """The notebook file, base64; empty when ``problem`` is set."""
    problem: str | None
    """Why it cannot be graded (the row is then invalid)."""
    submitted: str | None
    """ISO time of the submission."""
    timeout: float
    """Seconds the check run may take."""
    heartbeat_seconds: float = 30.0
    """A worker silent this long is presumed dead; the activity moves to another worker."""


def task_of(entry: Entry, *, lab: str, timeout: float, heartbeat: float = 30.0) -> GradeTask:
    """The workflow input for one intake entry."""
    return GradeTask(
        lab,
        entry.learner,
        entry.source,
        base64.b64encode(entry.data or b"").decode(),
        entry.problem,
        entry.submitted.isoformat() if entry.submitted else None,
        timeout,
        heartbeat,
    )


def entry_of(task: GradeTask) -> Entry:
    """The intake entry a workflow input stands for."""
    return Entry(
        task.learner,
        task.source,
        base64.b64decode(task.data) if not task.problem else None,
        task.problem,
        datetime.fromisoformat(task.submitted) if task.submitted else None,
    )


@workflow.defn(name="labgrader-grade-submission", sandboxed=False)
class GradeSubmission:
    """Grade one submission with one activity: retried on another worker if one dies."""

    @workflow.run
    async def run(self, task: GradeTask) -> dict[str, Any]:
        """Return the submission's gradebook row as a dict."""
        result: dict[str, Any] = await workflow.execute_activity(
            "labgrader-grade",
            task,
            start_to_close_timeout=timedelta(seconds=task.timeout + 120),
            heartbeat_timeout=timedelta(seconds=task.heartbeat_seconds),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        return result


class Grader:
    """What a worker grades with: a callable from entry to row, built once per worker."""

    def __init__(self, grade: Callable[[Entry, float], Row]) -> None:
        self._grade = grade

    @activity.defn(name="labgrader-grade")
    def grade(self, task: GradeTask) -> dict[str, Any]:
        """Grade one submission, heartbeating until it is done."""
        done = threading.Event()
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                box["row"] = self._grade(entry_of(task), task.timeout)
            except BaseException as exc:
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=work, daemon=True).start()
        beat = max(0.2, task.heartbeat_seconds / 4)
        while not done.wait(beat):
            activity.heartbeat()
        if "error" in box:
            raise box["error"]
        row: Row = box["row"]
        return row.to_dict()


def workflow_id(lab: str, entry: Entry) -> str:
    """The workflow id of one submission: the same submission always gets the same id."""
    return f"labgrader-{lab}-{entry.learner}-{entry.digest[:16]}"


async def grade_remote(
    entries: Sequence[Entry],
    *,
    lab: str,
    address: str,
    task_queue: str,
    timeout: float,
    heartbeat: float = 30.0,
    on_row: Callable[[Entry, Row], object] | None = None,
) -> list[Row]:
    """Grade entries through Temporal workers; one row per entry, in order."""
    client = await Client.connect(address)

    async def one(entry: Entry) -> Row:
        handle = await client.start_workflow(
            GradeSubmission.run,
            task_of(entry, lab=lab, timeout=timeout, heartbeat=heartbeat),
            id=workflow_id(lab, entry),
            task_queue=task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            row = Row.from_dict(await handle.result())
        except WorkflowFailureError as exc:
            cause = exc.cause
            row = Row(
                entry.learner,
                entry.source,
                Status.CRASHED,
                message=f"grading failed on every worker: {getattr(cause, 'message', cause)}",
                digest=entry.digest,
            )
        if on_row:
            on_row(entry, row)
        return row

    return list(await asyncio.gather(*(one(e) for e in entries)))


async def run_worker(
    grade: Callable[[Entry, float], Row],
    *,
    address: str,
    task_queue: str = TASK_QUEUE,
    jobs: int = 2,
    ready: Callable[[], None] | None = None,
) -> None:
    """Run a grading worker until cancelled."""
    from concurrent.futures import ThreadPoolExecutor

    client = await Client.connect(address)
    grader = Grader(grade)
    with ThreadPoolExecutor(max_workers=jobs) as executor:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[GradeSubmission],
            activities=[grader.grade],
            activity_executor=executor,
            max_concurrent_activities=jobs,
            build_id=BUILD_ID,
            # A worker that dies holds its workflows' sticky queue: give up on it quickly.
            sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
        )
        async with worker:
            if ready:
                ready()
            await asyncio.Event().wait()


def local_grader(
    *, lab: str, checks_dir: Path | None = None
) -> tuple[Callable[[Entry, float], Row], Callable[[], None], str]:
    """A worker's grading function, its clean-up and its isolation in words, as the local
    backend grades."""
    from labgrader.batch import BatchGrader

    grader = BatchGrader.open(lab=lab, checks_dir=checks_dir)
    return grader.grade, grader.close, grader.isolation


__all__ = [
    "BUILD_ID",
    "TASK_QUEUE",
    "GradeSubmission",
    "GradeTask",
    "grade_remote",
    "local_grader",
    "run_worker",
    "workflow_id",
]
