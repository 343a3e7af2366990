import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from orchlab.config import get_settings
from orchlab.errors import ServiceError
from orchlab.runtime import Stack, read_stack, temporal_address
from orchlab.runtime._process import free_port, pid_alive, port_open
from orchlab.runtime.services import ServiceRecord
from orchlab.runtime.stack import ensure_temporal, write_stack

ORCHLAB = [sys.executable, "-m", "orchlab.cli"]


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, prefect_api_url: str) -> Path:
    """A private state dir; Prefect external (the session's), Temporal embedded."""
    state = tmp_path / "state"
    monkeypatch.setenv("ORCHLAB_STATE_DIR", str(state))
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    monkeypatch.setenv("PREFECT_API_URL", prefect_api_url)
    for var in ("TEMPORAL_PORT", "TEMPORAL_UI_PORT", "JUPYTER_PORT"):
        monkeypatch.setenv(f"ORCHLAB_{var}", str(free_port()))
    return state


def _wait(predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_stack_records_refuses_a_second_start_and_stops_cleanly(
    isolated: Path, tmp_path: Path
) -> None:
    labs = tmp_path / "labs"
    for name in ("02-b", "01-a"):
        (labs / name).mkdir(parents=True)
        (labs / name / f"{name}.ipynb").write_text('{"cells": []}', encoding="utf-8")
    said: list[str] = []
    stack = Stack(get_settings(), jupyter=True, labs_dir=labs, on_stage=said.append)
    records = stack.start()
    try:
        assert set(records) == {"temporal", "jupyter"}
        assert [line.split(" in ")[0] for line in said] == [
            "starting Temporal...",
            "Temporal ready",
            "starting JupyterLab...",
            "JupyterLab ready",
        ]
        lab = records["jupyter"]
        base, _, token = lab.url.partition("/lab?token=")
        assert lab.extra["start"] == f"{base}/lab/tree/01-a/01-a.ipynb?token={token}"
        # The course's defaults reach JupyterLab: no news prompt, no update check.
        with urllib.request.urlopen(
            f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification?token={token}"
        ) as resp:
            schema = json.load(resp)["schema"]["properties"]  # overrides become its defaults
        assert schema["fetchNews"]["default"] == "false"
        assert schema["checkForUpdates"]["default"] is False
        assert any("external Prefect" in n for n in stack.notes)
        assert read_stack().keys() == records.keys()
        assert temporal_address() == records["temporal"].url
        with pytest.raises(ServiceError, match="already running"):
            Stack(get_settings()).start()
    finally:
        stack.stop()
    assert read_stack() == {}
    assert not any(pid_alive(r.pid) for r in records.values())


def test_busy_configured_port_falls_back_to_a_free_one(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy = blocker.getsockname()[1]
        monkeypatch.setenv("ORCHLAB_TEMPORAL_PORT", str(busy))
        stack = Stack(get_settings())
        try:
            records = stack.start()
            assert not records["temporal"].url.endswith(f":{busy}")
            assert any(f"port {busy}" in n for n in stack.notes)
        finally:
            stack.stop()


def test_no_engine_found_says_how_to_start_one(isolated: Path) -> None:
    with pytest.raises(ServiceError, match="make lab"):
        temporal_address()


def test_ensure_temporal_prefers_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", "temporal.example:7233")
    assert ensure_temporal() == "temporal.example:7233"


def test_cli_foreground_up_second_up_and_ctrl_c(isolated: Path) -> None:
    env = dict(os.environ)
    first = subprocess.Popen(
        [*ORCHLAB, "up", "--foreground"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert _wait(lambda: bool(read_stack())), "orchlab up did not record its services"
        records = read_stack()
        second = subprocess.run(
            [*ORCHLAB, "up"], env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 0
        assert "already running" in second.stdout
        status = subprocess.run([*ORCHLAB, "status"], env=env, capture_output=True, text=True)
        assert status.returncode == 0 and "Temporal" in status.stdout
        assert "all services answer" in status.stdout
    finally:
        first.send_signal(signal.SIGINT)
        out, _ = first.communicate(timeout=60)
    assert first.returncode == 0, out
    assert "stopped." in out
    assert not any(pid_alive(r.pid) for r in records.values())
    temporal_port = int(records["temporal"].url.rsplit(":", 1)[1])
    assert not port_open("127.0.0.1", temporal_port)
    status = subprocess.run([*ORCHLAB, "status"], env=env, capture_output=True, text=True)
    assert status.returncode == 1


def test_cli_detached_up_then_down(isolated: Path) -> None:
    env = dict(os.environ)
    up = subprocess.run([*ORCHLAB, "up"], env=env, capture_output=True, text=True, timeout=120)
    assert up.returncode == 0, up.stderr
    records = read_stack()
    assert "temporal" in records
    down = subprocess.run([*ORCHLAB, "down"], env=env, capture_output=True, text=True)
    assert "stopped: temporal" in down.stdout
    assert not any(pid_alive(r.pid) for r in records.values())


def test_ui_urls_come_from_the_running_stack_and_the_environment(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchlab.runtime import ui_urls

    assert ui_urls() == {}
    stack = Stack(get_settings())
    try:
        records = stack.start()
        assert ui_urls() == {"temporal": records["temporal"].extra["ui"]}
        monkeypatch.setenv("TEMPORAL_UI_URL", "https://temporal.example")
        assert ui_urls()["temporal"] == "https://temporal.example"
    finally:
        stack.stop()


def test_run_links_point_at_the_run_in_each_engines_ui(
    isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchlab.runtime import run_link

    assert run_link("temporal", "wine_training/r1") is None  # no UI known: no link
    monkeypatch.setenv("TEMPORAL_UI_URL", "http://127.0.0.1:8233/")
    assert run_link("temporal", "wine_training/r1", namespace="ml team") == (
        "http://127.0.0.1:8233/namespaces/ml%20team/workflows/wine_training%2Fr1"
    )
    assert run_link("temporal", "") is None and run_link("local", "x") is None
    isolated.mkdir(parents=True, exist_ok=True)
    write_stack(
        isolated,
        {"prefect": ServiceRecord("prefect", os.getpid(), "http://h:1/api", {"ui": "http://h:1"})},
    )
    assert run_link("prefect", "0a1b") == "http://h:1/runs/flow-run/0a1b"
