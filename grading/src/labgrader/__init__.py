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
