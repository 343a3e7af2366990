"""What needs no engine: faults refuse what orchlab did not start, placeholders name what it
did, the disk-quota fault and its rollback, and journals that are not journals."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from orchlab.chaos import NotOwned, _owned, actions, read_journal
from orchlab.chaos._report import JournalError


@pytest.fixture
def config(tmp_path: Path) -> dict[str, str]:
    return {"chaos_dir": str(tmp_path / "chaos")}


@pytest.mark.parametrize(
    ("call", "kind"),
    [
        (lambda c: actions.kill_worker("postgres", configuration=c), "worker "),
        (lambda c: actions.restart_worker("postgres", configuration=c), "worker "),
        (lambda c: actions.inject_latency("postgres", 1.0, configuration=c), "proxy "),
        (lambda c: actions.restart_temporal_server("postgres", configuration=c), "temporal "),
    ],
)
def test_faults_refuse_a_process_orchlab_did_not_start(
    call: Callable[[dict[str, str]], object], kind: str, config: dict[str, str]
) -> None:
    with pytest.raises(NotOwned, match=f"orchlab started no {kind}process named 'postgres'"):
        call(config)


def test_a_recorded_process_is_killed_restarted_and_stopped(config: dict[str, str]) -> None:
    folder = Path(config["chaos_dir"])
    argv = [sys.executable, "-c", "import time; time.sleep(60)"]
    first = _owned.spawn(folder, "sleeper", "process", argv, meta={"address": "127.0.0.1:9"})
    assert first.alive
    assert _owned.expand("http://{sleeper}/x", folder) == "http://127.0.0.1:9/x"
    with pytest.raises(NotOwned, match="orchlab started no process named 'other'"):
        _owned.expand("{other}", folder)
    _owned.kill(folder, "sleeper", signal.SIGKILL)
    assert not _owned.lookup(folder, "sleeper").alive
    second = _owned.restart(folder, "sleeper")
    assert second.pid != first.pid and second.alive
    assert actions.stop_everything(configuration=config) == ["sleeper"]
    assert _owned.owned(folder) == {}
    with pytest.raises(ProcessLookupError):
        os.kill(second.pid, 0)


def test_fill_folder_to_its_quota_and_release_it(tmp_path: Path) -> None:
    (tmp_path / "state.db").write_bytes(b"x" * 1000)
    filled = actions.fill_folder(str(tmp_path), quota=5_000_000)
    assert filled["used_bytes"] == 5_000_000
    assert (tmp_path / actions.BALLAST).stat().st_size == 5_000_000 - 1000
    assert actions.release_folder(str(tmp_path)) is True
    assert not (tmp_path / actions.BALLAST).exists()
    assert actions.release_folder(str(tmp_path)) is False


def test_a_file_that_is_not_a_journal_is_named(tmp_path: Path) -> None:
    text = tmp_path / "notes.json"
    text.write_text("not json")
    with pytest.raises(JournalError, match=r"notes.json is not JSON: Expecting value"):
        read_journal(text)
    text.write_text('{"runs": []}')
    with pytest.raises(JournalError, match="is not a chaostoolkit journal"):
        read_journal(text)
    with pytest.raises(JournalError, match="cannot read journal"):
        read_journal(tmp_path / "missing.json")
