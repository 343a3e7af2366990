"""What ``labgrader grade`` shows while a batch runs: the engines starting, then progress.

In a terminal: a label per stage ("starting temporal and the pre-warmed grader...", then
"... ready in 0.4 s") and a progress bar over submissions with the count, the rate, the
time left and the statuses so far (rich's progress, gone once the summary prints). When
the output is not a terminal (a CI log, ``| tee``): the same stages as plain lines, and one
progress line every tenth of the batch or every 10 seconds, whichever comes first. With
``quiet``: nothing.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from labgrader.gradebook import Row

PLAIN_EVERY_SECONDS = 10.0
"""Without a terminal, a progress line at least this often (and at every tenth)."""


class BatchProgress:
    """Callbacks for :func:`labgrader.batch.grade_batch` that show a batch's progress."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self.console = console
        self.quiet = quiet
        self.live = console.is_terminal and not quiet
        self.total = 0
        self.finished = 0
        self.counts: dict[str, int] = {}
        self._began = time.monotonic()
        self._last_line = 0.0
        self._next_tenth = 0
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> BatchProgress:
        if self.live:
            self._bar = Progress(
                TextColumn("grading"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[rate]}"),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("grading", total=None, counts="", rate="")
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._bar is not None:
            self._bar.__exit__(kind, exc, tb)

    def stage(self, text: str) -> None:
        """Say what the batch is starting, or that it is ready."""
        if not self.quiet:
            self.console.print(f"[dim]{text}[/]", highlight=False)

    def start(self, total: int) -> None:
        """The batch holds ``total`` submissions."""
        self.total = total
        self._began = time.monotonic()
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, total=total)

    def line(self) -> str:
        """The plain progress line: ``graded 30/300 (5.1/s, about 52 s left): graded 29, ...``."""
        elapsed = max(time.monotonic() - self._began, 1e-9)
        rate = self.finished / elapsed
        left = (self.total - self.finished) / rate if rate else 0.0
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))
        return (
            f"graded {self.finished}/{self.total} ({rate:.1f}/s, about {left:.0f} s left): "
            f"{statuses}"
        )

    def done(self, row: Row, reused: bool) -> None:
        """One more submission has its row."""
        self.finished += 1
        key = "reused" if reused else row.status.value
        self.counts[key] = self.counts.get(key, 0) + 1
        if self.quiet:
            return
        if self._bar is not None and self._task is not None:
            elapsed = max(time.monotonic() - self._began, 1e-9)
            self._bar.update(
                self._task,
                advance=1,
                counts=" ".join(f"{k} {v}" for k, v in sorted(self.counts.items())),
                rate=f"{self.finished / elapsed:.1f}/s",
            )
            return
        now = time.monotonic()
        tenth = max(1, self.total // 10)
        if (
            self.finished >= self._next_tenth
            or now - self._last_line >= PLAIN_EVERY_SECONDS
            or self.finished == self.total
        ):
            self.console.print(self.line(), highlight=False)
            self._last_line = now
            self._next_tenth = (self.finished // tenth + 1) * tenth


__all__ = ["PLAIN_EVERY_SECONDS", "BatchProgress"]
