"""Idempotency keys and a durable ledger that lets a side effect happen once.

:func:`idempotency_key` hashes a step's inputs into a stable key (the same inputs give the
same key in any process, on any machine). :class:`IdempotencyLedger` records, in SQLite, who
is doing the work for a key and its result once done:

1. :meth:`~IdempotencyLedger.claim` takes the key for a *lease* (or reports it done, or busy
   with a live lease held by someone else). A claimant that crashes simply stops renewing;
   when its lease expires the next claim takes the work over.
2. The claimant does the side effect, then :meth:`~IdempotencyLedger.complete` stores the
   result; later claims return that result and never run the effect again.

:meth:`~IdempotencyLedger.run` does all of it for a function. Claims use ``BEGIN IMMEDIATE``
transactions, so threads and processes on one machine sharing the file are safe.

The guarantee is exactly-once *completion*: the effect runs again only when a claimant died
after starting it and before completing (at-least-once for that window). Make the effect
itself idempotent with the key (an upsert, a payment API's idempotency key), or write it in
the ledger's own transaction with :meth:`~IdempotencyLedger.complete`'s ``effect``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum
from pathlib import Path, PurePath
from typing import Any

from orchlab.errors import OrchlabError, TransientError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    owner TEXT,
    token TEXT,
    lease_until REAL,
    claims INTEGER NOT NULL DEFAULT 0,
    result TEXT,
    created_at REAL NOT NULL,
    completed_at REAL
)
"""


def _canonical(value: Any) -> Any:
    # Turn common Python values into JSON with one spelling each, so equal inputs hash alike.
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {"__dataclass__": type(value).__name__, **_canonical(dataclasses.asdict(value))}
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump):  # pydantic models
        return {"__model__": type(value).__name__, **_canonical(model_dump(mode="json"))}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, Enum):
        return _canonical(value.value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, PurePath):
        return value.as_posix()
    if isinstance(value, bytes):
        return {"__bytes__": hashlib.sha256(value).hexdigest()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(
        f"cannot derive an idempotency key from a {type(value).__name__}: pass JSON-like "
        "values, dataclasses or pydantic models (or a string id of the object)"
    )


def idempotency_key(*parts: Any, namespace: str = "") -> str:
    """A stable key for a side effect, derived from its inputs.

    Equal inputs give equal keys across processes and runs: dict order does not matter,
    dataclasses and pydantic models hash by value, bytes by content.

    Args:
        *parts: The inputs that make the effect unique (an order id, a date, a payload).
        namespace: Prefix naming the effect (``"charge"``), kept readable in the key.

    Returns:
        ``"<namespace>:<32 hex digits>"`` (or just the digits without a namespace).

    Raises:
        TypeError: When a part cannot be represented stably.
    """
    blob = json.dumps(_canonical(list(parts)), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(blob.encode()).hexdigest()[:32]
    return f"{namespace}:{digest}" if namespace else digest


class IdempotencyConflict(TransientError):
    """Another live claimant holds the key; try again after its lease."""


class LeaseLost(OrchlabError, RuntimeError):
    """A claim's lease expired and someone else took the key over before completion."""


class ClaimStatus(StrEnum):
    """The outcome of :meth:`IdempotencyLedger.claim`."""

    CLAIMED = "claimed"
    """This caller holds the lease: do the work, then complete."""
    DONE = "done"
    """The work is already done: use :attr:`Claim.result`."""
    BUSY = "busy"
    """Someone else holds a live lease."""


@dataclass(frozen=True)
class Claim:
    """A caller's view of a key after :meth:`IdempotencyLedger.claim`."""

    key: str
    """The idempotency key."""
    status: ClaimStatus
    """Claimed, done or busy."""
    token: str = ""
    """Proof of ownership for :meth:`IdempotencyLedger.complete` (when claimed)."""
    result: Any = None
    """The stored result (when done)."""
    claims: int = 0
    """How many times the key has been claimed in total (takeovers included)."""
    lease_until: float | None = None
    """When the current lease ends (ledger clock), when claimed or busy."""


@dataclass(frozen=True)
class LedgerEntry:
    """One key's row in the ledger."""

    key: str
    """The idempotency key."""
    state: str
    """``"pending"`` (claimed, not completed) or ``"done"``."""
    owner: str | None
    """Who holds or completed it."""
    claims: int
    """Times claimed (more than 1 means a retry or a takeover)."""
    result: Any
    """The stored result, when done."""
    created_at: float
    """First claim (ledger clock)."""
    completed_at: float | None
    """Completion (ledger clock), when done."""
    lease_until: float | None
    """End of the current lease, when pending."""


class IdempotencyLedger:
    """A durable record of side effects done once, in a SQLite file.

    Args:
        path: The database file (created with its folder).
        lease_seconds: How long a claim is held before another caller may take it over.
            Longer than the effect's slowest run; renew long work with :meth:`renew`.
        owner: Who this caller is (logged in the ledger); host and pid by default.
        clock: Wall-clock seconds; shared across processes, so keep it ``time.time`` outside
            tests.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        lease_seconds: float = 60.0,
        owner: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if lease_seconds <= 0:
            raise ValueError(f"lease_seconds must be > 0, got {lease_seconds}")
        self.path = Path(path)
        self.lease_seconds = lease_seconds
        self.owner = owner or f"{os.uname().nodename}:{os.getpid()}"
        self.clock = clock
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    # -- connection -------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        # One connection per process: a forked child must not reuse its parent's.
        if self._conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(_SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection (it reopens on next use)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- claim / complete -------------------------------------------------------------------

    def claim(self, key: str) -> Claim:
        """Take ``key`` for a lease, or learn it is done or busy."""
        with self._lock:
            # Fast path without a write lock: done keys are the common case on reruns.
            done = (
                self._connection()
                .execute(
                    "SELECT result, claims FROM idempotency WHERE key = ? AND state = 'done'",
                    (key,),
                )
                .fetchone()
            )
        if done is not None:
            return Claim(key, ClaimStatus.DONE, result=_load(done[0]), claims=done[1])
        now = self.clock()
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT state, result, claims, lease_until FROM idempotency WHERE key = ?", (key,)
            ).fetchone()
            if row is not None and row[0] == "done":
                return Claim(key, ClaimStatus.DONE, result=_load(row[1]), claims=row[2])
            if row is not None and row[3] is not None and row[3] > now:
                return Claim(key, ClaimStatus.BUSY, claims=row[2], lease_until=row[3])
            token = uuid.uuid4().hex
            lease = now + self.lease_seconds
            if row is None:
                conn.execute(
                    "INSERT INTO idempotency (key, state, owner, token, lease_until, claims, "
                    "created_at) VALUES (?, 'pending', ?, ?, ?, 1, ?)",
                    (key, self.owner, token, lease, now),
                )
                claims = 1
            else:
                conn.execute(
                    "UPDATE idempotency SET owner = ?, token = ?, lease_until = ?, "
                    "claims = claims + 1 WHERE key = ?",
                    (self.owner, token, lease, key),
                )
                claims = row[2] + 1
            return Claim(key, ClaimStatus.CLAIMED, token=token, claims=claims, lease_until=lease)

    def renew(self, claim: Claim) -> Claim:
        """Extend a held lease by ``lease_seconds`` from now (for long work).

        Raises:
            LeaseLost: When the lease was taken over or the key completed by someone else.
        """
        lease = self.clock() + self.lease_seconds
        with self._transaction() as conn:
            self._check_token(conn, claim)
            conn.execute("UPDATE idempotency SET lease_until = ? WHERE key = ?", (lease, claim.key))
        return dataclasses.replace(claim, lease_until=lease)

    def complete(
        self,
        claim: Claim,
        result: Any = None,
        *,
        effect: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        """Record the work for a held claim as done, with its JSON-serialisable result.

        Args:
            claim: A claim with status ``CLAIMED``.
            result: What later claims get back.
            effect: Runs in the same transaction as the completion (on the ledger's SQLite
                connection): an effect written there happens exactly once, crash or not.

        Raises:
            LeaseLost: When the lease expired and another caller took the key over.
            TypeError: When the result is not JSON-serialisable.
        """
        if claim.status is not ClaimStatus.CLAIMED:
            raise ValueError(
                f"only a claimed key can be completed; {claim.key!r} is {claim.status}"
            )
        blob = _dump(result)
        with self._transaction() as conn:
            self._check_token(conn, claim)
            if effect is not None:
                effect(conn)
            conn.execute(
                "UPDATE idempotency SET state = 'done', result = ?, completed_at = ?, "
                "lease_until = NULL, owner = ? WHERE key = ?",
                (blob, self.clock(), self.owner, claim.key),
            )

    def release(self, claim: Claim) -> None:
        """Give a held claim back at once (the work failed; let a retry claim it now)."""
        with self._transaction() as conn:
            row = conn.execute(
                "SELECT token, state FROM idempotency WHERE key = ?", (claim.key,)
            ).fetchone()
            if row is not None and row[0] == claim.token and row[1] == "pending":
                conn.execute(
                    "UPDATE idempotency SET lease_until = NULL, token = NULL WHERE key = ?",
                    (claim.key,),
                )

    def _check_token(self, conn: sqlite3.Connection, claim: Claim) -> None:
        row = conn.execute(
            "SELECT token, state, owner FROM idempotency WHERE key = ?", (claim.key,)
        ).fetchone()
        if row is None or row[0] != claim.token or row[1] != "pending":
            holder = row[2] if row is not None else "nobody"
            raise LeaseLost(
                f"the lease on {claim.key!r} was lost (now held or completed by {holder}); "
                f"the work took longer than lease_seconds={self.lease_seconds:g}: renew the "
                "lease while working or raise lease_seconds"
            )

    # -- one call ---------------------------------------------------------------------------

    def _begin(self, key: str) -> Claim:
        claim = self.claim(key)
        if claim.status is ClaimStatus.BUSY:
            wait = (claim.lease_until or 0) - self.clock()
            raise IdempotencyConflict(
                f"{key!r} is being worked on by another caller (lease ends in {wait:.1f} s); "
                "retry after that"
            )
        return claim

    def run(self, key: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run ``fn`` once for ``key``: return the stored result when already done.

        Raises:
            IdempotencyConflict: When another caller holds a live lease (transient: retry).
            Exception: Whatever ``fn`` raises; the claim is released so a retry runs it.
        """
        claim = self._begin(key)
        if claim.status is ClaimStatus.DONE:
            return claim.result
        try:
            result = fn(*args, **kwargs)
        except BaseException:
            self.release(claim)
            raise
        self.complete(claim, result)
        return result

    async def arun(
        self, key: str, fn: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any
    ) -> Any:
        """:meth:`run` for a coroutine function."""
        claim = self._begin(key)
        if claim.status is ClaimStatus.DONE:
            return claim.result
        try:
            result = await fn(*args, **kwargs)
        except BaseException:
            self.release(claim)
            raise
        self.complete(claim, result)
        return result

    # -- reading ----------------------------------------------------------------------------

    def get(self, key: str) -> LedgerEntry | None:
        """The entry for ``key``, or None."""
        with self._lock:
            row = self._connection().execute(_SELECT + " WHERE key = ?", (key,)).fetchone()
        return _entry(row) if row else None

    def entries(self, prefix: str = "") -> list[LedgerEntry]:
        """All entries whose key starts with ``prefix``, oldest first."""
        with self._lock:
            rows = (
                self._connection()
                .execute(
                    _SELECT + " WHERE substr(key, 1, ?) = ? ORDER BY created_at, key",
                    (len(prefix), prefix),
                )
                .fetchall()
            )
        return [_entry(r) for r in rows]


_SELECT = (
    "SELECT key, state, owner, claims, result, created_at, completed_at, lease_until "
    "FROM idempotency"
)


def _entry(row: tuple[Any, ...]) -> LedgerEntry:
    return LedgerEntry(row[0], row[1], row[2], row[3], _load(row[4]), row[5], row[6], row[7])


def _dump(result: Any) -> str:
    try:
        return json.dumps(result)
    except TypeError as exc:
        raise TypeError(
            f"the ledger stores results as JSON; {type(result).__name__} is not "
            f"JSON-serialisable ({exc}): return a dict, list, str or number (or a reference "
            "to where the real result is stored)"
        ) from exc


def _load(blob: str | None) -> Any:
    return None if blob is None else json.loads(blob)


__all__ = [
    "Claim",
    "ClaimStatus",
    "IdempotencyConflict",
    "IdempotencyLedger",
    "LeaseLost",
    "LedgerEntry",
    "idempotency_key",
]
