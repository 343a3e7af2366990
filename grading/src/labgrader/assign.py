"""Write the learner notebooks (``labs/``) from the solution notebooks (``solutions/``).

In a solution notebook, each graded exercise is a code cell with an exercise id in its
metadata (``metadata["exercise"] = "dag-order"``) and its answer between the lines
``# BEGIN SOLUTION`` and ``# END SOLUTION``, at any indentation, possibly several times per
cell. The learner notebook is the same notebook with every such block replaced by one line,
at the block's indentation::

    raise NotImplementedError("exercise dag-order: replace this line with your answer")

and every output and execution count cleared. Metadata (exercise ids, tags) is kept. The
output is deterministic: the same solution gives the same bytes, in the layout Jupyter
itself writes (nbformat 4, sorted keys, one-space indent), so saving it in JupyterLab
changes nothing.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from labgrader.course import Course, find_course
from labgrader.errors import AssignError
from labgrader.notebook import EXERCISE_KEY, notebook_cells, read_notebook

BEGIN = "# BEGIN SOLUTION"
"""The line that opens an answer block."""
END = "# END SOLUTION"
"""The line that closes an answer block."""
STUB = 'raise NotImplementedError("exercise {exercise}: replace this line with your answer")'
"""What an answer block becomes in the learner notebook."""

_BEGIN = re.compile(r"^(?P<indent>[ \t]*)#\s*BEGIN SOLUTION\s*$")
_END = re.compile(r"^[ \t]*#\s*END SOLUTION\s*$")
_EXERCISE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def stub_line(exercise: str, indent: str = "") -> str:
    """Return the stub that replaces an answer block of ``exercise``."""
    return indent + STUB.format(exercise=exercise)


def strip_solutions(source: str, *, exercise: str, where: str = "cell") -> str:
    """Replace each ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` block with a stub.

    Args:
        source: The cell's source.
        exercise: The cell's exercise id, named in the stub.
        where: How to name the cell in error messages.

    Returns:
        The source with every answer block replaced.

    Raises:
        AssignError: When the markers are unbalanced or there are none.
    """
    out: list[str] = []
    opened: int | None = None
    blocks = 0
    lines = source.splitlines(keepends=True)
    for lineno, line in enumerate(lines, start=1):
        begin = _BEGIN.match(line.rstrip("\r\n"))
        if begin:
            if opened is not None:
                raise AssignError(
                    f"{where}: line {lineno} opens '{BEGIN}' inside the block opened at line "
                    f"{opened}: close it with '{END}' first"
                )
            opened = lineno
            newline = "\n" if line.endswith("\n") else ""
            out.append(stub_line(exercise, begin["indent"]) + newline)
        elif _END.match(line.rstrip("\r\n")):
            if opened is None:
                raise AssignError(
                    f"{where}: line {lineno} has '{END}' without a '{BEGIN}' before it"
                )
            opened = None
            blocks += 1
        elif opened is None:
            out.append(line)
    if opened is not None:
        raise AssignError(f"{where}: the '{BEGIN}' at line {opened} is never closed with '{END}'")
    if blocks == 0:
        raise AssignError(
            f"{where} is an exercise cell without an answer block: put the answer between "
            f"'{BEGIN}' and '{END}' lines, or remove the cell's '{EXERCISE_KEY}' metadata"
        )
    text = "".join(out)
    # A stub replacing the last block keeps the cell's own trailing-newline convention.
    return text if source.endswith("\n") or not text.endswith("\n") else text[:-1]


def _has_markers(source: str) -> bool:
    return any(_BEGIN.match(line) or _END.match(line) for line in source.splitlines())


def make_starter(doc: dict[str, Any], *, name: str = "notebook") -> dict[str, Any]:
    """Return the learner notebook for a solution notebook document.

    Args:
        doc: The solution notebook, as returned by :func:`labgrader.notebook.read_notebook`.
        name: How to name the notebook in error messages (its path).

    Returns:
        A new document: answer blocks stubbed, outputs and execution counts cleared.

    Raises:
        AssignError: On an exercise cell without answer blocks, unbalanced markers, a
            duplicate or invalid exercise id, or markers outside an exercise cell. The message
            names the notebook and the cell.
    """
    starter = copy.deepcopy(doc)
    seen: dict[str, int] = {}
    for cell, raw in zip(notebook_cells(doc), starter["cells"], strict=True):
        where = f"{name}: {cell.label()}"
        if EXERCISE_KEY in cell.metadata:
            exercise = cell.metadata[EXERCISE_KEY]
            if cell.cell_type != "code":
                raise AssignError(
                    f"{where}: only code cells can be exercises; this is a {cell.cell_type} cell"
                )
            if not isinstance(exercise, str) or not _EXERCISE_ID.match(exercise):
                raise AssignError(
                    f"{where}: exercise id {exercise!r} is not valid: use letters, digits, '-', "
                    "'_' or '.', like 'dag-order'"
                )
            if exercise in seen:
                raise AssignError(
                    f"{name}: exercise id {exercise!r} is used by cell {seen[exercise]} and cell "
                    f"{cell.number}: each exercise needs its own id"
                )
            seen[exercise] = cell.number
            raw["source"] = strip_solutions(cell.source, exercise=exercise, where=where)
        elif cell.cell_type == "code" and _has_markers(cell.source):
            raise AssignError(
                f"{where} has '{BEGIN}'/'{END}' markers but no exercise id: add "
                f'"{EXERCISE_KEY}": "<exercise-id>" to the cell\'s metadata'
            )
        if raw["cell_type"] == "code":
            raw["outputs"] = []
            raw["execution_count"] = None
    return starter


def render_notebook(doc: dict[str, Any]) -> str:
    """Serialise a notebook exactly as Jupyter writes it (nbformat's layout), newline-terminated."""
    out = copy.deepcopy(doc)
    for cell in out["cells"]:
        if isinstance(cell.get("source"), str):
            cell["source"] = cell["source"].splitlines(keepends=True)
    return (
        json.dumps(out, sort_keys=True, indent=1, ensure_ascii=False, separators=(",", ": ")) + "\n"
    )


def starter_text(solution: Path) -> str:
    """Return the learner notebook's file contents for a solution notebook file.

    Raises:
        NotebookError: When the solution cannot be read.
        AssignError: When its exercise cells are malformed.
    """
    return render_notebook(make_starter(read_notebook(solution), name=_display_path(solution)))


class FileState(StrEnum):
    """How a learner notebook compares with what ``assign`` would write."""

    FRESH = "fresh"
    """Identical."""
    STALE = "stale"
    """Differs from what assign would write."""
    MISSING = "missing"
    """Assign would write it; it does not exist."""
    EXTRA = "extra"
    """It exists in ``labs/`` but no solution notebook produces it."""
    WRITTEN = "written"
    """Assign wrote it in this run."""
    KEPT = "kept"
    """Assign left it alone: it has outputs (a learner's work); pass ``force`` to overwrite."""


@dataclass(frozen=True)
class LabFile:
    """One learner notebook and its state."""

    lab: str
    """The lab id."""
    path: Path
    """The learner notebook, relative to the course folder."""
    state: FileState
    """How it compares with what assign would write."""


@dataclass(frozen=True)
class AssignReport:
    """What ``assign`` did (or, with ``check``, found)."""

    files: tuple[LabFile, ...] = field(default_factory=tuple)
    """Every learner notebook considered, with its state."""

    @property
    def out_of_date(self) -> tuple[LabFile, ...]:
        """Files that differ from what assign writes: stale, missing or extra."""
        bad = {FileState.STALE, FileState.MISSING, FileState.EXTRA}
        return tuple(f for f in self.files if f.state in bad)

    @property
    def ok(self) -> bool:
        """Whether every learner notebook is (now) what assign writes."""
        return not self.out_of_date and not any(f.state is FileState.KEPT for f in self.files)


def _has_outputs(path: Path) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        return any(c.get("outputs") or c.get("execution_count") for c in doc.get("cells", []))
    except (OSError, ValueError, AttributeError):
        return False


def assign(
    *,
    labs: Sequence[str] | None = None,
    course: Course | None = None,
    check: bool = False,
    force: bool = False,
) -> AssignReport:
    """Write (or, with ``check``, compare) the learner notebooks of some or all labs.

    Args:
        labs: Lab ids (``01-pipeline-patterns`` or ``01``); default every lab in ``solutions/``.
        course: The course; default the one holding the current folder.
        check: Write nothing; report which learner notebooks are stale, missing or extra.
        force: Overwrite learner notebooks that have outputs. Without it such a notebook
            (someone's work) is kept and reported.

    Returns:
        The report: one entry per learner notebook.

    Raises:
        LabNotFound: When a lab id names no lab.
        AssignError: When a solution's exercise cells are malformed (nothing is written).
        NotebookError: When a solution notebook cannot be read.
    """
    course = course or find_course()
    lab_ids = [course.resolve(lab) for lab in labs] if labs else course.lab_ids()
    # Render everything before writing anything: one malformed notebook writes nothing.
    planned: list[tuple[str, Path, str]] = []
    for lab in lab_ids:
        for solution in course.solution_notebooks(lab):
            planned.append((lab, course.lab_notebook(lab, solution), starter_text(solution)))
    files: list[LabFile] = []
    for lab, target, text in planned:
        rel = target.relative_to(course.root)
        current = target.read_bytes() if target.exists() else None
        expected = text.encode("utf-8")
        if current == expected:
            files.append(LabFile(lab, rel, FileState.FRESH))
        elif check:
            files.append(
                LabFile(lab, rel, FileState.MISSING if current is None else FileState.STALE)
            )
        elif current is not None and not force and _has_outputs(target):
            files.append(LabFile(lab, rel, FileState.KEPT))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(expected)
            files.append(LabFile(lab, rel, FileState.WRITTEN))
    produced = {target for _, target, _ in planned}
    for lab in lab_ids:
        folder = course.labs_dir / lab
        for extra in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            if extra not in produced:
                files.append(LabFile(lab, extra.relative_to(course.root), FileState.EXTRA))
    return AssignReport(tuple(files))


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return path.name


__all__ = [
    "BEGIN",
    "END",
    "STUB",
    "AssignReport",
    "FileState",
    "LabFile",
    "assign",
    "make_starter",
    "render_notebook",
    "starter_text",
    "strip_solutions",
    "stub_line",
]
