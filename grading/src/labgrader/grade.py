"""Grade one notebook against one lab's checks: the keyword-only Python API.

>>> result = grade_notebook("labs/01-pipeline-patterns/01-pipeline-patterns.ipynb", lab="01")
>>> f"{result.points:g}/{result.max_points:g}"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from labgrader.assign import STUB
from labgrader.course import Course, find_course, lab_from_path
from labgrader.errors import CourseNotFound, LabNotFound
from labgrader.gradebook import REVIEW_PREFIX
from labgrader.guard import review_flags
from labgrader.limits import Limits
from labgrader.notebook import Submission, build_submission, read_notebook
from labgrader.pool import ForkServer
from labgrader.results import GradeResult
from labgrader.run import DEFAULT_TIMEOUT, run_checks
from labgrader.sandbox import Sandbox, UserPool


def resolve_lab(
    *,
    lab: str | None,
    notebook: Path | None = None,
    checks_dir: Path | None = None,
    course: Course | None = None,
) -> tuple[str, Path]:
    """Work out the lab id and its checks folder.

    Args:
        lab: A lab id or short form; when ``None``, inferred from the notebook's folder or
            file name.
        notebook: The notebook being graded (its location also finds the course).
        checks_dir: The checks folder, when the checks live outside the course (hidden
            checks kept by an instructor).
        course: The course; default the one holding the notebook, else the current folder.

    Returns:
        The lab id and its checks folder.

    Raises:
        LabNotFound: When the lab cannot be inferred or named no lab.
        CourseNotFound: When no checks folder is given and no course is found.
    """
    if lab is None and notebook is not None:
        lab = lab_from_path(notebook)
    if lab is None:
        where = f"{notebook.name!r}" if notebook else "the current folder"
        raise LabNotFound(
            f"cannot tell which lab {where} belongs to: name its folder or file after the lab "
            "(01-pipeline-patterns) or pass the lab (--lab 01)"
        )
    if course is None:
        for start in ([notebook.parent] if notebook else []) + [Path.cwd()]:
            try:
                course = find_course(start)
                break
            except CourseNotFound:
                continue
    if course is None:
        if checks_dir is not None:
            return lab, checks_dir
        raise CourseNotFound(
            "no course found around the notebook or the current folder: run from inside the "
            "course, or pass the checks folder (--checks)"
        )
    try:
        lab = course.resolve(lab)
    except LabNotFound:
        if checks_dir is None:
            raise
    return lab, checks_dir or course.checks_dir(lab)


def grade_submission(
    submission: Submission,
    *,
    notebook: str,
    lab: str,
    checks_dir: Path,
    include_hidden: bool = True,
    exercise: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    pool: ForkServer | None = None,
    limits: Limits | None = None,
    first_failure: bool = False,
    sandbox: Sandbox | None = None,
    users: UserPool | None = None,
    run_base: Path | None = None,
) -> GradeResult:
    """Grade an already-built submission (see :func:`grade_notebook`).

    ``pool`` forks the check run from a pre-warmed server, ``limits`` bounds its resources
    ``first_failure`` stops at the first failing check, ``sandbox`` and ``users`` isolate
    it, and ``run_base`` is the folder its run folder is made in (see
    :func:`labgrader.run.run_checks`).
    """
    outcome = run_checks(
        submission,
        checks_dir=checks_dir,
        exercise=exercise,
        include_hidden=include_hidden,
        env=env,
        timeout=timeout,
        pool=pool,
        limits=limits,
        first_failure=first_failure,
        sandbox=sandbox,
        users=users,
        base=run_base,
    )
    # A failing check of an exercise whose cell still holds the starter's stub says only
    # that: the check's own message would describe symptoms of the stub.
    unanswered = {x for x in submission.exercises if STUB.format(exercise=x) in submission.source}
    checks = tuple(
        replace(
            c,
            message="not answered yet: its cell still raises NotImplementedError",
        )
        if not c.passed and c.exercise in unanswered
        else c
        for c in outcome.checks
    )
    notes = tuple(
        f"cell {number} was not graded: {reason}"
        for number, reason in submission.skipped
        if not reason.startswith("tagged")
    )
    notes += tuple(
        f"{REVIEW_PREFIX}: the notebook tried to {what} (refused)" for what in outcome.flags
    )
    notes += tuple(
        f"{REVIEW_PREFIX}: the notebook {what}, at {submission.where(line)}: {text}"
        for what, line, text in review_flags(submission.source)
    )
    return GradeResult(
        notebook=notebook,
        lab=lab,
        status=outcome.status,
        checks=checks,
        message=outcome.message,
        duration=outcome.duration,
        notes=notes,
    )


def grade_notebook(
    notebook: str | os.PathLike[str],
    *,
    lab: str | None,
    checks_dir: str | os.PathLike[str] | None = None,
    include_hidden: bool = True,
    exercise: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> GradeResult:
    """Grade a notebook against a lab's checks, in a child process.

    Args:
        notebook: The notebook file.
        lab: The lab id (``01-pipeline-patterns`` or ``01``); ``None`` infers it from the
            notebook's folder or file name.
        checks_dir: The lab's checks folder; default ``grading/checks/<lab>`` of the course
            holding the notebook (or the current folder).
        include_hidden: Run hidden checks too (grading); ``False`` runs what learners see.
        exercise: Run only this exercise's checks.
        env: Extra environment variables for the check run, such as ``TEMPORAL_ADDRESS``.
        timeout: Seconds before the run is stopped; a stopped run earns nothing.

    Returns:
        The result: one row per check, totals, and per-exercise roll-ups.

    Raises:
        NotebookError: When the notebook cannot be read.
        LabNotFound: When the lab cannot be found or has no checks.
        CourseNotFound: When no checks folder is given and no course is found.
    """
    path = Path(notebook)
    lab_id, checks = resolve_lab(
        lab=lab, notebook=path, checks_dir=Path(checks_dir) if checks_dir is not None else None
    )
    submission = build_submission(read_notebook(path))
    return grade_submission(
        submission,
        notebook=str(notebook),
        lab=lab_id,
        checks_dir=checks,
        include_hidden=include_hidden,
        exercise=exercise,
        env=env,
        timeout=timeout,
    )


__all__ = ["grade_notebook", "grade_submission", "resolve_lab"]
