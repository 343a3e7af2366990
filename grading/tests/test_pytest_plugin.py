"""labgrader.pytest_plugin: failure messages in plain words, signed records, use by hand."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from conftest import LAB

from labgrader.notebook import NotebookImportError
from labgrader.pytest_plugin import FileRecorder, failure_message, read_records


def test_failure_messages_are_plain_words() -> None:
    assert (
        failure_message(AssertionError("add(1, 2) should be 3\nassert -1 == 3"))
        == "add(1, 2) should be 3"
    )
    assert (
        failure_message(AssertionError("assert [2, 1] == [1, 2]\n  At index 0 diff"))
        == "assert [2, 1] == [1, 2]"
    )
    assert failure_message(AssertionError()) == "assertion failed"
    assert failure_message(KeyError("dag")) == "KeyError: 'dag'"
    assert failure_message(ValueError("first line\nsecond line")) == "ValueError: first line"
    assert failure_message(NotebookImportError("the notebook's code failed at cell 2")) == (
        "the notebook's code failed at cell 2"
    )
    assert (
        failure_message(pytest.fail.Exception("expected 3 retries, saw 1"))
        == "expected 3 retries, saw 1"
    )
    assert len(failure_message(ValueError("x" * 5000))) == 2000
    module = ModuleType("labgrader_submission_7")
    with pytest.raises(AttributeError) as info:
        _ = module.scale  # type: ignore[attr-defined]
    assert failure_message(info.value) == (
        "the notebook does not define 'scale': define it (and run its cell) with the name the "
        "exercise asks for"
    )


def test_an_engine_error_chain_says_its_root_cause() -> None:
    from temporalio.client import WorkflowFailureError
    from temporalio.exceptions import ActivityError, ApplicationError, RetryState

    learner = ApplicationError("the dataset has no rows", type="ValueError")
    activity = ActivityError(
        "Activity task failed",
        scheduled_event_id=5,
        started_event_id=6,
        identity="worker",
        activity_type="train",
        activity_id="1",
        retry_state=RetryState.MAXIMUM_ATTEMPTS_REACHED,
    )
    activity.__cause__ = learner
    failure = WorkflowFailureError(cause=activity)
    assert failure_message(failure) == "the workflow failed: ValueError: the dataset has no rows"
    alone = WorkflowFailureError(cause=ApplicationError("boom"))
    assert failure_message(alone) == "the workflow failed: ApplicationError: boom"
    # Not an engine error: the learner's own chain is not unwrapped.
    wrapped = RuntimeError("outer")
    wrapped.__cause__ = ValueError("inner")
    assert failure_message(wrapped) == "RuntimeError: outer"


def test_records_are_signed_and_sequenced(tmp_path: Path) -> None:
    path = tmp_path / "results.jsonl"
    recorder = FileRecorder(path, b"secret")
    recorder.emit({"event": "begin", "nodeid": "a"})
    recorder.emit({"event": "done", "exitstatus": 0})
    assert [r["event"] for r in read_records(path, b"secret")] == ["begin", "done"]
    with pytest.raises(ValueError, match="record 1 of the results file is not the harness's own"):
        read_records(path, b"another key")
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(lines[1] + "\n" + lines[0] + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="out of sequence"):
        read_records(path, b"secret")


def test_the_plugin_runs_checks_by_hand_against_a_notebook(course: Path) -> None:
    solution = course / "solutions" / LAB / f"{LAB}.ipynb"
    checks = course / "grading" / "checks" / LAB
    ini = course.parent / "pytest.ini"
    ini.write_text("[pytest]\n", encoding="utf-8")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "labgrader.pytest_plugin",
            "--labgrader-no-services",
            "-p",
            "no:cacheprovider",
            "-c",
            str(ini),
            "--rootdir",
            str(checks),
            "--notebook",
            str(solution),
            "--exercise",
            "add",
            "--visible-only",
            "-q",
            str(checks),
        ],
        capture_output=True,
        text=True,
        cwd=course,
        check=False,
        env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": ""},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed, 3 deselected" in proc.stdout
