"""A batch's grades in the shapes learning-management systems import, and bundles to hand back.

``labgrader export OUT --to canvas|moodle|bundles`` writes, from the batch's records with
the instructor's overrides applied (so an export always agrees with ``gradebook.csv``):

- ``canvas.csv``: Canvas's gradebook import. The columns ``Student``, ``ID``,
  ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column for the lab named
  ``ASSIGNMENT``; the second row is ``Points Possible``. Canvas matches a row on
  ``SIS Login ID``, so learner ids must be the learners' logins (name each submission's file
  or folder after it, as LMS downloads do).
- ``moodle.csv``: Moodle's grade import (Grades > Import > CSV file). The columns
  ``Username``, the lab's grade, and its feedback; at import, map ``Username`` to
  "username" and the two other columns to the grade item and its feedback.
- ``bundles/<learner>.zip``: the learner's feedback page, ``results.json`` and
  ``grade.json``, ready to return through any channel.

A row that was not graded (``invalid``, ``crashed``, ``timeout``, ``error``) exports its
score (0 unless overridden) and, for Moodle, its message as feedback, so that nobody is
silently left out of an import.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path

from labgrader.gradebook import Row, write_atomic
from labgrader.overrides import DECISION_PREFIX
from labgrader.publish import GRADE_FILE, Publication


class Target(StrEnum):
    """Where an export goes."""

    CANVAS = "canvas"
    MOODLE = "moodle"
    BUNDLES = "bundles"


def canvas_csv(rows: Sequence[Row], *, assignment: str) -> str:
    """Canvas's gradebook import CSV for one assignment (the rows as exported)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment])
    top = max((r.max_score for r in rows), default=0.0)
    writer.writerow(["Points Possible", "", "", "", "", f"{top:g}"])
    for r in rows:
        writer.writerow([r.learner, "", "", r.learner, "", f"{r.score:g}"])
    return out.getvalue()


def _feedback(row: Row) -> str:
    parts = [f"{row.score:g}/{row.max_score:g} points"]
    if row.message:
        parts.append(row.message)
    parts += [n for n in row.notes if n.startswith(DECISION_PREFIX)]
    return "; ".join(parts)


def moodle_csv(rows: Sequence[Row], *, assignment: str) -> str:
    """Moodle's grade import CSV: username, grade, feedback (the rows as exported)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Username", assignment, f"{assignment} (feedback)"])
    for r in rows:
        writer.writerow([r.learner, f"{r.score:g}", _feedback(r)])
    return out.getvalue()


def bundle(publication: Publication, learner: str) -> bytes:
    """A learner's files as a zip (feedback page, results.json, grade.json)."""
    folder = publication.out / learner
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ("feedback.html", "results.json", GRADE_FILE):
            archive.write(folder / name, f"{learner}/{name}")
    return data.getvalue()


def export(
    out: Path, target: Target, *, assignment: str | None = None, dest: Path | None = None
) -> list[Path]:
    """Write one export of the batch in ``out``; return the files written.

    Args:
        out: The batch's output folder.
        target: Canvas, Moodle, or the learners' bundles.
        assignment: The column's name in the LMS (default ``Lab <lab id>``).
        dest: The file (or, for bundles, the folder) to write (default inside ``out``).

    Raises:
        BatchOutputError: When ``out`` holds no batch.
    """
    publication = Publication.load(out)
    rows = [publication.exported(r) for r in publication.rows()]
    name = assignment or f"Lab {publication.lab}"
    if target is Target.BUNDLES:
        folder = dest or publication.out / "bundles"
        written = []
        for row in rows:
            path = folder / f"{row.learner}.zip"
            write_atomic(path, bundle(publication, row.learner))
            written.append(path)
        return written
    text = (canvas_csv if target is Target.CANVAS else moodle_csv)(rows, assignment=name)
    path = dest or publication.out / f"{target.value}.csv"
    write_atomic(path, text)
    return [path]


__all__ = ["Target", "bundle", "canvas_csv", "export", "moodle_csv"]
