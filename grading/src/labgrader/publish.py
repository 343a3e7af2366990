"""Write a batch's outputs from its rows: the learners' files and the gradebook.

The grader's record of each learner (``OUT/.records/<learner>.json``) holds the automatic
result, written last (its presence means "graded"); beside it the submission as graded
(``<learner>.ipynb``), kept for regrades. Everything else is made from the records with the
instructor's decisions applied (:mod:`labgrader.overrides`, :mod:`labgrader.rubric`), so
``labgrader override`` and ``labgrader regrade`` rewrite the exports without grading anyone
else again. ``OUT/.batch.json`` remembers what the exports need: the lab, whether hidden
checks are released, the checks folder and the learners' order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from labgrader.errors import LabgraderError, NotebookError
from labgrader.feedback import feedback_html, learner_view, results_json
from labgrader.gradebook import Row, Status, gradebook_csv, gradebook_json, write_atomic
from labgrader.overrides import Override, apply_overrides, load_overrides
from labgrader.rubric import Rubric, load_rubric

GRADE_FILE = "grade.json"
"""The learner's own copy of their row (hidden checks' details withheld until release)."""
RECORDS = ".records"
"""The grader's full records, one JSON file per learner (never handed to learners)."""
BATCH_FILE = ".batch.json"
"""What the exports of a batch need to be made again (lab, release, checks, order)."""


class BatchOutputError(LabgraderError, FileNotFoundError):
    """A folder that holds no batch output, or a learner with no record in it."""


@dataclass(frozen=True)
class Publication:
    """How a batch's outputs are written (one per batch, saved in ``.batch.json``)."""

    out: Path
    """The output folder."""
    lab: str
    """The lab id."""
    release: bool
    """Whether the learners' files show hidden checks' details."""
    checks: Path
    """The lab's checks folder (the rubric lives there; regrades run its checks)."""
    rubric: Rubric
    """The lab's manual-grade items."""

    @classmethod
    def open(cls, out: Path, *, lab: str, release: bool, checks: Path) -> Publication:
        """The publication of a new batch (the rubric read from the checks folder)."""
        return cls(out, lab, release, checks, load_rubric(checks))

    @classmethod
    def load(cls, out: Path) -> Publication:
        """The publication of an earlier batch in ``out``.

        Raises:
            BatchOutputError: When ``out`` holds no batch written by ``labgrader grade``.
        """
        try:
            data = json.loads((out / BATCH_FILE).read_text(encoding="utf-8"))
            lab, release, checks = data["lab"], bool(data["release"]), Path(data["checks"])
        except (OSError, ValueError, KeyError, TypeError):
            raise BatchOutputError(
                f"{out} holds no batch output of `labgrader grade ... --out {out.name}` "
                f"(no readable {BATCH_FILE})"
            ) from None
        return cls.open(out.resolve(), lab=lab, release=release, checks=checks)

    def save(self, order: Sequence[str]) -> None:
        """Remember the publication and the learners' order (the gradebook's rows)."""
        data = {
            "lab": self.lab,
            "release": self.release,
            "checks": str(self.checks),
            "order": list(order),
        }
        write_atomic(self.out / BATCH_FILE, json.dumps(data, indent=2) + "\n")

    def order(self) -> list[str]:
        """The learners of the batch, in the gradebook's order."""
        try:
            data = json.loads((self.out / BATCH_FILE).read_text(encoding="utf-8"))
            return [str(x) for x in data["order"]]
        except (OSError, ValueError, KeyError, TypeError):
            return []

    def record(self, learner: str) -> Row:
        """The grader's automatic row of a learner.

        Raises:
            BatchOutputError: When the batch has no record of that learner.
        """
        path = self.out / RECORDS / f"{learner}.json"
        try:
            return Row.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError):
            known = ", ".join(self.order()[:8]) or "none"
            raise BatchOutputError(
                f"no graded learner {learner!r} in {self.out.name} (learners: {known})"
            ) from None

    def exported(self, row: Row, overrides: Sequence[Override] | None = None) -> Row:
        """The row as every export shows it: decisions applied, rubric in the maximum."""
        decisions = load_overrides(self.out) if overrides is None else overrides
        return apply_overrides(row, decisions, self.rubric)

    def write_learner(
        self, row: Row, *, keep: bytes | None = None, overrides: Sequence[Override] | None = None
    ) -> None:
        """Write a learner's files, then the grader's record (last: it means "graded").

        Args:
            row: The automatic row.
            keep: The submission's bytes, kept beside the record for regrades.
            overrides: The batch's decisions (default: read from the folder).

        Raises:
            NotebookError: When the learner id would write outside the folder.
        """
        folder = self.out / row.learner
        if folder.resolve().parent != self.out or row.learner.startswith("."):
            raise NotebookError(f"learner id {row.learner!r} would write outside {self.out}")
        shown = self.exported(row, overrides)
        view = learner_view(shown, release=self.release)
        write_atomic(
            folder / "results.json",
            json.dumps(results_json(shown, release=self.release), indent=2) + "\n",
        )
        write_atomic(
            folder / "feedback.html", feedback_html(shown, lab=self.lab, release=self.release)
        )
        write_atomic(folder / GRADE_FILE, json.dumps(view.to_dict(), indent=2) + "\n")
        if keep is not None:
            write_atomic(self.out / RECORDS / f"{row.learner}.ipynb", keep)
        write_atomic(
            self.out / RECORDS / f"{row.learner}.json", json.dumps(row.to_dict(), indent=2) + "\n"
        )

    def write_gradebook(self, rows: Sequence[Row]) -> list[Row]:
        """Write ``gradebook.csv`` and ``gradebook.json`` from the automatic rows.

        A row that was not graded (``invalid``, ``error``) is out of the batch's maximum, so
        that its zero reads as a zero of the whole lab. Returns the rows as exported.
        """
        exercises: list[str] = []
        for row in rows:
            for name in row.exercises:
                if name not in exercises:
                    exercises.append(name)
        max_score = max((r.max_score for r in rows), default=0.0)
        for row in rows:
            if row.status in (Status.INVALID, Status.ERROR):
                row.max_score = max_score
        decisions = load_overrides(self.out)
        shown = [self.exported(r, decisions) for r in rows]
        manual = self.rubric.ids
        write_atomic(self.out / "gradebook.csv", gradebook_csv(shown, exercises, manual=manual))
        write_atomic(
            self.out / "gradebook.json",
            gradebook_json(shown, exercises, lab=self.lab, manual=manual),
        )
        self.save([r.learner for r in rows])
        return shown

    def rows(self) -> list[Row]:
        """The automatic rows of every learner of the batch, in the gradebook's order."""
        return [self.record(learner) for learner in self.order()]

    def republish(self, learners: Sequence[str] | None = None) -> list[Row]:
        """Write the exports again from the records: the gradebook, and the learners' files
        (all, or only ``learners``). Returns the rows as exported."""
        rows = self.rows()
        decisions = load_overrides(self.out)
        for row in rows:
            if learners is None or row.learner in learners:
                self.write_learner(row, overrides=decisions)
        return self.write_gradebook(rows)


__all__ = [
    "BATCH_FILE",
    "GRADE_FILE",
    "RECORDS",
    "BatchOutputError",
    "Publication",
]
