"""Probes for chaostoolkit experiments: the steady state of pipelines and their engines.

Reference them from an experiment as Python-provider probes::

    {"type": "probe", "name": "pipelines-succeed", "tolerance": {"type": "range",
     "range": [1.0, 1.0]}, "provider": {"type": "python", "module": "orchlab.chaos.probes",
     "func": "success_rate", "arguments": {"pipeline": "orchlab-canary", "last": 5}}}

Every probe reads the engine's own records (Temporal visibility, Prefect's flow-run API, a
worker's ``/metrics``, the dead-letter queue's database) and returns plain JSON. A
``configuration`` argument is filled in by chaostoolkit; its ``chaos_dir`` says where the
processes the actions started are recorded.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import urllib.request
from pathlib import Path
from typing import Any

from orchlab.chaos import _owned, _runs
from orchlab.chaos._owned import ChaosError

Configuration = dict[str, Any] | None

logger = logging.getLogger("chaostoolkit")


def _address(address: str | None, configuration: Configuration) -> str | None:
    # ``{name}`` is the address of a process the experiment's actions started.
    return _owned.expand(address, _owned.chaos_dir(configuration)) if address else None


def _stats(
    engine: str, pipeline: str | None, task_queue: str | None, query: str | None, last: int,
    address: str | None, configuration: Configuration,
) -> _runs.RunStats:  # fmt: skip
    address = _address(address, configuration)
    if engine == "temporal":

        async def read() -> _runs.RunStats:
            client = await _runs.temporal_client(address)
            return await _runs.temporal_stats(
                client, workflow_type=pipeline, task_queue=task_queue, query=query, last=last
            )

        return _runs.run_sync(read())
    if engine == "prefect":
        if not pipeline:
            raise ValueError("a Prefect probe needs pipeline= (the flow's name)")
        return _runs.run_sync(_runs.prefect_stats(pipeline, last=last))
    raise ValueError(f"engine must be 'temporal' or 'prefect', got {engine!r}")


def run_stats(
    pipeline: str | None = None,
    engine: str = "temporal",
    task_queue: str | None = None,
    query: str | None = None,
    last: int = 20,
    address: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Success rate, p95 and longest duration of the last ``last`` finished runs.

    Args:
        pipeline: The workflow type (Temporal) or flow name (Prefect); all when omitted
            (Temporal only).
        engine: ``temporal`` or ``prefect``.
        task_queue: Only runs on this Temporal task queue.
        query: More of Temporal's list filter (``WorkflowId STARTS_WITH 'x'``).
        last: How many of the most recent finished runs.
        address: A Temporal frontend other than the configured one.

    Returns:
        ``{"runs", "succeeded", "success_rate", "p95_seconds", "max_seconds"}``.
    """
    return _stats(engine, pipeline, task_queue, query, last, address, configuration).to_dict()


def success_rate(
    pipeline: str | None = None,
    engine: str = "temporal",
    task_queue: str | None = None,
    query: str | None = None,
    last: int = 20,
    address: str | None = None,
    configuration: Configuration = None,
) -> float:
    """The share (0 to 1) of the last ``last`` finished runs that succeeded (1.0 when none
    finished). Arguments as :func:`run_stats`."""
    return _stats(engine, pipeline, task_queue, query, last, address, configuration).success_rate


def p95_duration(
    pipeline: str | None = None,
    engine: str = "temporal",
    task_queue: str | None = None,
    query: str | None = None,
    last: int = 20,
    address: str | None = None,
    configuration: Configuration = None,
) -> float:
    """The 95th percentile duration in seconds of the last ``last`` finished runs (0.0 when
    none finished). Arguments as :func:`run_stats`."""
    return _stats(engine, pipeline, task_queue, query, last, address, configuration).p95_seconds


def workflow_status(
    workflow_id: str,
    wait: float = 0.0,
    address: str | None = None,
    configuration: Configuration = None,
) -> str:
    """A Temporal workflow's status (``RUNNING``, ``COMPLETED``, ``FAILED``, ...).

    Args:
        workflow_id: The workflow.
        wait: Seconds to wait for it to close first (bounded; the status then may still
            be ``RUNNING``).
        address: A Temporal frontend other than the configured one.
    """

    async def read() -> str:
        client = await _runs.temporal_client(_address(address, configuration))
        return await _runs.workflow_status(client, workflow_id, wait=wait)

    return _runs.run_sync(read())


def lost_runs(
    task_queue: str,
    wait: float = 30.0,
    query: str | None = None,
    address: str | None = None,
    configuration: Configuration = None,
) -> int:
    """How many workflows on ``task_queue`` did not complete: failed, timed out,
    terminated, or still running after ``wait`` seconds (each is logged with its id).
    Tolerance: ``0``: every run a fault touched finished, nothing was lost.

    Args:
        task_queue: The queue the experiment's runs use (a fresh one per experiment).
        wait: Seconds to let running workflows finish first.
        query: More of Temporal's list filter.
        address: A Temporal frontend other than the configured one (``{name}`` of a server
            the experiment started).
    """

    async def read() -> list[tuple[str, str]]:
        client = await _runs.temporal_client(_address(address, configuration))
        return await _runs.unfinished_runs(client, task_queue=task_queue, query=query, wait=wait)

    bad = _runs.run_sync(read())
    for workflow_id, status in bad:
        logger.warning("run %s did not complete: %s", workflow_id, status)
    return len(bad)


def temporal_healthy(
    address: str | None = None, timeout: float = 5.0, configuration: Configuration = None
) -> bool:
    """Whether the Temporal frontend answers its health check within ``timeout`` seconds
    (False, not an error, when it is down or silent)."""
    import temporalio.client  # noqa: F401 - loaded before the clock starts

    async def check() -> bool:
        client = await _runs.temporal_client(_address(address, configuration))
        return bool(await client.service_client.check_health())

    try:
        return _runs.run_sync(asyncio.wait_for(check(), timeout))
    except Exception:  # down, refused or silent (a TimeoutError is an Exception)
        return False


def prefect_healthy(api_url: str | None = None, timeout: float = 3.0) -> bool:
    """Whether the Prefect API answers ``/health`` (the configured one by default)."""
    from orchlab.runtime import prefect_api_url
    from orchlab.runtime._process import http_ok

    try:
        url = api_url or prefect_api_url()
    except Exception:
        return False
    return http_ok(f"{url.rstrip('/')}/health", timeout=timeout)


def task_queue_state(
    task_queue: str, address: str | None = None, configuration: Configuration = None
) -> dict[str, Any]:
    """A task queue as the server sees it: ``{"workflow": {"pollers", "backlog",
    "backlog_age_seconds"}, "activity": {...}}``. A backlog that grows while pollers are
    there means the workers cannot keep up (schedule-to-start latency)."""

    async def read() -> dict[str, Any]:
        client = await _runs.temporal_client(_address(address, configuration))
        return await _runs.task_queue_state(client, task_queue)

    return _runs.run_sync(read())


def queue_backlog(
    task_queue: str,
    kind: str = "activity",
    address: str | None = None,
    configuration: Configuration = None,
) -> int:
    """Tasks waiting for a worker on ``task_queue`` (``kind``: ``activity`` or ``workflow``)."""
    if kind not in ("activity", "workflow"):
        raise ValueError(f"kind must be 'activity' or 'workflow', got {kind!r}")
    return int(task_queue_state(task_queue, address, configuration)[kind]["backlog"])


def breaker_state(metrics_url: str, breaker: str) -> str:
    """A worker's circuit breaker state (``closed``, ``open``, ``half-open``), read from its
    ``/metrics`` (``orchlab_breaker_state``); ``unknown`` when the breaker was not used yet.

    Raises:
        ChaosError: When the endpoint does not answer.
    """
    from prometheus_client.parser import text_string_to_metric_families

    try:
        with urllib.request.urlopen(metrics_url, timeout=3.0) as resp:
            text = resp.read().decode()
    except OSError as exc:
        raise ChaosError(f"cannot read metrics at {metrics_url}: {exc}") from exc
    for family in text_string_to_metric_families(text):
        if family.name != "orchlab_breaker_state":
            continue
        for sample in family.samples:
            if sample.labels.get("breaker") == breaker and sample.value == 1.0:
                return str(sample.labels["state"])
    return "unknown"


def dead_letters(path: str | None = None, status: str = "dead") -> int:
    """How many letters of ``status`` the dead-letter queue holds (the configured queue,
    ``<state dir>/reliability/dlq.sqlite``, by default)."""
    from orchlab.reliability import DeadLetterQueue, LetterStatus, default_dlq_path

    queue = DeadLetterQueue(Path(path) if path else default_dlq_path())
    return int(queue.counts().get(LetterStatus(status), 0))


def proxy_state(name: str, configuration: Configuration = None) -> dict[str, Any]:
    """A fault proxy's current faults and counters (connections, resets, bytes)."""
    proc = _owned.lookup(_owned.chaos_dir(configuration), name, "proxy")
    return proxy_command(int(proc.meta["control_port"]), {})


def proxy_command(control_port: int, request: dict[str, Any]) -> dict[str, Any]:
    """Send one request to a proxy's control port and return its answer.

    Raises:
        ChaosError: When the proxy does not answer or refuses the request.
    """
    try:
        with socket.create_connection(("127.0.0.1", control_port), timeout=5.0) as sock:
            sock.sendall(json.dumps(request).encode() + b"\n")
            answer: dict[str, Any] = json.loads(sock.makefile("rb").readline())
    except (OSError, ValueError) as exc:
        raise ChaosError(f"the fault proxy on control port {control_port}: {exc}") from exc
    if "error" in answer:
        raise ChaosError(f"the fault proxy refused: {answer['error']}")
    return answer


__all__ = [
    "breaker_state",
    "dead_letters",
    "lost_runs",
    "p95_duration",
    "prefect_healthy",
    "proxy_command",
    "proxy_state",
    "queue_backlog",
    "run_stats",
    "success_rate",
    "task_queue_state",
    "temporal_healthy",
    "workflow_status",
]
