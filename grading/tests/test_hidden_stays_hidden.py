"""A submission that spies on the checks' inputs learns nothing of the hidden checks from
its own feedback before release, whether the lab runs in one process or two."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import LAB, code, write_course, write_notebook

from labgrader.batch import grade_batch

SECRET = "zebra-4417"
"""A value only a hidden check passes in."""

# The hidden check comes first in the file: the visible ones must still run before it.
CHECKS = f'''
import pytest


@pytest.mark.check(exercise="add", points=1, hidden=True)
def test_add_hidden(nb):
    assert nb.add("{SECRET}", "-x") == "{SECRET}-x"


@pytest.mark.check(exercise="add", points=2)
def test_add_visible(nb):
    assert nb.add("a", "b") == "ab", "add('a', 'b') should be 'ab'"


@pytest.mark.check(exercise="scale", points=1)
def test_scale(nb):
    assert nb.scale([1]) == [10], "scale([1]) should be [10]"
'''

SPY = [
    code(
        """
        import os, tempfile
        SEEN = []
        STORE = os.path.join(tempfile.gettempdir(), "spy.txt")
        """
    ),
    code(
        """
        def add(a, b):
            SEEN.append((a, b))
            with open(STORE, "a") as f:
                f.write(repr((a, b)))
            raise ValueError("seen so far: " + repr(SEEN) + open(STORE).read())
        """,
        exercise="add",
    ),
    code(
        """
        def scale(values):
            raise ValueError("seen so far: " + repr(SEEN) + open(STORE).read())
        """,
        exercise="scale",
    ),
]


@pytest.mark.parametrize("process", [False, True], ids=["one-process", "learner-process"])
def test_the_spys_feedback_holds_nothing_of_the_hidden_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, process: bool
) -> None:
    root = write_course(tmp_path / "course", checks=CHECKS)
    checks = root / "grading" / "checks" / LAB
    if process:
        (checks / "conftest.py").write_text("LABGRADER_PROCESS = True\n", encoding="utf-8")
    write_notebook(tmp_path / "subs" / "spy.ipynb", SPY)
    monkeypatch.chdir(root)
    out = tmp_path / "graded"
    report = grade_batch(lab=LAB, submissions=[tmp_path / "subs"], out=out, jobs=1)
    (row,) = report.rows
    assert row.score == 0
    visible = [c["message"] for c in row.checks if not c["hidden"]]
    assert any("seen so far" in m for m in visible), visible  # the spy did report what it saw
    handed = [out / "spy" / name for name in ("feedback.html", "results.json", "grade.json")]
    for path in handed:
        text = path.read_text(encoding="utf-8")
        assert SECRET not in text, f"{path.name} leaks a hidden check's input"
        assert "zebra" not in text
    # After release the instructor's record (and a released batch) may show everything.
    record = json.loads((out / ".records" / "spy.json").read_text(encoding="utf-8"))
    assert any(SECRET in c["message"] for c in record["checks"] if c["hidden"])
    assert not os.path.exists("/tmp/spy.txt") or SECRET not in Path("/tmp/spy.txt").read_text()
