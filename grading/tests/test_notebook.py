"""labgrader.notebook: the module built from a notebook's code cells, and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from conftest import code, solution_cells, write_notebook

from labgrader import NotebookError, NotebookImportError
from labgrader.notebook import ModuleLoader, build_submission, read_notebook, write_submission


def _doc(cells: list[nbformat.NotebookNode]) -> dict[str, object]:
    return json.loads(nbformat.writes(nbformat.v4.new_notebook(cells=cells)))


def _load(tmp_path: Path, cells: list[nbformat.NotebookNode]) -> ModuleLoader:
    return ModuleLoader(write_submission(build_submission(_doc(cells)), tmp_path))


def test_demo_and_check_cells_and_magics_are_left_out(tmp_path: Path) -> None:
    submission = build_submission(_doc(solution_cells()))
    assert "demo cells must not run" not in submission.source
    assert "labgrader.check" not in submission.source
    assert "echo not python" not in submission.source
    assert "%load_ext" not in submission.source and "!echo" not in submission.source
    assert submission.exercises == ("add", "scale")
    assert dict(submission.skipped) == {
        5: "tagged demo",
        6: "tagged check",
        7: "a cell magic that is not Python",
    }
    module = ModuleLoader(write_submission(submission, tmp_path)).load()
    assert module.add(2, 3) == 5 and module.scale([1]) == [10]


def test_a_magic_alone_in_a_block_keeps_the_block_valid_and_python_cell_magics_run(
    tmp_path: Path,
) -> None:
    module = _load(
        tmp_path,
        [
            code("if True:\n    !pip install nothing\nVALUE = 1"),
            code("%%time\nTIMED = 2"),
            code("display(VALUE)  # IPython's builtin, absent outside a kernel"),
        ],
    ).load()
    assert (module.VALUE, module.TIMED) == (1, 2)


def test_top_level_await_cells_are_left_out_with_a_note() -> None:
    submission = build_submission(
        _doc([code("import asyncio\nawait asyncio.sleep(0)"), code("A = 1")])
    )
    assert submission.skipped == ((1, "top-level await (tag it 'demo')"),)
    assert "A = 1" in submission.source


def test_each_load_is_a_fresh_module_with_importable_definitions(tmp_path: Path) -> None:
    loader = _load(
        tmp_path,
        [
            code(
                "from dataclasses import dataclass\n\n"
                "@dataclass\nclass Point:\n    x: int\n\nSEEN = []"
            )
        ],
    )
    first, second = loader.load(), loader.load()
    first.SEEN.append(1)
    assert second.SEEN == [] and first.__name__ != second.__name__
    assert first.Point(1).x == 1 and first.Point.__module__ == first.__name__


def test_a_syntax_error_names_the_cell_and_line(tmp_path: Path) -> None:
    loader = _load(
        tmp_path,
        [
            nbformat.v4.new_markdown_cell("intro"),
            code("A = 1"),
            code("def f(:\n    pass", exercise="f"),
        ],
    )
    with pytest.raises(NotebookImportError) as info:
        loader.load()
    assert str(info.value).startswith(
        "the notebook's code has a syntax error at cell 3 (exercise 'f'), line 1:"
    )


def test_an_exception_at_top_level_names_the_cell_line_and_error(tmp_path: Path) -> None:
    loader = _load(tmp_path, [code("A = 1"), code("B = 2\nC = undefined_name + 1")])
    with pytest.raises(NotebookImportError) as info:
        loader.load()
    assert str(info.value) == (
        "the notebook's code failed at cell 2, line 2: "
        "NameError: name 'undefined_name' is not defined"
    )
    with pytest.raises(NotebookImportError):  # remembered, not re-run
        loader.load()


def test_unreadable_notebooks_are_refused_clearly(tmp_path: Path) -> None:
    with pytest.raises(NotebookError, match="does not exist"):
        read_notebook(tmp_path / "missing.ipynb")
    (tmp_path / "bad.ipynb").write_text("{not json", encoding="utf-8")
    with pytest.raises(NotebookError, match="is not a notebook: invalid JSON at line 1"):
        read_notebook(tmp_path / "bad.ipynb")
    (tmp_path / "v3.ipynb").write_text('{"nbformat": 3, "cells": []}', encoding="utf-8")
    with pytest.raises(NotebookError, match="nbformat 3; labgrader reads nbformat 4"):
        read_notebook(tmp_path / "v3.ipynb")
    assert read_notebook(write_notebook(tmp_path / "ok.ipynb", [code("A = 1")]))["nbformat"] == 4
