"""``orchlab dlq list|show|replay|discard``: read and replay the dead-letter queue.

The queue is ``<state_dir>/reliability/dlq.sqlite`` unless ``--db`` or
``ORCHLAB_DLQ_PATH`` says otherwise. Exit codes: 0 done, 1 a replay failed, 2 bad input
(no such letter, no such queue, no handler).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from orchlab.cli import app
from orchlab.cli._errors import USAGE_EXIT, fail, say_error
from orchlab.errors import first_line
from orchlab.reliability import (
    DeadLetter,
    DeadLetterQueue,
    LetterStatus,
    ReplayError,
    default_dlq_path,
    load_handler,
)

console = Console()

dlq_app = typer.Typer(
    name="dlq",
    help="Inspect and replay failed items in the dead-letter queue.",
    no_args_is_help=True,
)
app.add_typer(dlq_app)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="The queue's SQLite file (default: .state/reliability/dlq.sqlite)."),
]


def _queue(db: Path | None) -> DeadLetterQueue:
    path = db or default_dlq_path()
    if not path.is_file():
        fail(
            f"no dead-letter queue at {path}; nothing has been dead-lettered yet (or use --db)",
            USAGE_EXIT,
        )
    return DeadLetterQueue(path)


def _when(epoch: float | None, *, short: bool = False) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime(
        "%m-%d %H:%M" if short else "%Y-%m-%d %H:%M:%S"
    )


def _short(text: str, width: int = 60) -> str:
    line = first_line(text)
    return line if len(line) <= width else line[: width - 1] + "…"


class StatusFilter(StrEnum):
    """Which letters ``orchlab dlq list`` shows."""

    DEAD = LetterStatus.DEAD.value
    REPLAYED = LetterStatus.REPLAYED.value
    DISCARDED = LetterStatus.DISCARDED.value
    ALL = "all"


_COLOURS = {"transient": "yellow", "permanent": "red", "fatal": "bold red"}


@dlq_app.command("list")
def list_command(
    db: DbOption = None,
    status: Annotated[
        StatusFilter, typer.Option(help="Only letters with this status, or all.")
    ] = StatusFilter.DEAD,
    source: Annotated[str | None, typer.Option(help="Only letters from this source.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many rows.")] = 50,
) -> None:
    """List dead letters, oldest first.

    Example: orchlab dlq list
    """
    queue = _queue(db)
    wanted = None if status is StatusFilter.ALL else LetterStatus(status.value)
    letters = queue.letters(status=wanted, source=source, limit=limit)
    counts = queue.counts()
    show_status = wanted is None  # a filtered list has one status: do not repeat it
    rows = [
        (
            str(letter.id),
            letter.source,
            letter.failure_class.value,
            _short(f"{letter.error_type}: {letter.error}", 200),
            str(letter.attempts),
            *([letter.status.value] if show_status else []),
            _when(letter.created_at, short=True),
        )
        for letter in letters
    ]
    headers = (
        "id",
        "source",
        "class",
        "error",
        "tries",
        *(["status"] if show_status else []),
        "when (UTC)",
    )
    table = Table(title="dead letters")
    # Every column but the error keeps its full width; the error gets what is left and is
    # cut with an ellipsis (`orchlab dlq show ID` prints it whole).
    widths = [
        min(24, max([len(name), *(len(row[i]) for row in rows)])) for i, name in enumerate(headers)
    ]
    fixed = sum(w for name, w in zip(headers, widths, strict=True) if name != "error")
    error_width = max(12, console.width - fixed - 3 * len(headers) - 1)
    for name, width in zip(headers, widths, strict=True):
        if name == "error":
            table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=error_width)
        else:
            table.add_column(name, no_wrap=True, min_width=width)
    for row in rows:
        colour = _COLOURS.get(row[2], "white")
        table.add_row(*row[:2], f"[{colour}]{row[2]}[/]", *row[3:])
    if letters:
        console.print(table)
    else:
        console.print(f"no {'' if wanted is None else wanted.value + ' '}letters", highlight=False)
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items())
    console.print(f"[dim]{queue.path}: {summary}[/]", highlight=False, soft_wrap=True)


def _show_letter(letter: DeadLetter) -> None:
    rows = [
        ("id", str(letter.id)),
        ("source", letter.source),
        ("status", letter.status.value),
        ("failure class", letter.failure_class.value),
        ("error", f"{letter.error_type}: {letter.error}"),
        ("attempts", str(letter.attempts)),
        ("key", letter.key or "-"),
        ("payload ref", letter.payload_ref or "-"),
        ("payload", "-" if letter.payload is None else json.dumps(letter.payload)),
        ("handler", letter.handler or "-"),
        ("dead-lettered", _when(letter.created_at)),
        ("replayed", _when(letter.replayed_at)),
    ]
    if letter.replay_result is not None:
        rows.append(("replay result", json.dumps(letter.replay_result)))
    table = Table("field", "value", title=f"dead letter #{letter.id}", show_header=False)
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)


@dlq_app.command("show")
def show_command(
    letter_id: Annotated[int, typer.Argument(help="The letter's id (from `orchlab dlq list`).")],
    db: DbOption = None,
    traceback: Annotated[bool, typer.Option("--traceback", help="Print the traceback.")] = False,
) -> None:
    """Show one dead letter in full.

    Example: orchlab dlq show 3
    """
    queue = _queue(db)
    letter = queue.get(letter_id)  # LetterNotFound: a LookupError, exit 2
    _show_letter(letter)
    if traceback and letter.traceback:
        console.print(letter.traceback, highlight=False, markup=False, soft_wrap=True)


@dlq_app.command("replay")
def replay_command(
    letter_ids: Annotated[list[int] | None, typer.Argument(help="Letter ids to replay.")] = None,
    db: DbOption = None,
    all_dead: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
    handler: Annotated[
        str | None,
        typer.Option(help="package.module:function to call instead of the letter's handler."),
    ] = None,
) -> None:
    """Replay dead letters through their handler, once each (a repeat replay is a no-op).

    Example: orchlab dlq replay 3
    """
    queue = _queue(db)
    if bool(letter_ids) == all_dead:
        fail("give letter ids or --all (not both)", USAGE_EXIT)
    ids = [letter.id for letter in queue.letters(limit=10_000)] if all_dead else letter_ids or []
    override = None
    if handler is not None:
        try:
            override = load_handler(handler)
        except ReplayError as exc:  # the handler cannot be loaded: the input is wrong
            fail(str(exc), USAGE_EXIT)
    failed = 0
    for letter_id in ids:
        try:
            letter = queue.replay(letter_id, handler=override)
        except ReplayError as exc:
            failed += 1
            say_error(str(exc), label=f"#{letter_id} not replayed")
            continue
        console.print(
            f"[green]#{letter.id} replayed[/] ({letter.source}): "
            f"{json.dumps(letter.replay_result)}",
            highlight=False,
            soft_wrap=True,
        )
    if failed:
        fail(f"{failed} of {len(ids)} letter(s) could not be replayed; they stay dead")
    if not ids:
        console.print("nothing to replay")


@dlq_app.command("discard")
def discard_command(
    letter_id: Annotated[int, typer.Argument(help="The letter's id.")],
    db: DbOption = None,
) -> None:
    """Mark a dead letter as dropped on purpose (kept for the record, never replayed).

    Example: orchlab dlq discard 3
    """
    letter = _queue(db).discard(letter_id)
    console.print(f"#{letter.id} discarded ({letter.source})", highlight=False)


__all__ = ["dlq_app"]
