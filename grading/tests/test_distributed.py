"""labgrader.distributed: a batch over two real worker processes on Temporal, one killed
midway; every submission still gets exactly one row, the same as the local backend's. And
nothing on the task queue is trusted: a fake worker started by a submission gets no
notebook, and rows forged by a worker without the key are rejected and re-sent."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from conftest import code, solution_cells, write_course, write_notebook
from temporalio import workflow
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.worker import Worker

from labgrader.batch import grade_batch
from labgrader.gradebook import Status
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


ENGINE_CHECKS = """
import pytest


@pytest.mark.check(exercise="add", points=2)
def test_add(nb, temporal_address):
    assert nb.add(1, 2) == 3, f"add(1, 2) should be 3, got {nb.add(1, 2)!r}"


@pytest.mark.check(exercise="scale", points=1)
def test_scale(nb):
    assert nb.scale([1, 2]) == [10, 20], "scale([1, 2]) should be [10, 20]"
"""

FAKE_IDENTITY = "fake-worker-from-a-submission"

FAKE_WORKER = """
import asyncio, os, threading, time
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

TALLY = {{"polled": [], "received": 0}}


@activity.defn(name="labgrader-grade")
def forged(task):
    TALLY["received"] += 1
    return {{"row": {{"learner": task["learner"], "score": 100}}, "signature": "00"}}


@workflow.defn(name="labgrader-grade-submission", sandboxed=False)
class Forge:
    @workflow.run
    async def run(self, task: dict) -> dict:
        TALLY["received"] += 1
        return {{"row": {{"learner": task["learner"], "score": 100}}, "signature": "00"}}


async def serve():
    client = await Client.connect(os.environ["TEMPORAL_ADDRESS"], identity="{identity}")
    workers = [
        Worker(client, task_queue=queue, workflows=[Forge], activities=[forged],
               activity_executor=__import__("concurrent.futures").futures.ThreadPoolExecutor(2))
        for queue in ("labgrader-grading", "{queue}")
    ]
    for w in workers:
        await w.__aenter__()
        TALLY["polled"].append(w.task_queue)
    await asyncio.sleep(5)
    for w in workers:
        await w.__aexit__(None, None, None)


if not os.path.exists(".served"):
    threading.Thread(target=lambda: asyncio.run(serve())).start()
    open(".served", "w").close()
    time.sleep(5.5)


def add(a, b):
    raise RuntimeError(f"FAKE {{TALLY}}")
"""


SEEN: list[dict[str, Any]] = []
"""What the forger was sent."""
FIRST = threading.Event()
"""Set once the forger got a submission."""


@workflow.defn(name="labgrader-grade-submission", sandboxed=False)
class Forge:
    """A forger's workflow: a 3/3 row for anybody, signed with a made-up signature."""

    @workflow.run
    async def run(self, task: dict[str, Any]) -> dict[str, Any]:
        SEEN.append(task)
        FIRST.set()
        row = {"learner": task["learner"], "digest": task["digest"], "score": 3.0}
        return {"row": row, "signature": "f" * 64}


def _forger(address: str, queue: str) -> Any:
    """A worker without the key, outside every sandbox, on the coordinator's own queue: it
    answers every submission with a forged full score and keeps the inputs it was sent."""
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()

    async def serve() -> None:
        client = await Client.connect(address, identity="forger")
        async with Worker(client, task_queue=queue, workflows=[Forge]):
            await stop.wait()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()

    def halt() -> None:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)

    return halt


def test_a_fake_worker_gets_no_notebook_and_forged_rows_are_rejected(
    tmp_path: Path,
    temporal_address: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    course = write_course(tmp_path / "course", checks=ENGINE_CHECKS)
    queue = f"labgrader-test-{uuid.uuid4().hex[:8]}"
    subs = tmp_path / "subs"
    solution = solution_cells()
    write_notebook(
        subs / "a-fake-worker.ipynb",
        [*solution, code(FAKE_WORKER.format(identity=FAKE_IDENTITY, queue=queue))],
    )
    starter = [
        code("def add(a, b):\n    raise NotImplementedError", exercise="add"),
        code("def scale(values):\n    raise NotImplementedError", exercise="scale"),
    ]
    write_notebook(subs / "b-accomplice.ipynb", starter)
    write_notebook(subs / "c-honest.ipynb", solution)
    key, store = tmp_path / "worker.key", tmp_path / "store"
    write_key(key)

    SEEN.clear()
    FIRST.clear()
    halt = _forger(temporal_address, queue)
    real: subprocess.Popen[str] | None = None
    box: dict[str, Any] = {}

    def coordinate() -> None:
        box["report"] = grade_batch(
            lab="90",
            submissions=[subs],
            out=tmp_path / "graded",
            backend="temporal",
            address=temporal_address,
            task_queue=queue,
            heartbeat=5.0,
            key_file=key,
            store=store,
        )

    old = Path.cwd()
    os.chdir(course)
    caplog.set_level(logging.WARNING, logger="labgrader.distributed")
    try:
        coordinator = threading.Thread(target=coordinate)
        coordinator.start()
        assert FIRST.wait(30), "the forger never got a submission"
        # Only now does a real worker come: every first attempt went to the forger.
        real = _start_worker(course, temporal_address, queue, key, store)
        _ready(real)
        coordinator.join(timeout=180)
        assert not coordinator.is_alive()
    finally:
        os.chdir(old)
        halt()
        if real is not None:
            os.killpg(real.pid, signal.SIGKILL)
            real.wait()
    rows = {r.learner: r for r in box["report"].rows}

    assert (rows["b-accomplice"].status, rows["b-accomplice"].score) == (Status.GRADED, 0)
    assert (rows["c-honest"].status, rows["c-honest"].score) == (Status.GRADED, 3)
    assert any("were rejected" in note for note in rows["c-honest"].notes)
    # The fake worker inside its run started, on its own Temporal server: it got nothing.
    fake = " ".join(c["message"] for c in rows["a-fake-worker"].checks if c["exercise"] == "add")
    assert f"'polled': ['labgrader-grading', '{queue}'], 'received': 0" in fake, fake
    # The forger, polling the coordinator itself, got references, never a notebook.
    assert SEEN and all(set(t) >= {"ref", "digest"} and "data" not in t for t in SEEN)
    assert not any("def add" in json.dumps(t) for t in SEEN)
    rejected = [r.getMessage() for r in caplog.records if "rejected the row" in r.getMessage()]
    assert rejected and all("signature does not match" in line for line in rejected), rejected
    assert {line.split()[4] for line in rejected} <= {"a-fake-worker", "b-accomplice", "c-honest"}

    async def pollers() -> set[str]:
        client = await Client.connect(temporal_address)
        found: set[str] = set()
        for kind in (
            TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
            TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
        ):
            for name in ("labgrader-grading", queue):
                answer = await client.workflow_service.describe_task_queue(
                    DescribeTaskQueueRequest(
                        namespace="default",
                        task_queue=TaskQueue(name=name),
                        task_queue_type=kind,
                    )
                )
                found |= {p.identity for p in answer.pollers}
        return found

    assert FAKE_IDENTITY not in asyncio.run(pollers())
