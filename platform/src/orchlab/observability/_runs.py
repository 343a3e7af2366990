"""Run records: one finished pipeline run (when, how long, how it ended), from any source.

SLIs, error budgets and burn-rate alerts (:mod:`orchlab.observability._slo`,
:mod:`orchlab.observability._burn`) are computed from :class:`RunRecord` values, whichever
source recorded them:

- orchlab's own: the ``pipeline:<name>`` root spans of a trace (:func:`records_from_spans`),
  or every run of this process as it finishes (:class:`RunRecorder`, which can append each
  record to a JSONL file that :func:`read_run_records` reads back);
- the engines' own: Temporal's visibility store and Prefect's flow-run API
  (:func:`orchlab.observability.temporal_run_records`,
  :func:`orchlab.observability.prefect_run_records`).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

from orchlab.errors import OrchlabError
from orchlab.observability._instrument import add_run_observer, remove_run_observer
from orchlab.observability._names import PIPELINE_SPAN_PREFIX, Attr

if TYPE_CHECKING:
    from orchlab.observability._records import SpanRecord
    from orchlab.pipelines._result import PipelineResult

RunStatus = Literal["succeeded", "failed"]
"""How a finished run ended (cancelled, crashed, timed-out and terminated runs are failed)."""

_STATUSES = get_args(RunStatus)

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware (injectable: tests and backtests skip time)."""


def utc_now() -> datetime:
    """The current time in UTC (the default :data:`Clock`)."""
    return datetime.now(UTC)


class RunRecordError(OrchlabError, ValueError):
    """A run record that is not valid, or a run-records file that cannot be read."""


@dataclass(frozen=True)
class RunRecord:
    """One finished pipeline run.

    Raises:
        RunRecordError: At construction, when a time is naive, the run ends before it
            starts, or the status is not ``succeeded`` or ``failed``.
    """

    pipeline: str
    """The pipeline's name."""
    run_id: str
    """orchlab's run id (the engine's own id when the run was not started by orchlab)."""
    engine: str
    """``local``, ``prefect`` or ``temporal``."""
    status: RunStatus
    """``succeeded`` or ``failed``."""
    started: datetime
    """When the run started (timezone-aware)."""
    ended: datetime
    """When it ended (timezone-aware)."""
    engine_run_id: str = ""
    """The engine's id of the run (workflow id, flow run id), when known."""
    run_seconds: float | None = None
    """The engine's own measure of time spent running (Prefect's ``total_run_time``), when
    it reports one; it excludes time in other states (waiting for a retry, paused)."""
    lateness_seconds: float | None = None
    """How late the run started against its schedule (Prefect's
    ``estimated_start_time_delta``), when the engine reports it."""

    def __post_init__(self) -> None:
        for name in ("started", "ended"):
            moment: datetime = getattr(self, name)
            if moment.tzinfo is None:
                raise RunRecordError(f"run {self.run_id!r}: {name} has no timezone")
        if self.ended < self.started:
            raise RunRecordError(
                f"run {self.run_id!r} ends ({self.ended.isoformat()}) before it starts "
                f"({self.started.isoformat()})"
            )
        if self.status not in _STATUSES:
            raise RunRecordError(
                f"run {self.run_id!r}: status {self.status!r} is not succeeded or failed"
            )

    @property
    def duration_seconds(self) -> float:
        """Wall time from start to end, in seconds."""
        return (self.ended - self.started).total_seconds()

    @property
    def succeeded(self) -> bool:
        """Whether the run succeeded."""
        return self.status == "succeeded"

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready data (times in ISO 8601)."""
        data = asdict(self)
        data["started"] = self.started.isoformat()
        data["ended"] = self.ended.isoformat()
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RunRecord:
        """A record from :meth:`to_json`'s form.

        Raises:
            RunRecordError: When a field is missing or invalid.
        """
        try:
            fields = dict(data)
            fields["started"] = datetime.fromisoformat(fields["started"])
            fields["ended"] = datetime.fromisoformat(fields["ended"])
            return cls(**fields)
        except RunRecordError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise RunRecordError(f"not a run record: {type(exc).__name__}: {exc}") from None

    @classmethod
    def of_result(cls, result: PipelineResult, *, ended: datetime, seconds: float) -> RunRecord:
        """The record of a finished run's result that ended at ``ended`` after ``seconds``."""
        return cls(
            pipeline=result.pipeline,
            run_id=result.run_id,
            engine=result.engine,
            status=result.status,
            started=ended - timedelta(seconds=seconds),
            ended=ended,
            engine_run_id=result.engine_run_id,
        )


def _from_ns(ns: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)


def records_from_spans(spans: Iterable[SpanRecord]) -> list[RunRecord]:
    """The runs of a trace: one record per ``pipeline:<name>`` root span, by start time.

    A root span without an ``orchlab.status`` (a run that raised before it finished) is a
    failed run.
    """
    runs = []
    for span in spans:
        if not span.name.startswith(PIPELINE_SPAN_PREFIX) or Attr.RUN_ID not in span.attributes:
            continue
        status = span.attributes.get(Attr.STATUS)
        runs.append(
            RunRecord(
                pipeline=str(
                    span.attributes.get(Attr.PIPELINE, span.name[len(PIPELINE_SPAN_PREFIX) :])
                ),
                run_id=str(span.attributes[Attr.RUN_ID]),
                engine=str(span.attributes.get(Attr.ENGINE, "")),
                status="succeeded" if status == "succeeded" else "failed",
                started=_from_ns(span.start_ns),
                ended=_from_ns(span.end_ns),
            )
        )
    return sorted(runs, key=lambda r: r.started)


def write_run_records(path: Path | str, records: Iterable[RunRecord]) -> Path:
    """Append records to a JSONL file (created with its folder); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record.to_json(), sort_keys=True) + "\n")
    return target


def read_run_records(path: Path | str) -> list[RunRecord]:
    """The records of a JSONL run-records file, by start time.

    Raises:
        RunRecordError: When the file is missing or a line is not a record; the message
            names the line.
    """
    from orchlab.observability._records import json_lines

    records = []
    for where, data in json_lines(path, "run records", "a run record", RunRecordError):
        try:
            records.append(RunRecord.from_json(data))
        except RunRecordError as exc:
            raise RunRecordError(f"{where}: {exc}") from None
    return sorted(records, key=lambda r: r.started)


class RunRecorder:
    """Records every pipeline run of this process as it finishes (a run observer).

    Args:
        path: Also append each record to this JSONL file (read it with
            :func:`read_run_records`).
        clock: The time a run is recorded as ending at.

    Example::

        recorder = RunRecorder(".state/runs.jsonl").install()
        run_local("wine_training")
        print(recorder.records[-1].duration_seconds)
    """

    def __init__(self, path: Path | str | None = None, *, clock: Clock = utc_now) -> None:
        self.path = Path(path) if path is not None else None
        """The JSONL file records are appended to, if any."""
        self.clock = clock
        self._records: list[RunRecord] = []
        self._lock = threading.Lock()

    @property
    def records(self) -> list[RunRecord]:
        """The runs recorded so far, in the order they ended."""
        with self._lock:
            return list(self._records)

    def observe(self, result: PipelineResult, seconds: float) -> None:
        """Record one finished run (a :data:`~orchlab.observability.RunObserver`)."""
        record = RunRecord.of_result(result, ended=self.clock(), seconds=seconds)
        with self._lock:
            self._records.append(record)
            if self.path is not None:
                write_run_records(self.path, [record])

    def install(self) -> RunRecorder:
        """Record every pipeline run of this process from now on; returns ``self``."""
        add_run_observer(self.observe)
        return self

    def uninstall(self) -> None:
        """Stop recording."""
        remove_run_observer(self.observe)


__all__ = [
    "Clock",
    "RunRecord",
    "RunRecordError",
    "RunRecorder",
    "RunStatus",
    "read_run_records",
    "records_from_spans",
    "utc_now",
    "write_run_records",
]
