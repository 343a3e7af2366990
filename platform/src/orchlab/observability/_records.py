"""Spans as plain records: read a trace file back, walk and draw a trace.

A :class:`SpanRecord` is built from a JSONL trace file (:func:`read_trace`) or from the
SDK's finished spans (:func:`span_records`, for an in-memory exporter), so the same code
checks a trace whichever way it was captured. :func:`span_tree` draws one as text.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchlab.errors import OrchlabError
from orchlab.observability._names import Attr

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan


class TraceFileError(OrchlabError, ValueError):
    """A trace file that cannot be read (missing, or a line that is not a span)."""


@dataclass(frozen=True)
class SpanRecord:
    """One finished span."""

    name: str
    """The span's name (``pipeline:wine_training``, ``RunActivity:orchlab.run_step``...)."""
    trace_id: str
    """The trace's id, 32 hex digits."""
    span_id: str
    """The span's id, 16 hex digits."""
    parent_id: str | None
    """The parent span's id, or None for a root."""
    start_ns: int
    """Start, nanoseconds since the epoch."""
    end_ns: int
    """End, nanoseconds since the epoch."""
    status: str = "UNSET"
    """``OK``, ``ERROR`` or ``UNSET``."""
    attributes: Mapping[str, Any] = field(default_factory=dict)
    """The span's attributes."""
    events: tuple[str, ...] = ()
    """The names of its events (Prefect's state changes, recorded exceptions)."""

    @property
    def duration_seconds(self) -> float:
        """``end - start`` in seconds."""
        return (self.end_ns - self.start_ns) / 1e9

    @classmethod
    def from_span(cls, span: ReadableSpan) -> SpanRecord:
        """The record of an SDK span (as an in-memory exporter holds it)."""
        ctx = span.get_span_context()
        if ctx is None:  # pragma: no cover - finished SDK spans always have one
            raise TraceFileError(f"span {span.name!r} has no context")
        return cls(
            name=span.name,
            trace_id=f"{ctx.trace_id:032x}",
            span_id=f"{ctx.span_id:016x}",
            parent_id=f"{span.parent.span_id:016x}" if span.parent else None,
            start_ns=span.start_time or 0,
            end_ns=span.end_time or 0,
            status=span.status.status_code.name,
            attributes=dict(span.attributes or {}),
            events=tuple(event.name for event in span.events),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpanRecord:
        """The record of one line of a trace file (``ReadableSpan.to_json``)."""
        ctx = data["context"]
        parent = data.get("parent_id")
        return cls(
            name=data["name"],
            trace_id=_hex(ctx["trace_id"]),
            span_id=_hex(ctx["span_id"]),
            parent_id=_hex(parent) if parent else None,
            start_ns=_ns(data["start_time"]),
            end_ns=_ns(data["end_time"]),
            status=data.get("status", {}).get("status_code", "UNSET"),
            attributes=dict(data.get("attributes") or {}),
            events=tuple(e["name"] for e in data.get("events") or ()),
        )


def _hex(value: str) -> str:
    return value[2:] if value.startswith("0x") else value


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _ns(iso: str) -> int:
    # Integer arithmetic: a float timestamp can round a whole second away.
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (moment - _EPOCH) // timedelta(microseconds=1) * 1000


def span_records(spans: Iterable[ReadableSpan]) -> list[SpanRecord]:
    """Records of SDK spans, in start order."""
    return sorted((SpanRecord.from_span(s) for s in spans), key=lambda r: r.start_ns)


def json_lines(
    path: Path | str, what: str, item: str, error: type[Exception]
) -> Iterator[tuple[str, Any]]:
    """Each non-blank line of a JSONL file, parsed, with its ``file:line`` for messages.

    Args:
        path: The file.
        what: What the file holds (``no <what> at <path>``).
        item: What a line holds (``<file>:<line>: not <item> (...)``).
        error: The exception to raise.

    Raises:
        error: When the file is missing or a line is not JSON.
    """
    source = Path(path)
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise error(f"no {what} at {source}") from None
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                data = json.loads(line)
            except ValueError as exc:
                raise error(f"{source}:{number}: not {item} ({exc})") from None
            yield f"{source}:{number}", data


def read_trace(path: Path | str) -> list[SpanRecord]:
    """Read a JSONL trace file (``orchlab run --trace``), in start order.

    Raises:
        TraceFileError: When the file is missing or a line is not a span; the message
            names the line.
    """
    records = []
    for where, data in json_lines(path, "trace file", "a span", TraceFileError):
        try:
            records.append(SpanRecord.from_json(data))
        except (ValueError, KeyError, TypeError) as exc:
            raise TraceFileError(f"{where}: not a span ({exc})") from None
    return sorted(records, key=lambda r: r.start_ns)


def run_root(spans: Iterable[SpanRecord]) -> SpanRecord:
    """The root span of the one pipeline run among ``spans``.

    Raises:
        ValueError: When the spans hold no run's root span, or several.
    """
    roots = [r for r in spans if r.attributes.get(Attr.RUN_ID) and r.parent_id is None]
    if len(roots) != 1:
        raise ValueError(f"expected the spans of one pipeline run, found {len(roots)} root span(s)")
    return roots[0]


def children(records: Iterable[SpanRecord]) -> dict[str | None, list[SpanRecord]]:
    """Each span id's children in start order; roots under ``None`` (and spans whose parent
    is not among the records)."""
    spans = list(records)
    ids = {r.span_id for r in spans}
    tree: dict[str | None, list[SpanRecord]] = {}
    for record in sorted(spans, key=lambda r: r.start_ns):
        parent = record.parent_id if record.parent_id in ids else None
        tree.setdefault(parent, []).append(record)
    return tree


def ancestors(record: SpanRecord, records: Iterable[SpanRecord]) -> list[SpanRecord]:
    """The span's parent, grandparent... up to its root, nearest first."""
    by_id = {r.span_id: r for r in records}
    chain = []
    current = by_id.get(record.parent_id or "")
    while current is not None and current not in chain:
        chain.append(current)
        current = by_id.get(current.parent_id or "")
    return chain


_SHOWN = ("orchlab.engine", "orchlab.attempt", "orchlab.status", "prefect.run.type")


def span_tree(records: Iterable[SpanRecord]) -> str:
    """The spans as an indented tree, one line each: name, duration, a few attributes."""
    tree = children(records)
    lines: list[str] = []

    def draw(record: SpanRecord, prefix: str, last: bool, root: bool) -> None:
        shown = ", ".join(f"{k}={record.attributes[k]}" for k in _SHOWN if k in record.attributes)
        error = " ERROR" if record.status == "ERROR" else ""
        branch = "" if root else ("└─ " if last else "├─ ")
        extra = f"  [{shown}]" if shown else ""
        lines.append(
            f"{prefix}{branch}{record.name}  {record.duration_seconds:.3f} s{error}{extra}"
        )
        kids = tree.get(record.span_id, [])
        deeper = prefix if root else prefix + ("   " if last else "│  ")
        for index, child in enumerate(kids):
            draw(child, deeper, index == len(kids) - 1, False)

    for root in tree.get(None, []):
        draw(root, "", True, True)
    return "\n".join(lines)


__all__ = [
    "SpanRecord",
    "TraceFileError",
    "ancestors",
    "children",
    "json_lines",
    "read_trace",
    "run_root",
    "span_records",
    "span_tree",
]
