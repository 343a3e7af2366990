"""What a learner and an LMS get from a graded submission: results.json and feedback.html.

``results.json`` follows Gradescope's autograder format (``score``, ``execution_time``,
``tests`` with ``name``, ``score``, ``max_score``, ``visibility``, ``output``, and the
check's time in ``extra_data.seconds``); hidden
checks carry ``"visibility": "after_published"``. ``feedback.html`` is a self-contained
page rendered from a Jinja2 template with autoescaping (``templates/feedback.html.j2``):
per exercise, passed or failed, the points and why each visible check failed.

Until the batch is graded with ``--release``, every file handed to a learner (the page,
``results.json``, the learner's ``grade.json``) is made from :func:`learner_view`: a hidden
check keeps its name, points and verdict only, never its message (the learner's exception
text, captured output or any value the check passed in); the page shows hidden checks only
as a count and their points. After release, everything.
"""

from __future__ import annotations

import copy
import functools
from typing import Any

import jinja2

from labgrader.gradebook import Row, Status

HIDDEN_MESSAGE = "hidden until grades are released"
"""What a hidden check says, before release, in place of its message."""
HIDDEN_RUN_MESSAGE = (
    "the check run ended while a hidden check was running: the details appear when grades "
    "are released"
)
"""A run's message, before release, when it names a hidden check (its detail may quote the
learner's output from that check)."""


def _pts(value: float) -> str:
    return f"{value:g}"


@functools.cache
def templates() -> jinja2.Environment:
    """The grader's page templates (``labgrader/templates``), autoescaped, strict."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("labgrader", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["pts"] = _pts
    return env


def learner_view(row: Row, *, release: bool) -> Row:
    """The row as a learner may see it: before ``release``, hidden checks say nothing but
    their name, points and verdict, and a run message that names a hidden check is replaced.

    Returns:
        A copy (the row itself, the grader's full record, is not changed).
    """
    if release:
        return row
    view = copy.deepcopy(row)
    hidden = [c for c in view.checks if c.get("hidden")]
    for check in hidden:
        check["message"] = HIDDEN_MESSAGE if not check.get("passed") else ""
    if view.status is not Status.GRADED and any(c["name"] in view.message for c in hidden):
        view.message = HIDDEN_RUN_MESSAGE
    return view


def results_json(row: Row, *, release: bool) -> dict[str, Any]:
    """The submission's Gradescope ``results.json`` document (see :func:`learner_view`)."""
    row = learner_view(row, release=release)
    tests = [
        {
            "name": f"{c['exercise']}: {c['name']}",
            "score": c["points"],
            "max_score": c["max_points"],
            "visibility": "after_published" if c["hidden"] else "visible",
            "output": (
                ("passed" if c["passed"] else "failed")
                if c["hidden"] and not release
                else c["message"] or ("passed" if c["passed"] else "failed")
            ),
            "extra_data": {"seconds": round(float(c.get("seconds", 0.0)), 3)},
        }
        for c in row.checks
    ]
    data: dict[str, Any] = {
        "score": row.score,
        "execution_time": round(row.duration, 3),
        "tests": tests,
    }
    if row.status is not Status.GRADED:
        data["output"] = f"{row.status.value}: {row.message}"
    elif row.message:
        data["output"] = row.message
    return data


def feedback_html(row: Row, *, lab: str, release: bool) -> str:
    """The learner's feedback page (hidden checks only counted unless ``release``)."""
    row = learner_view(row, release=release)
    shown = [c for c in row.checks if release or not c["hidden"]]
    hidden = [c for c in row.checks if c["hidden"] and not release]
    if release:
        total = f"{_pts(row.score)} / {_pts(row.max_score)} points"
    else:
        shown_score = sum(c["points"] for c in shown)
        shown_max = sum(c["max_points"] for c in shown)
        total = f"{_pts(shown_score)} / {_pts(shown_max)} points on the visible checks"
    if row.late_days:
        total += f" (after a late penalty: {row.late_days} day(s) late)"
    return (
        templates()
        .get_template("feedback.html.j2")
        .render(
            lab=lab,
            row=row,
            shown=shown,
            hidden=hidden,
            hidden_max=sum(c["max_points"] for c in hidden),
            total=total,
        )
    )


__all__ = [
    "HIDDEN_MESSAGE",
    "HIDDEN_RUN_MESSAGE",
    "feedback_html",
    "learner_view",
    "results_json",
    "templates",
]
