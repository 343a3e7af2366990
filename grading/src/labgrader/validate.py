"""Prove the grader on every lab: solutions score full marks, starters and mutants less.

For each lab, the solution notebook is graded with every check (visible and hidden) and
must pass them all; the starter that ``assign`` generates from it is graded too and must
earn nothing. Each mutant (``grading/checks/NN-topic/mutants/*.py``, a plausible wrong
answer to one exercise) replaces its exercise's cell and must lose points on that
exercise's checks. The checks must also match the notebook: every check names an exercise of
the notebook, and every exercise has at least one check.

The engines the checks need are found or started once for the whole run and shared by
every check run. Check runs are forked from one pre-warmed server (:mod:`labgrader.pool`,
which imports the solutions' libraries once) and run side by side (one per core).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from labgrader.assign import make_starter
from labgrader.course import Course, find_course
from labgrader.grade import grade_submission
from labgrader.mutants import Mutant, apply_mutant, load_mutants
from labgrader.notebook import (
    Submission,
    build_submission,
    exercise_ids,
    notebook_cells,
    read_notebook,
)
from labgrader.pool import ForkServer, notebook_imports
from labgrader.results import GradeResult, RunStatus
from labgrader.run import DEFAULT_TIMEOUT, checks_preload, child_environment, scan_checks
from labgrader.services import service_env


@dataclass(frozen=True)
class MutantResult:
    """One mutant graded on its exercise's checks."""

    mutant: Mutant
    """The mutant."""
    result: GradeResult
    """The mutated solution graded with the checks of the mutant's exercise."""

    @property
    def caught(self) -> bool:
        """Whether the mutant failed a check (a run that crashed or timed out fails them all).

        Its run stops at the first failing check, so its points are a lower bound.
        """
        return self.result.status is not RunStatus.ERROR and any(
            not c.passed for c in self.result.checks
        )


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
    mutants: tuple[MutantResult, ...] = ()
    """The lab's mutants, each graded on its exercise's checks."""

    @property
    def mutants_caught(self) -> int:
        """How many mutants lost points."""
        return sum(m.caught for m in self.mutants)

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
        for m in self.mutants:
            if m.caught:
                continue
            r = m.result
            if r.status is RunStatus.ERROR:
                out.append(f"mutant {m.mutant.name}'s check run failed: {r.message}")
            else:
                out.append(
                    f"mutant {m.mutant.name} (exercise {m.mutant.exercise!r}: {m.mutant.why}) "
                    f"is not caught: it scores {r.points:g}/{r.max_points:g}; add a check "
                    "it fails"
                )
        return tuple(out)

    @property
    def ok(self) -> bool:
        """Whether the solution earns full marks, the starter none, and every mutant less."""
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
    progress: Callable[[str, str, GradeResult], None] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> ValidationReport:
    """Grade each lab's solution (full marks), starter (nothing) and mutants (less than full).

    Args:
        labs: Lab ids or short forms; default every lab.
        course: The course; default the one holding the current folder.
        env: Extra environment variables for every check run.
        timeout: Seconds per check run.
        workers: Check runs side by side; default the number of cores.
        progress: Called as each run ends with the lab, the stage (``solution``,
            ``starter``, ``mutant NAME``) and its result (from a worker thread).
        on_stage: Called with what is being started (the engines), then when it is ready.

    Returns:
        The report: one entry per solution notebook.

    Raises:
        LabNotFound: When a lab is unknown or has no checks or no solution notebook.
        AssignError: When a solution's exercise cells are malformed.
        MutantError: When a mutant is malformed or names an exercise the notebook lacks.
        ServiceUnavailable: When an engine the checks need cannot be started.
    """
    here: Course = course or find_course()
    lab_ids = [here.resolve(lab) for lab in labs] if labs else here.lab_ids()
    services: set[str] = set()
    for lab in lab_ids:
        services |= scan_checks(here.checks_dir(lab)).services
    say = on_stage or (lambda _: None)
    began = time.monotonic()
    names = " and ".join(sorted(services)) or "the grader"
    say(f"starting {names} for {len(lab_ids)} lab(s)...")
    run_env = {**service_env(services, start=True), **(env or {})}
    say(f"{names} ready in {time.monotonic() - began:.1f} s")
    jobs = []
    warm: list[Submission] = []
    preload: list[str] = []
    for lab in lab_ids:
        preload += checks_preload(here.checks_dir(lab))
        mutants = load_mutants(here.checks_dir(lab))
        for path in here.solution_notebooks(lab):
            doc = read_notebook(path)
            starter = make_starter(doc, name=str(path.relative_to(here.root)))
            exercises = tuple(exercise_ids(notebook_cells(doc)))
            solution = build_submission(doc)
            preload += notebook_imports(solution.source)
            warm.append(solution)
            mutated = [(m, build_submission(apply_mutant(doc, m))) for m in mutants]
            jobs.append((lab, path, solution, build_submission(starter), exercises, mutated))

    with ForkServer(preload=preload, env=child_environment(run_env), warm=warm) as server:

        def grade(
            lab: str,
            name: str,
            submission: Submission,
            exercise: str | None = None,
            stage: str = "",
        ) -> GradeResult:
            result = _grade(lab, name, submission, exercise)
            if progress:
                progress(lab, stage, result)
            return result

        def _grade(
            lab: str, name: str, submission: Submission, exercise: str | None
        ) -> GradeResult:
            return grade_submission(
                submission,
                notebook=name,
                lab=lab,
                checks_dir=here.checks_dir(lab),
                env=run_env,
                timeout=timeout,
                exercise=exercise,
                pool=server,
                first_failure=exercise is not None,  # a mutant is caught by one failure
            )

        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
            futures = [
                (
                    lab,
                    path,
                    exercises,
                    pool.submit(
                        grade, lab, str(path.relative_to(here.root)), solution, None, "solution"
                    ),
                    pool.submit(
                        grade, lab, f"starter of {path.name}", starter_sub, None, "starter"
                    ),
                    [
                        (
                            m,
                            pool.submit(
                                grade, lab, f"mutant {m.name}", sub, m.exercise, f"mutant {m.name}"
                            ),
                        )
                        for m, sub in mutated
                    ],
                )
                for lab, path, solution, starter_sub, exercises, mutated in jobs
            ]
            results = tuple(
                NotebookValidation(
                    lab,
                    path.name,
                    sol.result(),
                    sta.result(),
                    exercises,
                    tuple(MutantResult(m, f.result()) for m, f in muts),
                )
                for lab, path, exercises, sol, sta, muts in futures
            )
    return ValidationReport(results)


__all__ = ["MutantResult", "NotebookValidation", "ValidationReport", "validate"]
