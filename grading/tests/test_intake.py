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


def test_a_malformed_batch_never_stops_and_the_honest_learner_keeps_full_marks(
    course: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from labgrader.batch import grade_batch
    from labgrader.gradebook import Status

    monkeypatch.chdir(course)
    subs = tmp_path / "subs"
    honest = [
        code("FACTOR = 10"),
        code("def add(a, b):\n    return a + b", exercise="add"),
        code("def scale(values):\n    return [v * FACTOR for v in values]", exercise="scale"),
    ]
    write_notebook(subs / "honest.ipynb", honest)
    for name, field, value in (("meta", "metadata", []), ("ints", "source", [1, 2])):
        path = write_notebook(subs / f"{name}.ipynb", honest)
        doc = json.loads(path.read_text(encoding="utf-8"))
        doc["cells"][1][field] = value
        path.write_text(json.dumps(doc), encoding="utf-8")
    deep = [*honest, code("x = " + "(" * 100_000 + "1" + ")" * 100_000)]
    write_notebook(subs / "deep.ipynb", deep)
    out = tmp_path / "graded"
    report = grade_batch(lab=LAB, submissions=[subs], out=out, jobs=2)
    by = {r.learner: r for r in report.rows}
    assert (by["honest"].status, by["honest"].score) == (Status.GRADED, 5)
    assert by["meta"].status is Status.INVALID and "cell 2: its metadata" in by["meta"].message
    assert by["ints"].status is Status.INVALID and "cell 2: its source" in by["ints"].message
    assert by["deep"].status is not Status.ERROR
    assert (out / "gradebook.csv").is_file() and (out / "batch.log").is_file()
