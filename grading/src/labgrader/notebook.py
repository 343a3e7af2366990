"""Read notebooks, and turn their code cells into the module that checks import.

Grading reads the learner's definitions, not a live kernel: the code cells of a notebook,
minus the cells tagged ``demo`` (they start services or run long jobs) or ``check`` (they
call the checker), minus IPython magics, become one Python module. Checks receive it
through the ``nb`` fixture.

Notebooks are read as plain JSON on purpose: importing ``nbformat`` costs seconds (its
JSON-schema validator), and this module is imported by every check run.
"""

from __future__ import annotations

import io
import itertools
import json
import sys
import tokenize
import traceback
import warnings
from collections.abc import Iterable, Mapping, Sequence
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


def read_notebook(path: Path, *, schema: bool = False) -> dict[str, Any]:
    """Read a notebook file as its JSON document.

    Args:
        path: The notebook file.
        schema: Also validate it against the nbformat schema (see :func:`validate_notebook`).

    Raises:
        NotebookError: When the file is missing, is not JSON, or is not an nbformat 4 notebook.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError(f"notebook {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"cannot read notebook {path}: {exc}") from exc
    return parse_notebook(text, name=str(path), schema=schema)


def parse_notebook(text: str, *, name: str = "<notebook>", schema: bool = False) -> dict[str, Any]:
    """Parse a notebook's JSON text and check that it is an nbformat 4 notebook.

    Without ``schema`` only the structure the grader reads is checked (cheap: no nbformat
    import); the other functions of this module tolerate odd cells (metadata that is not a
    mapping, a source list holding numbers) either way.

    Args:
        text: The notebook file's text.
        name: How messages name the notebook.
        schema: Also validate it against the nbformat schema (see :func:`validate_notebook`).

    Raises:
        NotebookError: When the text is not JSON or not an nbformat 4 notebook (with
            ``schema``: or breaks the schema; the message names the cell and the field).
    """
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"{name} is not a notebook: invalid JSON at line {exc.lineno}: {exc.msg}"
        ) from None
    except RecursionError:
        raise NotebookError(f"{name} is not a notebook: its JSON is nested too deeply") from None
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
    if schema:
        validate_notebook(doc, name=name)
    return doc


_FIELD_NEEDS = {
    "source": "text (a string or a list of strings)",
    "metadata": "a mapping of names to values",
    "outputs": "a list of outputs",
    "id": "a cell id of 1-64 letters, digits, '-' or '_'",
    "execution_count": "a whole number or null",
    "attachments": "a mapping of attachments",
}


def validate_notebook(doc: dict[str, Any], *, name: str = "<notebook>") -> None:
    """Validate a notebook document against the nbformat schema of its version.

    nbformat is imported here, not with this module: it costs about a second, and check
    runs import this module. Cells missing an id (nbformat 4.5) get one, as Jupyter does on
    reading; nothing else is changed.

    Raises:
        NotebookError: When the document breaks the schema: one line naming the cell (from
            1, Markdown cells included) and the field, and what the field must hold.
    """
    import nbformat  # here, not at the top: see the docstring

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            nbformat.validate(doc)
        except nbformat.ValidationError as exc:
            reason = _schema_error(doc, exc)
            raise NotebookError(f"{name} is not a valid notebook: {reason}") from None
        except (RecursionError, ValueError, TypeError, KeyError) as exc:
            raise NotebookError(
                f"{name} is not a valid notebook: {type(exc).__name__} while validating it"
            ) from None


def _schema_error(doc: Mapping[str, Any], exc: Any) -> str:
    """One line for a schema error: where (cell N, field F) and what the field must hold."""
    path = list(getattr(exc, "absolute_path", None) or getattr(exc, "path", None) or [])
    message = str(getattr(exc, "message", exc)).splitlines()[0]
    if len(message) > 160:
        message = message[:157] + "..."
    if len(path) >= 2 and path[0] == "cells" and isinstance(path[1], int):
        cell = doc["cells"][path[1]] if path[1] < len(doc["cells"]) else {}
        where = f"cell {path[1] + 1}"
        fields = [str(p) for p in path[2:]]
        if not fields:
            kind = cell.get("cell_type") if isinstance(cell, dict) else None
            if kind not in {"code", "markdown", "raw"}:
                return f"{where}: cell_type {kind!r} must be code, markdown or raw"
            return f"{where} ({kind}): {message}"
        field_name = fields[0]
        detail = ".".join(fields)
        needs = _FIELD_NEEDS.get(field_name) if len(fields) == 1 else None
        value = cell.get(field_name) if isinstance(cell, dict) else None
        if needs is not None:
            return f"{where}: its {field_name} must be {needs}, not {_short(value)}"
        return f"{where}: field {detail}: {message}"
    if path:
        return f"field {'.'.join(str(p) for p in path)}: {message}"
    return message


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def drop_outputs(doc: dict[str, Any]) -> None:
    """Drop every cell's outputs and attachments (in place): grading never reads them, and
    a notebook's plots and logs are most of its size."""
    for cell in doc["cells"]:
        if isinstance(cell, dict):
            cell.pop("outputs", None)
            cell.pop("attachments", None)
            if cell.get("cell_type") == "code":
                cell["outputs"] = []


def source_text(cell: Mapping[str, Any]) -> str:
    """Return a cell's source as one string (nbformat stores it as a string or list of lines).

    Items of a source list that are not strings are turned into text rather than refused:
    a file that breaks the schema this way is refused at intake (:func:`validate_notebook`);
    elsewhere it must not crash the reader.
    """
    source = cell.get("source", "")
    if isinstance(source, list):
        return "".join(s if isinstance(s, str) else str(s) for s in source)
    return source if isinstance(source, str) else str(source)


def notebook_cells(doc: Mapping[str, Any]) -> list[Cell]:
    """Return the cells of a notebook document, numbered from 1.

    A cell's metadata that is not a mapping reads as empty (no exercise id, no tags).
    """
    cells = []
    for number, raw in enumerate(doc["cells"], start=1):
        metadata = raw.get("metadata")
        cells.append(
            Cell(
                number=number,
                cell_type=str(raw.get("cell_type", "")),
                source=source_text(raw),
                metadata=metadata if isinstance(metadata, Mapping) else {},
            )
        )
    return cells


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
    """Whether a cell uses ``await`` (or ``async for``/``with``) outside any ``async def``.

    Such a cell only runs with top-level ``await`` (it starts something, like a demo). The
    decision reads tokens, never compiles: the grader's process must not compile learner
    code (a pathological cell could overflow the compiler here; it costs the learner's own
    process instead). Tokenizing is linear in the cell's length and keeps no nesting stack.
    A cell that does not tokenize is kept: the learner's process reports its error.
    """
    if "await" not in code and "async" not in code:
        return False
    try:
        return _top_level_await(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError, ValueError, IndexError):
        return False


def _top_level_await(tokens: Iterable[tokenize.TokenInfo]) -> bool:
    depth = 0  # indentation level
    bodies: list[int] = []  # indentation levels that open an ``async def`` body
    header = False  # on the logical line of an ``async def`` (a one-line body counts too)
    opens = False  # that line ended: its INDENT opens an async body
    previous = ""
    for token in tokens:
        kind, text = token.type, token.string
        if kind == tokenize.INDENT:
            depth += 1
            if opens:
                bodies.append(depth)
            opens = False
        elif kind == tokenize.DEDENT:
            if bodies and bodies[-1] == depth:
                bodies.pop()
            depth -= 1
        elif kind == tokenize.NEWLINE:
            opens, header = header, False
        elif kind == tokenize.NAME:
            if previous == "async" and text == "def":
                header = True
            elif (
                not bodies
                and not header
                and (text == "await" or (previous == "async" and text in {"for", "with"}))
            ):
                return True
        if kind not in (tokenize.NL, tokenize.COMMENT):
            previous = text if kind == tokenize.NAME else ""
            if kind not in (tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE):
                opens = False  # a one-line ``async def``: no body opens after it
    return False


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
    "drop_outputs",
    "exercise_ids",
    "namespace_module",
    "notebook_cells",
    "parse_notebook",
    "read_notebook",
    "source_text",
    "validate_notebook",
]
