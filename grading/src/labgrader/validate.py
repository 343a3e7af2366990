"""Prove the grader on every lab: solutions score full marks, untouched starters score zero.

For each lab, the solution notebook is graded with every check (visible and hidden) and
must pass them all; the starter that ``assign`` generates from it is graded too and must
earn nothing. The checks must also match the notebook: every check names an exercise of
the notebook, and every exercise has at least one check.

The engines the checks need are found or started once for the whole run and shared by
every check run, which run side by side (one per core).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from labgrader.assign import make_starter
from labgrader.course import Course, find_course
from labgrader.grade import grade_submission
from labgrader.notebook import (
    Submission,
    build_submission,
    exercise_ids,
    notebook_cells,
    read_notebook,
)
from labgrader.results import GradeResult, RunStatus
from labgrader.run import DEFAULT_TIMEOUT, scan_checks
from labgrader.services import service_env


@dataclass(frozen=True)
class NotebookValidation:
    """The validation of one solution notebook and its generated starter."""

    lab: str
    """The lab id."""
    notebook: str
    """The solution notebook's file name."""
    solution: GradeResult
    """The solution graded with every check."""
    starter: GradeResult
    """The generated starter graded with every check."""
    exercises: tuple[str, ...]
    """The notebook's exercise ids."""

    @property
    def problems(self) -> tuple[str, ...]:
        """Everything wrong, one sentence each; empty when the lab is sound."""
        out: list[str] = []
        for run, result in (("solution", self.solution), ("starter", self.starter)):
            if result.status is not RunStatus.OK:
                out.append(f"the {run}'s check run {result.status.value}: {result.message}")
        for c in self.solution.failed():
            if self.solution.status is RunStatus.OK:
                out.append(f"the solution fails {c.name} (exercise {c.exercise!r}): {c.message}")
        out += [
            f"the starter passes {c.name} (exercise {c.exercise!r}): a check must fail until "
            "the exercise is answered"
            for c in self.starter.checks
            if c.passed
        ]
        checked = {c.exercise for c in self.solution.checks}
        out += [
            f"{c.name} names exercise {c.exercise!r}, which the notebook does not have"
            for c in self.solution.checks
            if c.exercise not in self.exercises
        ]
        if self.solution.status is RunStatus.OK:
            out += [f"exercise {e!r} has no checks" for e in self.exercises if e not in checked]
        return tuple(out)

    @property
    def ok(self) -> bool:
        """Whether the solution earns full marks and the starter none."""
        return not self.problems


@dataclass(frozen=True)
class ValidationReport:
    """The validation of some labs."""

    notebooks: tuple[NotebookValidation, ...]
    """One entry per solution notebook."""

    @property
    def ok(self) -> bool:
        """Whether every lab is sound."""
        return all(n.ok for n in self.notebooks)


def validate(
    *,
    labs: Sequence[str] | None = None,
    course: Course | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    workers: int | None = None,
) -> ValidationReport:
    """Grade each lab's solution (must earn full marks) and starter (must earn nothing).

    Args:
        labs: Lab ids or short forms; default every lab.
        course: The course; default the one holding the current folder.
        env: Extra environment variables for every check run.
        timeout: Seconds per check run.
        workers: Check runs side by side; default the number of cores.

    Returns:
        The report: one entry per solution notebook.

    Raises:
        LabNotFound: When a lab is unknown or has no checks or no solution notebook.
        AssignError: When a solution's exercise cells are malformed.
        ServiceUnavailable: When an engine the checks need cannot be started.
    """
    here: Course = course or find_course()
    lab_ids = [here.resolve(lab) for lab in labs] if labs else here.lab_ids()
    services: set[str] = set()
    for lab in lab_ids:
        services |= scan_checks(here.checks_dir(lab)).services
    run_env = {**service_env(services, start=True), **(env or {})}
    jobs = []
    for lab in lab_ids:
        for path in here.solution_notebooks(lab):
            doc = read_notebook(path)
            starter = make_starter(doc, name=str(path.relative_to(here.root)))
            exercises = tuple(exercise_ids(notebook_cells(doc)))
            jobs.append((lab, path, build_submission(doc), build_submission(starter), exercises))

    def grade(lab: str, name: str, submission: Submission) -> GradeResult:
        return grade_submission(
            submission,
            notebook=name,
            lab=lab,
            checks_dir=here.checks_dir(lab),
            env=run_env,
            timeout=timeout,
        )

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        futures = [
            (
                lab,
                path,
                exercises,
                pool.submit(grade, lab, str(path.relative_to(here.root)), solution),
                pool.submit(grade, lab, f"starter of {path.name}", starter_sub),
            )
            for lab, path, solution, starter_sub, exercises in jobs
        ]
        results = tuple(
            NotebookValidation(lab, path.name, sol.result(), sta.result(), exercises)
            for lab, path, exercises, sol, sta in futures
        )
    return ValidationReport(results)


__all__ = ["NotebookValidation", "ValidationReport", "validate"]
