"""A run told to stop at the first failing check (how validate proves a mutant is caught)."""

from __future__ import annotations

from pathlib import Path

from conftest import write_course

from labgrader.notebook import build_submission, read_notebook
from labgrader.results import RunStatus
from labgrader.run import run_checks

CHECKS = """
import pytest


@pytest.mark.check(exercise="add", points=1)
def test_first(nb):
    assert nb.add(1, 2) == 3


@pytest.mark.check(exercise="add", points=1)
def test_second_fails(nb):
    assert nb.add(2, 2) == 5, "the check that fails"


@pytest.mark.check(exercise="add", points=1)
def test_third(nb):
    assert nb.add(0, 0) == 0
"""


def test_the_checks_after_the_first_failure_are_passed_over(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course", checks=CHECKS)
    doc = read_notebook(next((root / "solutions").rglob("*.ipynb")))
    checks = next((root / "grading" / "checks").iterdir())
    outcome = run_checks(build_submission(doc), checks_dir=checks, first_failure=True)
    assert outcome.status is RunStatus.OK, outcome.message
    rows = {c.name.rpartition("::")[2]: (c.passed, c.message) for c in outcome.checks}
    assert rows == {
        "test_first": (True, ""),
        "test_second_fails": (False, "the check that fails"),
        "test_third": (False, "not run: the run stopped at the first failing check"),
    }


def test_without_the_option_every_check_runs(tmp_path: Path) -> None:
    root = write_course(tmp_path / "course", checks=CHECKS)
    doc = read_notebook(next((root / "solutions").rglob("*.ipynb")))
    checks = next((root / "grading" / "checks").iterdir())
    outcome = run_checks(build_submission(doc), checks_dir=checks)
    assert [c.passed for c in outcome.checks] == [True, False, True]
