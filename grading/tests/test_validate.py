"""labgrader.validate: solutions earn full marks, starters zero, checks match exercises."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import LAB, code, solution_cells, write_notebook

from labgrader import validate
from labgrader.course import Course
from labgrader.errors import MutantError


def test_a_sound_lab_validates(course: Path) -> None:
    report = validate(course=Course(course))
    assert report.ok
    [entry] = report.notebooks
    assert (entry.lab, entry.notebook, entry.solution.points, entry.starter.points) == (
        LAB,
        f"{LAB}.ipynb",
        5,
        0,
    )


def test_a_wrong_solution_and_a_check_the_starter_passes_are_named(course: Path) -> None:
    cells = solution_cells()
    cells[2].source = cells[2].source.replace("total = a + b", "total = a - b")
    cells.append(
        code(
            "def extra():\n    # BEGIN SOLUTION\n    return 1\n    # END SOLUTION", exercise="extra"
        )
    )
    write_notebook(course / "solutions" / LAB / f"{LAB}.ipynb", cells)
    checks = course / "grading" / "checks" / LAB
    (checks / "test_more.py").write_text(
        "import pytest\n\n"
        "@pytest.mark.check(exercise='scale', points=1)\ndef test_always(nb):\n    pass\n\n"
        "@pytest.mark.check(exercise='ghost', points=1)\ndef test_ghost(nb):\n    pass\n",
        encoding="utf-8",
    )
    report = validate(course=Course(course), labs=["90"])
    assert not report.ok
    problems = report.notebooks[0].problems
    assert (
        "the solution fails test_fixture.py::test_add_small (exercise 'add'): "
        "add(1, 2) should be 3, got -1" in problems
    )
    assert any(
        p.startswith("the starter passes test_more.py::test_always (exercise 'scale')")
        for p in problems
    )
    assert (
        "test_more.py::test_ghost names exercise 'ghost', which the notebook does not have"
        in problems
    )
    assert "exercise 'extra' has no checks" in problems


def _mutant(course: Path, name: str, text: str) -> None:
    folder = course / "grading" / "checks" / LAB / "mutants"
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(text, encoding="utf-8")


def test_mutants_must_lose_points_and_a_surviving_one_is_named(course: Path) -> None:
    _mutant(
        course,
        "subtracts",
        "# exercise: add\n# why: subtracts instead of adding\ndef add(a, b):\n    return a - b\n",
    )
    _mutant(
        course,
        "empty-input-crash",
        "# exercise: scale\n# why: forgets the empty list\n"
        "def scale(values):\n    return [v * FACTOR for v in values] or None\n",
    )
    _mutant(
        course,
        "same-answer",
        "# exercise: add\n# why: a refactoring that is still right\n"
        "def add(a, b):\n    return sum((a, b))\n",
    )
    report = validate(course=Course(course))
    [entry] = report.notebooks
    caught = {m.mutant.name: m.caught for m in entry.mutants}
    assert caught == {"empty-input-crash": True, "same-answer": False, "subtracts": True}
    assert entry.mutants_caught == 2
    assert entry.problems == (
        "mutant same-answer (exercise 'add': a refactoring that is still right) is not caught: "
        "it scores 3/3; add a check it fails",
    )
    # A caught mutant's run covers only its exercise's checks and stops at the first failure.
    subtracts = next(m for m in entry.mutants if m.mutant.name == "subtracts").result
    assert {c.exercise for c in subtracts.checks} == {"add"}
    assert [c.message for c in subtracts.checks] == [
        "add(1, 2) should be 3, got -1",
        "not run: the run stopped at the first failing check",
    ]


def test_a_malformed_mutant_is_refused_with_the_format(course: Path) -> None:
    _mutant(course, "no-header", "def add(a, b):\n    return 0\n")
    with pytest.raises(MutantError, match=r"mutant no-header.py needs a first-lines comment "):
        validate(course=Course(course))


def test_a_mutant_of_an_unknown_exercise_is_refused(course: Path) -> None:
    _mutant(course, "ghost", "# exercise: ghost\n# why: no such exercise\nx = 1\n")
    with pytest.raises(
        MutantError,
        match=r"mutant ghost replaces exercise 'ghost', but the notebook has no cell for it "
        r"\(exercises: add, scale\)",
    ):
        validate(course=Course(course))
