"""Crash recovery with real processes: kill the worker mid-step, restart the engine, finish.

Temporal: a pipeline runs on a dev server with its own database file; the worker process is
SIGKILLed in the middle of an activity, the server is stopped and restarted on the same file
and port, and a new worker finishes the workflow. Prefect: a checkpointed flow's process is
SIGKILLed mid-step and the flow is run again. In both, the idempotency ledger shows every
side effect exactly once and no completed step runs twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reliability_crash_app import (
    CrashPipeline,
    PipelineInput,
    ledger_for,
    read_effects,
    run_prefect,
)
from temporalio.client import Client, WorkflowExecutionStatus

from orchlab.runtime import TemporalDevServer

HERE = Path(__file__).parent

KEYS = ["extract", "load", "publish"]


def _spawn(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    full_env = {**os.environ, **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(
        [str(HERE), *filter(None, [full_env.get("PYTHONPATH")])]
    )
    return subprocess.Popen(
        [sys.executable, "-m", "reliability_crash_app", *args],
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _wait_for(path: Path, proc: subprocess.Popen[str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            output = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"process exited ({proc.returncode}) before {path.name}:\n{output}")
        if time.monotonic() > deadline:
            pytest.fail(f"{path.name} did not appear within {timeout} s")
        time.sleep(0.05)


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    if proc.stdout:
        proc.stdout.close()


def _wait_for_lease_expiry(work: Path, key: str, timeout: float = 30.0) -> None:
    ledger = ledger_for(work)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        entry = ledger.get(key)
        if entry is None or entry.lease_until is None or entry.lease_until <= time.time():
            return
        time.sleep(0.05)
    raise AssertionError(f"the dead process's lease on {key!r} did not expire in {timeout} s")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        _kill(proc)


def _executions(work: Path) -> list[str]:
    return (work / "executions.log").read_text().split()


def _assert_exactly_once(work: Path) -> None:
    effects = read_effects(work)
    assert effects == [(k, f"applied-{k}") for k in KEYS], effects
    entries = {e.key: e for e in ledger_for(work).entries()}
    assert sorted(entries) == sorted(KEYS)
    assert all(e.state == "done" for e in entries.values())
    # The interrupted step was claimed twice: once by the killed process, once after.
    assert {k: e.claims for k, e in entries.items()} == {"extract": 1, "load": 2, "publish": 1}


async def test_temporal_workflow_survives_worker_kill_and_server_restart(
    tmp_path: Path, processes: list[subprocess.Popen[str]], task_queue: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "hold-load").write_text("hold")
    state = tmp_path / "temporal"
    server = TemporalDevServer(state).start()
    port = server.port
    try:
        processes.append(
            _spawn(["temporal-worker", "--address", server.address, "--task-queue", task_queue])
        )
        client = await Client.connect(server.address)
        workflow_id = f"crash-{task_queue}"
        await client.start_workflow(
            CrashPipeline.run,
            PipelineInput(str(work), KEYS),
            id=workflow_id,
            task_queue=task_queue,
        )
        _wait_for(work / "started-load", processes[0])

        _kill(processes[0])  # the worker dies mid-activity
        server.stop()  # and so does the server
        (work / "hold-load").unlink()
        server = TemporalDevServer(state, port=port).start()

        processes.append(
            _spawn(["temporal-worker", "--address", server.address, "--task-queue", task_queue])
        )
        client = await Client.connect(server.address)
        handle = client.get_workflow_handle(workflow_id)
        result = await handle.result(rpc_timeout=None)
        assert result == [f"applied-{k}" for k in KEYS]
        assert (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED
        runs = [w.id async for w in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
        assert runs == [workflow_id]  # the run survived the restart: not lost, not duplicated
    finally:
        server.stop()

    _assert_exactly_once(work)
    # Steps completed before the crash come from history: they never ran again.
    assert _executions(work).count("extract") == 1
    assert _executions(work).count("load") == 2


def test_prefect_flow_resumes_from_its_last_checkpoint(
    tmp_path: Path, processes: list[subprocess.Popen[str]], prefect_api_url: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "hold-load").write_text("hold")
    env = {"PREFECT_API_URL": prefect_api_url, "PREFECT_LOGGING_LEVEL": "WARNING"}
    args = ["prefect-run", "--work", str(work), "--keys", ",".join(KEYS)]

    processes.append(_spawn(args, env))
    _wait_for(work / "started-load", processes[0], timeout=90)
    _kill(processes[0])  # the flow's process dies mid-step
    (work / "hold-load").unlink()
    # A rerun within the dead process's lease would meet IdempotencyConflict (transient:
    # retried after the lease in production); here, wait the lease out to keep counts exact.
    _wait_for_lease_expiry(work, "load")

    # Run it again, here: another process, same parameters, same checkpoint folder.
    states = run_prefect(work, KEYS)
    # The step that finished before the crash is loaded from its checkpoint.
    assert states == {"extract": "Cached", "load": "Completed", "publish": "Completed"}

    _assert_exactly_once(work)
    assert _executions(work) == ["extract", "load", "load", "publish"]
