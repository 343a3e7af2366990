"""labgrader.assign: stubs at the answer's indentation, cleared outputs, refusals, freshness."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from conftest import LAB, code, solution_cells, write_notebook

from labgrader import AssignError, FileState, LabNotFound, assign
from labgrader.assign import make_starter, render_notebook, starter_text, strip_solutions, stub_line
from labgrader.course import Course
from labgrader.notebook import read_notebook


def test_stub_replaces_each_block_at_its_indentation() -> None:
    source = (
        "def scale(values):\n"
        "    # BEGIN SOLUTION\n"
        "    if not values:\n"
        "        return []\n"
        "    # END SOLUTION\n"
        "    for v in values:\n"
        "        # BEGIN SOLUTION\n"
        "        yield v * 2\n"
        "        # END SOLUTION"
    )
    assert strip_solutions(source, exercise="scale") == (
        "def scale(values):\n"
        f"{stub_line('scale', '    ')}\n"
        "    for v in values:\n"
        f"{stub_line('scale', '        ')}"
    )


def test_a_top_level_block_becomes_a_top_level_stub() -> None:
    source = "X = 1\n# BEGIN SOLUTION\nY = X + 1\n# END SOLUTION\nprint(Y)\n"
    assert strip_solutions(source, exercise="y") == (f"X = 1\n{stub_line('y')}\nprint(Y)\n")


def test_starter_clears_outputs_and_keeps_metadata_and_ids(course: Path) -> None:
    solution = read_notebook(course / "solutions" / LAB / f"{LAB}.ipynb")
    starter = make_starter(solution)
    assert [c["id"] for c in starter["cells"]] == [c["id"] for c in solution["cells"]]
    for cell in starter["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None
    meta = [c["metadata"] for c in starter["cells"]]
    assert meta[2] == {"exercise": "add", "tags": ["exercise"]}
    assert meta[4] == {"tags": ["demo"]}
    assert starter["metadata"] == solution["metadata"]
    # Cells without answers are unchanged.
    assert starter["cells"][1]["source"] == solution["cells"][1]["source"]
    assert "BEGIN SOLUTION" not in json.dumps(starter)
    assert "total = a + b" not in json.dumps(starter)


def test_output_is_deterministic_valid_and_laid_out_as_jupyter_writes_it(course: Path) -> None:
    path = course / "solutions" / LAB / f"{LAB}.ipynb"
    first, second = starter_text(path), starter_text(path)
    assert first == second
    nb = nbformat.reads(first, as_version=4)
    nbformat.validate(nb)
    assert first == nbformat.writes(nb) + "\n"
    assert render_notebook(json.loads(first)) == first


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            [code("def f():\n    return 1", exercise="f")],
            "cell 1 (exercise 'f') is an exercise cell without an answer block",
        ),
        (
            [code("# BEGIN SOLUTION\nx = 1", exercise="x")],
            "cell 1 (exercise 'x'): the '# BEGIN SOLUTION' at line 1 is never closed",
        ),
        (
            [code("x = 1\n# END SOLUTION", exercise="x")],
            "cell 1 (exercise 'x'): line 2 has '# END SOLUTION' without",
        ),
        (
            [code("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", exercise="x")],
            "line 2 opens '# BEGIN SOLUTION' inside the block opened at line 1",
        ),
        (
            [
                code("# BEGIN SOLUTION\na = 1\n# END SOLUTION", exercise="a"),
                code("# BEGIN SOLUTION\nb = 1\n# END SOLUTION", exercise="a"),
            ],
            "exercise id 'a' is used by cell 1 and cell 2",
        ),
        (
            [
                nbformat.v4.new_markdown_cell("x"),
                code("    # BEGIN SOLUTION\n    x = 1\n    # END SOLUTION"),
            ],
            "cell 2 has '# BEGIN SOLUTION'/'# END SOLUTION' markers but no exercise id",
        ),
        (
            [code("# BEGIN SOLUTION\n# END SOLUTION", exercise="has space")],
            "exercise id 'has space' is not valid",
        ),
    ],
)
def test_refusals_name_the_notebook_and_cell(
    tmp_path: Path, cells: list[nbformat.NotebookNode], expected: str
) -> None:
    path = write_notebook(tmp_path / "bad.ipynb", cells)
    with pytest.raises(AssignError, match=r"bad\.ipynb") as info:
        starter_text(path)
    assert expected in str(info.value)


def test_assign_writes_labs_and_check_finds_them_fresh(course: Path) -> None:
    target = course / "labs" / LAB / f"{LAB}.ipynb"
    report = assign(course=Course(course))
    assert [(f.path, f.state) for f in report.files] == [
        (Path("labs", LAB, f"{LAB}.ipynb"), FileState.WRITTEN)
    ]
    assert target.read_text(encoding="utf-8") == starter_text(
        course / "solutions" / LAB / f"{LAB}.ipynb"
    )
    check = assign(course=Course(course), labs=["90"], check=True)
    assert check.ok and [f.state for f in check.files] == [FileState.FRESH]


def test_check_reports_stale_missing_and_extra_files(course: Path) -> None:
    here = Course(course)
    assert [f.state for f in assign(course=here, check=True).files] == [FileState.MISSING]
    assert not (course / "labs" / LAB).exists()  # --check writes nothing
    assign(course=here)
    write_notebook(
        course / "solutions" / LAB / f"{LAB}.ipynb", [*solution_cells(), code("EXTRA = 1")]
    )
    (course / "labs" / LAB / "old.ipynb").write_text("{}", encoding="utf-8")
    report = assign(course=here, check=True)
    assert not report.ok
    assert {(f.path.name, f.state) for f in report.out_of_date} == {
        (f"{LAB}.ipynb", FileState.STALE),
        ("old.ipynb", FileState.EXTRA),
    }


def test_assign_keeps_a_notebook_someone_ran_unless_forced(course: Path) -> None:
    here = Course(course)
    assign(course=here)
    target = course / "labs" / LAB / f"{LAB}.ipynb"
    worked = write_notebook(target, solution_cells())  # has outputs: someone's work
    before = worked.read_bytes()
    report = assign(course=here)
    assert [f.state for f in report.files] == [FileState.KEPT] and not report.ok
    assert target.read_bytes() == before
    assert [f.state for f in assign(course=here, force=True).files] == [FileState.WRITTEN]


def test_a_malformed_solution_writes_nothing(course: Path) -> None:
    write_notebook(
        course / "solutions" / "91-broken" / "91-broken.ipynb", [code("x = 1", exercise="x")]
    )
    with pytest.raises(AssignError, match=r"91-broken\.ipynb"):
        assign(course=Course(course))
    assert not (course / "labs" / LAB).exists()


def test_unknown_lab_lists_the_labs(course: Path) -> None:
    with pytest.raises(LabNotFound, match=f"no lab '42'.*labs: {LAB}"):
        assign(course=Course(course), labs=["42"])
