"""One root error for labgrader, with narrow errors that also inherit the matching built-in.

Every error labgrader raises derives from :class:`LabgraderError`, so a caller (or the CLI)
can catch them all in one place. Messages say what was wrong, where, and what to do.
"""

from __future__ import annotations


class LabgraderError(Exception):
    """Root of every error raised by labgrader."""


class CourseNotFound(LabgraderError, FileNotFoundError):
    """No course folder (one holding ``solutions/`` and ``grading/checks/``) was found."""


class LabNotFound(LabgraderError, LookupError):
    """A lab id that names no lab of the course, or a notebook whose lab cannot be inferred."""


class NotebookError(LabgraderError, ValueError):
    """A notebook file that cannot be read: missing, not JSON, or not nbformat 4."""


class CourseConfigError(LabgraderError, ValueError):
    """A course configuration file (``course.toml``) that cannot be read or holds a bad value."""


class AssignError(LabgraderError, ValueError):
    """A solution notebook whose exercise cells or solution markers are malformed."""


class MutantError(LabgraderError, ValueError):
    """A mutant file (``grading/checks/NN-topic/mutants/*.py``) that is malformed or names an
    exercise the solution notebook does not have."""


class NotebookImportError(LabgraderError, ImportError):
    """The code cells of a notebook failed to run as a module (a syntax error, an exception).

    The message names the notebook cell and the error, for example
    ``cell 7 (exercise 'dag-order'), line 3: NameError: name 'steps' is not defined``.
    """


class ServiceUnavailable(LabgraderError, RuntimeError):
    """An engine the checks need (Temporal, Prefect) could not be found or started."""


class SubmissionsNotFound(LabgraderError, FileNotFoundError):
    """A batch input that does not exist, or inputs that hold no submission at all.

    The instructor's mistake, not a learner's: the batch stops before any engine starts or
    any file is written.
    """


class WorkerKeyError(LabgraderError, ValueError):
    """The distributed grading key is missing, unreadable or too weak."""


__all__ = [
    "AssignError",
    "CourseConfigError",
    "CourseNotFound",
    "LabNotFound",
    "LabgraderError",
    "MutantError",
    "NotebookError",
    "NotebookImportError",
    "ServiceUnavailable",
    "SubmissionsNotFound",
    "WorkerKeyError",
]
