"""A lab's rubric: what a machine cannot judge, graded by hand into the gradebook.

A lab may keep ``rubric.yaml`` beside its checks (``grading/checks/NN-topic/rubric.yaml``)::

    items:
      - id: design-walkthrough
        points: 10
        description: The learner explains why each step is idempotent.
      - id: resilience-report
        points: 5
        description: The report names each fault injected and its mitigation.

Each item becomes a manual-grade column of the gradebook, empty until an instructor records
its points with ``labgrader override OUT LEARNER ITEM POINTS --reason ...``; the batch's
maximum score includes the rubric's points, so a learner's total is out of the whole lab.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from labgrader.errors import LabgraderError

RUBRIC_FILE = "rubric.yaml"
"""The rubric's file name, in the lab's checks folder."""

_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class RubricError(LabgraderError, ValueError):
    """A rubric file that cannot be read or holds a bad item."""


@dataclass(frozen=True)
class RubricItem:
    """One manual-grade item."""

    id: str
    """Its column in the gradebook: lower-case letters, digits and ``-``."""
    points: float
    """The points it is worth."""
    description: str = ""
    """What the instructor judges, in words."""


@dataclass(frozen=True)
class Rubric:
    """A lab's manual-grade items, in their file's order."""

    items: tuple[RubricItem, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        """The items' ids, in order."""
        return tuple(i.id for i in self.items)

    @property
    def max_points(self) -> float:
        """The points all items are worth together."""
        return sum(i.points for i in self.items)

    def item(self, item_id: str) -> RubricItem | None:
        """The item with this id, or ``None``."""
        return next((i for i in self.items if i.id == item_id), None)


def load_rubric(checks_dir: Path) -> Rubric:
    """Read the lab's rubric; a lab without ``rubric.yaml`` has an empty one.

    Raises:
        RubricError: When the file is not YAML, or an item lacks an id or points, repeats an
            id, or an exercise's name would clash with it (the message names the item).
    """
    path = checks_dir / RUBRIC_FILE
    if not path.is_file():
        return Rubric()
    where = f"{checks_dir.name}/{RUBRIC_FILE}"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RubricError(f"{where}: cannot be read as YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise RubricError(f"{where}: needs a list under 'items' (see the docs' example)")
    items: list[RubricItem] = []
    for number, raw in enumerate(data["items"], start=1):
        if not isinstance(raw, dict):
            raise RubricError(f"{where}: item {number} is not a mapping of id, points")
        item_id, points = raw.get("id"), raw.get("points")
        if not isinstance(item_id, str) or not _ID.match(item_id):
            raise RubricError(
                f"{where}: item {number} needs an id of lower-case letters, digits and '-', "
                f"not {item_id!r}"
            )
        if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
            raise RubricError(f"{where}: item {item_id!r} needs positive points, not {points!r}")
        if any(i.id == item_id for i in items):
            raise RubricError(f"{where}: item id {item_id!r} appears twice")
        items.append(RubricItem(item_id, float(points), str(raw.get("description") or "")))
    return Rubric(tuple(items))


__all__ = ["RUBRIC_FILE", "Rubric", "RubricError", "RubricItem", "load_rubric"]
