"""labgrader.validate: solutions earn full marks, starters zero, checks match exercises."""

from __future__ import annotations

from pathlib import Path

from conftest import LAB, code, solution_cells, write_notebook

from labgrader import validate
from labgrader.course import Course


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
