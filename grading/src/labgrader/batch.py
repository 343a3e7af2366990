"""Grade a whole batch of submissions: ``labgrader grade LAB SUBMISSION... --out DIR``.

Every input submission (see :mod:`labgrader.intake`) yields exactly one gradebook row,
whatever happens to it. Check runs are forked from one pre-warmed server
(:mod:`labgrader.pool`), ``jobs`` at a time, each in its own session, temp folder and
resource limits; the engines the checks need start once per batch.

In DIR, per learner ``<learner>/results.json`` (Gradescope format),
``<learner>/feedback.html`` and ``<learner>/grade.json`` (the full row, written last: its
presence means "graded"); for the batch ``gradebook.csv`` and ``gradebook.json``. Every
file is written atomically, and nothing is written outside DIR. A rerun skips learners
whose ``grade.json`` matches the same submission, unless ``force``.

>>> report = grade_batch(lab="01", submissions=[Path("lms-download.zip")], out=Path("graded"))
>>> report.counts()
{'graded': 180, 'timeout': 1, 'crashed': 2, 'invalid': 3}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from labgrader.course import Course, find_course
from labgrader.errors import CourseNotFound, LabNotFound, NotebookError
from labgrader.feedback import feedback_html, results_json
from labgrader.grade import grade_submission, resolve_lab
from labgrader.gradebook import (
    DueDates,
    Row,
    Status,
    apply_late_policy,
    gradebook_csv,
    gradebook_json,
    read_due_dates,
    write_atomic,
)
from labgrader.intake import Entry, collect
from labgrader.limits import Limits
from labgrader.notebook import build_submission, parse_notebook, read_notebook
from labgrader.pool import ForkServer, notebook_imports
from labgrader.results import GradeResult, RunStatus
from labgrader.run import DEFAULT_TIMEOUT, child_environment, scan_checks
from labgrader.sandbox import (
    Sandbox,
    UserPool,
    default_sandbox,
    isolation_level,
    scrub_environment,
)
from labgrader.services import FreshTemporal, run_engines, service_env

GRADE_FILE = "grade.json"
"""The per-learner record that marks a submission as graded."""

_STATUS_OF = {
    RunStatus.OK: Status.GRADED,
    RunStatus.TIMEOUT: Status.TIMEOUT,
    RunStatus.CRASHED: Status.CRASHED,
    RunStatus.ERROR: Status.CRASHED,
    RunStatus.TAMPERED: Status.INVALID,
}


@dataclass(frozen=True)
class BatchReport:
    """The outcome of a batch."""

    lab: str
    """The lab id."""
    out: Path
    """The output folder."""
    rows: tuple[Row, ...]
    """One row per submission, in input order."""
    exercises: tuple[str, ...]
    """The lab's exercises, as the gradebook's columns."""
    reused: int
    """Rows taken from an earlier run (unchanged submissions, no ``force``)."""
    duration: float
    """Wall-clock seconds of the batch."""
    isolation: str = ""
    """The isolation check runs got on this machine, in words."""

    def counts(self) -> dict[str, int]:
        """How many rows have each status."""
        return {s.value: sum(r.status is s for r in self.rows) for s in Status}


def _row_from_result(entry: Entry, result: GradeResult) -> Row:
    status = _STATUS_OF[result.status]
    message = result.message
    if result.status is RunStatus.ERROR:
        message = f"the lab's checks are broken (not the learner's doing): {message}"
    elif status is Status.TIMEOUT:
        message += ": look for an endless loop or a call that waits forever"
    elif status is Status.CRASHED:
        message += (
            ": the notebook may exit (sys.exit, os._exit), kill processes, or run out of "
            "memory, time or processes"
        )
    exercises: dict[str, float] = {}
    for check in result.checks:
        exercises[check.exercise] = exercises.get(check.exercise, 0.0) + check.points
    return Row(
        learner=entry.learner,
        source=entry.source,
        status=status,
        score=result.points,
        max_score=result.max_points,
        raw_score=result.points,
        exercises=exercises,
        checks=[
            {
                "exercise": c.exercise,
                "name": c.name,
                "points": c.points,
                "max_points": c.max_points,
                "hidden": c.hidden,
                "passed": c.passed,
                "message": c.message,
            }
            for c in result.checks
        ],
        message=message,
        duration=result.duration,
        notes=list(result.notes),
        digest=entry.digest,
    )


def _previous(folder: Path, digest: str) -> Row | None:
    try:
        row = Row.from_dict(json.loads((folder / GRADE_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return row if row.digest == digest else None


def _solution_imports(course: Course | None, lab: str) -> list[str]:
    if course is None:
        return []
    try:
        notebooks = course.solution_notebooks(lab)
    except LabNotFound:
        return []
    names: list[str] = []
    for path in notebooks:
        try:
            names += notebook_imports(build_submission(read_notebook(path)).source)
        except NotebookError:
            continue
    return names


class BatchGrader:
    """Grades one submission at a time, thread-safe: the pre-warmed server, sandbox and
    users of a batch (or of a ``labgrader worker``). Make it with :meth:`open`."""

    def __init__(
        self,
        *,
        lab: str,
        checks: Path,
        server: ForkServer,
        env: Mapping[str, str],
        limits: Limits,
        sandbox: Sandbox,
        temporal: FreshTemporal | None = None,
    ) -> None:
        self.lab = lab
        self.checks = checks
        self.server = server
        self.env = dict(env)
        self.limits = limits
        self.sandbox = sandbox
        self.users = UserPool()
        self.temporal = temporal
        self.isolation = isolation_level(sandbox)
        if temporal is not None:
            self.isolation += "; a fresh Temporal dev server of its own per submission"
        if "PREFECT_API_URL" in self.env and sandbox.relay:
            self.isolation += "; Prefect: only the flows and runs it created"

    @classmethod
    def open(
        cls,
        *,
        lab: str,
        checks_dir: Path | None = None,
        course: Course | None = None,
        hide: Sequence[Path] = (),
        env: Mapping[str, str] | None = None,
        limits: Limits | None = None,
        jobs: int = 2,
    ) -> BatchGrader:
        """Find the lab, start the engines it needs and the pre-warmed server.

        A lab that needs Temporal (on this machine) gets a fresh dev server per submission,
        one more than ``jobs`` kept alive (see :class:`labgrader.services.FreshTemporal`).

        Raises:
            LabNotFound: When the lab is unknown or has no checks.
            CourseNotFound: When no checks folder is given and no course is found.
            ServiceUnavailable: When an engine the checks need cannot be started.
        """
        if course is None:
            try:
                course = find_course()
            except CourseNotFound:
                course = None
        lab_id, checks = resolve_lab(lab=lab, checks_dir=checks_dir, course=course)
        info = scan_checks(checks)
        run_env = {**service_env(info.services, start=True), **(env or {})}
        preload = _solution_imports(course, lab_id)
        if info.orchlab_fixtures:
            preload += ["pytest_asyncio.plugin", "orchlab.testing.fixtures"]
        sandbox = default_sandbox(course.root if course else None, [*hide, checks], engines=run_env)
        server = ForkServer(preload=preload, env=scrub_environment(child_environment(run_env)))
        server.start()
        own_temporal = "temporal" in info.services and "TEMPORAL_ADDRESS" not in (env or {})
        return cls(
            lab=lab_id,
            checks=checks,
            server=server,
            env=run_env,
            limits=limits if limits is not None else Limits(),
            sandbox=sandbox,
            temporal=FreshTemporal(servers=jobs + 1) if own_temporal else None,
        )

    def grade(self, entry: Entry, timeout: float = DEFAULT_TIMEOUT) -> Row:
        """Grade one entry (no late policy): its gradebook row, whatever happens."""
        with self.temporal.lease() if self.temporal else contextlib.nullcontext() as temporal:
            # The run's own engine state: its Temporal server, its guarded Prefect route.
            engines = run_engines(self.env, temporal=temporal, relayed=bool(self.sandbox.relay))
            sandbox = (
                replace(self.sandbox, relay=engines.routes) if engines.routes else self.sandbox
            )
            return _grade_entry(
                entry,
                lab=self.lab,
                checks=self.checks,
                server=self.server,
                env={**self.env, **engines.env},
                timeout=timeout,
                limits=self.limits,
                sandbox=sandbox,
                users=self.users,
            )

    def close(self) -> None:
        """Stop the pre-warmed server and the submissions' engines."""
        self.server.close()
        if self.temporal is not None:
            self.temporal.close()


def grade_batch(
    *,
    lab: str,
    submissions: Sequence[Path],
    out: Path,
    jobs: int | None = None,
    checks_dir: Path | None = None,
    release: bool = False,
    force: bool = False,
    due: Path | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    limits: Limits | None = None,
    env: Mapping[str, str] | None = None,
    progress: Callable[[Row, bool], None] | None = None,
    on_start: Callable[[int], None] | None = None,
    backend: str = "local",
    address: str | None = None,
    task_queue: str | None = None,
    heartbeat: float = 30.0,
    key_file: Path | None = None,
    store: Path | None = None,
) -> BatchReport:
    """Grade every submission of a batch and write the results, feedback and gradebook.

    Args:
        lab: The lab id or short form.
        submissions: Notebooks, folders of notebooks, zips (see :mod:`labgrader.intake`).
        out: The output folder (created); nothing is written outside it.
        jobs: Submissions graded side by side; default the number of cores.
        checks_dir: The lab's checks folder (default ``grading/checks/<lab>``).
        release: Show hidden checks' results in the feedback pages.
        force: Grade again submissions already graded in ``out``.
        due: A due-date CSV (``learner,due[,extension_days]``) for the late policy.
        timeout: Seconds one submission's check run may take.
        limits: Resource limits per submission (default :class:`Limits` ``()``).
        env: Extra environment variables for the check runs.
        progress: Called with each finished row and whether it was reused.
        on_start: Called once with the number of submissions, before grading starts.
        backend: ``local`` (this machine) or ``temporal`` (one workflow per submission,
            graded by ``labgrader worker`` processes; see :mod:`labgrader.distributed`).
        address: The Temporal frontend (default: the one orchlab runs or starts).
        task_queue: The workers' task queue (default ``labgrader-grading``).
        heartbeat: Seconds without a heartbeat before a worker is presumed dead.
        key_file: The workers' key (default ``LABGRADER_KEY_FILE`` / ``LABGRADER_KEY``):
            ``temporal`` accepts only rows signed with it.
        store: Shared storage the workers read notebooks from (``temporal``; default
            ``DIR/.submissions``).

    Returns:
        The report: one row per submission.

    Raises:
        LabNotFound: When the lab is unknown or has no checks.
        CourseNotFound: When no checks folder is given and no course is found.
        DueDatesError: When the due-date CSV cannot be read.
        WorkerKeyError: With ``temporal``, when the workers' key is missing or weak.
        ServiceUnavailable: When an engine the checks need cannot be started.
    """
    started = time.monotonic()
    course: Course | None
    try:
        course = find_course()
    except CourseNotFound:
        course = None
    lab_id, checks = resolve_lab(lab=lab, checks_dir=checks_dir, course=course)
    scan_checks(checks)  # a lab without checks fails here, before any submission is read
    dates = read_due_dates(due) if due else DueDates(None, {})
    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    entries = collect(submissions, lab=lab_id)
    if on_start:
        on_start(len(entries))

    rows: dict[int, Row] = {}
    todo: list[tuple[int, Entry]] = []
    reused = 0
    for index, entry in enumerate(entries):
        previous = None if force else _previous(out / entry.learner, entry.digest)
        if previous is not None:
            rows[index] = previous
            reused += 1
            _write_learner(out, previous, lab=lab_id, release=release)
            if progress:
                progress(previous, True)
        else:
            todo.append((index, entry))

    def finish(entry: Entry, row: Row) -> Row:
        apply_late_policy(row, dates.late_days(entry.learner, entry.submitted))
        _write_learner(out, row, lab=lab_id, release=release)
        if progress:
            progress(row, False)
        return row

    isolation = ""
    if todo and backend == "temporal":
        isolation = "the labgrader workers' own (each logs it when it starts)"
        from labgrader.distributed import TASK_QUEUE, grade_remote
        from labgrader.worker_auth import load_key

        remote = asyncio.run(
            grade_remote(
                [e for _, e in todo],
                lab=lab_id,
                address=address or service_env({"temporal"}, start=True)["TEMPORAL_ADDRESS"],
                task_queue=task_queue or TASK_QUEUE,
                timeout=timeout,
                key=load_key(key_file),
                store=store or out / ".submissions",
                heartbeat=heartbeat,
                on_row=finish,
            )
        )
        for (index, _), row in zip(todo, remote, strict=True):
            rows[index] = row
    elif todo:
        grader = BatchGrader.open(
            lab=lab_id,
            checks_dir=checks,
            course=course,
            hide=[*submissions, out],
            env=env,
            limits=limits,
            jobs=jobs or os.cpu_count() or 2,
        )
        isolation = grader.isolation
        try:
            with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 2) as pool:
                futures = [
                    (index, pool.submit(lambda e: finish(e, grader.grade(e, timeout)), entry))
                    for index, entry in todo
                ]
                for index, future in futures:
                    rows[index] = future.result()
        finally:
            grader.close()

    ordered = [rows[i] for i in range(len(entries))]
    exercises: list[str] = []
    for row in ordered:
        for name in row.exercises:
            if name not in exercises:
                exercises.append(name)
    max_score = max((r.max_score for r in ordered), default=0.0)
    for row in ordered:
        if row.status is Status.INVALID:
            row.max_score = max_score
    write_atomic(out / "gradebook.csv", gradebook_csv(ordered, exercises))
    write_atomic(out / "gradebook.json", gradebook_json(ordered, exercises, lab=lab_id))
    return BatchReport(
        lab_id,
        out,
        tuple(ordered),
        tuple(exercises),
        reused,
        time.monotonic() - started,
        isolation,
    )


def _grade_entry(
    entry: Entry,
    *,
    lab: str,
    checks: Path,
    server: ForkServer,
    env: Mapping[str, str],
    timeout: float,
    limits: Limits,
    sandbox: Sandbox,
    users: UserPool,
) -> Row:
    if entry.problem or entry.data is None:
        return Row(
            entry.learner,
            entry.source,
            Status.INVALID,
            message=entry.problem or "empty",
            digest=entry.digest,
        )
    try:
        text = entry.data.decode("utf-8")
    except UnicodeDecodeError:
        return Row(
            entry.learner,
            entry.source,
            Status.INVALID,
            message="not a notebook: the file is not UTF-8 text (binary data?); submit the "
            ".ipynb file saved by Jupyter",
            digest=entry.digest,
        )
    if not text.strip():
        return Row(
            entry.learner,
            entry.source,
            Status.INVALID,
            message="the file is empty: save the notebook in Jupyter and submit it again",
            digest=entry.digest,
        )
    try:
        doc = parse_notebook(text, name="the file")
    except NotebookError as exc:
        return Row(
            entry.learner, entry.source, Status.INVALID, message=str(exc), digest=entry.digest
        )
    submission = build_submission(doc)
    result = grade_submission(
        submission,
        notebook=entry.source,
        lab=lab,
        checks_dir=checks,
        env=env,
        timeout=timeout,
        pool=server,
        limits=limits,
        sandbox=sandbox,
        users=users,
    )
    row = _row_from_result(entry, result)
    missing = sorted({c["exercise"] for c in row.checks} - set(submission.exercises))
    if missing:
        row.notes.append(
            "the notebook has no cell for exercise(s) "
            + ", ".join(missing)
            + ": keep the exercise cells of the lab notebook (their ids) when answering"
        )
    return row


def _write_learner(out: Path, row: Row, *, lab: str, release: bool) -> None:
    folder = out / row.learner
    if folder.resolve().parent != out:
        raise NotebookError(f"learner id {row.learner!r} would write outside {out}")
    write_atomic(folder / "results.json", json.dumps(results_json(row), indent=2) + "\n")
    write_atomic(folder / "feedback.html", feedback_html(row, lab=lab, release=release))
    write_atomic(folder / GRADE_FILE, json.dumps(row.to_dict(), indent=2) + "\n")


__all__ = ["GRADE_FILE", "BatchGrader", "BatchReport", "grade_batch"]
