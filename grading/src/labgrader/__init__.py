"""labgrader: assign, check and grade orchlab's notebook labs.

The Python API mirrors the command line, one stage per module:

* :func:`assign` (:mod:`labgrader.assign`): write learner notebooks from solutions;
* :mod:`labgrader.notebook`: turn a notebook's code cells into the module checks import;
* :mod:`labgrader.run`: run a lab's checks against it in a child process;
* :func:`grade_notebook` (:mod:`labgrader.grade`): the :class:`GradeResult` of a notebook;
* :mod:`labgrader.pool`: a pre-warmed server that forks check runs;
* :func:`validate` (:mod:`labgrader.validate`): solutions earn full marks, starters zero,
  mutants (:mod:`labgrader.mutants`) lose points;
* :func:`check` (:mod:`labgrader.interactive`): "check your work" inside a notebook.

Checks are pytest files run with :mod:`labgrader.pytest_plugin`.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labgrader.assign import AssignReport, FileState, LabFile, assign
    from labgrader.course import Course, find_course
    from labgrader.errors import (
        AssignError,
        CourseNotFound,
        LabgraderError,
        LabNotFound,
        MutantError,
        NotebookError,
        NotebookImportError,
        ServiceUnavailable,
    )
    from labgrader.grade import grade_notebook
    from labgrader.interactive import check
    from labgrader.results import CheckResult, ExerciseResult, GradeResult, RunStatus
    from labgrader.validate import MutantResult, NotebookValidation, ValidationReport, validate

_WHERE = {
    **dict.fromkeys(("AssignReport", "FileState", "LabFile", "assign"), "labgrader.assign"),
    **dict.fromkeys(("Course", "find_course"), "labgrader.course"),
    **dict.fromkeys(
        (
            "AssignError",
            "CourseNotFound",
            "LabgraderError",
            "LabNotFound",
            "MutantError",
            "NotebookError",
            "NotebookImportError",
            "ServiceUnavailable",
        ),
        "labgrader.errors",
    ),
    "grade_notebook": "labgrader.grade",
    "check": "labgrader.interactive",
    **dict.fromkeys(
        ("CheckResult", "ExerciseResult", "GradeResult", "RunStatus"), "labgrader.results"
    ),
    **dict.fromkeys(
        ("MutantResult", "NotebookValidation", "ValidationReport", "validate"),
        "labgrader.validate",
    ),
}
"""Where each public name lives. They are imported on first use: a process that needs one
module of labgrader (a run's relay, a learner's zygote started as a fresh interpreter) does
not pay for all of them (3 s on a busy machine)."""


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'labgrader' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})


class _Package(types.ModuleType):
    """``labgrader.assign`` and ``labgrader.validate`` are functions, as they were when this
    package imported them eagerly, although modules of the same names exist: when the import
    system binds such a submodule on the package, the function of that name is bound instead
    (otherwise ``from labgrader import assign`` would give the module once anything had
    imported ``labgrader.assign``)."""

    def __setattr__(self, name: str, value: Any) -> None:
        if isinstance(value, types.ModuleType) and name in _WHERE:
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "AssignError",
    "AssignReport",
    "CheckResult",
    "Course",
    "CourseNotFound",
    "ExerciseResult",
    "FileState",
    "GradeResult",
    "LabFile",
    "LabNotFound",
    "LabgraderError",
    "MutantError",
    "MutantResult",
    "NotebookError",
    "NotebookImportError",
    "NotebookValidation",
    "RunStatus",
    "ServiceUnavailable",
    "ValidationReport",
    "assign",
    "check",
    "find_course",
    "grade_notebook",
    "validate",
]
