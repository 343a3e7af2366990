"""labgrader.progress: what a batch shows while it runs, in a terminal, in a log, or quiet."""

from __future__ import annotations

import io

from rich.console import Console

from labgrader.gradebook import Row, Status
from labgrader.progress import BatchProgress


def _run(console: Console, *, quiet: bool = False, total: int = 25) -> BatchProgress:
    with BatchProgress(console, quiet=quiet) as shown:
        shown.stage("starting temporal and the pre-warmed grader...")
        shown.start(total)
        for number in range(total):
            status = Status.INVALID if number == 3 else Status.GRADED
            shown.done(Row(f"l{number}", "x", status), reused=number == 0)
    return shown


def test_without_a_terminal_progress_is_plain_lines_at_each_tenth() -> None:
    out = io.StringIO()
    shown = _run(Console(file=out, force_terminal=False, width=200))
    lines = out.getvalue().splitlines()
    assert lines[0] == "starting temporal and the pre-warmed grader..."
    progress = [line for line in lines if line.startswith("graded ")]
    assert [line.split(" (")[0] for line in progress] == [
        "graded 1/25",
        "graded 2/25",
        "graded 4/25",
        "graded 6/25",
        "graded 8/25",
        "graded 10/25",
        "graded 12/25",
        "graded 14/25",
        "graded 16/25",
        "graded 18/25",
        "graded 20/25",
        "graded 22/25",
        "graded 24/25",
        "graded 25/25",
    ]
    assert progress[-1].endswith("): graded 23, invalid 1, reused 1")
    assert shown.counts == {"reused": 1, "graded": 23, "invalid": 1}


def test_quiet_shows_nothing_and_still_counts() -> None:
    out = io.StringIO()
    shown = _run(Console(file=out, force_terminal=False), quiet=True)
    assert out.getvalue() == ""
    assert shown.finished == 25


def test_in_a_terminal_the_bar_is_gone_once_done_and_the_stage_stays() -> None:
    out = io.StringIO()
    _run(Console(file=out, force_terminal=True, width=120, color_system=None))
    text = out.getvalue()
    assert "starting temporal and the pre-warmed grader..." in text
    assert "graded 25/25 (" not in text  # the bar, not plain lines
