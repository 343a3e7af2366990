"""Grade one learner, or one exercise, again inside an existing batch's output.

``labgrader regrade OUT [LEARNER...] [--exercise EX]`` runs the lab's checks (as they are
now: a fixed check, a new hidden one) on the submissions the batch kept
(``OUT/.records/<learner>.ipynb``), and rewrites only those learners' files and the
gradebook, atomically; every other row stays as it was. With ``--exercise``, only that
exercise's checks and points change in each row. The learner's late days stay those of the
first grading, and the instructor's overrides are kept (and flagged when the automatic
points they replaced have changed: see :mod:`labgrader.overrides`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from labgrader.batch import BatchGrader, BatchLog, default_jobs
from labgrader.errors import LabNotFound
from labgrader.gradebook import Row, Status, apply_late_policy
from labgrader.intake import Entry
from labgrader.limits import Limits
from labgrader.overrides import automatic_points
from labgrader.publish import RECORDS, BatchOutputError, Publication
from labgrader.run import DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Regraded:
    """What a regrade changed for one learner."""

    learner: str
    """The learner id."""
    before: float
    """The automatic score before (after the late policy)."""
    after: float
    """The automatic score now."""
    status: Status
    """The row's status now."""
    kept: bool = False
    """Whether the earlier row was kept because the new run was not graded."""


def _merge_exercise(previous: Row, new: Row, exercise: str) -> Row:
    """The previous row with one exercise's checks and points taken from the new run."""
    merged = copy.deepcopy(previous)
    merged.checks = [c for c in previous.checks if c["exercise"] != exercise] + [
        c for c in new.checks if c["exercise"] == exercise
    ]
    merged.exercises = {
        e: automatic_points(merged, e) for e in dict.fromkeys(c["exercise"] for c in merged.checks)
    }
    merged.raw_score = round(sum(merged.exercises.values()), 4)
    merged.score = merged.raw_score
    merged.notes = [n for n in previous.notes if not n.startswith("submitted ")]
    return merged


def regrade(
    out: Path,
    learners: Sequence[str] = (),
    *,
    exercise: str | None = None,
    jobs: int | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    limits: Limits | None = None,
    progress: Callable[[Regraded], None] | None = None,
    now: datetime | None = None,
) -> list[Regraded]:
    """Grade learners of a batch again into its output folder (all of them by default).

    Args:
        out: The output folder of an earlier ``labgrader grade ... --out``.
        learners: Learner ids as in the gradebook; empty for every learner.
        exercise: Only this exercise's checks and points change.
        jobs: Pre-warmed engines kept for the runs (default: the number of cores).
        timeout: Seconds one submission's check run may take.
        limits: Resource limits per submission.
        progress: Called with each learner's outcome.
        now: The time the regrade is noted with (default: now).

    Returns:
        One outcome per learner, in the order given.

    Raises:
        BatchOutputError: When ``out`` holds no batch, a learner has no record, or the
            batch kept no copy of a learner's submission (graded by an older labgrader).
        LabNotFound: When the exercise is not one of the lab's.
    """
    publication = Publication.load(out)
    names = list(learners) or publication.order()
    previous = {name: publication.record(name) for name in names}
    kept: dict[str, bytes] = {}
    for name in names:
        path = publication.out / RECORDS / f"{name}.ipynb"
        if previous[name].status is Status.INVALID and not path.is_file():
            continue  # nothing gradable was kept: its row stands
        try:
            kept[name] = path.read_bytes()
        except OSError:
            raise BatchOutputError(
                f"the batch kept no copy of {name}'s submission ({path.name}): grade it "
                "again with `labgrader grade LAB SUBMISSION --out ... --force`"
            ) from None
    if exercise is not None:
        known = {c["exercise"] for r in previous.values() for c in r.checks}
        if exercise not in known:
            raise LabNotFound(
                f"no exercise {exercise!r} in lab {publication.lab}'s rows; "
                f"exercises: {', '.join(sorted(known)) or 'none'}"
            )
    stamp = (now or datetime.now(UTC)).isoformat(timespec="seconds")
    outcomes: list[Regraded] = []
    grader = BatchGrader.open(
        lab=publication.lab,
        checks_dir=publication.checks,
        hide=[publication.out],
        limits=limits,
        jobs=jobs or default_jobs(),
        log=BatchLog(),
    )
    try:
        for name in names:
            before = previous[name]
            if name not in kept:
                outcomes.append(Regraded(name, before.score, before.score, before.status, True))
                continue
            entry = Entry(name, before.source, data=kept[name], name=name)
            new = grader.grade(entry, timeout)
            keep_old = exercise is not None and new.status is not Status.GRADED
            if keep_old:
                row = before
            else:
                row = _merge_exercise(before, new, exercise) if exercise else new
                row.digest = before.digest
                row.source = before.source
                apply_late_policy(row, before.late_days)
                scope = f"exercise {exercise}" if exercise else "all exercises"
                row.notes.append(f"regraded on {stamp[:10]} ({scope})")
                publication.write_learner(row)
            outcome = Regraded(name, before.score, row.score, row.status, keep_old)
            outcomes.append(outcome)
            if progress:
                progress(outcome)
    finally:
        grader.close()
        publication.republish(learners=[])
    return outcomes


__all__ = ["Regraded", "regrade"]
