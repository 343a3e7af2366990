"""labgrader.batch: a batch of real submissions, bad inputs included, one row each."""

from __future__ import annotations

import copy
import csv
import json
import os
import stat
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import GOOD, LAB, WRONG, code, solution_cells, write_notebook

from labgrader.batch import grade_batch
from labgrader.gradebook import Status


@pytest.fixture
def in_course(course: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(course)
    return course


def _nb_bytes(cells: list[nbformat.NotebookNode], tmp: Path) -> bytes:
    return write_notebook(tmp / "x.ipynb", cells).read_bytes()


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "gradebook.csv").open(encoding="utf-8") as handle:
        return {r["learner"]: r for r in csv.DictReader(handle)}


def test_a_batch_of_good_wrong_and_bad_inputs_gives_one_row_each(
    in_course: Path, tmp_path: Path
) -> None:
    subs = tmp_path / "subs"
    folder = subs / "folder"
    write_notebook(folder / "ada.ipynb", GOOD)
    write_notebook(folder / "bob" / f"{LAB}.ipynb", WRONG)
    (folder / "cy.ipynb").write_text("{ not json", encoding="utf-8")
    (folder / "dee.ipynb").write_text("", encoding="utf-8")
    (folder / "eve.ipynb").write_text(json.dumps({"nbformat": 3, "cells": []}), encoding="utf-8")
    (folder / "fay.ipynb").write_bytes(os.urandom(2048))
    big = nbformat.v4.new_notebook(cells=copy.deepcopy(GOOD))
    big.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * 50_000_000)]
    (folder / "gus.ipynb").write_text(nbformat.writes(big), encoding="utf-8")
    os.symlink(folder / "ada.ipynb", folder / "hal.ipynb")
    # An LMS download: nested folders, a duplicate learner, path traversal, a symlink member.
    archive = subs / "lms.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr(f"export/ivy/{LAB}.ipynb", _nb_bytes(GOOD, tmp_path))
        z.writestr(f"export/ada/{LAB}.ipynb", _nb_bytes(WRONG, tmp_path))
        z.writestr("export/../../escape.ipynb", _nb_bytes(GOOD, tmp_path))
        link = zipfile.ZipInfo("export/jo/link.ipynb")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        z.writestr(link, "/etc/passwd")
    out = tmp_path / "graded"
    before = {p for p in tmp_path.rglob("*") if not p.is_relative_to(out)}
    report = grade_batch(lab="90", submissions=[folder, archive], out=out, jobs=2)
    rows = _rows(out)
    assert set(rows) == {
        "ada", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "ada~2", "escape", "link",
    }  # fmt: skip
    assert len(report.rows) == 12
    assert (rows["ada"]["status"], rows["ada"]["score"], rows["ada"]["max_score"]) == (
        "graded", "5", "5",
    )  # fmt: skip
    assert (rows["bob"]["score"], rows["bob"]["add"], rows["bob"]["scale"]) == ("2", "0", "2")
    assert rows["gus"]["status"] == "invalid"
    assert rows["gus"]["message"].startswith(
        "the notebook is 50.0 MB, over the course's 20 MB limit (course.toml [grading] "
        "max_notebook_mb): clear its outputs"
    )
    assert rows["ivy"]["score"] == "5"
    assert rows["cy"]["status"] == "invalid" and "invalid JSON at line 1" in rows["cy"]["message"]
    assert rows["dee"]["message"].startswith("the file is empty")
    assert "nbformat 3" in rows["eve"]["message"]
    assert rows["fay"]["message"].startswith("not a notebook: the file is not UTF-8")
    assert rows["hal"]["message"] == "a symbolic link: not followed (submit the notebook itself)"
    assert rows["ada~2"]["message"].startswith("duplicate learner id 'ada': ")
    assert "has an unsafe path: not read" in rows["escape"]["message"]
    assert "is a symbolic link: not followed" in rows["link"]["message"]
    assert all(rows[k]["max_score"] == "5" for k in rows)
    # Nothing was written outside DIR, and every graded learner has its files.
    assert {p for p in tmp_path.rglob("*") if not p.is_relative_to(out)} == before
    assert not (tmp_path.parent / "escape.ipynb").exists()
    for learner in rows:
        assert {p.name for p in (out / learner).iterdir()} == {
            "results.json", "feedback.html", "grade.json",
        }  # fmt: skip
        assert (out / ".records" / f"{learner}.json").is_file()
    gb = json.loads((out / "gradebook.json").read_text(encoding="utf-8"))
    assert [r["learner"] for r in gb["rows"]] == [r.learner for r in report.rows]


def test_results_json_is_gradescope_format_and_feedback_hides_hidden_checks(
    in_course: Path, tmp_path: Path
) -> None:
    write_notebook(tmp_path / "subs" / "bob.ipynb", WRONG)
    out = tmp_path / "graded"
    grade_batch(lab=LAB, submissions=[tmp_path / "subs" / "bob.ipynb"], out=out)
    results = json.loads((out / "bob" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 2 and results["execution_time"] > 0
    hidden = [t for t in results["tests"] if t["visibility"] == "after_published"]
    assert [t["name"] for t in hidden] == [
        "add: test_fixture.py::test_add_negative",
        "scale: test_fixture.py::test_scale_empty",
    ]
    assert {"name", "score", "max_score", "visibility", "output"} <= set(results["tests"][0])
    page = (out / "bob" / "feedback.html").read_text(encoding="utf-8")
    assert "add(1, 2) should be 3, got -1" in page
    assert "test_add_negative" not in page and "add(-1, -2)" not in page
    assert "2 hidden check(s) worth 2 point(s)" in page
    assert "1 / 3 points on the visible checks" in page
    grade_batch(lab=LAB, submissions=[tmp_path / "subs" / "bob.ipynb"], out=out, release=True)
    released = (out / "bob" / "feedback.html").read_text(encoding="utf-8")
    assert "add(-1, -2) should be -3" in released and "2 / 5 points" in released


def test_a_rerun_skips_graded_submissions_unless_forced_or_changed(
    in_course: Path, tmp_path: Path
) -> None:
    subs = tmp_path / "subs"
    write_notebook(subs / "ada.ipynb", GOOD)
    write_notebook(subs / "bob.ipynb", WRONG)
    out = tmp_path / "graded"
    first = grade_batch(lab=LAB, submissions=[subs], out=out)
    assert first.reused == 0
    again = grade_batch(lab=LAB, submissions=[subs], out=out)
    assert again.reused == 2 and [r.score for r in again.rows] == [5, 2]
    write_notebook(subs / "bob.ipynb", GOOD)
    changed = grade_batch(lab=LAB, submissions=[subs], out=out)
    assert changed.reused == 1 and [r.score for r in changed.rows] == [5, 5]
    forced = grade_batch(lab=LAB, submissions=[subs], out=out, force=True)
    assert forced.reused == 0


def test_late_policy_from_a_due_date_csv(in_course: Path, tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    for name in ("ada", "bob", "cy"):
        path = write_notebook(subs / f"{name}.ipynb", GOOD)
        os.utime(path, (0, 1_700_000_000))  # 2023-11-14T22:13:20Z
    due = tmp_path / "due.csv"
    due.write_text(
        "learner,due,extension_days\n*,2023-11-12T22:00:00+00:00,\nbob,,3\ncy,2023-11-15,\n",
        encoding="utf-8",
    )
    report = grade_batch(lab=LAB, submissions=[subs], out=tmp_path / "graded", due=due)
    by = {r.learner: r for r in report.rows}
    assert (by["ada"].late_days, by["ada"].score, by["ada"].raw_score) == (3, 3.5, 5)
    assert (by["bob"].late_days, by["bob"].score) == (0, 5)
    assert (by["cy"].late_days, by["cy"].score) == (0, 5)
    assert "submitted 3 day(s) late: 10% off per day, 5 -> 3.5 points" in by["ada"].notes
    rows = _rows(tmp_path / "graded")
    assert (rows["ada"]["score"], rows["ada"]["add"], rows["ada"]["late_days"]) == (
        "3.5",
        "2.1",
        "3",
    )


def test_removed_exercise_ids_are_noted_and_checks_still_decide(
    in_course: Path, tmp_path: Path
) -> None:
    cells = [code(c.source) for c in GOOD]  # same code, exercise ids removed
    write_notebook(tmp_path / "subs" / "ada.ipynb", cells)
    report = grade_batch(lab=LAB, submissions=[tmp_path / "subs"], out=tmp_path / "graded")
    [row] = report.rows
    assert row.status is Status.GRADED and row.score == 5
    assert any("has no cell for exercise(s) add, scale" in n for n in row.notes)


def test_the_solution_cells_helper_still_grades_full(in_course: Path, tmp_path: Path) -> None:
    write_notebook(tmp_path / "subs" / "sol.ipynb", solution_cells())
    report = grade_batch(lab=LAB, submissions=[tmp_path / "subs"], out=tmp_path / "graded")
    assert [(r.learner, r.status, r.score) for r in report.rows] == [("sol", Status.GRADED, 5)]
