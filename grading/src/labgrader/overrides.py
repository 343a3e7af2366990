"""Manual decisions beside the gradebook: overrides of automatic points and rubric grades.

``labgrader override OUT LEARNER ITEM POINTS --reason ...`` appends one decision to
``OUT/overrides.json``: who, when, why, the points, and the automatic points it replaces.
``ITEM`` is an exercise (its automatic points are replaced) or a rubric item (see
:mod:`labgrader.rubric`; its points are given). The file is a history: the latest decision
per learner and item counts, and ``--remove`` records that the automatic points count again.

The grader's records (``OUT/.records``) always hold the automatic result; every export
(gradebook, the learner's files, LMS files, the report) applies the overrides on top, so a
regrade keeps them. When a regrade changes the automatic points an override replaced, the
row is flagged for review (the override still counts) so that nobody's decision is
silently outdated.

Points are before the late policy: a late submission loses its share of the overridden
points as of the automatic ones.
"""

from __future__ import annotations

import copy
import getpass
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from labgrader.errors import LabgraderError
from labgrader.gradebook import LATE_PENALTY_PER_DAY, REVIEW_PREFIX, Row, write_atomic
from labgrader.rubric import Rubric

OVERRIDES_FILE = "overrides.json"
"""The decisions' file, in the batch's output folder."""
DECISION_PREFIX = "instructor's decision on"
"""How the note of a decision begins (the feedback page and LMS feedback show it)."""


class OverrideError(LabgraderError, ValueError):
    """An override that names no learner or item of the batch, or points out of range."""


@dataclass(frozen=True)
class Override:
    """One manual decision."""

    learner: str
    """The learner id, as in the gradebook."""
    item: str
    """An exercise id or a rubric item id."""
    points: float | None
    """The points given (before the late policy); ``None`` removes the learner's override."""
    reason: str
    """Why, in the instructor's words (shown to the learner in the feedback page)."""
    by: str
    """Who decided."""
    at: str
    """When, as an ISO 8601 UTC time."""
    replaces: float | None = None
    """The automatic points at the time (``None`` for a rubric item)."""


def load_overrides(out: Path) -> list[Override]:
    """Every decision recorded in ``out``, oldest first (none when the file is missing).

    Raises:
        OverrideError: When the file exists but cannot be read (it is never rewritten then).
    """
    path = out / OVERRIDES_FILE
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [Override(**raw) for raw in data["overrides"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise OverrideError(
            f"{path.name} cannot be read ({exc}); fix or move it before recording more"
        ) from None


def current(overrides: Iterable[Override], learner: str) -> dict[str, Override]:
    """The decisions that count for one learner: the latest per item, removals dropped."""
    latest: dict[str, Override] = {}
    for o in overrides:
        if o.learner == learner:
            latest[o.item] = o
    return {item: o for item, o in latest.items() if o.points is not None}


def automatic_points(row: Row, item: str) -> float:
    """The points the checks gave an exercise, before the late policy."""
    return sum(float(c["points"]) for c in row.checks if c["exercise"] == item)


def _max_points(row: Row, item: str, rubric: Rubric) -> float | None:
    found = rubric.item(item)
    if found is not None:
        return found.points
    checks = [c for c in row.checks if c["exercise"] == item]
    return sum(float(c["max_points"]) for c in checks) if checks else None


def record_override(
    out: Path,
    row: Row,
    item: str,
    points: float | None,
    *,
    reason: str,
    rubric: Rubric,
    by: str | None = None,
    now: datetime | None = None,
) -> Override:
    """Append one decision to ``out/overrides.json`` (atomically) and return it.

    Args:
        out: The batch's output folder.
        row: The learner's automatic row (from the grader's records).
        item: An exercise of the row or an item of the rubric.
        points: Between 0 and the item's maximum; ``None`` removes the override.
        reason: Why (required: the learner reads it).
        rubric: The lab's rubric.
        by: Who decides (default: the user running the command).
        now: The time to record (default: now).

    Raises:
        OverrideError: When the item is unknown, the points are out of range or the reason
            is empty.
    """
    top = _max_points(row, item, rubric)
    if top is None:
        known = sorted({c["exercise"] for c in row.checks} | set(rubric.ids))
        raise OverrideError(
            f"{item!r} is no exercise or rubric item of {row.learner}'s row; "
            f"known: {', '.join(known) or 'none (the submission has no checks)'}"
        )
    if points is not None and not 0 <= points <= top:
        raise OverrideError(f"{item} is worth 0 to {top:g} points, not {points:g}")
    if not reason.strip():
        raise OverrideError("give a --reason: the learner sees it beside the points")
    decision = Override(
        learner=row.learner,
        item=item,
        points=points,
        reason=reason.strip(),
        by=by or getpass.getuser(),
        at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        replaces=None if rubric.item(item) else automatic_points(row, item),
    )
    history = [*load_overrides(out), decision]
    write_atomic(
        out / OVERRIDES_FILE,
        json.dumps({"overrides": [asdict(o) for o in history]}, indent=2) + "\n",
    )
    return decision


def apply_overrides(row: Row, overrides: Sequence[Override], rubric: Rubric) -> Row:
    """The row as exported: the learner's decisions applied, the rubric in the maximum.

    Returns:
        A copy (the automatic row is not changed). Exercises keep the automatic points
        unless overridden; rubric items appear only once graded; the score and the maximum
        include the rubric; each decision adds a note, and an automatic score changed since
        a decision flags the row for review.
    """
    decisions = current(overrides, row.learner)
    if not decisions and not rubric.items:
        return row
    view = copy.deepcopy(row)
    factor = max(0.0, 1.0 - LATE_PENALTY_PER_DAY * view.late_days)
    raw = {e: automatic_points(view, e) for e in view.exercises}
    for item, o in decisions.items():
        assert o.points is not None
        raw[item] = o.points
        auto = automatic_points(view, item) if rubric.item(item) is None else None
        was = f" (automatic {auto:g})" if auto is not None else ""
        view.notes.append(
            f"{DECISION_PREFIX} {item}: {o.points:g} point(s){was}, by {o.by} on "
            f"{o.at[:10]}: {o.reason}"
        )
        if o.replaces is not None and auto is not None and auto != o.replaces:
            view.notes.append(
                f"{REVIEW_PREFIX}: the automatic points of {item} changed from "
                f"{o.replaces:g} to {auto:g} since the override of {o.at[:10]}; "
                "the override still counts"
            )
    view.exercises = {e: round(p * factor, 4) for e, p in raw.items()}
    view.raw_score = round(sum(raw.values()), 4)
    view.score = round(view.raw_score * factor, 4)
    view.max_score = view.max_score + rubric.max_points
    return view


__all__ = [
    "DECISION_PREFIX",
    "OVERRIDES_FILE",
    "Override",
    "OverrideError",
    "apply_overrides",
    "automatic_points",
    "current",
    "load_overrides",
    "record_override",
]
