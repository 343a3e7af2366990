"""Read notebooks, and turn their code cells into the module that checks import.

Grading reads the learner's definitions, not a live kernel: the code cells of a notebook,
minus the cells tagged ``demo`` (they start services or run long jobs) or ``check`` (they
call the checker), minus IPython magics, become one Python module. Checks receive it
through the ``nb`` fixture.

Notebooks are read as plain JSON on purpose: importing ``nbformat`` costs seconds (its
JSON-schema validator), and this module is imported by every check run.
"""

from __future__ import annotations

import ast
import itertools
import json
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType, ModuleType
from typing import Any

from labgrader.errors import NotebookError, NotebookImportError

EXERCISE_KEY = "exercise"
"""The cell metadata key that holds an exercise id."""
DEMO_TAG = "demo"
"""Cells with this tag start services or run long jobs: grading skips them."""
CHECK_TAG = "check"
"""Cells with this tag call the checker from inside the notebook: grading skips them."""
SKIPPED_TAGS = frozenset({DEMO_TAG, CHECK_TAG})

# Cell magics whose body is ordinary Python: only the magic line is dropped. Any other cell
# magic (%%bash, %%writefile, %%html, ...) makes the whole cell something else than Python.
_PYTHON_CELL_MAGICS = frozenset({"time", "capture", "prun"})
_MAGIC_STUB = "pass  # labgrader: IPython magic skipped"


@dataclass(frozen=True)
class Cell:
    """One cell of a notebook."""

    number: int
    """The cell's position in the notebook, from 1 at the top, Markdown cells included."""
    cell_type: str
    """``code``, ``markdown`` or ``raw``."""
    source: str
    """The cell's text."""
    metadata: Mapping[str, Any] = field(default_factory=dict)
    """The cell's metadata, as stored in the notebook."""

    @property
    def exercise(self) -> str | None:
        """The exercise id in the cell's metadata, if any."""
        value = self.metadata.get(EXERCISE_KEY)
        return value if isinstance(value, str) else None

    @property
    def tags(self) -> frozenset[str]:
        """The cell's tags (``metadata.tags``)."""
        tags = self.metadata.get("tags", [])
        return (
            frozenset(t for t in tags if isinstance(t, str))
            if isinstance(tags, list)
            else frozenset()
        )

    def label(self) -> str:
        """A short description for messages: ``cell 7 (exercise 'dag-order')``."""
        return (
            f"cell {self.number} (exercise {self.exercise!r})"
            if self.exercise
            else f"cell {self.number}"
        )


def read_notebook(path: Path) -> dict[str, Any]:
    """Read a notebook file as its JSON document.

    Raises:
        NotebookError: When the file is missing, is not JSON, or is not an nbformat 4 notebook.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError(f"notebook {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"cannot read notebook {path}: {exc}") from exc
    return parse_notebook(text, name=str(path))


def parse_notebook(text: str, *, name: str = "<notebook>") -> dict[str, Any]:
    """Parse a notebook's JSON text and check that it is an nbformat 4 notebook.

    Raises:
        NotebookError: When the text is not JSON or not an nbformat 4 notebook.
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{name} is not a notebook: invalid JSON at line {exc.lineno}: {exc.msg}"
        ) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("cells"), list):
        raise NotebookError(f"{name} is not a notebook: it has no list of cells")
    if doc.get("nbformat") != 4:
        raise NotebookError(
            f"{name} is nbformat {doc.get('nbformat')!r}; labgrader reads nbformat 4 "
            "(open and save it in JupyterLab to upgrade it)"
        )
    for number, cell in enumerate(doc["cells"], start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotebookError(f"{name}: cell {number} is malformed (no cell_type)")
    return doc


def source_text(cell: Mapping[str, Any]) -> str:
    """Return a cell's source as one string (nbformat stores it as a string or list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def notebook_cells(doc: Mapping[str, Any]) -> list[Cell]:
    """Return the cells of a notebook document, numbered from 1."""
    return [
        Cell(
            number=number,
            cell_type=raw["cell_type"],
            source=source_text(raw),
            metadata=raw.get("metadata") or {},
        )
        for number, raw in enumerate(doc["cells"], start=1)
    ]


@dataclass(frozen=True)
class CellSpan:
    """Where one notebook cell sits in the built module."""

    cell: int
    """The cell's number in the notebook (from 1, Markdown cells included)."""
    first_line: int
    """The module line of the cell's first line (from 1)."""
    last_line: int
    """The module line of the cell's last line."""
    exercise: str | None = None
    """The cell's exercise id, if it is an exercise cell."""


@dataclass(frozen=True)
class Submission:
    """The Python module built from a notebook's code cells, and where each cell went."""

    source: str
    """The module's source code."""
    spans: tuple[CellSpan, ...] = ()
    """Each included cell's place in :attr:`source`."""
    skipped: tuple[tuple[int, str], ...] = ()
    """Code cells left out, as (cell number, reason)."""
    exercises: tuple[str, ...] = ()
    """The exercise ids of the notebook, in order."""

    def where(self, lineno: int | None) -> str:
        """Describe a module line in notebook terms: ``cell 7 (exercise 'x'), line 3``."""
        for span in self.spans:
            if lineno is not None and span.first_line <= lineno <= span.last_line:
                cell = f"cell {span.cell}" + (
                    f" (exercise {span.exercise!r})" if span.exercise else ""
                )
                return f"{cell}, line {lineno - span.first_line + 1}"
        return "the notebook"

    def to_json(self) -> str:
        """Serialise the cell map (not the source) for the process that loads the module."""
        return json.dumps(
            {
                "spans": [[s.cell, s.first_line, s.last_line, s.exercise] for s in self.spans],
                "skipped": [list(s) for s in self.skipped],
                "exercises": list(self.exercises),
            }
        )

    @classmethod
    def from_files(cls, module_path: Path) -> Submission:
        """Read a submission written by :func:`write_submission`."""
        meta = json.loads(module_path.with_suffix(".json").read_text(encoding="utf-8"))
        return cls(
            source=module_path.read_text(encoding="utf-8"),
            spans=tuple(CellSpan(c, f, la, e) for c, f, la, e in meta["spans"]),
            skipped=tuple((int(n), str(r)) for n, r in meta["skipped"]),
            exercises=tuple(meta["exercises"]),
        )


def _strip_magics(source: str) -> str | None:
    """Turn line magics and shell escapes into ``pass``; ``None`` for a non-Python cell."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in _PYTHON_CELL_MAGICS:
            return None
        lines[0] = ""
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            # Keep the indentation so a magic alone in a block still leaves a valid block.
            line = line[: len(line) - len(stripped)] + _MAGIC_STUB
        out.append(line)
    return "\n".join(out)


def _needs_event_loop(code: str) -> bool:
    """Whether a cell only compiles with top-level ``await`` (it runs something, like a demo)."""
    if "await" not in code and "async" not in code:
        return False
    try:
        compile(code, "<cell>", "exec", dont_inherit=True)
        return False
    except SyntaxError:
        pass
    try:
        compile(code, "<cell>", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT, dont_inherit=True)
    except SyntaxError:
        return False
    return True


def build_submission(doc: Mapping[str, Any]) -> Submission:
    """Build the module source from a notebook's code cells.

    Cells tagged ``demo`` or ``check`` are left out, as are cells that only run with
    top-level ``await`` (they start workflows, like demos) and cells of a non-Python cell
    magic. Line magics and shell escapes (lines starting with ``%`` or ``!``) become
    ``pass``. Each cell starts with a comment naming it, so the source reads well.

    Args:
        doc: A notebook document, as returned by :func:`read_notebook`.

    Returns:
        The submission: its source and where each cell went.
    """
    parts: list[str] = []
    spans: list[CellSpan] = []
    skipped: list[tuple[int, str]] = []
    line = 1
    for cell in notebook_cells(doc):
        if cell.cell_type != "code":
            continue
        if cell.tags & SKIPPED_TAGS:
            skipped.append((cell.number, f"tagged {', '.join(sorted(cell.tags & SKIPPED_TAGS))}"))
            continue
        code = _strip_magics(cell.source)
        if code is None:
            skipped.append((cell.number, "a cell magic that is not Python"))
            continue
        if _needs_event_loop(code):
            skipped.append((cell.number, "top-level await (tag it 'demo')"))
            continue
        header = f"# --- cell {cell.number}" + (
            f" (exercise {cell.exercise})" if cell.exercise else ""
        )
        body = code.splitlines() or ["pass"]
        parts.append(header + " ---\n" + "\n".join(body) + "\n\n")
        spans.append(CellSpan(cell.number, line + 1, line + len(body), cell.exercise))
        line += len(body) + 2
    exercises = tuple(c.exercise for c in notebook_cells(doc) if c.exercise)
    return Submission("".join(parts), tuple(spans), tuple(skipped), exercises)


def write_submission(submission: Submission, directory: Path, *, name: str = "submission") -> Path:
    """Write the module (``submission.py``) and its cell map (``submission.json``).

    Returns:
        The path of the module file.
    """
    module_path = directory / f"{name}.py"
    module_path.write_text(submission.source, encoding="utf-8")
    module_path.with_suffix(".json").write_text(submission.to_json(), encoding="utf-8")
    return module_path


def _display(*objs: object, **_: object) -> None:
    """Stand-in for IPython's ``display`` builtin, which does not exist outside a kernel."""


_counter = itertools.count(1)
SUBMISSION_MODULE_PREFIX = "labgrader_submission_"
"""The start of the names of modules built from a submission (one per check)."""
LIVE_MODULE_PREFIX = "labgrader_live_"
"""The start of the names of modules wrapping a live kernel's namespace."""


class ModuleLoader:
    """Builds fresh modules from a submission file: compiled once, executed per call.

    Args:
        module_path: The submission module written by :func:`write_submission`.
    """

    def __init__(self, module_path: Path) -> None:
        self.path = module_path
        self.submission = Submission.from_files(module_path)
        self._code: CodeType | None = None
        self._error: NotebookImportError | None = None

    def load(self) -> ModuleType:
        """Execute the notebook's code as a new module under a unique name and return it.

        Raises:
            NotebookImportError: When the code does not compile or raises; the message names
                the notebook cell and the error. Once a load failed, later loads fail alike.
        """
        if self._error is not None:
            raise self._error
        name = f"{SUBMISSION_MODULE_PREFIX}{next(_counter)}"
        module = ModuleType(name)
        module.__file__ = str(self.path)
        module.__dict__["display"] = _display
        try:
            if self._code is None:
                self._code = compile(self.submission.source, str(self.path), "exec")
            # Registered before running, so dataclasses and pickling find the module.
            sys.modules[name] = module
            exec(self._code, module.__dict__)
        except BaseException as exc:
            sys.modules.pop(name, None)
            if not isinstance(exc, Exception):
                raise
            self._error = NotebookImportError(self.describe(exc))
            raise self._error from exc
        return module

    def describe(self, exc: BaseException) -> str:
        """Describe an error raised by the notebook's code in notebook terms."""
        if isinstance(exc, SyntaxError) and exc.filename == str(self.path):
            where = self.submission.where(exc.lineno)
            return f"the notebook's code has a syntax error at {where}: {exc.msg}"
        lineno = None
        for frame, frame_line in traceback.walk_tb(exc.__traceback__):
            if frame.f_code.co_filename == str(self.path):
                lineno = frame_line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        error = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        return f"the notebook's code failed at {self.submission.where(lineno)}: {error}"


def namespace_module(namespace: Mapping[str, Any]) -> ModuleType:
    """Wrap a live namespace (a kernel's ``globals()``) as a module for the ``nb`` fixture."""
    module = ModuleType(f"{LIVE_MODULE_PREFIX}{next(_counter)}")
    module.__dict__.update(
        {k: v for k, v in namespace.items() if k not in {"__name__", "__spec__"}}
    )
    return module


def exercise_ids(cells: Sequence[Cell]) -> list[str]:
    """Return the exercise ids of the given cells, in order."""
    return [c.exercise for c in cells if c.exercise]


__all__ = [
    "CHECK_TAG",
    "DEMO_TAG",
    "EXERCISE_KEY",
    "LIVE_MODULE_PREFIX",
    "SUBMISSION_MODULE_PREFIX",
    "Cell",
    "CellSpan",
    "ModuleLoader",
    "Submission",
    "build_submission",
    "exercise_ids",
    "namespace_module",
    "notebook_cells",
    "parse_notebook",
    "read_notebook",
    "source_text",
]
