"""labgrader.check: visible checks against a live namespace, inside this process."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import LAB

import labgrader
from labgrader import RunStatus


def add(a: int, b: int) -> int:
    return a + b


def scale(values: list[int]) -> list[int]:
    raise NotImplementedError("exercise scale: replace this line with your answer")


@pytest.fixture
def in_lab_folder(course: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = course / "labs" / LAB
    folder.mkdir(parents=True)
    monkeypatch.chdir(folder)
    return folder


def test_check_runs_one_exercises_visible_checks_on_the_live_namespace(
    in_lab_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = labgrader.check("add")  # the caller's globals: this module's add()
    assert result.lab == LAB and result.status is RunStatus.OK
    assert [(c.name, c.passed) for c in result.checks] == [
        ("test_fixture.py::test_add_small", True)
    ]
    out = capsys.readouterr().out
    assert "add" in out and "passed" in out and "2/2 points" in out


def test_check_without_an_exercise_runs_every_visible_check(in_lab_folder: Path) -> None:
    result = labgrader.check(display=False, namespace={"add": lambda a, b: a - b, "scale": scale})
    assert {c.name.rpartition("::")[2]: c.message for c in result.checks} == {
        "test_add_small": "add(1, 2) should be 3, got -1",
        "test_scale": "not answered yet (exercise scale: replace this line with your answer)",
    }
    assert not any(c.hidden for c in result.checks)


def test_check_can_run_twice_in_one_process(in_lab_folder: Path) -> None:
    for _ in range(2):
        assert labgrader.check("add", namespace={"add": add}, display=False).passed


def test_check_does_nothing_inside_a_grading_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABGRADER_GRADING", "1")
    assert labgrader.check("add", display=False).checks == ()


def test_check_outside_a_lab_folder_says_how_to_name_the_lab(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(labgrader.LabNotFound, match=r"pass the lab"):
        labgrader.check("add", display=False)


def test_check_works_in_a_real_jupyter_kernel(in_lab_folder: Path) -> None:
    # The kernel's event loop runs in its main thread; the checks run beside it.
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("def add(a, b):\n    return a + b"),
            nbformat.v4.new_code_cell("import labgrader\nresult = labgrader.check('add')"),
            nbformat.v4.new_code_cell("print(result.points, result.max_points, result.status)"),
            nbformat.v4.new_code_cell("labgrader.check('add')"),  # a check cell's usual form
            nbformat.v4.new_code_cell("def add(a, b):\n    return a - b"),
            nbformat.v4.new_code_cell("labgrader.check('add')"),
        ]
    )
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(in_lab_folder)}}
    )
    client.execute()
    assert nb.cells[2].outputs[0]["text"] == "2.0 2.0 ok\n"
    for index in (1, 3, 5):  # assigned or not: one table below the cell, nothing else
        outputs = nb.cells[index].outputs
        assert [o["output_type"] for o in outputs] == ["display_data"], outputs
        assert "labgrader-check" in outputs[0]["data"]["text/html"]
    assert "✓" in nb.cells[3].outputs[0]["data"]["text/html"]
    failed = nb.cells[5].outputs[0]["data"]["text/html"]
    assert "✗" in failed and "add(1, 2) should be 3, got -1" in failed and "0/2 points" in failed


def test_a_result_renders_one_escaped_html_table() -> None:
    from labgrader.results import CheckResult, GradeResult

    result = GradeResult(
        notebook="nb",
        lab=LAB,
        status=RunStatus.OK,
        checks=(
            CheckResult("add", "test_fixture.py::test_add_small", 2, 2, False, True, "", 0.25),
            CheckResult("scale", "test_fixture.py::test_scale", 0, 1, False, False, "<b>x</b>"),
        ),
        duration=1.5,
    )
    html = result._repr_html_()
    assert html.count("<tr") == 3 and "test_add_small" in html and "0.25 s" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "2/3 points" in html
