"""Turn the inputs of a batch into one entry per learner: notebooks, folders and zips.

A SUBMISSION given to ``labgrader grade LAB SUBMISSION... --out DIR`` is:

* a notebook: the learner id is its file name (``ada.ipynb`` -> ``ada``), or its folder's
  name when the file is named after the lab (``ada/01-pipeline-patterns.ipynb`` -> ``ada``);
* a folder of learners' work: each notebook directly inside is one learner (named after the
  file), each sub-folder is one learner (named after the folder) holding one notebook;
* a zip of such a folder (an LMS bulk download), read in memory: nothing is extracted, so
  a member named ``../../etc/passwd`` or a symlink can write nothing anywhere.

Every file ends in a row or in a named reason. What cannot be graded (not a notebook, a
symlink, a path-traversal name, a file over the course's size limit, two notebooks for one
learner that cannot be told apart, a duplicate learner) becomes an :class:`Entry` with a
``problem``, so it still gets its gradebook row. What is not a submission at all (a hidden
file or folder, Jupyter's ``.ipynb_checkpoints``, macOS's ``__MACOSX``, a file that is not a
notebook, a learner's second notebook) becomes a :class:`Skipped` line that the summary and
the batch log print. Two different names that give the same learner id (``a b.ipynb`` and
``a_b.ipynb``, ``Ada`` and ``ada``) are both graded, the second as ``a_b~2``, with a note.

Learner ids keep Unicode letters (normalized to NFC): ``ünï.ipynb`` is learner ``ünï``.
Every notebook that is read is then checked by :func:`load_notebook` before anything else
reads it: UTF-8, JSON, nbformat 4 and its schema; its outputs are dropped.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
import stat
import unicodedata
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from labgrader.course import DEFAULT_MAX_NOTEBOOK_MB
from labgrader.errors import NotebookError, SubmissionsNotFound
from labgrader.notebook import drop_outputs, parse_notebook

MAX_NOTEBOOK_BYTES = int(DEFAULT_MAX_NOTEBOOK_MB * 1_000_000)
"""The default size limit of a notebook file (``course.toml`` ``[grading] max_notebook_mb``)."""
RESERVED = frozenset({"gradebook.csv", "gradebook.json", "batch.log"})
"""Names of the batch's own files in the output folder: no learner id takes one."""
CHECKPOINTS = ".ipynb_checkpoints"
"""Jupyter's folder of autosaved copies: never graded."""

_UNSAFE = re.compile(r"[^\w.@+-]+")


@dataclass(frozen=True)
class Entry:
    """One learner's submission, read into memory (or why it cannot be)."""

    learner: str
    """The learner id: safe as a file name (letters of any script, digits, ``_.@+-``, and
    ``~N`` after a name that another learner's name already gave)."""
    source: str
    """Where it came from, for messages: ``subs.zip:ada/lab.ipynb``."""
    data: bytes | None = None
    """The notebook file's bytes; ``None`` when there is a problem."""
    problem: str | None = None
    """Why this entry cannot be graded, in words the instructor can act on."""
    submitted: datetime | None = None
    """When the file was last modified (zip entries: their stored time), in UTC."""
    name: str = ""
    """The name the learner id was made from (a file's stem or a folder's name), NFC."""
    notes: tuple[str, ...] = field(default=())
    """Things worth knowing that cost no points (how its learner id was chosen)."""

    @property
    def digest(self) -> str:
        """A fingerprint of the notebook (or of the problem), to skip unchanged reruns."""
        return hashlib.sha256(self.data or (self.problem or "").encode()).hexdigest()


@dataclass(frozen=True)
class Skipped:
    """A file or folder of the inputs that is no submission, and why."""

    source: str
    """Where it is: ``subs/ada/.ipynb_checkpoints`` or ``subs.zip:__MACOSX``."""
    reason: str
    """Why it was not graded, in words the instructor can act on."""

    def line(self) -> str:
        """The line the summary and the batch log print."""
        return f"skipped {self.source}: {self.reason}"


@dataclass(frozen=True)
class Intake:
    """Everything a batch's inputs hold: the learners' entries, and what was skipped."""

    entries: tuple[Entry, ...]
    """One entry per learner, in input order."""
    skipped: tuple[Skipped, ...] = ()
    """Files and folders that are no submission, each with its reason."""


def learner_id(name: str) -> str:
    """A safe learner id from a file or folder name (never empty, never a path).

    Letters and digits of any script are kept (NFC-normalized, so a name typed on macOS and
    on Linux gives one id); every run of other characters becomes ``_``.
    """
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip("._") or "unnamed"
    return cleaned[:100]


def _nfc(name: str) -> str:
    return unicodedata.normalize("NFC", name)


def _hidden(part: str) -> bool:
    return part.startswith(".") or part == "__MACOSX"


def _why_hidden(part: str) -> str:
    if part == CHECKPOINTS:
        return "Jupyter's checkpoints folder (autosaved copies, not submissions): skipped"
    if part == "__MACOSX":
        return "macOS archive metadata, not submissions: skipped"
    return (
        "its name starts with a dot (a hidden file or folder): not graded; if it is a "
        "learner's notebook, rename it without the leading dot and grade it again"
    )


def _too_big(size: int, limit: int) -> str | None:
    if size > limit:
        return (
            f"the notebook is {size / 1_000_000:.1f} MB, over the course's "
            f"{limit / 1_000_000:g} MB limit (course.toml [grading] max_notebook_mb): clear "
            "its outputs (Edit > Clear Outputs of All Cells) and submit it again"
        )
    return None


_Found = tuple[tuple[str, ...], str, Any]
"""A notebook found in an input: its path parts (relative), its label, a handle to read it."""


def _key(parts: Sequence[str]) -> str:
    """The name a notebook's learner id comes from: its folder, or its own stem."""
    return _nfc(parts[0]) if len(parts) > 1 else _nfc(PurePosixPath(parts[-1]).stem)


def _grouped(
    found: Iterable[_Found], lab: str, skipped: list[Skipped]
) -> Iterator[tuple[str, _Found | str]]:
    """Each learner's notebook, or why none can be chosen; unchosen ones go to ``skipped``."""
    groups: dict[str, list[_Found]] = {}
    for item in found:
        groups.setdefault(_key(item[0]), []).append(item)
    for name, items in groups.items():
        if len(items) == 1:
            yield name, items[0]
            continue
        named = [i for i in items if PurePosixPath(i[0][-1]).stem == lab]
        if len(named) == 1:
            for other in items:
                if other is not named[0]:
                    skipped.append(
                        Skipped(
                            other[1],
                            f"a second notebook of learner {name!r}: {named[0][1]} (named "
                            "after the lab) was graded",
                        )
                    )
            yield name, named[0]
            continue
        listed = ", ".join(sorted(i[1] for i in items))
        yield name, f"several notebooks for one learner ({listed}): keep one, named {lab}.ipynb"


def _from_file(path: Path, label: str, name: str, limit: int) -> Entry:
    learner = learner_id(name)
    if path.is_symlink():
        return Entry(
            learner, label, problem="a symbolic link, not a notebook file: not followed", name=name
        )
    try:
        info = path.stat()
    except OSError as exc:
        return Entry(learner, label, problem=f"cannot read it: {exc.strerror or exc}", name=name)
    if not stat.S_ISREG(info.st_mode):
        return Entry(learner, label, problem="not a regular file", name=name)
    problem = _too_big(info.st_size, limit)
    if problem:
        return Entry(learner, label, problem=problem, name=name)
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)  # a file that grew since stat() is still bounded
    except OSError as exc:
        return Entry(learner, label, problem=f"cannot read it: {exc.strerror or exc}", name=name)
    problem = _too_big(len(data), limit)
    if problem:
        return Entry(learner, label, problem=problem, name=name)
    when = datetime.fromtimestamp(info.st_mtime, UTC)
    return Entry(learner, label, data, submitted=when, name=name)


def _from_folder(folder: Path, lab: str, limit: int, skipped: list[Skipped]) -> list[Entry]:
    found: list[_Found] = []
    entries: list[Entry] = []
    for top, dirs, files in os.walk(folder):
        here = Path(top)
        for name in sorted(dirs):
            path = here / name
            if _hidden(name):
                skipped.append(Skipped(str(path), _why_hidden(name)))
                dirs.remove(name)
            elif path.is_symlink():
                rel = path.relative_to(folder).parts
                entries.append(
                    Entry(
                        learner_id(_nfc(rel[0])),
                        str(path),
                        problem="a symbolic link to a folder: not followed (submit the notebook "
                        "itself)",
                        name=_nfc(rel[0]),
                    )
                )
        dirs.sort()
        for name in sorted(files):
            path = here / name
            rel = path.relative_to(folder).parts
            if _hidden(name):
                skipped.append(Skipped(str(path), _why_hidden(name)))
            elif not name.lower().endswith(".ipynb"):
                skipped.append(Skipped(str(path), "not a notebook (*.ipynb): not graded"))
            elif path.is_symlink():
                key = _key(rel)
                entries.append(
                    Entry(
                        learner_id(key),
                        str(path),
                        problem="a symbolic link: not followed (submit the notebook itself)",
                        name=key,
                    )
                )
            else:
                found.append((rel, str(path), path))
    for name, picked in _grouped(found, lab, skipped):
        if isinstance(picked, str):
            entries.append(Entry(learner_id(name), str(folder / name), problem=picked, name=name))
        else:
            _, label, handle = picked
            entries.append(_from_file(handle, label, name, limit))
    if not entries:
        entries.append(
            Entry(
                learner_id(_nfc(folder.name)),
                str(folder),
                problem="the folder holds no notebook (*.ipynb)",
                name=_nfc(folder.name),
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


def _common_top(found: Sequence[_Found]) -> bool:
    """Whether every path shares one top folder that is not itself a learner's folder."""
    if not found or any(len(p) < 2 for p, _, _ in found) or len({p[0] for p, _, _ in found}) > 1:
        return False
    return len(found) > 1 or all(len(p) > 2 for p, _, _ in found)


def _from_zip(path: Path, lab: str, limit: int, skipped: list[Skipped]) -> list[Entry]:
    label = str(path)
    stem = _nfc(path.stem)
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        return [
            Entry(learner_id(stem), label, problem=f"not a readable zip file: {exc}", name=stem)
        ]
    with archive:
        entries: list[Entry] = []
        found: list[_Found] = []
        hidden_seen: set[str] = set()
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            member = f"{label}:{info.filename}"
            problem = _zip_member_problem(info)
            hidden = next((i for i, p in enumerate(parts) if _hidden(p)), None)
            if problem:
                key = _nfc(PurePosixPath(parts[-1]).stem) if parts else stem
                entries.append(Entry(learner_id(key), member, problem=problem, name=key))
            elif hidden is not None:
                where = "/".join(parts[: hidden + 1])
                if where not in hidden_seen:
                    hidden_seen.add(where)
                    skipped.append(Skipped(f"{label}:{where}", _why_hidden(parts[hidden])))
            elif info.filename.lower().endswith(".ipynb"):
                found.append((parts, member, info))
            else:
                skipped.append(Skipped(member, "not a notebook (*.ipynb): not graded"))
        # A zip of one top folder (``submissions/ada/...``): learners are one level down.
        while _common_top(found):
            found = [(p[1:], lbl, h) for p, lbl, h in found]
        for name, picked in _grouped(found, lab, skipped):
            learner = learner_id(name)
            if isinstance(picked, str):
                entries.append(Entry(learner, label, problem=picked, name=name))
                continue
            _, member_label, handle = picked
            assert isinstance(handle, zipfile.ZipInfo)
            problem = _too_big(handle.file_size, limit)
            if problem:
                entries.append(Entry(learner, member_label, problem=problem, name=name))
                continue
            try:
                # zipfile stops at the member's declared size: a lying header cannot inflate it.
                data = archive.read(handle)
            except (zipfile.BadZipFile, OSError, NotImplementedError, EOFError) as exc:
                entries.append(
                    Entry(learner, member_label, problem=f"cannot unzip it: {exc}", name=name)
                )
                continue
            when = datetime(*handle.date_time, tzinfo=UTC)
            entries.append(Entry(learner, member_label, data, submitted=when, name=name))
    if not entries:
        entries.append(
            Entry(learner_id(stem), label, problem="the zip holds no notebook (*.ipynb)", name=stem)
        )
    return entries


def _unique(entries: Iterable[Entry]) -> list[Entry]:
    """Give every entry its own learner id (compared case-insensitively: the output folder
    may be on a file system that ignores case), saying why an id changed."""
    taken: dict[str, Entry] = {}
    out: list[Entry] = []

    def free(base: str) -> str:
        n = 2
        while f"{base}~{n}".casefold() in taken:
            n += 1
        return f"{base}~{n}"

    for entry in entries:
        base = entry.learner
        if base.casefold() in RESERVED:
            renamed = free(base)
            entry = replace(
                entry,
                learner=renamed,
                notes=(
                    *entry.notes,
                    f"graded as learner {renamed!r}: {base!r} is the name of one of the "
                    "batch's own files",
                ),
            )
        first = taken.get(entry.learner.casefold())
        if first is None:
            if entry.learner == "unnamed" and entry.name != "unnamed":
                entry = replace(
                    entry,
                    notes=(
                        *entry.notes,
                        f"its name {entry.name!r} gives no learner id: graded as 'unnamed'",
                    ),
                )
            taken[entry.learner.casefold()] = entry
            out.append(entry)
            continue
        renamed = free(entry.learner)
        if entry.name == first.name:
            # The same learner twice (in two inputs): grading both would count one twice.
            entry = Entry(
                renamed,
                entry.source,
                problem=(
                    f"duplicate learner id {entry.learner!r}: {first.source} and {entry.source}; "
                    f"the first was graded, rename this one and grade it again"
                ),
                submitted=entry.submitted,
                name=entry.name,
            )
        else:
            entry = replace(
                entry,
                learner=renamed,
                notes=(
                    *entry.notes,
                    f"graded as learner {renamed!r}: its name {entry.name!r} gives the same "
                    f"learner id as {first.name!r} ({first.source})",
                ),
            )
        taken[renamed.casefold()] = entry
        out.append(entry)
    return out


def collect(inputs: Sequence[Path], *, lab: str, max_bytes: int = MAX_NOTEBOOK_BYTES) -> Intake:
    """Read every input of a batch into entries, one per learner (see the module doc).

    A learner id that appears twice for the same name (one learner in two inputs) keeps its
    first entry; each later one becomes an entry ``<id>~2``, ``<id>~3`` ... with a problem
    naming both sources. Two different names that give one id are both graded, the later
    as ``<id>~2``, with a note. Nothing is lost without a word.

    Args:
        inputs: Notebooks, folders and zips.
        lab: The lab id (a notebook named after it takes its folder's name).
        max_bytes: A notebook file larger than this is refused (never read whole).

    Returns:
        The entries, in input order, and what was skipped.
    """
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    for path in inputs:
        label = str(path)
        stem = _nfc(path.stem)
        if path.is_symlink():
            entries.append(
                Entry(learner_id(stem), label, problem="a symbolic link: not followed", name=stem)
            )
        elif path.is_dir():
            entries += _from_folder(path, lab, max_bytes, skipped)
        elif not path.exists():
            entries.append(
                Entry(learner_id(stem), label, problem="no such file or folder", name=stem)
            )
        elif path.suffix.lower() == ".zip":
            entries += _from_zip(path, lab, max_bytes, skipped)
        else:
            name = (_nfc(path.parent.name) if path.stem == lab else "") or stem
            entries.append(_from_file(path, label, name, max_bytes))
    return Intake(tuple(_unique(entries)), tuple(skipped))


def check_inputs(inputs: Sequence[Path]) -> None:
    """Refuse inputs that do not exist or are empty folders: the instructor's slip.

    A folder that holds files but no notebook is a learner's (an ``invalid`` row says so);
    a folder that holds no file at all is a wrong path.

    Raises:
        SubmissionsNotFound: Naming the first missing path, with a near name in the same
            folder when there is one (``did you mean 'submissions/'?``), or the empty folder.
    """
    for path in inputs:
        if path.is_dir() and not path.is_symlink():
            if not any(files for _, _, files in os.walk(path)):
                raise SubmissionsNotFound(
                    f"no submission found in {str(path)!r}: the folder holds no file"
                )
            continue
        if path.exists() or path.is_symlink():
            continue
        parent = path.parent if str(path.parent) else Path(".")
        try:
            names = [p.name + ("/" if p.is_dir() else "") for p in parent.iterdir()]
        except OSError:
            names = []
        near = difflib.get_close_matches(path.name, names, n=1, cutoff=0.6)
        hint = f": did you mean {str(parent / near[0]) if str(parent) != '.' else near[0]!r}?"
        raise SubmissionsNotFound(f"no such file or folder: {str(path)!r}" + (hint if near else ""))


def require_entries(intake: Intake, inputs: Sequence[Path]) -> None:
    """Refuse a batch whose inputs hold no submission at all (an empty folder, a wrong zip).

    Raises:
        SubmissionsNotFound: Naming the inputs and, when files were skipped, why.
    """
    if intake.entries:
        return
    named = ", ".join(repr(str(p)) for p in inputs[:3]) + (" ..." if len(inputs) > 3 else "")
    why = f"; {intake.skipped[0].line()}" if intake.skipped else ""
    raise SubmissionsNotFound(
        f"no submission found in {named}: give notebooks (.ipynb), folders or zips of them" + why
    )


def load_notebook(entry: Entry) -> dict[str, Any]:
    """The entry's notebook document, checked before anything else reads it.

    The bytes must be UTF-8 JSON of an nbformat 4 notebook that passes the nbformat schema
    (a cell whose metadata is a list, or whose source holds numbers, does not); the
    outputs and attachments are then dropped, so what the grader keeps in memory is the
    code and Markdown only.

    Raises:
        NotebookError: Why the entry is no gradable notebook, in one line: an entry with a
            problem, an empty or binary file, bad JSON, another nbformat, or a schema error
            (naming the cell and the field).
    """
    if entry.problem or entry.data is None:
        raise NotebookError(entry.problem or "empty")
    try:
        text = entry.data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError(
            "not a notebook: the file is not UTF-8 text (binary data?); submit the .ipynb "
            "file saved by Jupyter"
        ) from None
    if not text.strip():
        raise NotebookError("the file is empty: save the notebook in Jupyter and submit it again")
    doc = parse_notebook(text, name="the file", schema=True)
    drop_outputs(doc)
    return doc


__all__ = [
    "CHECKPOINTS",
    "MAX_NOTEBOOK_BYTES",
    "RESERVED",
    "Entry",
    "Intake",
    "Skipped",
    "check_inputs",
    "collect",
    "learner_id",
    "load_notebook",
    "require_entries",
]
