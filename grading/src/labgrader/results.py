"""The results of grading a notebook: one row per check, rolled up per exercise.

Points are earned only from checks the grader's own harness recorded as passed in that
run. A run that crashed, hung or left a garbled record earns nothing, and still gives one
row per check (when the checks were collected) with a message saying what happened.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """How the check run of one notebook ended."""

    OK = "ok"
    """The harness ran every selected check and reported each one."""
    CRASHED = "crashed"
    """The run ended early (a crash, ``os._exit``, a kill) or its record is missing or garbled."""
    TIMEOUT = "timeout"
    """The run was stopped after the time limit."""
    ERROR = "error"
    """The checks themselves are broken (an import error, a check without a marker)."""
    TAMPERED = "tampered"
    """The notebook changed the grader's harness (pytest's runner, labgrader's plugin)."""


@dataclass(frozen=True)
class CheckResult:
    """The result of one check."""

    exercise: str
    """The exercise the check belongs to (its marker's ``exercise``)."""
    name: str
    """The check's pytest id, relative to the lab's checks folder: ``test_dag.py::test_order``."""
    points: float
    """Points earned: ``max_points`` when passed, else 0."""
    max_points: float
    """Points the check is worth (its marker's ``points``)."""
    hidden: bool
    """Whether the check is hidden from learners until grades are released."""
    passed: bool
    """Whether the harness recorded the check as passed."""
    message: str = ""
    """Why the check failed, in plain words (the assertion message or the error's first line)."""
    seconds: float = 0.0
    """How long the check took, set-up and clean-up included (0 when it did not run)."""


@dataclass(frozen=True)
class ExerciseResult:
    """The checks of one exercise, rolled up."""

    exercise: str
    """The exercise id."""
    checks: tuple[CheckResult, ...]
    """Its checks, in the order they ran."""

    @property
    def points(self) -> float:
        """Points earned."""
        return sum(c.points for c in self.checks)

    @property
    def max_points(self) -> float:
        """Points possible."""
        return sum(c.max_points for c in self.checks)

    @property
    def passed(self) -> bool:
        """Whether every check of the exercise passed."""
        return all(c.passed for c in self.checks)

    @property
    def seconds(self) -> float:
        """How long its checks took together."""
        return sum(c.seconds for c in self.checks)


@dataclass(frozen=True, repr=False)
class GradeResult:
    """The result of grading one notebook against one lab's checks."""

    notebook: str
    """The notebook graded, as it was named to the grader."""
    lab: str
    """The lab id."""
    status: RunStatus
    """How the run ended; points count only when it is :attr:`RunStatus.OK`."""
    checks: tuple[CheckResult, ...] = ()
    """One row per check selected for this run."""
    message: str = ""
    """What went wrong with the run as a whole (empty when the status is ok)."""
    duration: float = 0.0
    """Wall-clock seconds the run took."""
    notes: tuple[str, ...] = field(default_factory=tuple)
    """Things worth knowing that cost no points (for example, code cells that were skipped)."""

    @property
    def points(self) -> float:
        """Points earned."""
        return sum(c.points for c in self.checks)

    @property
    def max_points(self) -> float:
        """Points possible."""
        return sum(c.max_points for c in self.checks)

    @property
    def passed(self) -> bool:
        """Whether the run completed and every check passed."""
        return self.status is RunStatus.OK and all(c.passed for c in self.checks)

    @property
    def exercises(self) -> tuple[ExerciseResult, ...]:
        """The checks grouped by exercise, in the order the exercises first appear."""
        order: dict[str, list[CheckResult]] = {}
        for check in self.checks:
            order.setdefault(check.exercise, []).append(check)
        return tuple(ExerciseResult(e, tuple(cs)) for e, cs in order.items())

    def failed(self) -> tuple[CheckResult, ...]:
        """The checks that did not pass."""
        return tuple(c for c in self.checks if not c.passed)

    def to_dict(self) -> dict[str, Any]:
        """Return the result as plain JSON-ready data (totals included)."""
        data = asdict(self)
        data["status"] = self.status.value
        data["points"] = self.points
        data["max_points"] = self.max_points
        return data

    def __repr__(self) -> str:
        return (
            f"GradeResult(lab={self.lab!r}, notebook={self.notebook!r}, "
            f"status={self.status.value!r}, points={self.points:g}/{self.max_points:g})"
        )

    def _repr_html_(self) -> str:
        """How a notebook shows a result: one compact table (see
        :func:`labgrader.report.result_html`)."""
        from labgrader.report import result_html

        return result_html(self)

    def _ipython_display_(self) -> None:
        """In a kernel: the table, unless :func:`labgrader.check` already showed it."""
        from labgrader.interactive import show

        show(self)


__all__ = ["CheckResult", "ExerciseResult", "GradeResult", "RunStatus"]
