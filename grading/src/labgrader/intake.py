"""Turn the inputs of a batch into one entry per learner: notebooks, folders and zips.

A SUBMISSION given to ``labgrader grade LAB SUBMISSION... --out DIR`` is:

* a notebook: the learner id is its file name (``ada.ipynb`` -> ``ada``), or its folder's
  name when the file is named after the lab (``ada/01-pipeline-patterns.ipynb`` -> ``ada``);
* a folder of learners' work: each notebook directly inside is one learner (named after the
  file), each sub-folder is one learner (named after the folder) holding one notebook;
* a zip of such a folder (an LMS bulk download), read in memory: nothing is extracted, so
  a member named ``../../etc/passwd`` or a symlink can write nothing anywhere.

Every input becomes at least one :class:`Entry`; what cannot be graded (not a notebook,
a symlink, a path-traversal name, two notebooks for one learner, a duplicate learner id)
becomes an entry with a ``problem``, so it still gets its gradebook row.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024
"""A notebook file larger than this is refused (outputs are not graded; clear them)."""

_SAFE = re.compile(r"[^A-Za-z0-9._@+-]+")


@dataclass(frozen=True)
class Entry:
    """One learner's submission, read into memory (or why it cannot be)."""

    learner: str
    """The learner id: safe as a file name (letters, digits, ``._@+-``)."""
    source: str
    """Where it came from, for messages: ``subs.zip:ada/lab.ipynb``."""
    data: bytes | None = None
    """The notebook file's bytes; ``None`` when there is a problem."""
    problem: str | None = None
    """Why this entry cannot be graded, in words the instructor can act on."""
    submitted: datetime | None = None
    """When the file was last modified (zip entries: their stored time), in UTC."""

    @property
    def digest(self) -> str:
        """A fingerprint of the notebook (or of the problem), to skip unchanged reruns."""
        return hashlib.sha256(self.data or (self.problem or "").encode()).hexdigest()


def learner_id(name: str) -> str:
    """A safe learner id from a file or folder name (never empty, never a path)."""
    cleaned = _SAFE.sub("_", name).strip("._") or "unnamed"
    return cleaned[:100]


def _name_for(parts: Sequence[str]) -> str:
    """The learner id of a notebook at ``parts`` (relative to the batch input)."""
    if len(parts) > 1:
        return learner_id(parts[0])
    return learner_id(PurePosixPath(parts[-1]).stem)


def _too_big(size: int) -> str | None:
    if size > MAX_NOTEBOOK_BYTES:
        return (
            f"the notebook is {size / 1024 / 1024:.0f} MB, over the "
            f"{MAX_NOTEBOOK_BYTES // 1024 // 1024} MB limit: clear its outputs (Edit > Clear "
            "Outputs of All Cells) and submit it again"
        )
    return None


def _group(
    found: Iterable[tuple[tuple[str, ...], str, object]], lab: str
) -> dict[str, list[tuple[tuple[str, ...], str, object]]]:
    groups: dict[str, list[tuple[tuple[str, ...], str, object]]] = {}
    for parts, label, handle in found:
        groups.setdefault(_name_for(parts), []).append((parts, label, handle))
    return groups


def _pick(items: list[tuple[tuple[str, ...], str, object]], lab: str) -> tuple[str, object] | str:
    """Choose the notebook of one learner, or say why none can be chosen."""
    if len(items) == 1:
        return items[0][1], items[0][2]
    named = [i for i in items if PurePosixPath(i[0][-1]).stem == lab]
    if len(named) == 1:
        return named[0][1], named[0][2]
    listed = ", ".join(sorted(i[1] for i in items))
    return f"several notebooks for one learner ({listed}): keep one, named {lab}.ipynb"


def _from_file(path: Path, label: str, learner: str) -> Entry:
    if path.is_symlink():
        return Entry(learner, label, problem="a symbolic link, not a notebook file: not followed")
    try:
        info = path.stat()
    except OSError as exc:
        return Entry(learner, label, problem=f"cannot read it: {exc.strerror or exc}")
    problem = _too_big(info.st_size)
    if problem:
        return Entry(learner, label, problem=problem)
    if not stat.S_ISREG(info.st_mode):
        return Entry(learner, label, problem="not a regular file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Entry(learner, label, problem=f"cannot read it: {exc.strerror or exc}")
    return Entry(learner, label, data, submitted=datetime.fromtimestamp(info.st_mtime, UTC))


def _from_folder(folder: Path, lab: str) -> list[Entry]:
    found: list[tuple[tuple[str, ...], str, object]] = []
    odd: list[Entry] = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).parts
        if any(p.startswith(".") or p == "__MACOSX" for p in rel):
            continue
        if path.is_symlink():
            odd.append(
                Entry(
                    learner_id(rel[0] if len(rel) > 1 else path.stem),
                    str(path),
                    problem="a symbolic link: not followed (submit the notebook itself)",
                )
            )
            continue
        if path.is_file() and path.suffix == ".ipynb":
            found.append((rel, str(path), path))
    entries = odd
    for learner, items in _group(found, lab).items():
        picked = _pick(items, lab)
        if isinstance(picked, str):
            entries.append(Entry(learner, str(folder / learner), problem=picked))
        else:
            label, handle = picked
            assert isinstance(handle, Path)
            entries.append(_from_file(handle, label, learner))
    if not entries:
        entries.append(
            Entry(
                learner_id(folder.name),
                str(folder),
                problem="the folder holds no notebook (*.ipynb)",
            )
        )
    return entries


def _zip_member_problem(info: zipfile.ZipInfo) -> str | None:
    name = info.filename
    pure = PurePosixPath(name.replace("\\", "/"))
    if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", name):
        return f"the zip member {name!r} has an unsafe path: not read"
    if stat.S_ISLNK(info.external_attr >> 16):
        return f"the zip member {name!r} is a symbolic link: not followed"
    return None


def _common_top(found: Sequence[tuple[tuple[str, ...], str, object]]) -> bool:
    """Whether every path shares one top folder that is not itself a learner's folder."""
    if not found or any(len(p) < 2 for p, _, _ in found) or len({p[0] for p, _, _ in found}) > 1:
        return False
    return len(found) > 1 or all(len(p) > 2 for p, _, _ in found)


def _from_zip(path: Path, lab: str) -> list[Entry]:
    label = str(path)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [Entry(learner_id(path.stem), label, problem=f"not a readable zip file: {exc}")]
    with archive:
        odd: list[Entry] = []
        found: list[tuple[tuple[str, ...], str, object]] = []
        members = [i for i in archive.infolist() if not i.is_dir()]
        for info in members:
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            problem = _zip_member_problem(info)
            if problem:
                member = f"{label}:{info.filename}"
                odd.append(
                    Entry(learner_id(PurePosixPath(parts[-1]).stem), member, problem=problem)
                )
            elif any(p.startswith(".") or p == "__MACOSX" for p in parts):
                continue
            elif info.filename.endswith(".ipynb"):
                found.append((parts, f"{label}:{info.filename}", info))
        # A zip of one top folder (``submissions/ada/...``): learners are one level down.
        while _common_top(found):
            found = [(p[1:], lbl, h) for p, lbl, h in found]
        entries = odd
        for learner, items in _group(found, lab).items():
            picked = _pick(items, lab)
            if isinstance(picked, str):
                entries.append(Entry(learner, label, problem=picked))
                continue
            member_label, handle = picked
            assert isinstance(handle, zipfile.ZipInfo)
            problem = _too_big(handle.file_size)
            if problem:
                entries.append(Entry(learner, member_label, problem=problem))
                continue
            try:
                data = archive.read(handle)
            except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
                entries.append(Entry(learner, member_label, problem=f"cannot unzip it: {exc}"))
                continue
            when = datetime(*handle.date_time, tzinfo=UTC)
            entries.append(Entry(learner, member_label, data, submitted=when))
    if not entries:
        entries.append(
            Entry(learner_id(path.stem), label, problem="the zip holds no notebook (*.ipynb)")
        )
    return entries


def collect(inputs: Sequence[Path], *, lab: str) -> list[Entry]:
    """Read every input of a batch into entries, one per learner (see the module doc).

    A learner id that appears twice keeps its first entry; each later one becomes an entry
    ``<id>~2``, ``<id>~3`` ... with a problem naming both sources, so nothing is lost.

    Args:
        inputs: Notebooks, folders and zips.
        lab: The lab id (a notebook named after it takes its folder's name).

    Returns:
        The entries, in input order.
    """
    entries: list[Entry] = []
    for path in inputs:
        label = str(path)
        if path.is_symlink():
            entries.append(
                Entry(learner_id(path.stem), label, problem="a symbolic link: not followed")
            )
        elif path.is_dir():
            entries += _from_folder(path, lab)
        elif not path.exists():
            entries.append(Entry(learner_id(path.stem), label, problem="no such file or folder"))
        elif path.suffix.lower() == ".zip":
            entries += _from_zip(path, lab)
        else:
            parent = path.parent.name if path.stem == lab else ""
            entries.append(_from_file(path, label, learner_id(parent or path.stem)))
    seen: dict[str, Entry] = {}
    out: list[Entry] = []
    for entry in entries:
        first = seen.get(entry.learner)
        if first is None:
            seen[entry.learner] = entry
            out.append(entry)
            continue
        n = 2
        while f"{entry.learner}~{n}" in seen:
            n += 1
        renamed = f"{entry.learner}~{n}"
        dup = Entry(
            renamed,
            entry.source,
            problem=(
                f"duplicate learner id {entry.learner!r}: {first.source} and {entry.source}; "
                f"the first was graded, rename this one and grade it again"
            ),
            submitted=entry.submitted,
        )
        seen[renamed] = dup
        out.append(dup)
    return out


__all__ = ["MAX_NOTEBOOK_BYTES", "Entry", "collect", "learner_id"]
