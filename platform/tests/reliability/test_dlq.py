"""The dead-letter queue and ``orchlab dlq``: record, inspect, replay once, discard."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import orchlab.cli.dlq  # noqa: F401  (registers the command group)
from orchlab.cli import app
from orchlab.errors import FailureClass, TransientError
from orchlab.reliability import (
    DeadLetterQueue,
    LetterNotFound,
    LetterStatus,
    ReplayError,
    load_handler,
)

runner = CliRunner()


@pytest.fixture
def replay_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    log = tmp_path / "replays.log"
    log.touch()
    monkeypatch.setenv("RELIABILITY_REPLAY_LOG", str(log))
    monkeypatch.setenv("COLUMNS", "200")
    return log


@pytest.fixture
def queue(tmp_path: Path) -> DeadLetterQueue:
    return DeadLetterQueue(tmp_path / "dlq.sqlite")


def _fail(message: str) -> TransientError:
    try:
        raise TransientError(message)
    except TransientError as exc:
        return exc


def test_put_records_error_attempts_and_payload(queue: DeadLetterQueue) -> None:
    letter = queue.put(
        "score-batch",
        _fail("model api timed out"),
        attempts=5,
        payload={"batch": 7},
        payload_ref="s3://bucket/batch-7.parquet",
        handler="reliability_handlers:reprocess",
        key="batch:7",
    )
    assert (letter.id, letter.source, letter.attempts) == (1, "score-batch", 5)
    assert letter.error_type == "TransientError" and letter.error == "model api timed out"
    assert letter.failure_class is FailureClass.TRANSIENT and letter.status is LetterStatus.DEAD
    assert letter.payload == {"batch": 7} and "Traceback" in (letter.traceback or "")
    queue.put("other", ValueError("bad row"))
    assert [x.source for x in queue.letters(source="other")] == ["other"]
    assert queue.counts()[LetterStatus.DEAD] == 2
    with pytest.raises(TypeError, match="inline dead-letter payloads must be JSON"):
        queue.put("x", ValueError("y"), payload=object())


def test_replay_runs_the_handler_once(queue: DeadLetterQueue, replay_log: Path) -> None:
    letter = queue.put("s", _fail("x"), payload=41, handler="reliability_handlers:reprocess")
    first = queue.replay(letter.id)
    assert first.status is LetterStatus.REPLAYED and first.replay_result == {"reprocessed": 41}
    assert queue.replay(letter.id).replay_result == {"reprocessed": 41}
    assert replay_log.read_text().split() == ["41"]
    assert queue.letters() == []


def test_failed_replay_leaves_the_letter_dead_and_retryable(
    queue: DeadLetterQueue, replay_log: Path
) -> None:
    letter = queue.put(
        "s", _fail("x"), payload_ref="ref-9", handler="reliability_handlers:still_broken"
    )
    with pytest.raises(ReplayError, match="ConnectionError: downstream still down for ref-9"):
        queue.replay(letter.id)
    assert queue.get(letter.id).status is LetterStatus.DEAD
    from reliability_handlers import reprocess

    assert queue.replay(letter.id, handler=reprocess).replay_result == {"reprocessed": "ref-9"}


def test_replay_errors_are_actionable(queue: DeadLetterQueue) -> None:
    no_handler = queue.put("s", _fail("x"))
    with pytest.raises(ReplayError, match="names no handler; pass one"):
        queue.replay(no_handler.id)
    queue.discard(no_handler.id)
    with pytest.raises(ReplayError, match="was discarded"):
        queue.replay(no_handler.id)
    with pytest.raises(LetterNotFound, match="no dead letter #99"):
        queue.get(99)
    with pytest.raises(ReplayError, match=r"must look like 'package\.module:function'"):
        load_handler("nocolon")
    with pytest.raises(ReplayError, match="cannot load handler 'reliability_handlers:nope'"):
        load_handler("reliability_handlers:nope")
    with pytest.raises(ReplayError, match="is a int, not a function"):
        load_handler("reliability_handlers:NOT_CALLABLE")


def test_cli_list_show_replay(queue: DeadLetterQueue, replay_log: Path) -> None:
    queue.put(
        "ingest",
        _fail("s3 throttled"),
        attempts=3,
        payload="day-1",
        handler="reliability_handlers:reprocess",
    )
    queue.put("train", ValueError("label column missing"), payload_ref="runs/9")
    db = ["--db", str(queue.path)]

    listed = runner.invoke(app, ["dlq", "list", *db])
    assert listed.exit_code == 0, listed.output
    assert "ingest" in listed.output and "TransientError: s3 throttled" in listed.output
    assert "permanent" in listed.output and "2 dead, 0 replayed, 0 discarded" in listed.output

    shown = runner.invoke(app, ["dlq", "show", "2", *db])
    assert (
        shown.exit_code == 0 and "runs/9" in shown.output and "label column missing" in shown.output
    )

    replayed = runner.invoke(app, ["dlq", "replay", "1", *db])
    assert replayed.exit_code == 0 and "#1 replayed (ingest)" in replayed.output
    again = runner.invoke(app, ["dlq", "replay", "1", *db])
    assert again.exit_code == 0
    assert replay_log.read_text().split() == ["day-1"]

    failed = runner.invoke(app, ["dlq", "replay", "--all", *db])
    assert failed.exit_code == 1
    assert "#2 not replayed" in failed.output and "names no handler" in failed.output

    fixed = runner.invoke(
        app, ["dlq", "replay", "2", "--handler", "reliability_handlers:reprocess", *db]
    )
    assert fixed.exit_code == 0 and '{"reprocessed": "runs/9"}' in fixed.output
    assert "no dead letters" in runner.invoke(app, ["dlq", "list", *db]).output


def test_cli_errors(tmp_path: Path, queue: DeadLetterQueue) -> None:
    missing = runner.invoke(app, ["dlq", "list", "--db", str(tmp_path / "none.sqlite")])
    assert missing.exit_code == 2 and "no dead-letter queue at" in missing.output
    queue.put("s", _fail("x"))
    db = ["--db", str(queue.path)]
    unknown = runner.invoke(app, ["dlq", "show", "7", *db])
    assert unknown.exit_code == 2 and "no dead letter #7" in unknown.output
    both = runner.invoke(app, ["dlq", "replay", "1", "--all", *db])
    assert both.exit_code == 2 and "give letter ids or --all" in both.output
    bad = runner.invoke(app, ["dlq", "list", "--status", "lost", *db])
    assert bad.exit_code == 2
    assert "'lost' is not one of 'dead', 'replayed', 'discarded', 'all'" in bad.output
    assert runner.invoke(app, ["dlq", "discard", "1", *db]).exit_code == 0
    assert "1 discarded" in runner.invoke(app, ["dlq", "list", "--status", "all", *db]).output


def test_process_dead_letters_after_retries_and_replays_with_the_same_function(
    queue: DeadLetterQueue, replay_log: Path
) -> None:
    from reliability_handlers import flaky_score

    from orchlab.errors import FatalError
    from orchlab.reliability import RetryPolicy

    policy = RetryPolicy(max_attempts=3, sleep=lambda _: None)
    ok = queue.process("score", flaky_score, {"x": 2}, policy=policy)
    assert ok.ok and ok.value == {"score": 4} and ok.attempts == 1

    down = queue.process("score", flaky_score, {"x": 3, "down": True}, policy=policy)
    assert not down.ok and down.attempts == 3 and down.letter is not None
    assert down.letter.handler == "reliability_handlers:flaky_score"
    assert down.letter.attempts == 3 and down.letter.failure_class is FailureClass.TRANSIENT

    bad = queue.process("score", flaky_score, payload_ref="runs/1.json", policy=policy)
    assert bad.attempts == 1 and bad.letter is not None
    assert bad.letter.failure_class is FailureClass.PERMANENT

    with pytest.raises(FatalError, match="corrupt"):
        queue.process("score", flaky_score, {"fatal": True}, policy=policy)
    assert len(queue.letters()) == 2  # fatal failures stop the run; they are not queued

    fixed = queue.replay(down.letter.id, handler=lambda p: flaky_score({**p, "down": False}))
    assert fixed.replay_result == {"score": 6}
