""" "On data arrival" as events: files dropped into a folder become CloudEvents.

:func:`file_events` turns the files of a folder into ``object.created`` events whose id is the
file's path and content hash, so the same file seen again (a second scan, a restart of the
watcher) is the same event and starts nothing new, while a changed file is a new event.
:func:`watch` scans on an interval and dispatches each event to an :class:`EventReceiver`.
Object stores do the same with their own notifications (S3 and GCS emit object-created
events that a bridge can send as CloudEvents to the receiver's ``POST /events``).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from orchlab.events._envelope import ReceivedEvent
from orchlab.events._receiver import EventReceiver, Outcome

OBJECT_CREATED = "org.orchlab.object.created"
"""The type of the events :func:`file_events` makes."""


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def file_events(
    folder: Path | str, *, source: str = "", pattern: str = "*", type: str = OBJECT_CREATED
) -> Iterator[ReceivedEvent]:
    """One event per file in ``folder`` matching ``pattern`` (hidden and partial files skipped).

    Files whose names start with ``.`` or end in ``.tmp``/``.part`` are skipped: a producer
    should write there first and rename into place, so no event announces half a file.

    Args:
        folder: The drop folder.
        source: The events' ``source`` (default: the folder's path as a URI reference).
        pattern: A glob of the file names to announce.
        type: The events' ``type``.
    """
    root = Path(folder)
    for path in sorted(root.glob(pattern)):
        name = path.name
        if not path.is_file() or name.startswith(".") or name.endswith((".tmp", ".part")):
            continue
        stat = path.stat()
        digest = _digest(path)
        relative = path.relative_to(root).as_posix()
        yield ReceivedEvent(
            id=f"{relative}@sha256:{digest}",
            source=source or root.as_posix(),
            type=type,
            subject=relative,
            time=datetime.fromtimestamp(stat.st_mtime, UTC).isoformat(),
            data={"path": relative, "size": stat.st_size, "sha256": digest},
        )


async def watch(
    folder: Path | str,
    receiver: EventReceiver,
    *,
    interval: float = 5.0,
    source: str = "",
    pattern: str = "*",
    stop: asyncio.Event | None = None,
) -> list[Outcome]:
    """Scan ``folder`` every ``interval`` seconds and dispatch each file's event.

    Events already dispatched in this process are not sent again; after a restart they are,
    and the receiver's idempotent ids turn them into duplicates (nothing started twice).

    Args:
        folder: The drop folder.
        receiver: Where the events go.
        interval: Seconds between scans (polling: lab 08 measures what it costs in latency).
        source: The events' ``source``.
        pattern: A glob of the file names to announce.
        stop: Set it to end the watch after the current scan.

    Returns:
        The outcomes of every dispatch, in order, when ``stop`` is set.
    """
    if interval <= 0:
        raise ValueError(f"interval must be positive seconds, got {interval!r}")
    stop = stop or asyncio.Event()
    seen: set[str] = set()
    outcomes: list[Outcome] = []
    while True:
        for event in await asyncio.to_thread(
            lambda: list(file_events(folder, source=source, pattern=pattern))
        ):
            if event.id in seen:
                continue
            outcome = await receiver.dispatch(event)
            outcomes.append(outcome)
            if outcome.status < 500:  # 5xx: the engine was away; try again next scan
                seen.add(event.id)
        if stop.is_set():
            return outcomes
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            continue
