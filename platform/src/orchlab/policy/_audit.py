"""An append-only, tamper-evident audit trail: one JSON record a line, hash-chained.

Every record carries the SHA-256 of its predecessor (``prev``) and its own ``hash`` over
its canonical JSON (``hash`` left out). Editing a record breaks its hash; deleting or
reordering records breaks the chain (``seq`` and ``prev``). :func:`verify_log` walks the
file and names the first bad record. Cutting records off the end leaves a valid chain,
so keep the :meth:`AuditLog.head` somewhere else (a ticket, a second store) and pass it
as ``expected_head``. With a ``key`` the hashes are HMAC-SHA256, so only holders of the
key can forge a consistent chain.

Records export as JSONL or as CloudEvents 1.0 (structured-mode JSON).
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchlab.policy._errors import AuditIntegrityError
from orchlab.policy._rego import canonical_json
from orchlab.policy._secrets import REDACTOR

GENESIS = "0" * 64
"""The ``prev`` of the first record."""

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _digest(body: Mapping[str, Any], key: bytes | None) -> str:
    data = canonical_json(dict(body)).encode()
    if key is not None:
        return hmac.new(key, data, hashlib.sha256).hexdigest()
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    """One entry of the trail."""

    seq: int
    """Position in the log, from 1."""
    time: str
    """When it happened (ISO 8601, UTC)."""
    actor: str
    """Who did it: a user id, a service, a workflow id."""
    action: str
    """What happened, dotted: ``policy.decision``, ``approval.granted``, ``canary.rollback``."""
    subject: str
    """What it happened to: a workflow id, a model version, an environment."""
    data: dict[str, Any]
    """Details (a decision's reasons, traffic split, ...). Never secrets."""
    prev: str
    """The previous record's hash (:data:`GENESIS` for the first)."""
    hash: str
    """This record's hash over all the fields above."""

    def body(self) -> dict[str, Any]:
        """The hashed fields."""
        return {
            "seq": self.seq,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "subject": self.subject,
            "data": self.data,
            "prev": self.prev,
        }

    def to_dict(self) -> dict[str, Any]:
        """The record as written to the log."""
        return {**self.body(), "hash": self.hash}


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify_log` found."""

    ok: bool
    """True when every record checks out."""
    records: int
    """How many records were read."""
    head: str
    """The last good record's hash."""
    first_bad: int | None = None
    """The line number (from 1) of the first bad record, or None."""
    problem: str = ""
    """What is wrong with it, in words."""


class AuditLog:
    """Append records to a JSONL hash chain; safe across threads and processes (file lock).

    Args:
        path: The log file; created (with its folder) on first append.
        clock: Returns the current time; inject one in tests.
        key: Optional HMAC key; then only key holders can produce a valid chain.
        redact: Applied to ``data`` before writing, so secrets never reach the trail; by
            default the process-wide :data:`~orchlab.policy.REDACTOR` (every secret
            fetched through a secret store).
    """

    def __init__(
        self,
        path: Path | str,
        *,
        clock: Clock = _utcnow,
        key: bytes | None = None,
        redact: Callable[[Any], Any] | None = None,
    ) -> None:
        self.path = Path(path)
        self._clock = clock
        self._key = key
        self._redact = redact if redact is not None else REDACTOR.redact

    def __repr__(self) -> str:
        return f"AuditLog({str(self.path)!r})"

    def append(
        self, action: str, *, actor: str, subject: str, data: Mapping[str, Any] | None = None
    ) -> AuditRecord:
        """Add one record at the end of the chain and return it."""
        if not action or not actor:
            raise ValueError("an audit record needs an action and an actor")
        payload = dict(data or {})
        payload = self._redact(payload)
        actor, subject = str(self._redact(actor)), str(self._redact(subject))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                seq, prev = self._tail(handle)
                body = {
                    "seq": seq + 1,
                    "time": self._clock().astimezone(UTC).isoformat(timespec="microseconds"),
                    "actor": actor,
                    "action": action,
                    "subject": subject,
                    # Round-trip through JSON so the stored and hashed forms are identical.
                    "data": json.loads(canonical_json(payload)),
                    "prev": prev,
                }
                record = AuditRecord(**body, hash=_digest(body, self._key))
                handle.seek(0, os.SEEK_END)
                handle.write(canonical_json(record.to_dict()) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return record

    @staticmethod
    def _tail(handle: Any) -> tuple[int, str]:
        handle.seek(0)
        last = ""
        for line in handle:
            if line.strip():
                last = line
        if not last:
            return 0, GENESIS
        try:
            record = json.loads(last)
            return int(record["seq"]), str(record["hash"])
        except (ValueError, KeyError, TypeError):
            raise AuditIntegrityError(
                "the audit log's last record is unreadable; run `orchlab audit verify` on it"
            ) from None

    def records(self) -> list[AuditRecord]:
        """Every record, after checking the chain.

        Raises:
            AuditIntegrityError: When the chain is broken; names the first bad record.
        """
        report = self.verify()
        if not report.ok:
            raise AuditIntegrityError(
                f"{self.path}: record at line {report.first_bad}: {report.problem}",
                report.first_bad,
            )
        return list(_read(self.path))

    def head(self) -> str:
        """The last record's hash (:data:`GENESIS` when empty): store it elsewhere."""
        if not self.path.exists():
            return GENESIS
        with open(self.path, encoding="utf-8") as handle:
            return self._tail(handle)[1]

    def verify(self, expected_head: str | None = None) -> VerifyReport:
        """Check the whole chain; see :func:`verify_log`."""
        return verify_log(self.path, key=self._key, expected_head=expected_head)


def _read(path: Path) -> Iterator[AuditRecord]:
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield AuditRecord(**json.loads(line))


_FIELDS = ("seq", "time", "actor", "action", "subject", "data", "prev", "hash")


def verify_log(
    path: Path | str, *, key: bytes | None = None, expected_head: str | None = None
) -> VerifyReport:
    """Walk an audit log and report the first record that breaks the chain.

    Args:
        path: The JSONL log.
        key: The HMAC key the log was written with, if any.
        expected_head: A head hash kept elsewhere; detects records cut off the end.

    Returns:
        The report; ``first_bad`` is a 1-based line number.
    """
    file = Path(path)
    if not file.exists():
        return VerifyReport(False, 0, GENESIS, 1, f"no audit log at {file}")
    prev, count = GENESIS, 0
    with open(file, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            count = number
            try:
                raw = json.loads(line)
            except ValueError:
                return VerifyReport(False, number - 1, prev, number, "not valid JSON")
            if not isinstance(raw, dict) or set(raw) != set(_FIELDS):
                return VerifyReport(
                    False, number - 1, prev, number, f"fields must be exactly {', '.join(_FIELDS)}"
                )
            body = {k: raw[k] for k in _FIELDS if k != "hash"}
            if raw["seq"] != number:
                problem = (
                    f"sequence number {raw['seq']} where {number} was expected "
                    "(a record was deleted, inserted or moved)"
                )
                return VerifyReport(False, number - 1, prev, number, problem)
            if raw["prev"] != prev:
                problem = "does not link to the previous record (a record was removed or moved)"
                return VerifyReport(False, number - 1, prev, number, problem)
            if not hmac.compare_digest(str(raw["hash"]), _digest(body, key)):
                problem = "its hash does not match its content (the record was edited)"
                return VerifyReport(False, number - 1, prev, number, problem)
            prev = raw["hash"]
    if expected_head is not None and prev != expected_head:
        problem = (
            f"the log ends at {prev[:12]}..., not at the expected head {expected_head[:12]}... "
            "(records were cut off the end)"
        )
        return VerifyReport(False, count, prev, count + 1, problem)
    return VerifyReport(True, count, prev)


def to_cloudevent(record: AuditRecord, *, source: str = "/orchlab/audit") -> dict[str, Any]:
    """One record as a CloudEvents 1.0 event (structured-mode JSON).

    The event id is the record's hash (unique and stable); ``type`` is
    ``io.orchlab.audit.<action>``; the whole record, chain fields included, is ``data``.
    """
    return {
        "specversion": "1.0",
        "id": record.hash,
        "source": source,
        "type": f"io.orchlab.audit.{record.action}",
        "subject": record.subject,
        "time": record.time,
        "datacontenttype": "application/json",
        "data": record.to_dict(),
    }


def export_log(
    path: Path | str,
    out: Path | str,
    *,
    format: str = "jsonl",
    key: bytes | None = None,
    source: str = "/orchlab/audit",
) -> int:
    """Verify a log, then write it as ``jsonl`` or ``cloudevents`` (one event a line).

    Returns:
        How many records were written.

    Raises:
        AuditIntegrityError: When the chain is broken (nothing is written).
        ValueError: For an unknown format.
    """
    if format not in ("jsonl", "cloudevents"):
        raise ValueError(f"unknown export format {format!r}; use jsonl or cloudevents")
    records = AuditLog(path, key=key).records()
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", encoding="utf-8") as handle:
        for record in records:
            doc = record.to_dict() if format == "jsonl" else to_cloudevent(record, source=source)
            handle.write(canonical_json(doc) + "\n")
    return len(records)


__all__ = [
    "GENESIS",
    "AuditLog",
    "AuditRecord",
    "VerifyReport",
    "export_log",
    "to_cloudevent",
    "verify_log",
]
