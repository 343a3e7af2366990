"""Grading past one machine: each submission a Temporal workflow, graded by ``labgrader worker``.

``labgrader grade LAB SUB... --out DIR --backend temporal`` starts one workflow per
submission (its id derived from the lab, the learner and the submission's fingerprint, so
a rerun finds the same workflow instead of grading twice) on a task queue; any number of
``labgrader worker --lab LAB`` processes, on any machine connected to the same Temporal
cluster, run its one activity: grade the submission exactly as the local backend does
(pre-warmed server, sandbox, limits). The activity heartbeats while it grades; a worker
that dies mid-way stops heartbeating, and Temporal retries the activity on another worker.

Nothing on the task queue is trusted:

- **Claim check.** The notebook is not in the workflow input: the coordinator puts it in
  shared storage (``--store``, a folder every worker mounts), named by its SHA-256, and
  sends only that name and digest. A worker reads the file and grades it only when its
  digest is the one the coordinator named (:func:`fetch_notebook`). Whoever polls the queue
  without the storage gets no notebook.
- **Signed rows.** A worker signs the row it returns, with the notebook's digest, using the
  key that only the coordinator and real workers hold (:mod:`labgrader.worker_auth`). The
  coordinator rejects an unsigned or mismatching row, logs it (``labgrader.distributed``),
  and sends the submission again on a task queue whose name only key holders can work out;
  after :data:`MAX_ATTEMPTS` rejections the row says so (status crashed), never a forged
  grade.
- **Out of the runs' reach.** A worker's check runs get a Temporal dev server of their own
  (:class:`labgrader.services.FreshTemporal`); the coordination server is never relayed
  into a run, and the store is hidden from runs like every other learner's work.

The client writes every file in DIR.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import re
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy, WorkflowIDConflictPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from labgrader.errors import NotebookError
from labgrader.gradebook import Row, Status
from labgrader.intake import Entry
from labgrader.worker_auth import keyed_queue, sign_row, verify_row

log = logging.getLogger("labgrader.distributed")

TASK_QUEUE = "labgrader-grading"
"""The default task queue of grading workflows."""
BUILD_ID = "labgrader-worker-1"
"""The workers' explicit build id (the default hashes every loaded module: seconds)."""
MAX_ATTEMPTS = 3
"""Times a submission is sent before its row says that no worker returned a signed row."""
_REF = re.compile(r"[0-9a-f]{64}\.ipynb")


def store_notebook(store: Path, data: bytes) -> str:
    """Put a notebook in shared storage (once: the name is its SHA-256); return its name."""
    ref = f"{hashlib.sha256(data).hexdigest()}.ipynb"
    target = store / ref
    if not target.exists():
        store.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=store, prefix=".incoming-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, target)
    return ref


def fetch_notebook(store: Path, ref: str, digest: str) -> bytes:
    """Read a notebook from shared storage, only if it is the one the coordinator named.

    Raises:
        NotebookError: When the name is not a store name, the file is missing, or its
            digest is not ``digest``.
    """
    if not _REF.fullmatch(ref):
        raise NotebookError(f"not a name in the notebook store: {ref!r}")
    try:
        data = (store / ref).read_bytes()
    except OSError as exc:
        raise NotebookError(
            f"the notebook {ref} is not in the store {store}: is it the coordinator's --store? "
            f"({exc.strerror})"
        ) from exc
    if hashlib.sha256(data).hexdigest() != digest:
        raise NotebookError(
            f"the notebook {ref} in the store is not the one the coordinator sent "
            f"(digest {hashlib.sha256(data).hexdigest()[:16]}, expected {digest[:16]}): "
            "refusing to grade it"
        )
    return data


@dataclass(frozen=True)
class GradeTask:
    """One submission to grade, as a workflow's input."""

    lab: str
    """The lab id."""
    learner: str
    """The learner id."""
    source: str
    """Where the submission came from."""
    ref: str
    """The notebook's name in shared storage (a claim check); empty when ``problem`` is set."""
    digest: str
    """The notebook's SHA-256: the worker grades only a file with this digest."""
    problem: str | None
    """Why it cannot be graded (the row is then invalid)."""
    submitted: str | None
    """ISO time of the submission."""
    timeout: float
    """Seconds the check run may take."""
    heartbeat_seconds: float = 30.0
    """A worker silent this long is presumed dead; the activity moves to another worker."""


def task_of(
    entry: Entry, *, lab: str, store: Path, timeout: float, heartbeat: float = 30.0
) -> GradeTask:
    """The workflow input for one intake entry (its notebook put in ``store``)."""
    ref = store_notebook(store, entry.data) if entry.data is not None and not entry.problem else ""
    return GradeTask(
        lab,
        entry.learner,
        entry.source,
        ref,
        entry.digest,
        entry.problem,
        entry.submitted.isoformat() if entry.submitted else None,
        timeout,
        heartbeat,
    )


def entry_of(task: GradeTask, store: Path) -> Entry:
    """The intake entry a workflow input stands for, its notebook fetched from ``store``.

    Raises:
        NotebookError: See :func:`fetch_notebook`.
    """
    return Entry(
        task.learner,
        task.source,
        fetch_notebook(store, task.ref, task.digest) if not task.problem else None,
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
    """What a worker grades with: a callable from entry to row, built once per worker, the
    shared storage it reads notebooks from and the key it signs rows with.

    Args:
        grade: Grades one entry.
        key: The workers' key (:func:`labgrader.worker_auth.load_key`).
        store: The shared notebook store.
        jobs: Submissions graded at once (over every queue the worker polls).
    """

    def __init__(
        self, grade: Callable[[Entry, float], Row], *, key: bytes, store: Path, jobs: int = 2
    ) -> None:
        self._grade = grade
        self._key = key
        self._store = store
        self._slots = threading.BoundedSemaphore(jobs)

    @activity.defn(name="labgrader-grade")
    def grade(self, task: GradeTask) -> dict[str, Any]:
        """Grade one submission, heartbeating until it is done; return the signed row."""
        try:
            entry = entry_of(task, self._store)
        except NotebookError as exc:
            activity.logger.warning("refused %s: %s", task.learner, exc)
            raise ApplicationError(str(exc), type="NotebookMismatch", non_retryable=True) from exc
        done = threading.Event()
        box: dict[str, Any] = {}

        def work() -> None:
            try:
                with self._slots:
                    box["row"] = self._grade(entry, task.timeout)
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
        return sign_row(self._key, row.to_dict(), lab=task.lab, digest=task.digest)


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
    key: bytes,
    store: Path,
    heartbeat: float = 30.0,
    on_row: Callable[[Entry, Row], object] | None = None,
) -> list[Row]:
    """Grade entries through Temporal workers; one row per entry, in order.

    Each row must come back signed with ``key`` for the entry's digest; a row that does not
    is logged and the entry is sent again (on a task queue only key holders can name), up to
    :data:`MAX_ATTEMPTS` times in all.
    """
    client = await Client.connect(address)

    async def attempt(entry: Entry, number: int) -> Row | str:
        """The verified row, or why the result was rejected."""
        queue = task_queue if number == 0 else keyed_queue(key, task_queue, number)
        wid = workflow_id(lab, entry) + (f"-resent-{number}" if number else "")
        handle = await client.start_workflow(
            GradeSubmission.run,
            task_of(entry, lab=lab, store=store, timeout=timeout, heartbeat=heartbeat),
            id=wid,
            task_queue=queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
        try:
            result = await handle.result()
        except WorkflowFailureError as exc:
            cause: BaseException | None = exc.cause
            while cause is not None and cause.__cause__ is not None:  # the worker's own words
                cause = cause.__cause__
            return Row(
                entry.learner,
                entry.source,
                Status.CRASHED,
                message=f"grading failed on every worker: {getattr(cause, 'message', cause)}",
                digest=entry.digest,
            )
        row, why = verify_row(key, result, lab=lab, digest=entry.digest, learner=entry.learner)
        if row is None:
            log.warning(
                "rejected the row for %s from workflow %s: %s; sending the submission to "
                "another worker",
                entry.learner,
                wid,
                why,
            )
            return why
        return Row.from_dict(row)

    async def one(entry: Entry) -> Row:
        rejected: list[str] = []
        for number in range(MAX_ATTEMPTS):
            outcome = await attempt(entry, number)
            if isinstance(outcome, Row):
                row = outcome
                if rejected:
                    row.notes.append(
                        f"{len(rejected)} row(s) for this submission came back without the "
                        "workers' signature and were rejected (see the batch log); this one is "
                        "signed"
                    )
                break
            rejected.append(outcome)
        else:
            row = Row(
                entry.learner,
                entry.source,
                Status.CRASHED,
                message=f"no worker returned a signed row in {MAX_ATTEMPTS} attempts "
                f"({rejected[-1]}): a worker without the key polls the task queue; see the "
                "batch log",
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
    key: bytes,
    store: Path,
    task_queue: str = TASK_QUEUE,
    jobs: int = 2,
    ready: Callable[[], None] | None = None,
) -> None:
    """Run a grading worker until cancelled: on ``task_queue`` and on the queues that
    re-sent submissions go to (named from ``key``)."""
    from concurrent.futures import ThreadPoolExecutor

    client = await Client.connect(address)
    grader = Grader(grade, key=key, store=store, jobs=jobs)
    queues = [task_queue, *(keyed_queue(key, task_queue, n) for n in range(1, MAX_ATTEMPTS))]
    with ThreadPoolExecutor(max_workers=jobs * len(queues)) as executor:
        workers = [
            Worker(
                client,
                task_queue=queue,
                workflows=[GradeSubmission],
                activities=[grader.grade],
                activity_executor=executor,
                max_concurrent_activities=jobs,
                build_id=BUILD_ID,
                # A worker that dies holds its workflows' sticky queue: give up on it quickly.
                sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
            )
            for queue in queues
        ]
        async with contextlib.AsyncExitStack() as stack:
            for worker in workers:
                await stack.enter_async_context(worker)
            if ready:
                ready()
            await asyncio.Event().wait()


def local_grader(
    *, lab: str, checks_dir: Path | None = None, store: Path | None = None, jobs: int = 2
) -> tuple[Callable[[Entry, float], Row], Callable[[], None], str]:
    """A worker's grading function, its clean-up and its isolation in words, as the local
    backend grades (the notebook ``store`` hidden from check runs)."""
    from labgrader.batch import BatchGrader

    hide = [store] if store is not None else []
    grader = BatchGrader.open(lab=lab, checks_dir=checks_dir, hide=hide, jobs=jobs)
    return grader.grade, grader.close, grader.isolation


__all__ = [
    "BUILD_ID",
    "MAX_ATTEMPTS",
    "TASK_QUEUE",
    "GradeSubmission",
    "GradeTask",
    "Grader",
    "entry_of",
    "fetch_notebook",
    "grade_remote",
    "local_grader",
    "run_worker",
    "store_notebook",
    "task_of",
    "workflow_id",
]
