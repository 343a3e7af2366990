"""The terminal tables show learners' names and checks' messages as written: brackets in them
are text, never markup that rich would swallow."""

from __future__ import annotations

from rich.console import Console

from labgrader.report import result_table
from labgrader.results import CheckResult, GradeResult, RunStatus


def _render(table: object) -> str:
    console = Console(width=200, record=True, color_system=None)
    console.print(table)
    return console.export_text()


def test_check_messages_with_brackets_are_shown_as_written() -> None:
    failed = CheckResult(
        exercise="[bold]dag-order",
        name="test_dag.py::test_order",
        points=0,
        max_points=5,
        hidden=False,
        passed=False,
        message="expected ['a', 'b'], got [red]['b', 'a'][/red]",
    )
    result = GradeResult(notebook="n.ipynb", lab="01", status=RunStatus.OK, checks=(failed,))
    text = _render(result_table(result))
    assert "expected ['a', 'b'], got [red]['b', 'a'][/red]" in text
    assert "[bold]dag-order" in text
