"""Grade a whole batch of submissions: ``labgrader grade LAB SUBMISSION... --out DIR``.

Every input submission (see :mod:`labgrader.intake`) yields exactly one gradebook row,
whatever happens to it. Check runs are forked from one pre-warmed server
(:mod:`labgrader.pool`), ``jobs`` at a time, each in its own session, temp folder and
resource limits; the engines the checks need start once per batch.

In DIR, per learner the files that may be handed to the learner: ``<learner>/results.json``
(Gradescope format), ``<learner>/feedback.html`` and ``<learner>/grade.json`` (the row as the
learner may see it: see :func:`labgrader.feedback.learner_view`); the grader's full record of
each learner in ``.records/<learner>.json`` (written last: its presence means "graded");
for the batch ``gradebook.csv``, ``gradebook.json`` and ``batch.log`` (what was skipped and
why, every refused file's reason, the traceback of every ``error`` row). Every file is
written atomically, and nothing is written outside DIR. A rerun skips learners whose record
matches the same submission (except ``error`` rows), unless ``force``.

The batch never dies for one file: each submission is graded under a guard of its own, so
an unexpected exception becomes that submission's ``error`` row; and whatever stops the
batch, the gradebook and the log are written (a submission not graded by then gets an
``error`` row saying so). Check runs get their folders inside one folder of the batch's
own, which only the grader may enter (mode 0700), deleted at the end.

>>> report = grade_batch(lab="01", submissions=[Path("lms-download.zip")], out=Path("graded"))
>>> report.counts()
{'graded': 180, 'timeout': 1, 'crashed': 2, 'invalid': 3, 'error': 0}
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from labgrader.course import Course, find_course
from labgrader.errors import CourseNotFound, LabNotFound, NotebookError
from labgrader.grade import grade_submission, resolve_lab
from labgrader.gradebook import (
    DueDates,
    Row,
    Status,
    apply_late_policy,
    read_due_dates,
    write_atomic,
)
from labgrader.intake import (
    MAX_NOTEBOOK_BYTES,
    Entry,
    Skipped,
    check_inputs,
    collect,
    load_notebook,
    require_entries,
)
from labgrader.limits import Limits
from labgrader.notebook import Submission, build_submission, read_notebook
from labgrader.pool import ForkServer, notebook_imports
from labgrader.publish import GRADE_FILE, RECORDS, Publication
from labgrader.pytest_plugin import first_line
from labgrader.results import GradeResult, RunStatus
from labgrader.run import DEFAULT_TIMEOUT, checks_preload, child_environment, scan_checks
from labgrader.sandbox import (
    Sandbox,
    UserPool,
    default_sandbox,
    isolation_level,
    scrub_environment,
)
from labgrader.services import FreshTemporal, run_engines, service_env

LOG_FILE = "batch.log"
"""The batch's log in the output folder."""
RUNS_MODE = 0o700
"""The mode of a batch's folder of runs (see :func:`runs_folder`)."""
RUNS_MODE_ROOT = 0o711
"""Its mode as root, where each run is a user of its own that must reach its own folder."""

_STATUS_OF = {
    RunStatus.OK: Status.GRADED,
    RunStatus.TIMEOUT: Status.TIMEOUT,
    RunStatus.CRASHED: Status.CRASHED,
    RunStatus.ERROR: Status.ERROR,
    RunStatus.TAMPERED: Status.INVALID,
}


class BatchLog:
    """The batch's log: one timestamped line per event, tracebacks indented below it.

    Thread-safe; kept in memory and written as ``batch.log`` when the batch ends (however
    it ends).
    """

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def write(self, text: str, *, detail: str = "") -> None:
        """Add a line (and an indented detail, such as a traceback)."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        block = [f"{stamp} {text}", *("    " + line for line in detail.rstrip().splitlines())]
        with self._lock:
            self._lines += block

    def text(self) -> str:
        """Everything logged so far."""
        with self._lock:
            return "\n".join(self._lines) + "\n"


def error_row(entry: Entry, exc: BaseException, *, log: BatchLog | None, doing: str) -> Row:
    """The ``error`` row of a submission the grader failed on; the traceback goes to the log.

    Args:
        entry: The submission.
        exc: What the grader raised.
        log: Where the traceback goes.
        doing: What the grader was doing, for the message (``grading it``).
    """
    first = first_line(str(exc))
    error = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    if log is not None:
        log.write(
            f"error {entry.learner} ({entry.source}) while {doing}: {error}",
            detail="".join(traceback.format_exception(exc)),
        )
    return Row(
        entry.learner,
        entry.source,
        Status.ERROR,
        message=(
            f"the grader failed while {doing} (not the learner's doing): {error}; the "
            f"traceback is in {LOG_FILE}: regrade with --force once fixed"
        ),
        digest=entry.digest,
        notes=list(entry.notes),
    )


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
    skipped: tuple[Skipped, ...] = ()
    """Files and folders of the inputs that are no submission, each with its reason."""
    log: Path | None = None
    """The batch log (``DIR/batch.log``)."""

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
                "seconds": c.seconds,
            }
            for c in result.checks
        ],
        message=message,
        duration=result.duration,
        notes=[*entry.notes, *result.notes],
        digest=entry.digest,
    )


def _previous(out: Path, learner: str, digest: str) -> Row | None:
    try:
        record = out / RECORDS / f"{learner}.json"
        row = Row.from_dict(json.loads(record.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return row if row.digest == digest and row.status is not Status.ERROR else None


JOBS_PER_CORE = 2
"""Submissions graded side by side per core, by default. Measured with
``benchmarks/engine_labs.py`` on 2 cores (docs/instructors/grading-time.md): the engine labs
wait on the engines most of the time, and 4 jobs graded lab 03 at 0.07 submissions per
second against 0.05 with 2 and 0.02 with 1; lab 04 peaked at 4 too (0.35, 0.31 with 8)."""


def default_jobs() -> int:
    """How many submissions a batch grades side by side unless told: two per core."""
    return JOBS_PER_CORE * (os.cpu_count() or 1)


def _solutions(course: Course | None, lab: str) -> list[Submission]:
    """The lab's solution notebooks, built (to warm the check-run server with)."""
    if course is None:
        return []
    try:
        notebooks = course.solution_notebooks(lab)
    except LabNotFound:
        return []
    built: list[Submission] = []
    for path in notebooks:
        try:
            built.append(build_submission(read_notebook(path)))
        except NotebookError:
            continue
    return built


def runs_folder() -> Path:
    """A new folder for a batch's check runs, that only the grader may list or write.

    Each run's own folder is made inside it, so no run's files lie loose in the system's
    temporary folder; the folder is deleted when the batch ends (:meth:`BatchGrader.close`).
    Its mode is 0700 when the runs share the grader's user (not root: the runs' mount
    namespaces are what keeps them apart then). As root every run is a user of its own,
    which must reach its own folder by name: the batch folder is then 0711 (others may pass
    through, never list or write it), and each run's folder is 0700 and its run user's, so
    no run can open another's.
    """
    folder = Path(tempfile.mkdtemp(prefix="labgrader-batch-"))
    os.chmod(folder, RUNS_MODE_ROOT if os.getuid() == 0 else RUNS_MODE)
    return folder


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
        runs: Path | None = None,
        log: BatchLog | None = None,
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
        self.runs = runs if runs is not None else runs_folder()
        """The folder the check runs' folders are made in (see :func:`runs_folder`)."""
        self.log = log

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
        log: BatchLog | None = None,
        on_stage: Callable[[str], None] | None = None,
    ) -> BatchGrader:
        """Find the lab, start the engines it needs and the pre-warmed server.

        A lab that needs Temporal (on this machine) gets a fresh dev server per submission,
        one more than ``jobs`` kept alive (see :class:`labgrader.services.FreshTemporal`).
        ``log`` receives the traceback of every submission the grader fails on;
        ``on_stage`` what is being started, then how long it took, in words.

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
        began = time.monotonic()
        say = on_stage or (lambda _: None)
        names = {"temporal": "Temporal", "prefect": "Prefect"}
        engines = " and ".join(names.get(e, e) for e in sorted(info.services))
        what = f"{engines} and the grader" if engines else "the grader"
        say(f"starting {what} (engines once per batch, a pre-warmed grader)...")
        run_env = {**service_env(info.services, start=True), **(env or {})}
        solutions = _solutions(course, lab_id)
        preload = checks_preload(checks, info)
        preload += [name for sub in solutions for name in notebook_imports(sub.source)]
        sandbox = default_sandbox(course.root if course else None, [*hide, checks], engines=run_env)
        server = ForkServer(
            preload=preload, env=scrub_environment(child_environment(run_env)), warm=solutions
        )
        server.start()
        own_temporal = "temporal" in info.services and "TEMPORAL_ADDRESS" not in (env or {})
        say(f"{what} ready in {time.monotonic() - began:.1f} s")
        return cls(
            lab=lab_id,
            checks=checks,
            server=server,
            env=run_env,
            limits=limits if limits is not None else Limits(),
            sandbox=sandbox,
            temporal=FreshTemporal(servers=jobs + 1) if own_temporal else None,
            log=log,
        )

    def grade(self, entry: Entry, timeout: float = DEFAULT_TIMEOUT) -> Row:
        """Grade one entry (no late policy): its gradebook row, whatever happens.

        Any exception the grader raises on it (not the learner's process: that one's
        failures are rows already) becomes its ``error`` row, the traceback in the log.
        """
        try:
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
                    runs=self.runs,
                )
        except Exception as exc:
            return error_row(entry, exc, log=self.log, doing="grading it")

    def close(self) -> None:
        """Stop the pre-warmed server and the submissions' engines; delete the runs' folder."""
        try:
            self.server.close()
            if self.temporal is not None:
                self.temporal.close()
        finally:
            shutil.rmtree(self.runs, ignore_errors=True)


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
    on_stage: Callable[[str], None] | None = None,
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
        jobs: Submissions graded side by side; default two per core (:func:`default_jobs`).
        checks_dir: The lab's checks folder (default ``grading/checks/<lab>``).
        release: Show hidden checks' results in the feedback pages.
        force: Grade again submissions already graded in ``out``.
        due: A due-date CSV (``learner,due[,extension_days]``) for the late policy.
        timeout: Seconds one submission's check run may take.
        limits: Resource limits per submission (default :class:`Limits` ``()``).
        env: Extra environment variables for the check runs.
        progress: Called with each finished row and whether it was reused.
        on_start: Called once with the number of submissions, before grading starts.
        on_stage: Called with what the batch is starting (engines, the grader) and when it
            is ready, in words.
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
        SubmissionsNotFound: When an input does not exist or the inputs hold no
            submission (before any engine starts or any file is written).
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
    max_bytes = course.grading.max_notebook_bytes if course else MAX_NOTEBOOK_BYTES
    dates = read_due_dates(due) if due else DueDates(None, {})
    check_inputs(submissions)
    intake = collect(submissions, lab=lab_id, max_bytes=max_bytes)
    require_entries(intake, submissions)
    out = out.resolve()
    publication = Publication.open(out, lab=lab_id, release=release, checks=checks)
    out.mkdir(parents=True, exist_ok=True)
    log = BatchLog()
    log.write(f"batch of lab {lab_id}: {len(submissions)} input(s), output {out}")
    entries = intake.entries
    for item in intake.skipped:
        log.write(item.line())
    if on_start:
        on_start(len(entries))

    rows: dict[int, Row] = {}
    todo: list[tuple[int, Entry]] = []
    reused = 0
    isolation = ""

    def finish(entry: Entry, row: Row) -> Row:
        try:
            apply_late_policy(row, dates.late_days(entry.learner, entry.submitted))
            publication.write_learner(row, keep=entry.data)
        except Exception as exc:
            row = error_row(entry, exc, log=log, doing="writing its files")
            try:
                publication.write_learner(row)
            except Exception as again:
                log.write(f"error {entry.learner}: its files were not written: {again}")
        if row.status is Status.INVALID:
            log.write(f"invalid {entry.learner} ({entry.source}): {row.message}")
        if progress:
            progress(row, False)
        return row

    try:
        for index, entry in enumerate(entries):
            previous = None if force else _previous(out, entry.learner, entry.digest)
            if previous is not None:
                rows[index] = previous
                reused += 1
                publication.write_learner(previous, keep=entry.data)
                if progress:
                    progress(previous, True)
            else:
                todo.append((index, entry))
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
                jobs=jobs or default_jobs(),
                log=log,
                on_stage=on_stage,
            )
            isolation = grader.isolation
            try:
                with ThreadPoolExecutor(max_workers=jobs or default_jobs()) as pool:
                    futures = [
                        (index, pool.submit(lambda e: finish(e, grader.grade(e, timeout)), entry))
                        for index, entry in todo
                    ]
                    for index, future in futures:
                        rows[index] = future.result()
            finally:
                grader.close()
    except BaseException as exc:
        # Whatever stopped the batch (an engine that would not start, Ctrl-C), the
        # gradebook says so for every submission not graded by then.
        for index, entry in enumerate(entries):
            if index not in rows:
                rows[index] = error_row(entry, exc, log=None, doing="the batch stopped")
        log.write(
            f"the batch stopped: {type(exc).__name__}: {first_line(str(exc))}",
            detail="".join(traceback.format_exception(exc)),
        )
        _write_batch(publication, [rows[i] for i in range(len(entries))], log=log)
        raise

    ordered = _write_batch(publication, [rows[i] for i in range(len(entries))], log=log)
    exercises: list[str] = []
    for row in ordered:
        for name in row.exercises:
            if name not in exercises:
                exercises.append(name)
    return BatchReport(
        lab_id,
        out,
        tuple(ordered),
        tuple(exercises),
        reused,
        time.monotonic() - started,
        isolation,
        intake.skipped,
        out / LOG_FILE,
    )


def _write_batch(publication: Publication, ordered: list[Row], *, log: BatchLog) -> list[Row]:
    """Write the gradebook (CSV and JSON) and the log; return the rows as exported."""
    counts = ", ".join(
        f"{n} {s.value}" for s in Status if (n := sum(r.status is s for r in ordered))
    )
    log.write(f"gradebook written: {len(ordered)} row(s): {counts or 'none'}")
    shown = publication.write_gradebook(ordered)
    write_atomic(publication.out / LOG_FILE, log.text())
    return shown


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
    runs: Path | None = None,
) -> Row:
    try:
        doc = load_notebook(entry)
    except NotebookError as exc:
        return Row(
            entry.learner,
            entry.source,
            Status.INVALID,
            message=str(exc),
            digest=entry.digest,
            notes=list(entry.notes),
        )
    submission = build_submission(doc)
    del doc
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
        run_base=runs,
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


__all__ = [
    "GRADE_FILE",
    "LOG_FILE",
    "RECORDS",
    "RUNS_MODE",
    "RUNS_MODE_ROOT",
    "BatchGrader",
    "BatchLog",
    "BatchReport",
    "error_row",
    "grade_batch",
    "runs_folder",
]
