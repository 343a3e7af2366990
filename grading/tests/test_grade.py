"""labgrader.grade and labgrader.run: real check runs in child processes, no mocks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import LAB, code

from labgrader import GradeResult, LabNotFound, RunStatus, assign, grade_notebook
from labgrader.course import Course

SOLUTION = Path("solutions", LAB, f"{LAB}.ipynb")
STARTER = Path("labs", LAB, f"{LAB}.ipynb")


@pytest.fixture
def in_course(course: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(course)
    assign(course=Course(course))
    return course


def _by_name(result: GradeResult) -> dict[str, tuple[bool, float, str]]:
    return {c.name.rpartition("::")[2]: (c.passed, c.points, c.message) for c in result.checks}


def test_the_solution_earns_full_marks(in_course: Path) -> None:
    result = grade_notebook(SOLUTION, lab="90")
    assert result.status is RunStatus.OK and result.passed
    assert (result.lab, result.points, result.max_points) == (LAB, 5, 5)
    assert [(e.exercise, e.points, e.max_points) for e in result.exercises] == [
        ("add", 3, 3),
        ("scale", 2, 2),
    ]
    assert {c.name for c in result.checks if c.hidden} == {
        "test_fixture.py::test_add_negative",
        "test_fixture.py::test_scale_empty",
    }
    assert result.notes == ("cell 7 was not graded: a cell magic that is not Python",)


def test_the_starter_earns_zero_with_the_stub_message(in_course: Path) -> None:
    result = grade_notebook(STARTER, lab=None)  # the lab comes from the folder name
    assert result.status is RunStatus.OK and result.points == 0 and result.max_points == 5
    assert _by_name(result)["test_add_small"] == (
        False,
        0,
        "not answered yet: its cell still raises NotImplementedError",
    )


def test_visible_only_and_one_exercise(in_course: Path) -> None:
    result = grade_notebook(SOLUTION, lab=LAB, include_hidden=False, exercise="add")
    assert [c.name for c in result.checks] == ["test_fixture.py::test_add_small"]


def test_a_wrong_answer_fails_with_the_assertion_message(in_course: Path, make_notebook) -> None:  # type: ignore[no-untyped-def]
    path = make_notebook(
        [
            code("def add(a, b):\n    return a - b", exercise="add"),
            code("def scale(v):\n    return [x * 10 for x in v]", exercise="scale"),
        ]
    )
    result = grade_notebook(path, lab=LAB)
    assert _by_name(result)["test_add_small"] == (False, 0, "add(1, 2) should be 3, got -1")
    assert _by_name(result)["test_add_negative"] == (False, 0, "add(-1, -2) should be -3")
    assert _by_name(result)["test_scale_empty"] == (True, 1, "")
    assert result.points == 2


def test_a_notebook_that_does_not_import_fails_every_check_naming_the_cell(
    in_course: Path, make_notebook
) -> None:  # type: ignore[no-untyped-def]
    path = make_notebook(
        [
            code("def add(a, b):\n    return a + b", exercise="add"),
            code("def scale(v)\n    return v", exercise="scale"),
        ]
    )
    result = grade_notebook(path, lab=LAB)
    assert result.status is RunStatus.OK and result.points == 0
    messages = {c.message for c in result.checks}
    assert messages == {
        "the notebook's code has a syntax error at cell 2 (exercise 'scale'), line 1: expected ':'"
    }


def _write_checks(course: Path, body: str) -> None:
    (course / "grading" / "checks" / LAB / "test_fixture.py").write_text(
        "import os, time\nimport pytest\n\n" + body, encoding="utf-8"
    )


def test_an_early_exit_earns_nothing_and_still_yields_rows(in_course: Path) -> None:
    _write_checks(
        in_course,
        '@pytest.mark.check(exercise="add", points=1)\n'
        "def test_ok(nb):\n    assert nb.add(1, 1) == 2\n\n"
        '@pytest.mark.check(exercise="add", points=1)\ndef test_exit(nb):\n    os._exit(0)\n',
    )
    result = grade_notebook(SOLUTION, lab=LAB)
    assert result.status is RunStatus.CRASHED and result.points == 0 and result.max_points == 2
    assert (
        "ended before the harness finished (while running test_fixture.py::test_exit) (exit code 0)"
        in result.message
    )
    assert _by_name(result) == {
        "test_ok": (False, 0, "passed, but the run crashed afterwards: no points"),
        "test_exit": (False, 0, "this check was running when the run crashed: no points"),
    }


def test_a_hang_is_stopped_at_the_timeout_and_earns_nothing(in_course: Path) -> None:
    _write_checks(
        in_course,
        '@pytest.mark.check(exercise="add", points=1)\ndef test_hang(nb):\n    time.sleep(60)\n',
    )
    started = time.monotonic()
    result = grade_notebook(SOLUTION, lab=LAB, timeout=3)
    assert time.monotonic() - started < 15
    assert result.status is RunStatus.TIMEOUT and result.points == 0
    assert (
        result.message
        == "the check run was stopped after 3 s (while running test_fixture.py::test_hang)"
    )
    assert _by_name(result) == {
        "test_hang": (False, 0, "this check was running when the run timed out: no points")
    }


def test_a_forged_results_file_earns_nothing(in_course: Path) -> None:
    # The check (run in the same process as the harness) appends a forged "passed" record.
    _write_checks(
        in_course,
        "import json, sys\n\n"
        '@pytest.mark.check(exercise="add", points=1)\ndef test_forge(nb):\n'
        '    path = sys.argv[sys.argv.index("--labgrader-results") + 1]\n'
        '    with open(path, "a") as f:\n'
        '        f.write("0" * 64 + " " + json.dumps({"event": "done", "seq": 99}) + "\\n")\n'
        "    assert False, 'the real result'\n",
    )
    result = grade_notebook(SOLUTION, lab=LAB)
    assert result.status is RunStatus.CRASHED and result.points == 0
    assert "the results file is garbled or forged" in result.message


def test_broken_checks_are_an_error_not_a_learner_failure(in_course: Path) -> None:
    _write_checks(
        in_course,
        "def test_unmarked(nb):\n    pass\n\n"
        "@pytest.mark.check(exercise='add', points=0)\ndef test_zero(nb):\n    pass\n",
    )
    result = grade_notebook(SOLUTION, lab=LAB)
    assert result.status is RunStatus.ERROR
    assert (
        "test_fixture.py::test_unmarked has no @pytest.mark.check(exercise=..., points=...) marker"
        in result.message
    )
    assert (
        "test_fixture.py::test_zero: the check marker needs points=<a number above 0>, got 0"
        in result.message
    )


def test_a_check_file_that_does_not_import_is_an_error(in_course: Path) -> None:
    _write_checks(in_course, "import not_a_module_anywhere\n")
    result = grade_notebook(SOLUTION, lab=LAB)
    assert result.status is RunStatus.ERROR
    assert (
        "cannot collect test_fixture.py" in result.message
        and "not_a_module_anywhere" in result.message
    )


def test_checks_are_copied_not_run_in_place(in_course: Path) -> None:
    grade_notebook(SOLUTION, lab=LAB)
    assert sorted(p.name for p in (in_course / "grading" / "checks" / LAB).iterdir()) == [
        "test_fixture.py"
    ]


def test_lab_not_inferable_is_refused_with_advice(tmp_path: Path, course: Path) -> None:
    notebook = course / "solutions" / LAB / f"{LAB}.ipynb"
    loose = tmp_path / "submission.ipynb"
    loose.write_bytes(notebook.read_bytes())
    with pytest.raises(
        LabNotFound, match=r"cannot tell which lab 'submission.ipynb' belongs to.*--lab 01"
    ):
        grade_notebook(loose, lab=None)
    result = grade_notebook(loose, lab="90-fixture", checks_dir=course / "grading" / "checks" / LAB)
    assert result.passed


def test_each_check_records_its_time_and_the_batch_names_the_slowest(
    in_course: Path, tmp_path: Path
) -> None:
    from conftest import GOOD, write_notebook

    from labgrader.batch import grade_batch
    from labgrader.feedback import results_json
    from labgrader.report import slowest_checks

    _write_checks(
        in_course,
        "import time\n\n"
        "@pytest.mark.check(exercise='add', points=1)\ndef test_slow(nb):\n"
        "    time.sleep(1.0)\n    assert nb.add(1, 2) == 3\n\n"
        "@pytest.mark.check(exercise='scale', points=1)\ndef test_quick(nb):\n"
        "    assert nb.scale([1]) == [10]\n",
    )
    result = grade_notebook(SOLUTION, lab=LAB)
    seconds = {c.name.rpartition("::")[2]: c.seconds for c in result.checks}
    assert seconds["test_slow"] >= 1.0 and seconds["test_quick"] > 0
    assert result.exercises[0].seconds == seconds["test_slow"]
    write_notebook(tmp_path / "subs" / "ada.ipynb", GOOD)
    write_notebook(tmp_path / "subs" / "bob.ipynb", GOOD)
    report = grade_batch(lab=LAB, submissions=[tmp_path / "subs"], out=tmp_path / "out", jobs=2)
    assert [name for name, _ in slowest_checks(report.rows)] == [
        "test_fixture.py::test_slow",
        "test_fixture.py::test_quick",
    ]
    tests = results_json(report.rows[0], release=True)["tests"]
    assert tests[0]["extra_data"]["seconds"] >= 1.0
