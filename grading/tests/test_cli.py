"""The labgrader command: exit codes and what it prints, run as a real process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import LAB, code, solution_cells, write_notebook

from labgrader.assign import assign
from labgrader.course import find_course


def labgrader(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "labgrader", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "", "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"},
    )


@pytest.fixture
def assigned(course: Path) -> Path:
    """The course with its starters written (in this process: ``labgrader assign`` as a
    command is the subject of the assign tests)."""
    assert assign(course=find_course(course)).ok
    return course


def test_assign_then_check_is_clean_and_stale_files_are_named(course: Path) -> None:
    first = labgrader("assign", cwd=course)
    assert first.returncode == 0 and f"wrote labs/{LAB}/{LAB}.ipynb" in first.stdout
    fresh = labgrader("assign", "--check", cwd=course)
    assert fresh.returncode == 0 and "labs are up to date (1 notebook)" in fresh.stdout
    write_notebook(course / "solutions" / LAB / f"{LAB}.ipynb", [*solution_cells(), code("X = 1")])
    stale = labgrader("assign", "--check", cwd=course)
    assert stale.returncode == 1
    assert (
        f"labs/{LAB}/{LAB}.ipynb is stale: run `labgrader assign` to regenerate it" in stale.stdout
    )


def test_assign_refusal_is_one_line_and_exit_2(course: Path) -> None:
    write_notebook(course / "solutions" / LAB / f"{LAB}.ipynb", [code("x = 1", exercise="x")])
    proc = labgrader("assign", cwd=course)
    assert proc.returncode == 2
    assert proc.stderr.startswith(
        f"labgrader: solutions/{LAB}/{LAB}.ipynb: cell 1 (exercise 'x') is an exercise cell"
    )


def test_check_on_the_starter_fails_and_says_why(assigned: Path) -> None:
    proc = labgrader("check", f"labs/{LAB}/{LAB}.ipynb", cwd=assigned)
    assert proc.returncode == 1
    assert (
        "test_add_small: not answered yet: its cell still raises NotImplementedError" in proc.stdout
    )
    assert "0/3 points" in proc.stdout  # visible checks only
    assert "hidden" not in proc.stdout and "test_add_negative" not in proc.stdout


def test_check_one_exercise_of_the_solution_passes(assigned: Path) -> None:
    proc = labgrader("check", f"solutions/{LAB}/{LAB}.ipynb", "--exercise", "add", cwd=assigned)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "passed" in proc.stdout and "2/2 points" in proc.stdout


def test_check_a_lab_folder_checks_the_one_notebook_in_it(assigned: Path) -> None:
    proc = labgrader("check", f"solutions/{LAB}", "--exercise", "add", cwd=assigned)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "2/2 points" in proc.stdout
    starter = labgrader("check", f"labs/{LAB}", cwd=assigned)
    assert starter.returncode == 1 and "0/3 points" in starter.stdout


def test_check_a_folder_without_exactly_one_notebook_says_so(assigned: Path) -> None:
    (assigned / "empty").mkdir()
    none = labgrader("check", "empty", cwd=assigned)
    assert none.returncode == 2
    assert "empty holds no notebook (*.ipynb): name the notebook to check" in none.stderr
    write_notebook(assigned / "labs" / LAB / "copy.ipynb", solution_cells())
    several = labgrader("check", f"labs/{LAB}", cwd=assigned)
    assert several.returncode == 2
    assert "holds 2 notebooks (90-fixture.ipynb, copy.ipynb): name one" in several.stderr


def test_check_an_unknown_exercise_lists_the_notebooks_exercises(assigned: Path) -> None:
    proc = labgrader("check", f"labs/{LAB}/{LAB}.ipynb", "-e", "nope", cwd=assigned)
    assert proc.returncode == 1
    assert (
        "no checks to run for exercise 'nope' in lab 90-fixture "
        "(the notebook's exercises: add, scale)" in proc.stdout
    )


def test_grade_counts_hidden_checks_and_writes_json(assigned: Path) -> None:
    proc = labgrader("grade", f"solutions/{LAB}/{LAB}.ipynb", "--json", "out.json", cwd=assigned)
    assert proc.returncode == 0 and "5/5 points" in proc.stdout
    assert '"status": "ok"' in (assigned / "out.json").read_text(encoding="utf-8")


def test_validate_passes_a_sound_lab_and_fails_a_broken_one(assigned: Path) -> None:
    ok = labgrader("validate", "--all", cwd=assigned)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert LAB in ok.stdout and " ok " in ok.stdout
    assert "starting the grader for 1 lab(s)..." in ok.stderr
    assert re.search(rf"{LAB} solution: 5/5 in \d+\.\d s", ok.stderr)
    assert re.search(rf"{LAB} starter: 0/5 in \d+\.\d s", ok.stderr)
    quiet = labgrader("validate", "--all", "--quiet", cwd=assigned)
    assert quiet.returncode == 0 and quiet.stderr == ""
    cells = solution_cells()
    cells[3].source = cells[3].source.replace("v * FACTOR", "v")
    write_notebook(assigned / "solutions" / LAB / f"{LAB}.ipynb", cells)
    bad = labgrader("validate", "90", cwd=assigned)
    assert bad.returncode == 1
    assert (
        "the solution fails test_fixture.py::test_scale (exercise 'scale'): "
        "scale([1, 2]) should be [10, 20]" in bad.stdout
    )


def test_validate_needs_labs_or_all(course: Path) -> None:
    proc = labgrader("validate", cwd=course)
    assert proc.returncode == 2 and "name the labs to validate, or pass --all" in proc.stderr


def test_outside_a_course_the_error_says_what_to_do(tmp_path: Path) -> None:
    proc = labgrader("assign", cwd=tmp_path)
    assert proc.returncode == 2 and "no course found" in proc.stderr and "--root" in proc.stderr


def test_help_explains_each_command(tmp_path: Path) -> None:
    proc = labgrader("check", "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "--exercise" in proc.stdout and "visible checks" in proc.stdout


def test_grade_a_batch_prints_the_summary_and_writes_the_gradebook(assigned: Path) -> None:
    subs = assigned / "subs"
    write_notebook(subs / "ada.ipynb", solution_cells())
    (subs / "bob.ipynb").write_text("not json", encoding="utf-8")
    proc = labgrader("grade", LAB, "subs", "--out", "graded", "--jobs", "2", cwd=assigned)
    assert proc.returncode == 0, proc.stderr
    assert "1 graded, 1 invalid" in proc.stdout
    assert "starting the grader (engines once per batch, a pre-warmed grader)..." in proc.stderr
    assert re.search(r"the grader ready in \d+\.\d s", proc.stderr)
    assert re.search(r"graded 2/2 \([\d.]+/s, about 0 s left\): graded 1, invalid 1", proc.stderr)
    assert "bob is not a notebook" not in proc.stdout and "invalid JSON" in proc.stdout
    lines = (assigned / "graded" / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "learner,status,score,max_score,add,scale,late_days,review,message"
    assert lines[1] == "ada,graded,5,5,3,2,0,0,"
    rerun = labgrader("grade", LAB, "subs", "--out", "graded", cwd=assigned)
    assert "(2 unchanged, kept from the last run)" in rerun.stdout
    assert labgrader("grade", LAB, "--out", "graded", cwd=assigned).returncode == 2


def test_a_mistyped_path_is_one_line_and_exit_2_before_anything_is_written(
    assigned: Path,
) -> None:
    write_notebook(assigned / "submissions" / "ada.ipynb", solution_cells())
    proc = labgrader("grade", LAB, "submisions", "--out", "graded", cwd=assigned)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "labgrader: no such file or folder: 'submisions': did you mean 'submissions/'?"
    )
    assert not (assigned / "graded").exists()


def test_an_empty_folder_or_an_unknown_lab_is_exit_2_before_anything_is_written(
    assigned: Path,
) -> None:
    (assigned / "empty").mkdir()
    proc = labgrader("grade", LAB, "empty", "--out", "graded", cwd=assigned)
    assert proc.returncode == 2
    assert "no submission found in 'empty'" in proc.stderr
    write_notebook(assigned / "subs" / "ada.ipynb", solution_cells())
    unknown = labgrader("grade", "99", "subs", "--out", "graded", cwd=assigned)
    assert unknown.returncode == 2 and "99" in unknown.stderr
    assert not (assigned / "graded").exists()


def test_override_regrade_export_and_report_round_trip_through_a_batch(assigned: Path) -> None:
    subs = assigned / "subs"
    write_notebook(subs / "ada.ipynb", solution_cells())
    write_notebook(
        subs / "bob.ipynb",
        [*solution_cells()[:2], code("def add(a, b):\n    return 0", exercise="add")],
    )
    assert labgrader("grade", LAB, "subs", "--out", "graded", cwd=assigned).returncode == 0
    bad = labgrader("override", "graded", "bob", "nope", "1", "--reason", "x", cwd=assigned)
    assert bad.returncode == 2 and bad.stderr.startswith("labgrader: 'nope' is no exercise")
    ok = labgrader(
        "override", "graded", "bob", "add", "2", "--reason", "fair", "--by", "prof", cwd=assigned
    )
    assert ok.returncode == 0, ok.stderr
    assert "bob add: 2 point(s); total now 2/5" in ok.stdout
    again = labgrader("regrade", "graded", "bob", cwd=assigned)
    assert again.returncode == 0 and "bob: 0 -> 0 (graded)" in again.stdout
    assert "regraded 1 learner(s), 0 score(s) changed" in again.stdout
    canvas = labgrader("export", "graded", "--to", "canvas", cwd=assigned)
    assert canvas.returncode == 0 and (assigned / "graded" / "canvas.csv").is_file()
    assert "bob,,,bob,,2" in (assigned / "graded" / "canvas.csv").read_text(encoding="utf-8")
    wrong = labgrader("export", "graded", "--to", "blackboard", cwd=assigned)
    assert wrong.returncode == 2 and "canvas" in wrong.stderr
    page = labgrader("report", "graded", cwd=assigned)
    assert page.returncode == 0 and (assigned / "graded" / "report.html").is_file()
