"""The gradebook of a batch: one row per submission, a late policy, atomic files.

``gradebook.csv`` has the columns ``learner,status,score,max_score``, then one column per
exercise (points earned), then ``late_days`` and ``message``; ``gradebook.json`` holds the
same rows. Every file is written to a temporary name in the same folder and renamed into
place, so a crash mid-batch never leaves a half-written file.

A due-date CSV (``--due``) has the columns ``learner,due`` and optionally
``extension_days``; the learner ``*`` sets everyone's default. A submission later than its
due date (plus extension) loses :data:`LATE_PENALTY_PER_DAY` of its score per started day.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from labgrader.errors import LabgraderError
from orchlab.files import write_atomic  # one atomic write for the platform and the grader

LATE_PENALTY_PER_DAY = 0.1
"""The share of the score a submission loses per started day late."""
REVIEW_PREFIX = "flagged for review"
"""How a note that asks for an instructor's look begins."""


class DueDatesError(LabgraderError, ValueError):
    """A due-date CSV that cannot be read."""


class Status(StrEnum):
    """What happened to one submission of a batch."""

    GRADED = "graded"
    """Its checks ran to the end: the points are earned."""
    TIMEOUT = "timeout"
    """Its check run passed the time limit and was stopped: no points."""
    CRASHED = "crashed"
    """Its check run died (an exit, a kill, a resource limit, a forged record): no points."""
    INVALID = "invalid"
    """It could not be read as a notebook of this lab (or changed the grader's harness):
    not graded."""
    ERROR = "error"
    """The grader itself failed on it (not the learner's doing): not graded; regrade it."""


@dataclass
class Row:
    """One submission's line in the gradebook, with everything its feedback needs."""

    learner: str
    """The learner id."""
    source: str
    """Where the submission came from."""
    status: Status
    """What happened to it."""
    score: float = 0.0
    """Points after the late penalty."""
    max_score: float = 0.0
    """Points possible."""
    raw_score: float = 0.0
    """Points before the late penalty."""
    exercises: dict[str, float] = field(default_factory=dict)
    """Points per exercise (after the late penalty)."""
    checks: list[dict[str, Any]] = field(default_factory=list)
    """One dict per check: exercise, name, points, max_points, hidden, passed, message."""
    message: str = ""
    """What went wrong, in words a person can act on; empty when graded cleanly."""
    duration: float = 0.0
    """Seconds the grading took."""
    notes: list[str] = field(default_factory=list)
    """Things worth knowing that cost no points."""
    late_days: int = 0
    """Started days after the due date (0 when on time or no due date is known)."""
    digest: str = ""
    """The submission's fingerprint: a rerun skips an unchanged, already graded one."""

    @property
    def review(self) -> list[str]:
        """The notes that flag the submission for an instructor's review (no points lost)."""
        return [n for n in self.notes if n.startswith(REVIEW_PREFIX)]

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        data = asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Row:
        """Read a row written by :meth:`to_dict`."""
        fields = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        fields["status"] = Status(data["status"])
        return cls(**fields)


@dataclass(frozen=True)
class DueDates:
    """Due dates per learner, from a CSV."""

    default: datetime | None
    """Everyone's due date (the ``*`` row), if any."""
    per_learner: Mapping[str, datetime]
    """Due dates with extensions applied, per learner."""

    def due(self, learner: str) -> datetime | None:
        """The learner's due date (with any extension), or ``None``."""
        return self.per_learner.get(learner.split("~")[0], self.default)

    def late_days(self, learner: str, submitted: datetime | None) -> int:
        """Started days between the due date and the submission (0 when on time)."""
        due = self.due(learner)
        if due is None or submitted is None or submitted <= due:
            return 0
        return math.ceil((submitted - due) / timedelta(days=1))


def _when(text: str, where: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise DueDatesError(
            f"{where}: {text!r} is not a date (write 2026-03-01 or 2026-03-01T23:59+01:00)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if len(text.strip()) == 10:  # a bare date: due at the end of that day
        value += timedelta(days=1) - timedelta(seconds=1)
    return value


def read_due_dates(path: Path) -> DueDates:
    """Read a due-date CSV: ``learner,due[,extension_days]``; ``*`` is everyone's default.

    Raises:
        DueDatesError: When the file is missing, lacks the columns or has a bad value.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DueDatesError(f"cannot read the due dates {path}: {exc.strerror or exc}") from None
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not {"learner", "due"} <= set(reader.fieldnames):
        raise DueDatesError(
            f"{path.name} needs a header row with the columns learner,due[,extension_days]"
        )
    default: datetime | None = None
    per: dict[str, datetime] = {}
    rows = list(reader)
    for number, rec in enumerate(rows, start=2):
        where = f"{path.name} line {number}"
        due = _when(rec["due"] or "", where) if (rec.get("due") or "").strip() else None
        if rec["learner"].strip() == "*":
            default = due
    for number, rec in enumerate(rows, start=2):
        where = f"{path.name} line {number}"
        learner = rec["learner"].strip()
        if learner == "*":
            continue
        due = _when(rec["due"], where) if (rec.get("due") or "").strip() else default
        if due is None:
            raise DueDatesError(f"{where}: no due date for {learner!r} and no '*' default")
        extra = (rec.get("extension_days") or "").strip()
        try:
            due += timedelta(days=float(extra)) if extra else timedelta(0)
        except ValueError:
            raise DueDatesError(f"{where}: extension_days {extra!r} is not a number") from None
        per[learner] = due
    return DueDates(default, per)


def apply_late_policy(row: Row, days: int) -> None:
    """Reduce a row's score for ``days`` started days late (in place)."""
    row.late_days = days
    factor = max(0.0, 1.0 - LATE_PENALTY_PER_DAY * days)
    row.score = round(row.raw_score * factor, 4)
    row.exercises = {k: round(v * factor, 4) for k, v in row.exercises.items()}
    if days:
        row.notes.append(
            f"submitted {days} day(s) late: {LATE_PENALTY_PER_DAY:.0%} off per day, "
            f"{row.raw_score:g} -> {row.score:g} points"
        )


def gradebook_csv(
    rows: Sequence[Row], exercises: Sequence[str], *, manual: Sequence[str] = ()
) -> str:
    """The gradebook as CSV text.

    Args:
        rows: The rows as exported (overrides applied).
        exercises: The automatic exercises' columns.
        manual: The rubric items' columns: empty until an instructor grades them.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["learner", "status", "score", "max_score", *exercises, *manual]
    writer.writerow([*header, "late_days", "review", "message"])
    for r in rows:
        writer.writerow(
            [
                r.learner,
                r.status.value,
                f"{r.score:g}",
                f"{r.max_score:g}",
                *(f"{r.exercises.get(e, 0.0):g}" for e in exercises),
                *(f"{r.exercises[m]:g}" if m in r.exercises else "" for m in manual),
                r.late_days,
                len(r.review),
                r.message,
            ]
        )
    return out.getvalue()


def gradebook_json(
    rows: Sequence[Row], exercises: Sequence[str], *, lab: str, manual: Sequence[str] = ()
) -> str:
    """The gradebook as JSON text (the same rows as the CSV; an ungraded rubric item is
    ``null``)."""
    return (
        json.dumps(
            {
                "lab": lab,
                "exercises": list(exercises),
                "manual": list(manual),
                "rows": [
                    {
                        "learner": r.learner,
                        "status": r.status.value,
                        "score": r.score,
                        "max_score": r.max_score,
                        "exercises": {e: r.exercises.get(e, 0.0) for e in exercises},
                        "manual": {m: r.exercises.get(m) for m in manual},
                        "late_days": r.late_days,
                        "review": r.review,
                        "message": r.message,
                        "source": r.source,
                    }
                    for r in rows
                ],
            },
            indent=2,
        )
        + "\n"
    )


__all__ = [
    "LATE_PENALTY_PER_DAY",
    "REVIEW_PREFIX",
    "DueDates",
    "DueDatesError",
    "Row",
    "Status",
    "apply_late_policy",
    "gradebook_csv",
    "gradebook_json",
    "read_due_dates",
    "write_atomic",
]
