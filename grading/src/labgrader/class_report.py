"""A batch's report for the instructor: one HTML page with pictures, offline.

``labgrader report OUT`` writes ``OUT/report.html`` from the batch's records (overrides
applied): the score distribution, the pass rate of every check (the checks most learners
fail come first: a teaching signal), the time each submission took, the statuses, and a
table linking every learner's feedback page. Figures are drawn with matplotlib as SVG and
embedded in the page, so it opens from a laptop, an LMS or a zip without a network.
"""

from __future__ import annotations

import base64
import io
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from labgrader.feedback import templates
from labgrader.gradebook import Row, Status, write_atomic
from labgrader.publish import Publication

if TYPE_CHECKING:
    from matplotlib.figure import Figure

REPORT_FILE = "report.html"
"""The report's file name, in the batch's output folder."""


@dataclass(frozen=True)
class CheckRate:
    """How many learners passed one check."""

    exercise: str
    name: str
    passed: int
    ran: int

    @property
    def rate(self) -> float:
        """The share of learners who passed it (0 when nobody ran it)."""
        return self.passed / self.ran if self.ran else 0.0


def check_rates(rows: Sequence[Row]) -> list[CheckRate]:
    """The pass rate of every check over the graded rows, the hardest first."""
    seen: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        if row.status is not Status.GRADED:
            continue
        for c in row.checks:
            counts = seen.setdefault((c["exercise"], c["name"].rpartition("::")[2]), [0, 0])
            counts[0] += bool(c["passed"])
            counts[1] += 1
    rates = [CheckRate(e, n, p, r) for (e, n), (p, r) in seen.items()]
    return sorted(rates, key=lambda c: (c.rate, c.exercise, c.name))


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue().encode("utf-8")).decode("ascii")
    return f"data:image/svg+xml;base64,{data}"


def figures(rows: Sequence[Row]) -> dict[str, str]:
    """The report's figures as embeddable ``data:`` URIs (SVG), by name."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    drawn: dict[str, str] = {}
    top = max((r.max_score for r in rows), default=0.0) or 1.0
    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    ax.hist([r.score for r in rows], bins=10, range=(0, top), color="#3b7dd8", edgecolor="white")
    ax.set(xlabel=f"score (of {top:g})", ylabel="learners", title="Score distribution")
    drawn["scores"] = _svg(fig)

    rates = check_rates(rows)
    fig = Figure(figsize=(6, max(2.0, 0.28 * len(rates) + 0.8)))
    ax = fig.subplots()
    labels = [f"{c.exercise}: {c.name}" for c in rates]
    ax.barh(labels, [100 * c.rate for c in rates], color="#2e7d32")
    ax.invert_yaxis()
    ax.set(xlim=(0, 100), xlabel="learners who passed (%)", title="Pass rate per check")
    drawn["checks"] = _svg(fig)

    fig = Figure(figsize=(6, 3))
    ax = fig.subplots()
    ax.hist([r.duration for r in rows], bins=10, color="#6a1b9a", edgecolor="white")
    ax.set(xlabel="seconds", ylabel="submissions", title="Time per submission")
    drawn["durations"] = _svg(fig)

    fig = Figure(figsize=(6, 2.4))
    ax = fig.subplots()
    statuses = [s.value for s in Status]
    ax.bar(statuses, [sum(r.status is s for r in rows) for s in Status], color="#ef6c00")
    ax.set(ylabel="submissions", title="Statuses")
    drawn["statuses"] = _svg(fig)
    return drawn


def report_html(publication: Publication, rows: Sequence[Row]) -> str:
    """The report page of a batch (``rows`` as exported)."""
    scores = [r.score for r in rows]
    durations = [r.duration for r in rows if r.duration]
    summary = {
        "learners": len(rows),
        "median": statistics.median(scores) if scores else 0.0,
        "max": max((r.max_score for r in rows), default=0.0),
        "graded": sum(r.status is Status.GRADED for r in rows),
        "review": sum(bool(r.review) for r in rows),
        "median_seconds": statistics.median(durations) if durations else 0.0,
    }
    return (
        templates()
        .get_template("class_report.html.j2")
        .render(
            lab=publication.lab,
            summary=summary,
            figures=figures(rows),
            rates=check_rates(rows),
            rows=rows,
        )
    )


def write_report(out: Path) -> Path:
    """Write ``OUT/report.html`` for the batch in ``out`` and return its path.

    Raises:
        BatchOutputError: When ``out`` holds no batch.
    """
    publication = Publication.load(out)
    rows = [publication.exported(r) for r in publication.rows()]
    path = publication.out / REPORT_FILE
    write_atomic(path, report_html(publication, rows))
    return path


__all__ = ["REPORT_FILE", "CheckRate", "check_rates", "figures", "report_html", "write_report"]
