"""What a learner and an LMS get from a graded submission: results.json and feedback.html.

``results.json`` follows Gradescope's autograder format (``score``, ``execution_time``,
``tests`` with ``name``, ``score``, ``max_score``, ``visibility``, ``output``); hidden
checks carry ``"visibility": "after_published"``. ``feedback.html`` is a self-contained
page: per exercise, passed or failed, the points and why each visible check failed; hidden
checks appear only as a count (and their points) until the batch is graded with
``--release``.
"""

from __future__ import annotations

import html
from typing import Any

from labgrader.gradebook import Row, Status

_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem;margin-bottom:.2rem} .meta{color:#666;margin-top:0}
.total{font-size:1.2rem;font-weight:600} .status{padding:.6rem 1rem;border-radius:6px}
.status.bad{background:#fdecea;color:#8a1c12} .status.ok{background:#e8f5e9;color:#1b5e20}
table{border-collapse:collapse;width:100%;margin:1rem 0;table-layout:fixed}
col.ex{width:9rem} col.check{width:17rem} col.res{width:4.5rem} col.pts{width:4.5rem}
td.check{font-size:13px;overflow-wrap:anywhere}
th,td{text-align:left;padding:.45rem .6rem;border-bottom:1px solid #ddd;vertical-align:top}
td.pts{text-align:right;white-space:nowrap} .pass{color:#1b5e20;font-weight:600}
.fail{color:#8a1c12;font-weight:600} .why{font-family:ui-monospace,monospace;font-size:13px;
white-space:pre-wrap;color:#444} .hidden{color:#666;font-style:italic}
"""


def _pts(value: float) -> str:
    return f"{value:g}"


def results_json(row: Row) -> dict[str, Any]:
    """The submission's Gradescope ``results.json`` document."""
    tests = [
        {
            "name": f"{c['exercise']}: {c['name']}",
            "score": c["points"],
            "max_score": c["max_points"],
            "visibility": "after_published" if c["hidden"] else "visible",
            "output": c["message"] or ("passed" if c["passed"] else "failed"),
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
    e = html.escape
    visible = [c for c in row.checks if release or not c["hidden"]]
    hidden = [c for c in row.checks if c["hidden"] and not release]
    shown_score = sum(c["points"] for c in visible)
    shown_max = sum(c["max_points"] for c in visible)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(lab)}: feedback for {e(row.learner)}</title><style>{_STYLE}</style></head>",
        f"<body><h1>{e(lab)}: feedback for {e(row.learner)}</h1>",
        f"<p class='meta'>status: {e(row.status.value)}",
        f" · graded in {row.duration:.1f} s</p>" if row.duration else "</p>",
    ]
    if row.status is not Status.GRADED:
        parts.append(f"<p class='status bad'>{e(row.message)}</p>")
    if release:
        total = f"{_pts(row.score)} / {_pts(row.max_score)} points"
    else:
        total = f"{_pts(shown_score)} / {_pts(shown_max)} points on the visible checks"
    if row.late_days:
        total += f" (after a late penalty: {row.late_days} day(s) late)"
    parts.append(f"<p class='total'>{e(total)}</p>")
    parts.append(
        "<table><colgroup><col class='ex'><col class='check'><col class='res'>"
        "<col class='pts'><col></colgroup><thead><tr><th>exercise</th><th>check</th>"
        "<th>result</th><th>points</th><th>why it failed</th></tr></thead><tbody>"
    )
    for c in visible:
        verdict = (
            "<span class='pass'>passed</span>"
            if c["passed"]
            else ("<span class='fail'>failed</span>")
        )
        parts.append(
            f"<tr><td>{e(c['exercise'])}</td>"
            f"<td class='check'>{e(c['name'].rpartition('::')[2])}</td>"
            f"<td>{verdict}</td><td class='pts'>{_pts(c['points'])} / {_pts(c['max_points'])}</td>"
            f"<td class='why'>{e(c['message'])}</td></tr>"
        )
    parts.append("</tbody></table>")
    if hidden:
        hidden_max = sum(c["max_points"] for c in hidden)
        parts.append(
            f"<p class='hidden'>{len(hidden)} hidden check(s) worth {_pts(hidden_max)} point(s) "
            "use other inputs; their results appear when grades are released.</p>"
        )
    for note in row.notes:
        parts.append(f"<p class='meta'>note: {e(note)}</p>")
    parts.append("</body></html>\n")
    return "".join(parts)


__all__ = ["feedback_html", "results_json"]
