"""Submissions cannot touch each other on the engines: a hostile lab 01 submission graded
next to and before honest ones, on the real Temporal dev server and Prefect server.

The hostile notebook is the lab's solution plus a cell that, for several seconds while its
neighbours run, lists and terminates every Temporal workflow it can see, starts workflows
on every task queue it learns of, and on Prefect lists and deletes flow runs and writes a
variable, a block and an artifact. It reports what it managed through its ``dag-order``
answer (which raises with the tally, so the row's message carries it). The honest notebooks
are the solution plus a cell that looks for anything the hostile one left and crashes its
own run (0 points) when it finds any. The test itself leaves a workflow and a flow run on
the batch's shared engines first, and checks they are untouched afterwards.

The batch is graded on three of the lab's exercises, with their real checks: ``dag-order``
(which carries the tally) and the two that run on the engines, ``temporal-pipeline`` and
``prefect-pipeline``. The other exercises are pure Python and add nothing to a claim about
the engines (the whole lab is graded by ``labgrader validate`` and the grader's own tests).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
import uuid
from datetime import timedelta
from pathlib import Path

import httpx
import nbformat
import pytest
from temporalio import workflow
from temporalio.client import Client, WorkflowExecutionStatus

from labgrader.batch import grade_batch
from labgrader.gradebook import Row, Status
from labgrader.services import service_env

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "01-pipeline-patterns" / "01-pipeline-patterns.ipynb"
CHECKS = ROOT / "grading" / "checks" / "01-pipeline-patterns"
EXERCISES = {"dag-order", "temporal-pipeline", "prefect-pipeline"}
"""The exercises graded: the tally's and the two on the engines."""
MARK = "labgrader-engines-9431"

ATTACK = f'''
import asyncio as _asyncio, json as _json, os as _os, threading as _threading, time as _time
import httpx as _httpx
from temporalio.client import Client as _Client

_TALLY = {{"seen": 0, "foreign": 0, "terminated": 0, "started": 0, "queues": [], "prefect": {{}}}}


async def _temporal_attack():
    client = await _Client.connect(_os.environ["TEMPORAL_ADDRESS"])
    deadline = _time.monotonic() + 4
    while _time.monotonic() < deadline:
        async for wf in client.list_workflows():
            _TALLY["seen"] += 1
            if "{MARK}" not in wf.id:
                _TALLY["foreign"] += 1
            if wf.status and wf.status.name == "RUNNING" and "{MARK}" not in wf.id:
                try:
                    await client.get_workflow_handle(wf.id, run_id=wf.run_id).terminate("hostile")
                    _TALLY["terminated"] += 1
                except Exception:
                    pass
            if wf.task_queue not in _TALLY["queues"]:
                _TALLY["queues"].append(wf.task_queue)
        for queue in [*_TALLY["queues"], "labgrader-grading", "default"]:
            try:
                await client.start_workflow(
                    "wine-quality", id=f"{MARK}-{{queue}}-{{__import__('uuid').uuid4().hex}}",
                    task_queue=queue, arg={{"leak": "{MARK}"}},
                    execution_timeout=__import__("datetime").timedelta(minutes=5),
                )
                _TALLY["started"] += 1
            except Exception:
                pass
        await _asyncio.sleep(0.3)


def _prefect_attack():
    api = _os.environ["PREFECT_API_URL"].rstrip("/")
    out = _TALLY["prefect"]
    with _httpx.Client(base_url=api, timeout=5) as http:
        runs = http.post("/flow_runs/filter", json={{}})
        out["filter"] = runs.status_code
        ids = [r["id"] for r in runs.json()] if runs.status_code == 200 else []
        for run in ids:
            http.delete(f"/flow_runs/{{run}}")
        out["deleted"] = len(ids)
        guess = __import__("uuid").uuid4()
        out["delete-guess"] = http.delete(f"/flow_runs/{{guess}}").status_code
        writes = {{
            "variable": ("/variables/", {{"name": "{MARK}", "value": "answers"}}),
            "block": ("/block_documents/", {{"name": "{MARK}", "data": {{}}}}),
            "artifact": ("/artifacts/", {{"key": "{MARK}", "data": "answers"}}),
        }}
        for what, (path, body) in writes.items():
            out[what] = http.post(path, json=body).status_code


# Once per run (the notebook's module may be loaded more than once): the tally is kept.
if not _os.path.exists(".attacked"):
    _worker = _threading.Thread(target=lambda: _asyncio.run(_temporal_attack()))
    _worker.start()
    _prefect_attack()
    _worker.join()
    with open(".attacked", "w") as _f:
        _json.dump(_TALLY, _f)
else:
    with open(".attacked") as _f:
        _TALLY = _json.load(_f)


def execution_order(deps):
    raise RuntimeError("TALLY " + _json.dumps(_TALLY))
'''

PROBE = f'''
import asyncio as _asyncio, os as _os, threading as _threading
import httpx as _httpx
from temporalio.client import Client as _Client

_FOUND = []


async def _look():
    client = await _Client.connect(_os.environ["TEMPORAL_ADDRESS"])
    async for wf in client.list_workflows():
        if "{MARK}" in wf.id:
            _FOUND.append(wf.id)


_t = _threading.Thread(target=lambda: _asyncio.run(_look()))
_t.start()
_t.join()
with _httpx.Client(base_url=_os.environ["PREFECT_API_URL"].rstrip("/"), timeout=5) as _http:
    for _path in ("/variables/name/{MARK}", "/artifacts/latest/{MARK}"):
        if _http.get(_path).status_code == 200:
            _FOUND.append(_path)
if _FOUND:
    _os._exit(7)  # a trace of another submission: this run must not earn anything
'''


def _notebook(path: Path, extra: str, *, before: str | None = None) -> None:
    nb = nbformat.read(SOLUTION, as_version=4)
    cell = nbformat.v4.new_code_cell(extra)
    if before is None:
        nb.cells.append(cell)
    else:  # after the exercise's own cell, so that the hostile definition wins
        index = next(i for i, c in enumerate(nb.cells) if c.metadata.get("exercise") == before)
        nb.cells.insert(index + 1, cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


@workflow.defn(name="labgrader-engines-bystander", sandboxed=False)
class Bystander:
    """Never served: it only has to stay running."""

    @workflow.run
    async def run(self) -> None:
        await workflow.sleep(3600)


def _created(http: httpx.Client, path: str, body: dict[str, object]) -> str:
    """POST a new Prefect object and return its id; a busy SQLite server may answer 5xx
    for a moment (database locked), which is retried, never taken as an id."""
    for _ in range(10):
        response = http.post(path, json=body)
        if response.status_code < 500:
            break
        time.sleep(0.5)
    assert response.status_code in (200, 201), (
        f"POST {path}: {response.status_code} {response.text}"
    )
    return str(response.json()["id"])


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    shared = service_env({"temporal", "prefect"}, start=True)
    bystander = f"bystander-{uuid.uuid4().hex[:8]}"

    async def leave_a_workflow() -> None:
        client = await Client.connect(shared["TEMPORAL_ADDRESS"])
        await client.start_workflow(
            Bystander.run,
            id=bystander,
            task_queue="labgrader-grading",
            execution_timeout=timedelta(minutes=10),
        )

    asyncio.run(leave_a_workflow())
    api = shared["PREFECT_API_URL"].rstrip("/")
    with httpx.Client(base_url=api, timeout=30) as http:
        flow = _created(http, "/flows/", {"name": f"bystander-{MARK}"})
        flow_run = _created(http, "/flow_runs/", {"flow_id": flow})

    base = tmp_path_factory.mktemp("engines")
    checks = base / "checks" / CHECKS.name
    checks.mkdir(parents=True)
    shutil.copy(CHECKS / "conftest.py", checks)
    for exercise in EXERCISES:
        shutil.copy(CHECKS / f"test_{exercise.replace('-', '_')}.py", checks)
    subs = base / "subs"
    _notebook(subs / "a-hostile.ipynb", ATTACK, before="dag-order")
    for name in ("b-honest", "c-honest"):
        _notebook(subs / f"{name}.ipynb", PROBE)
    old = Path.cwd()
    os.chdir(ROOT)
    try:
        report = grade_batch(
            lab="01", submissions=[subs], out=base / "graded", jobs=2, checks_dir=checks
        )
    finally:
        os.chdir(old)
    return {
        "rows": {r.learner: r for r in report.rows},
        "isolation": report.isolation,
        "shared": shared,
        "bystander": bystander,
        "flow_run": flow_run,
    }


def _rows(batch: dict[str, object]) -> dict[str, Row]:
    rows = batch["rows"]
    assert isinstance(rows, dict)
    return rows


def _tally(row: Row) -> dict[str, object]:
    text = " ".join(c["message"] for c in row.checks if c["exercise"] == "dag-order")
    match = re.search(r"TALLY \{", text)
    assert match, f"the hostile submission's tally is missing: {text!r}"
    tally, _ = json.JSONDecoder().raw_decode(text, match.end() - 1)
    return tally  # type: ignore[no-any-return]


def test_honest_neighbours_keep_full_marks(batch: dict[str, object]) -> None:
    for name in ("b-honest", "c-honest"):
        row = _rows(batch)[name]
        assert (row.status, row.score) == (Status.GRADED, row.max_score), (row.message, row.checks)
        assert row.max_score > 0
        assert {c["exercise"] for c in row.checks} == EXERCISES
        assert all(c["passed"] for c in row.checks), row.checks


def test_the_hostile_submission_sees_and_terminates_only_its_own_workflows(
    batch: dict[str, object],
) -> None:
    tally = _tally(_rows(batch)["a-hostile"])
    assert tally["started"], tally  # the attack ran, on its own server
    assert tally["foreign"] == 0, tally  # nothing of a neighbour's, nor of the batch's
    # The only task queues it ever saw are those it started workflows on itself.
    assert set(tally["queues"]) <= {"labgrader-grading", "default"}, tally


def test_the_hostile_submission_can_neither_list_delete_nor_write_on_prefect(
    batch: dict[str, object],
) -> None:
    prefect = _tally(_rows(batch)["a-hostile"])["prefect"]
    assert prefect == {
        "filter": 403,
        "deleted": 0,
        "delete-guess": 403,
        "variable": 403,
        "block": 403,
        "artifact": 403,
    }


def test_the_batchs_own_engine_state_is_untouched(batch: dict[str, object]) -> None:
    shared = batch["shared"]
    assert isinstance(shared, dict)

    async def status() -> tuple[WorkflowExecutionStatus | None, list[str]]:
        client = await Client.connect(shared["TEMPORAL_ADDRESS"])
        handle = client.get_workflow_handle(str(batch["bystander"]))
        described = await handle.describe()
        leaked = [wf.id async for wf in client.list_workflows(f"WorkflowId STARTS_WITH '{MARK}'")]
        await handle.terminate("test over")
        return described.status, leaked

    state, leaked = asyncio.run(status())
    assert state is WorkflowExecutionStatus.RUNNING
    assert leaked == []
    with httpx.Client(base_url=shared["PREFECT_API_URL"].rstrip("/"), timeout=10) as http:
        assert http.get(f"/flow_runs/{batch['flow_run']}").status_code == 200
        assert http.get(f"/variables/name/{MARK}").status_code == 404
        artifacts = {"artifacts": {"key": {"any_": [MARK]}}}
        assert http.post("/artifacts/filter", json=artifacts).json() == []
        names = [b["name"] for b in http.post("/block_documents/filter", json={}).json()]
        assert MARK not in names


def test_the_isolation_says_each_submission_has_its_own_engine_state(
    batch: dict[str, object],
) -> None:
    assert "a fresh Temporal dev server of its own per submission" in str(batch["isolation"])
    assert "Prefect: only the flows and runs it created" in str(batch["isolation"])
