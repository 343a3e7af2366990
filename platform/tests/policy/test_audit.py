"""The hash-chained audit log: appends, verification naming the first bad record on an
edit, deletion, reordering or truncation, HMAC keys, exports, and the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

import orchlab.cli.audit  # noqa: F401  (registers `orchlab audit`)
from orchlab.cli import app
from orchlab.policy import GENESIS, AuditIntegrityError, AuditLog, export_log, verify_log

runner = CliRunner()


class Ticker:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def _filled(path: Path, n: int = 5, key: bytes | None = None) -> AuditLog:
    log = AuditLog(path, clock=Ticker(), key=key)
    for i in range(n):
        log.append("policy.decision", actor=f"user{i}", subject="wine v3", data={"i": i})
    return log


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def test_records_chain_and_verify(tmp_path: Path) -> None:
    log = _filled(tmp_path / "a.jsonl")
    records = log.records()
    assert [r.seq for r in records] == [1, 2, 3, 4, 5]
    assert records[0].prev == GENESIS
    assert all(b.prev == a.hash for a, b in pairwise(records))
    assert records[0].time == "2026-03-01T12:00:01.000000+00:00"
    report = log.verify(expected_head=log.head())
    assert report.ok and report.records == 5 and report.head == records[-1].hash


def test_an_edit_is_named(tmp_path: Path) -> None:
    log = _filled(tmp_path / "a.jsonl")
    lines = _lines(log.path)
    lines[2] = lines[2].replace('"i":2', '"i":9')
    log.path.write_text("".join(lines))
    report = verify_log(log.path)
    assert (report.ok, report.first_bad, report.records) == (False, 3, 2)
    assert "hash does not match its content (the record was edited)" in report.problem
    with pytest.raises(AuditIntegrityError, match=r"record at line 3"):
        log.records()


def test_a_deletion_is_named(tmp_path: Path) -> None:
    log = _filled(tmp_path / "a.jsonl")
    lines = _lines(log.path)
    del lines[1]
    log.path.write_text("".join(lines))
    report = verify_log(log.path)
    assert report.first_bad == 2 and "sequence number 3 where 2 was expected" in report.problem


def test_a_reordering_is_named(tmp_path: Path) -> None:
    log = _filled(tmp_path / "a.jsonl")
    lines = _lines(log.path)
    lines[3], lines[4] = lines[4], lines[3]
    log.path.write_text("".join(lines))
    assert verify_log(log.path).first_bad == 4


def test_a_recomputed_forgery_is_caught_by_the_key_and_truncation_by_the_head(
    tmp_path: Path,
) -> None:
    key = b"k" * 32
    log = _filled(tmp_path / "a.jsonl", key=key)
    head = log.head()
    assert not verify_log(log.path).ok  # plain SHA-256 does not match HMAC hashes
    assert verify_log(log.path, key=key).ok
    log.path.write_text("".join(_lines(log.path)[:3]))
    report = verify_log(log.path, key=key, expected_head=head)
    assert not report.ok and "records were cut off the end" in report.problem


def test_appending_after_tampering_refuses_an_unreadable_tail(tmp_path: Path) -> None:
    log = _filled(tmp_path / "a.jsonl", n=2)
    with open(log.path, "a") as handle:
        handle.write("{not json\n")
    with pytest.raises(AuditIntegrityError, match=r"last record is unreadable"):
        log.append("x", actor="a", subject="s")


def test_exports_jsonl_and_cloudevents(tmp_path: Path) -> None:
    log = _filled(tmp_path / "a.jsonl", n=3)
    assert export_log(log.path, tmp_path / "out.jsonl") == 3
    assert (tmp_path / "out.jsonl").read_text() == log.path.read_text()
    export_log(log.path, tmp_path / "ce.jsonl", format="cloudevents", source="/ml/audit")
    events = [json.loads(line) for line in (tmp_path / "ce.jsonl").read_text().splitlines()]
    first = events[0]
    assert first["specversion"] == "1.0" and first["source"] == "/ml/audit"
    assert first["type"] == "io.orchlab.audit.policy.decision"
    assert first["id"] == log.records()[0].hash and first["subject"] == "wine v3"
    assert first["datacontenttype"] == "application/json" and first["data"]["seq"] == 1
    with pytest.raises(ValueError, match=r"unknown export format 'xml'"):
        export_log(log.path, tmp_path / "x", format="xml")


def test_cli_verify_and_export(tmp_path: Path) -> None:
    log = _filled(tmp_path / "a.jsonl", n=3)
    ok = runner.invoke(app, ["audit", "verify", str(log.path)])
    assert ok.exit_code == 0 and "3 records, chain intact" in ok.output
    out = tmp_path / "ce.jsonl"
    exported = runner.invoke(
        app, ["audit", "export", str(log.path), "-o", str(out), "--format", "cloudevents"]
    )
    assert exported.exit_code == 0 and "wrote 3 records as cloudevents" in exported.output
    lines = _lines(log.path)
    log.path.write_text(lines[0] + lines[2])
    bad = runner.invoke(app, ["audit", "verify", str(log.path)])
    assert bad.exit_code == 1
    assert "record at line 2" in bad.output and "sequence number 3" in bad.output
    refused = runner.invoke(app, ["audit", "export", str(log.path), "-o", str(out)])
    assert refused.exit_code == 1 and "not exported" in refused.output
    missing = runner.invoke(app, ["audit", "verify", str(tmp_path / "none.jsonl")])
    assert missing.exit_code == 2 and "no audit log at" in missing.output
