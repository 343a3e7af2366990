"""Mutants: plausible wrong answers that prove a lab's checks catch mistakes.

A lab's ``grading/checks/NN-topic/mutants/<short-name>.py`` is a complete replacement for
one exercise cell of the solution notebook, headed by two comments::

    # exercise: dag-order
    # why: ties are broken by insertion order instead of alphabetically
    def execution_order(deps):
        ...  # the same signature, a wrong body

``labgrader validate`` builds the solution with that cell replaced and requires the mutant
to lose points on its exercise's checks.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labgrader.errors import MutantError
from labgrader.notebook import EXERCISE_KEY

MUTANTS_DIR = "mutants"
"""The folder, inside a lab's checks folder, that holds its mutants."""

_HEADER = re.compile(r"^#\s*(?P<key>exercise|why)\s*:\s*(?P<value>.*?)\s*$")


@dataclass(frozen=True)
class Mutant:
    """One plausible wrong answer to one exercise."""

    name: str
    """The file's stem: ``off-by-one-backfill``."""
    exercise: str
    """The exercise whose cell it replaces."""
    why: str
    """The mistake, in one sentence."""
    source: str
    """The cell's replacement source (the header comments included)."""


def read_mutant(path: Path) -> Mutant:
    """Read one mutant file.

    Raises:
        MutantError: When the ``# exercise:`` or ``# why:`` comment is missing or empty.
    """
    source = path.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    for line in source.splitlines():
        if not line.strip():
            continue
        match = _HEADER.match(line.strip())
        if not match:
            break
        found[match["key"]] = match["value"]
    missing = [k for k in ("exercise", "why") if not found.get(k)]
    if missing:
        raise MutantError(
            f"mutant {path.name} needs a first-lines comment "
            + " and ".join(f"'# {k}: ...'" for k in missing)
            + " (see docs/grading.md)"
        )
    return Mutant(path.stem, found["exercise"], found["why"], source)


def load_mutants(checks_dir: Path) -> list[Mutant]:
    """Read every mutant of a lab, sorted by name (none when it has no ``mutants/`` folder).

    Raises:
        MutantError: When a mutant file is malformed.
    """
    folder = checks_dir / MUTANTS_DIR
    if not folder.is_dir():
        return []
    return [read_mutant(p) for p in sorted(folder.glob("*.py"))]


def apply_mutant(doc: dict[str, Any], mutant: Mutant) -> dict[str, Any]:
    """Return a copy of a notebook document with the mutant's exercise cell replaced.

    Raises:
        MutantError: When the notebook has no cell, or more than one, for the exercise.
    """
    mutated = copy.deepcopy(doc)
    cells = [
        c
        for c in mutated["cells"]
        if c.get("cell_type") == "code" and (c.get("metadata") or {}).get(EXERCISE_KEY)
    ]
    targets = [c for c in cells if c["metadata"][EXERCISE_KEY] == mutant.exercise]
    if len(targets) != 1:
        known = ", ".join(dict.fromkeys(c["metadata"][EXERCISE_KEY] for c in cells)) or "none"
        count = "no cell" if not targets else f"{len(targets)} cells"
        raise MutantError(
            f"mutant {mutant.name} replaces exercise {mutant.exercise!r}, but the notebook has "
            f"{count} for it (exercises: {known})"
        )
    targets[0]["source"] = mutant.source
    return mutated


__all__ = ["MUTANTS_DIR", "Mutant", "apply_mutant", "load_mutants", "read_mutant"]
