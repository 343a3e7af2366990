"""labgrader.intake: every file a row or a named reason; malformed notebooks refused."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import LAB, code, write_notebook

from labgrader.errors import NotebookError
from labgrader.intake import collect, learner_id, load_notebook
from labgrader.notebook import build_submission


def test_unicode_letters_stay_in_learner_ids() -> None:
    assert learner_id("u\u0308n\u00ef") == "\u00fcn\u00ef"  # NFC
    assert learner_id("a b") == "a_b"


def test_every_file_gets_a_row_or_a_reason(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    cells = [code("x = 1")]
    for name in ("..ipynb", ".hidden.ipynb", "a b.ipynb", "a_b.ipynb", "ünï.ipynb"):
        write_notebook(subs / name, cells)
    write_notebook(subs / "ada" / ".ipynb_checkpoints" / f"{LAB}-checkpoint.ipynb", cells)
    write_notebook(subs / "ada" / f"{LAB}.ipynb", cells)
    intake = collect([subs], lab=LAB)
    by = {e.learner: e for e in intake.entries}
    assert set(by) == {"a_b", "a_b~2", "ünï", "ada"}
    assert any("gives the same learner id as" in n for n in by["a_b~2"].notes)
    reasons = {Path(s.source).name: s.reason for s in intake.skipped}
    assert "..ipynb" in reasons and ".hidden.ipynb" in reasons
    assert reasons[".ipynb_checkpoints"].startswith("Jupyter's checkpoints folder")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("metadata", [], "cell 1: its metadata must be a mapping"),
        ("source", [1, 2], "cell 1: its source must be text"),
    ],
)
def test_schema_errors_name_the_cell_and_field(
    tmp_path: Path, field: str, value: object, reason: str
) -> None:
    path = write_notebook(tmp_path / "x.ipynb", [code("x = 1")])
    import json

    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["cells"][0][field] = value
    path.write_text(json.dumps(doc), encoding="utf-8")
    [entry] = collect([path], lab=LAB).entries
    with pytest.raises(NotebookError, match=reason):
        load_notebook(entry)


def test_a_deeply_nested_cell_is_not_compiled_in_the_parent() -> None:
    deep = "x = " + "(" * 200_000 + "1" + ")" * 200_000
    doc = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "source": deep, "metadata": {}, "outputs": [], "id": "a",
         "execution_count": None},
    ]}  # fmt: skip
    submission = build_submission(doc)
    assert submission.spans and not submission.skipped
