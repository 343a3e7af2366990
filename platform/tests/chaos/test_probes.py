"""The probes against the shared engines' own records: canary runs on a real Temporal dev
server (one that succeeds, one that fails), a worker's /metrics, a dead-letter queue, and
Prefect flow runs."""

from __future__ import annotations

import asyncio
import http.server
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowFailureError
from temporalio.worker import Worker

from orchlab.chaos import probes
from orchlab.chaos._canary import CANARY_WORKFLOW, CanaryWorkflow, canary_input, canary_lookup
from orchlab.runtime._process import free_port


@pytest.fixture(scope="module")
def dependency() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest_asyncio.fixture
async def canaries(
    temporal_client: Client, task_queue: str, dependency: str
) -> AsyncIterator[dict[str, str]]:
    """Two finished canaries on a fresh queue: one completed, one failed (a refused call,
    one attempt, no fallback); and the queue's worker still polling."""
    ids = {"ok": f"ok-{uuid.uuid4().hex[:6]}", "bad": f"bad-{uuid.uuid4().hex[:6]}"}
    refused = f"http://127.0.0.1:{free_port()}/"
    with ThreadPoolExecutor(4) as pool:
        async with Worker(
            temporal_client,
            task_queue=task_queue,
            workflows=[CanaryWorkflow],
            activities=[canary_lookup],
            activity_executor=pool,
        ):
            await temporal_client.execute_workflow(
                CANARY_WORKFLOW, canary_input(dependency), id=ids["ok"], task_queue=task_queue
            )
            with pytest.raises(WorkflowFailureError):
                await temporal_client.execute_workflow(
                    CANARY_WORKFLOW,
                    canary_input(refused, attempts=1),
                    id=ids["bad"],
                    task_queue=task_queue,
                )
            yield ids


async def test_run_stats_read_temporal_visibility(
    canaries: dict[str, str], task_queue: str
) -> None:
    stats = await asyncio.to_thread(
        probes.run_stats, pipeline=CANARY_WORKFLOW, task_queue=task_queue, last=10
    )
    assert (stats["runs"], stats["succeeded"], stats["success_rate"]) == (2, 1, 0.5)
    assert stats["p95_seconds"] == stats["max_seconds"] > 0
    rate = await asyncio.to_thread(probes.success_rate, CANARY_WORKFLOW, task_queue=task_queue)
    assert rate == 0.5
    p95 = await asyncio.to_thread(probes.p95_duration, CANARY_WORKFLOW, task_queue=task_queue)
    assert p95 == stats["p95_seconds"]


async def test_a_queue_without_runs_has_nothing_failed(task_queue: str) -> None:
    stats = await asyncio.to_thread(probes.run_stats, task_queue=task_queue)
    assert stats == {
        "runs": 0, "succeeded": 0, "success_rate": 1.0, "p95_seconds": 0.0, "max_seconds": 0.0
    }  # fmt: skip


async def test_workflow_status_and_lost_runs(canaries: dict[str, str], task_queue: str) -> None:
    assert await asyncio.to_thread(probes.workflow_status, canaries["ok"]) == "COMPLETED"
    assert await asyncio.to_thread(probes.workflow_status, canaries["bad"]) == "FAILED"
    assert await asyncio.to_thread(probes.lost_runs, task_queue, wait=0) == 1


async def test_task_queue_state_sees_the_polling_worker(
    canaries: dict[str, str], task_queue: str
) -> None:
    state = await asyncio.to_thread(probes.task_queue_state, task_queue)
    assert state["workflow"]["pollers"] >= 1
    assert state["activity"]["pollers"] >= 1
    assert await asyncio.to_thread(probes.queue_backlog, task_queue) == 0
    with pytest.raises(ValueError, match="kind must be 'activity' or 'workflow', got 'x'"):
        probes.queue_backlog(task_queue, kind="x")


async def test_temporal_health(temporal_address: str) -> None:
    assert await asyncio.to_thread(probes.temporal_healthy) is True
    silent = f"127.0.0.1:{free_port()}"
    assert await asyncio.to_thread(probes.temporal_healthy, silent, 5.0) is False


def test_breaker_state_from_a_workers_metrics() -> None:
    from orchlab.observability import PipelineMetrics
    from orchlab.reliability import get_breaker

    name = f"feature-store-{uuid.uuid4().hex[:6]}"
    endpoint = PipelineMetrics().serve()
    try:
        assert probes.breaker_state(endpoint.url, name) == "unknown"
        breaker = get_breaker(name, fail_max=1)
        assert probes.breaker_state(endpoint.url, name) == "closed"
        breaker.force_open()
        assert probes.breaker_state(endpoint.url, name) == "open"
    finally:
        endpoint.close()


def test_dead_letter_depth(tmp_path: Path) -> None:
    from orchlab.reliability import DeadLetterQueue

    path = tmp_path / "dlq.sqlite"
    queue = DeadLetterQueue(path)
    assert probes.dead_letters(str(path)) == 0
    queue.put("ingest", ValueError("bad row"), payload={"row": 1})
    assert probes.dead_letters(str(path)) == 1
    assert probes.dead_letters(str(path), status="replayed") == 0


def test_prefect_stats_from_flow_runs(prefect_api_url: str) -> None:
    from prefect import flow

    name = f"chaos-probe-{uuid.uuid4().hex[:6]}"

    @flow(name=name, persist_result=False)
    def pipeline(fail: bool) -> int:
        if fail:
            raise RuntimeError("the step failed")
        return 1

    pipeline(False)
    with pytest.raises(RuntimeError):
        pipeline(True)
    stats = probes.run_stats(name, engine="prefect", last=5)
    assert (stats["runs"], stats["succeeded"], stats["success_rate"]) == (2, 1, 0.5)
    assert probes.prefect_healthy() is True
    assert probes.prefect_healthy(f"http://127.0.0.1:{free_port()}/api", 2.0) is False
