"""labgrader.distributed: a batch over two real worker processes on Temporal, one killed
midway; every submission still gets exactly one row, the same as the local backend's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from conftest import code, write_notebook

from labgrader.batch import grade_batch
from labgrader.worker_auth import write_key
from orchlab.testing.fixtures import temporal_address  # noqa: F401  (a fixture)

SLOW = "import time\ntime.sleep(0.4)\n"


def _answers(add: str, slow: bool = False) -> list:  # type: ignore[type-arg]
    return [
        code((SLOW if slow else "") + "FACTOR = 10"),
        code(add, exercise="add"),
        code("def scale(values):\n    return [v * FACTOR for v in values]", exercise="scale"),
    ]


def _start_worker(
    course: Path, address: str, queue: str, key: Path, store: Path
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "labgrader",
            "worker",
            "--lab",
            "90",
            "--address",
            address,
            "--task-queue",
            queue,
            "--jobs",
            "1",
            "--key-file",
            str(key),
            "--store",
            str(store),
        ],
        cwd=course,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )


def _ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("worker ready"), line


def test_two_workers_one_killed_midway_every_submission_one_row(
    course: Path,
    tmp_path: Path,
    temporal_address: str,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    subs = tmp_path / "subs"
    for i in range(6):
        add = "def add(a, b):\n    return a + b" if i % 2 else "def add(a, b):\n    return a - b"
        write_notebook(subs / f"learner{i}.ipynb", _answers(add, slow=True))
    (subs / "broken.ipynb").write_text("{", encoding="utf-8")
    monkeypatch.chdir(course)
    local = grade_batch(lab="90", submissions=[subs], out=tmp_path / "local")

    queue = f"labgrader-test-{uuid.uuid4().hex[:8]}"
    key, store = tmp_path / "worker.key", tmp_path / "store"
    write_key(key)
    workers = [_start_worker(course, temporal_address, queue, key, store) for _ in range(2)]
    try:
        for proc in workers:
            _ready(proc)

        def kill_first() -> None:
            time.sleep(1.5)  # both workers are grading their first submission
            os.killpg(workers[0].pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_first)
        killer.start()
        remote = grade_batch(
            lab="90",
            submissions=[subs],
            out=tmp_path / "remote",
            backend="temporal",
            address=temporal_address,
            task_queue=queue,
            heartbeat=2.0,
            key_file=key,
            store=store,
        )
        killer.join()
        assert workers[0].wait(timeout=10) == -signal.SIGKILL
    finally:
        for proc in workers:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert [r.learner for r in remote.rows] == [r.learner for r in local.rows]
    assert len(remote.rows) == 7
    assert [(r.learner, r.status, r.score, r.exercises) for r in remote.rows] == [
        (r.learner, r.status, r.score, r.exercises) for r in local.rows
    ]
    lines = (tmp_path / "remote" / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 8 and sorted(lines) == sorted(
        (tmp_path / "local" / "gradebook.csv").read_text(encoding="utf-8").splitlines()
    )
