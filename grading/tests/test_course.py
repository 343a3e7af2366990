"""labgrader.course: finding the course and resolving lab ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import LAB

from labgrader import CourseNotFound, LabNotFound
from labgrader.course import Course, find_course, lab_from_path


def test_short_and_full_lab_ids_resolve(course: Path) -> None:
    here = Course(course)
    assert here.lab_ids() == [LAB]
    assert here.resolve("90") == here.resolve(LAB) == here.resolve(f"labs/{LAB}") == LAB
    with pytest.raises(LabNotFound, match=f"no lab '91'.*labs: {LAB}"):
        here.resolve("91")


def test_the_course_is_found_from_any_folder_inside_it(course: Path) -> None:
    assert find_course(course / "grading" / "checks" / LAB).root == course.resolve()
    with pytest.raises(CourseNotFound, match="no course found"):
        find_course(course.parent)


def test_the_lab_comes_from_the_folder_or_the_file_name() -> None:
    assert lab_from_path(Path("labs", LAB, "anything.ipynb")) == LAB
    assert lab_from_path(Path("inbox", f"{LAB}.ipynb")) == LAB
    assert lab_from_path(Path("inbox", "mine.ipynb")) is None
