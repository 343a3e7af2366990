"""A small self-contained course for the grader's tests: one lab, two exercises, checks.

The lab ``90-fixture`` has a solution notebook built with nbformat (an exercise answered
inside a function body, one with two answer blocks, a demo cell, a check cell and IPython
magics) and a checks folder with visible and hidden checks.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest

LAB = "90-fixture"

CHECKS = """
import pytest


@pytest.mark.check(exercise="add", points=2)
def test_add_small(nb):
    assert nb.add(1, 2) == 3, f"add(1, 2) should be 3, got {nb.add(1, 2)!r}"


@pytest.mark.check(exercise="add", points=1, hidden=True)
def test_add_negative(nb):
    assert nb.add(-1, -2) == -3, "add(-1, -2) should be -3"


@pytest.mark.check(exercise="scale", points=1)
def test_scale(nb):
    assert nb.scale([1, 2]) == [10, 20], "scale([1, 2]) should be [10, 20]"


@pytest.mark.check(exercise="scale", points=1, hidden=True)
def test_scale_empty(nb):
    assert nb.scale([]) == []
"""


def code(source: str, **metadata: Any) -> nbformat.NotebookNode:
    """A code cell with dedented source, made as if it had run (outputs, a count)."""
    cell = nbformat.v4.new_code_cell(textwrap.dedent(source).strip("\n"), metadata=metadata)
    cell.execution_count = 1
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="ran\n")]
    return cell


def solution_cells() -> list[nbformat.NotebookNode]:
    """The cells of the fixture lab's solution notebook."""
    return [
        nbformat.v4.new_markdown_cell("# Fixture lab\n\nAbout 5 minutes."),
        code(
            """
            %load_ext autoreload
            import math
            !echo setting up
            FACTOR = 10
            """
        ),
        code(
            """
            def add(a, b):
                \"\"\"Return a + b.\"\"\"
                # BEGIN SOLUTION
                total = a + b
                return total
                # END SOLUTION
            """,
            exercise="add",
            tags=["exercise"],
        ),
        code(
            """
            def scale(values):
                # BEGIN SOLUTION
                if not values:
                    return []
                # END SOLUTION
                out = []
                for v in values:
                    # BEGIN SOLUTION
                    out.append(v * FACTOR)
                    # END SOLUTION
                return out
            """,
            exercise="scale",
        ),
        code('raise RuntimeError("demo cells must not run when grading")', tags=["demo"]),
        code('import labgrader\nlabgrader.check("add")', tags=["check"]),
        code(
            """
            %%bash
            echo not python
            """
        ),
    ]


GOOD = [
    code("FACTOR = 10"),
    code("def add(a, b):\n    return a + b", exercise="add"),
    code("def scale(values):\n    return [v * FACTOR for v in values]", exercise="scale"),
]
"""A learner's answers that earn every point of the fixture lab."""
WRONG = [
    code("FACTOR = 10"),
    code("def add(a, b):\n    return a - b", exercise="add"),
    code("def scale(values):\n    return [v * FACTOR for v in values]", exercise="scale"),
]
"""Answers wrong on ``add`` only (scale earns its points)."""


def write_notebook(path: Path, cells: list[nbformat.NotebookNode]) -> Path:
    """Write a notebook of these cells (nbformat 4.5, fixed cell ids)."""
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for number, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{number}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def write_submission_of(sources: list[str], folder: Path) -> Path:
    """The submission module of a notebook of these code cells (dedented), in ``folder``."""
    from labgrader.notebook import build_submission, write_submission

    cells = [code(source) for source in sources]
    return write_submission(build_submission(nbformat.v4.new_notebook(cells=cells)), folder)


def write_course(root: Path, checks: str = CHECKS) -> Path:
    """Write a course holding the fixture lab (its solution and these checks) at ``root``."""
    write_notebook(root / "solutions" / LAB / f"{LAB}.ipynb", solution_cells())
    folder = root / "grading" / "checks" / LAB
    folder.mkdir(parents=True)
    (folder / "test_fixture.py").write_text(checks.lstrip(), encoding="utf-8")
    return root


@pytest.fixture
def course(tmp_path: Path) -> Path:
    """A course folder holding the fixture lab: solutions/, grading/checks/, labs/."""
    root = write_course(tmp_path / "course")
    (root / "labs").mkdir()
    return root


@pytest.fixture
def make_notebook(tmp_path: Path) -> Callable[..., Path]:
    """Write a notebook of the given cells into the fixture lab's folder of a submission."""

    def make(cells: list[nbformat.NotebookNode], name: str = f"{LAB}.ipynb") -> Path:
        return write_notebook(tmp_path / "submissions" / LAB / name, cells)

    return make
