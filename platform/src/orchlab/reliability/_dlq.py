"""A dead-letter queue: work that failed for good, kept for a person to inspect and replay.

When retries are exhausted or a failure is permanent, put the item in a
:class:`DeadLetterQueue` (SQLite) with its error, attempts and a *reference* to its payload
(a path or URI; a small JSON payload may be stored inline), and move on. Later, after fixing
the cause, replay it: :meth:`DeadLetterQueue.replay` calls a handler with the payload through
an :class:`~orchlab.reliability.IdempotencyLedger` keyed on the letter, so replaying twice
(two operators, a retried command) runs the handler once.

The handler is named when the letter is written (``handler="package.module:function"``) so
``orchlab dlq replay`` can find it in another process; it receives the payload (or, when
there is none, the payload reference).
"""

from __future__ import annotations

import importlib
import json
import sqlite3
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchlab.errors import ConfigError, FailureClass, OrchlabError
from orchlab.reliability._classify import DEFAULT_CLASSIFIER, FailureClassifier
from orchlab.reliability._idempotency import IdempotencyLedger

if TYPE_CHECKING:
    from orchlab.reliability._retry import RetryPolicy

_SCHEMA = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    key TEXT,
    payload_ref TEXT,
    payload TEXT,
    handler TEXT,
    error_type TEXT NOT NULL,
    error TEXT NOT NULL,
    failure_class TEXT NOT NULL,
    traceback TEXT,
    attempts INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'dead',
    created_at REAL NOT NULL,
    replayed_at REAL,
    replay_result TEXT
)
"""


class LetterStatus(StrEnum):
    """Where a dead letter stands."""

    DEAD = "dead"
    """Waiting for a person."""
    REPLAYED = "replayed"
    """Replayed successfully."""
    DISCARDED = "discarded"
    """Dropped on purpose."""


class LetterNotFound(OrchlabError, LookupError):
    """No dead letter has that id."""


class ReplayError(OrchlabError, RuntimeError):
    """A replay could not run (no handler, handler not importable) or its handler failed."""


@dataclass(frozen=True)
class DeadLetter:
    """One failed item."""

    id: int
    """The letter's number in this queue."""
    source: str
    """What failed: a pipeline step, an activity, a consumer."""
    key: str | None
    """The item's idempotency key, when it has one."""
    payload_ref: str | None
    """Where the payload lives (a path, a URI, an object key)."""
    payload: Any
    """An inline JSON payload, for small items."""
    handler: str | None
    """``module:function`` that replays it."""
    error_type: str
    """The exception's class name."""
    error: str
    """The exception's message."""
    failure_class: FailureClass
    """Transient, permanent or fatal."""
    traceback: str | None
    """The formatted traceback, when captured."""
    attempts: int
    """Attempts made before it was dead-lettered."""
    status: LetterStatus
    """Dead, replayed or discarded."""
    created_at: float
    """When it was dead-lettered (epoch seconds)."""
    replayed_at: float | None
    """When it was replayed."""
    replay_result: Any
    """What the replay's handler returned."""


@dataclass(frozen=True)
class Processed:
    """The outcome of :meth:`DeadLetterQueue.process`."""

    value: Any
    """What the function returned (None when dead-lettered)."""
    letter: DeadLetter | None
    """The dead letter written, when the item failed for good."""
    attempts: int
    """Calls made, retries included."""

    @property
    def ok(self) -> bool:
        """Whether the item was processed (not dead-lettered)."""
        return self.letter is None


def handler_ref(fn: Callable[..., Any]) -> str | None:
    """``module:qualname`` of a module-level function, or None when it cannot be imported
    by name (a lambda, a nested function)."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname:
        return None
    return f"{module}:{qualname}"


def load_handler(ref: str) -> Callable[[Any], Any]:
    """Import a ``module:function`` reference.

    Raises:
        ReplayError: When it is malformed, not importable or not callable.
    """
    module_name, sep, attr = ref.partition(":")
    if not sep or not module_name or not attr:
        raise ReplayError(f"handler {ref!r} must look like 'package.module:function'")
    try:
        target: Any = importlib.import_module(module_name)
        for part in attr.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        raise ReplayError(f"cannot load handler {ref!r}: {exc}") from exc
    if not callable(target):
        raise ReplayError(f"handler {ref!r} is a {type(target).__name__}, not a function")
    return target  # type: ignore[no-any-return]


class DeadLetterQueue:
    """Failed items in a SQLite file.

    Args:
        path: The database file (created with its folder).
        classifier: Classifies the failures written here (shown as their class).
        clock: Epoch seconds for timestamps.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        classifier: FailureClassifier = DEFAULT_CLASSIFIER,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.classifier = classifier
        self.clock = clock
        self._lock = threading.Lock()

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=30.0)
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute(_SCHEMA)
                with conn:
                    yield conn
            finally:
                conn.close()

    def put(
        self,
        source: str,
        error: BaseException,
        *,
        attempts: int = 1,
        payload_ref: str | None = None,
        payload: Any = None,
        handler: str | None = None,
        key: str | None = None,
        failure_class: FailureClass | None = None,
    ) -> DeadLetter:
        """Dead-letter an item that failed with ``error``.

        ``failure_class`` defaults to the queue's classifier's verdict on ``error``.

        Raises:
            TypeError: When the inline payload is not JSON-serialisable (store it elsewhere
                and pass ``payload_ref``).
        """
        try:
            blob = None if payload is None else json.dumps(payload)
        except TypeError as exc:
            raise TypeError(
                f"inline dead-letter payloads must be JSON; store the "
                f"{type(payload).__name__} elsewhere and pass payload_ref=: {exc}"
            ) from exc
        tb = "".join(traceback.format_exception(error)) if error.__traceback__ else None
        with self._connect() as conn:
            cursor = conn.execute(
                "INSERT INTO dead_letters (source, key, payload_ref, payload, handler, "
                "error_type, error, failure_class, traceback, attempts, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source,
                    key,
                    payload_ref,
                    blob,
                    handler,
                    type(error).__name__,
                    str(error),
                    (failure_class or self.classifier.classify(error)).value,
                    tb,
                    attempts,
                    self.clock(),
                ),
            )
            letter_id = cursor.lastrowid
        assert letter_id is not None
        return self.get(letter_id)

    def get(self, letter_id: int) -> DeadLetter:
        """The letter with this id.

        Raises:
            LetterNotFound: When there is none.
        """
        with self._connect() as conn:
            row = conn.execute(_SELECT + " WHERE id = ?", (letter_id,)).fetchone()
        if row is None:
            raise LetterNotFound(
                f"no dead letter #{letter_id} in {self.path}; list them with `orchlab dlq list`"
            )
        return _letter(row)

    def letters(
        self,
        *,
        status: LetterStatus | None = LetterStatus.DEAD,
        source: str | None = None,
        limit: int = 100,
    ) -> list[DeadLetter]:
        """Letters, oldest first, filtered by status (None for all) and source."""
        where, params = [], []
        if status is not None:
            where.append("status = ?")
            params.append(LetterStatus(status).value)
        if source is not None:
            where.append("source = ?")
            params.append(source)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self._connect() as conn:
            rows = conn.execute(
                f"{_SELECT}{clause} ORDER BY id LIMIT ?", (*params, limit)
            ).fetchall()
        return [_letter(r) for r in rows]

    def counts(self) -> dict[LetterStatus, int]:
        """How many letters are in each status."""
        with self._connect() as conn:
            rows = conn.execute("SELECT status, COUNT(*) FROM dead_letters GROUP BY status")
            found = {LetterStatus(s): n for s, n in rows}
        return {s: found.get(s, 0) for s in LetterStatus}

    def discard(self, letter_id: int) -> DeadLetter:
        """Mark a letter as dropped on purpose (it stays for the record)."""
        self.get(letter_id)
        with self._connect() as conn:
            conn.execute(
                "UPDATE dead_letters SET status = ? WHERE id = ?",
                (LetterStatus.DISCARDED.value, letter_id),
            )
        return self.get(letter_id)

    def process(
        self,
        source: str,
        fn: Callable[[Any], Any],
        payload: Any = None,
        *,
        payload_ref: str | None = None,
        policy: RetryPolicy | None = None,
        handler: str | None = None,
        key: str | None = None,
    ) -> Processed:
        """Process one item, dead-lettering it when it fails for good.

        ``fn`` gets the payload (or, without one, the payload reference), under ``policy``
        when given. A permanent failure, or a transient one that exhausted the policy, is
        written here with the attempts made; ``fn`` itself is recorded as the replay
        handler when it is a module-level function. Fatal failures are raised: they must
        stop the run, not wait in a queue.

        Raises:
            Exception: A fatal failure, as raised by ``fn``.
        """
        argument = payload if payload is not None else payload_ref
        attempts = 0

        def counted() -> Any:
            nonlocal attempts
            attempts += 1
            return fn(argument)

        try:
            value = policy.call(counted) if policy is not None else counted()
        except Exception as exc:
            classifier = policy.classifier if policy is not None else self.classifier
            failure_class = classifier.classify(exc)
            if failure_class is FailureClass.FATAL:
                raise
            letter = self.put(
                source,
                exc,
                attempts=attempts,
                payload=payload,
                payload_ref=payload_ref,
                handler=handler or handler_ref(fn),
                key=key,
                failure_class=failure_class,
            )
            return Processed(None, letter, attempts)
        return Processed(value, None, attempts)

    def ledger(self) -> IdempotencyLedger:
        """The ledger replays go through (next to the queue's file)."""
        return IdempotencyLedger(self.path.with_name(self.path.stem + "-replays.sqlite"))

    def replay(
        self,
        letter_id: int,
        *,
        handler: Callable[[Any], Any] | None = None,
        ledger: IdempotencyLedger | None = None,
    ) -> DeadLetter:
        """Run a letter's handler again, once, and mark it replayed.

        Args:
            letter_id: The letter.
            handler: Overrides the handler stored with the letter.
            ledger: Where the replay is recorded; :meth:`ledger` by default. A second replay
                of the same letter returns the first one's result without running again.

        Returns:
            The letter, now replayed, with the handler's result.

        Raises:
            LetterNotFound: When there is no such letter.
            ReplayError: When the letter was discarded, no handler is known, or the handler
                fails (the letter stays dead; its error is in the message and the cause).
        """
        letter = self.get(letter_id)
        if letter.status is LetterStatus.DISCARDED:
            raise ReplayError(f"dead letter #{letter_id} was discarded; it will not be replayed")
        if handler is None:
            if not letter.handler:
                raise ReplayError(
                    f"dead letter #{letter_id} from {letter.source!r} names no handler; pass "
                    "one (orchlab dlq replay --handler package.module:function)"
                )
            handler = load_handler(letter.handler)
        argument = letter.payload if letter.payload is not None else letter.payload_ref
        ledger = ledger or self.ledger()
        try:
            result = ledger.run(f"dlq:{self.path.name}:{letter_id}", handler, argument)
        except Exception as exc:
            raise ReplayError(
                f"replaying dead letter #{letter_id} failed: {type(exc).__name__}: {exc}"
            ) from exc
        with self._connect() as conn:
            conn.execute(
                "UPDATE dead_letters SET status = ?, replayed_at = ?, replay_result = ? "
                "WHERE id = ?",
                (LetterStatus.REPLAYED.value, self.clock(), _dump(result), letter_id),
            )
        return self.get(letter_id)


_SELECT = (
    "SELECT id, source, key, payload_ref, payload, handler, error_type, error, failure_class, "
    "traceback, attempts, status, created_at, replayed_at, replay_result FROM dead_letters"
)


def _dump(value: Any) -> str:
    try:
        return json.dumps(value)
    except TypeError:
        return json.dumps(repr(value))


def _letter(row: tuple[Any, ...]) -> DeadLetter:
    return DeadLetter(
        id=row[0],
        source=row[1],
        key=row[2],
        payload_ref=row[3],
        payload=None if row[4] is None else json.loads(row[4]),
        handler=row[5],
        error_type=row[6],
        error=row[7],
        failure_class=FailureClass(row[8]),
        traceback=row[9],
        attempts=row[10],
        status=LetterStatus(row[11]),
        created_at=row[12],
        replayed_at=row[13],
        replay_result=None if row[14] is None else json.loads(row[14]),
    )


def default_dlq_path() -> Path:
    """``<state_dir>/reliability/dlq.sqlite`` from orchlab's settings (``ORCHLAB_DLQ_PATH``
    overrides it)."""
    from orchlab.config import get_settings

    try:
        return get_settings().dlq_file
    except ConfigError:
        return Path(".state") / "reliability" / "dlq.sqlite"


__all__ = [
    "DeadLetter",
    "DeadLetterQueue",
    "LetterNotFound",
    "LetterStatus",
    "Processed",
    "ReplayError",
    "default_dlq_path",
    "handler_ref",
    "load_handler",
]
