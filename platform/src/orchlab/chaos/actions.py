"""Actions (faults) and rollbacks for chaostoolkit experiments on pipelines and engines.

Reference them as Python-provider actions (``"module": "orchlab.chaos.actions"``). Each
fault has a rollback that undoes it:

=============================  ==========================================================
fault                          rollback
=============================  ==========================================================
:func:`kill_worker`,           :func:`restart_worker` (or ``restart=True``)
:func:`kill_worker_mid_activity`
:func:`restart_temporal_server`  (restarts by itself; :func:`stop_temporal_server` at the end)
:func:`inject_faults`,         :func:`heal`
:func:`inject_latency`,
:func:`partition`
:func:`fill_folder`            :func:`release_folder`
everything above               :func:`stop_everything` (what the experiment started)
=============================  ==========================================================

Safety: a fault names its target by the name it was started under (:func:`start_worker`,
:func:`start_proxy`, :func:`start_temporal_server`); a pid or port orchlab did not start
cannot be named, so an experiment cannot hurt anything else on the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from orchlab.chaos import _owned, _runs
from orchlab.chaos._owned import ChaosError
from orchlab.chaos._proxy import Faults
from orchlab.chaos.probes import proxy_command
from orchlab.runtime._process import free_port, port_open

Configuration = dict[str, Any] | None

BALLAST = ".orchlab-chaos-ballast"
"""The file :func:`fill_folder` writes (and :func:`release_folder` removes)."""


def _folder(configuration: Configuration) -> Path:
    return _owned.chaos_dir(configuration)


def _address(address: str | None, configuration: Configuration) -> str | None:
    """``address`` with ``{name}`` placeholders expanded (None: the configured Temporal)."""
    return _owned.expand(address, _folder(configuration)) if address else None


def _wait_port(port: int, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open("127.0.0.1", port):
            return
        time.sleep(0.05)
    raise ChaosError(f"{what} did not listen on port {port} within {timeout:.0f} s")


# -- fault proxy ------------------------------------------------------------------------------


def start_proxy(
    name: str,
    upstream: str,
    port: int | None = None,
    seed: int | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Start a fault-injecting TCP proxy in front of ``upstream`` (``host:port``).

    Point the client (a worker's ``--address``, a step's URL) at the returned address.

    Returns:
        ``{"name", "address", "upstream"}``.
    """
    folder = _folder(configuration)
    upstream = _owned.expand(upstream, folder)
    listen = port or free_port()
    control = free_port()
    argv = _owned.python_argv(
        "orchlab.chaos._proxy", upstream, "--port", str(listen), "--control-port", str(control)
    )
    if seed is not None:
        argv += ["--seed", str(seed)]
    address = f"127.0.0.1:{listen}"
    meta = {"address": address, "control_port": control, "upstream": upstream}
    _owned.spawn(folder, name, "proxy", argv, meta=meta)
    _wait_port(control, f"fault proxy {name!r}", 30.0)
    _wait_port(listen, f"fault proxy {name!r}", 30.0)
    return {"name": name, "address": address, "upstream": upstream}


def inject_faults(
    name: str,
    latency: float = 0.0,
    jitter: float = 0.0,
    bandwidth: int | None = None,
    reset: float = 0.0,
    blackhole: bool = False,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Set a proxy's faults (replacing the previous ones); see :class:`Faults`.

    Returns:
        The faults now in force.
    """
    proc = _owned.lookup(_folder(configuration), name, "proxy")
    faults = Faults(latency, jitter, bandwidth, reset, blackhole)  # validated here
    answer = proxy_command(int(proc.meta["control_port"]), {"faults": faults.to_dict()})
    return dict(answer["faults"])


def inject_latency(
    name: str, latency: float, jitter: float = 0.0, configuration: Configuration = None
) -> dict[str, Any]:
    """Delay every chunk through the proxy by ``latency +- jitter`` seconds."""
    return inject_faults(name, latency=latency, jitter=jitter, configuration=configuration)


def partition(name: str, configuration: Configuration = None) -> dict[str, Any]:
    """Let nothing through the proxy (a network partition between its two sides)."""
    return inject_faults(name, blackhole=True, configuration=configuration)


def heal(name: str, configuration: Configuration = None) -> dict[str, Any]:
    """Rollback: clear every fault of the proxy."""
    return inject_faults(name, configuration=configuration)


def stop_proxy(name: str, configuration: Configuration = None) -> bool:
    """Stop a proxy; returns whether it was running."""
    return _owned.stop(_folder(configuration), name)


def start_dependency(
    name: str = "dependency", port: int | None = None, configuration: Configuration = None
) -> dict[str, Any]:
    """Start a stand-in dependency (Python's ``http.server`` on loopback, serving a folder
    of its own): what a step calls when an experiment has no real service to hurt.

    Returns:
        ``{"name", "address", "url"}``.
    """
    folder = _folder(configuration)
    root = folder / name
    root.mkdir(parents=True, exist_ok=True)
    (root / "features.json").write_text('{"features": [1, 2, 3]}\n', encoding="utf-8")
    listen = port or free_port()
    argv = _owned.python_argv(
        "http.server", str(listen), "--bind", "127.0.0.1", "--directory", str(root)
    )
    _owned.spawn(folder, name, "dependency", argv, meta={"address": f"127.0.0.1:{listen}"})
    _wait_port(listen, f"dependency {name!r}", 30.0)
    return {"name": name, "address": f"127.0.0.1:{listen}", "url": f"http://127.0.0.1:{listen}"}


# -- workers ----------------------------------------------------------------------------------


def start_worker(
    name: str,
    task_queue: str,
    address: str | None = None,
    pipelines: bool = False,
    metrics_port: int | None = None,
    ready_timeout: float = 60.0,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Start a worker process (:mod:`orchlab.chaos.worker`) and wait until it polls.

    Args:
        name: The name faults use for it.
        task_queue: The queue it polls.
        address: The Temporal frontend it connects to (a proxy's address to put faults
            between worker and server); the configured one by default.
        pipelines: Also run pipeline workflows (slower to start: it loads scikit-learn).
        metrics_port: Serve its circuit breakers on ``/metrics`` on this port.
        ready_timeout: Seconds to wait for its pollers.

    Returns:
        ``{"name", "pid", "task_queue"}``.
    """
    folder = _folder(configuration)
    argv = _owned.python_argv("orchlab.chaos.worker", "--task-queue", task_queue)
    if address:
        argv += ["--address", _owned.expand(address, folder)]
    if pipelines:
        argv.append("--pipelines")
    if metrics_port is not None:
        argv += ["--metrics-port", str(metrics_port)]
    before = _ready_lines(str(folder / "logs" / f"{name}.log"))
    proc = _owned.spawn(folder, name, "worker", argv, meta={"task_queue": task_queue})
    _wait_ready(proc, before, ready_timeout)
    return {"name": name, "pid": proc.pid, "task_queue": task_queue}


READY_LINE = "worker polling"
"""What :mod:`orchlab.chaos.worker` prints once it polls its task queue."""


def _ready_lines(log: str) -> int:
    try:
        return Path(log).read_text(errors="replace").count(READY_LINE)
    except OSError:
        return 0


def _wait_ready(proc: _owned.OwnedProcess, before: int, timeout: float) -> None:
    # The worker's own line, not the server's poller list: pollers of a killed worker
    # linger there for a minute.
    deadline = time.monotonic() + timeout
    while _ready_lines(proc.log) <= before:
        if not proc.alive:
            raise ChaosError(f"worker {proc.name!r} exited during start-up; see {proc.log}")
        if time.monotonic() > deadline:
            raise ChaosError(f"worker {proc.name!r} did not poll within {timeout:.0f} s")
        time.sleep(0.05)


def kill_worker(name: str, configuration: Configuration = None) -> dict[str, Any]:
    """SIGKILL a worker (no shutdown, no goodbye: as a crashed machine).

    Returns:
        ``{"name", "pid"}`` of the process killed.
    """
    proc = _owned.kill(_folder(configuration), name, signal.SIGKILL, kind="worker")
    return {"name": name, "pid": proc.pid}


def restart_worker(
    name: str, ready_timeout: float = 60.0, configuration: Configuration = None
) -> dict[str, Any]:
    """Rollback: start a worker again as it was started, and wait until it polls."""
    folder = _folder(configuration)
    before = _ready_lines(_owned.lookup(folder, name, "worker").log)
    proc = _owned.restart(folder, name)
    _wait_ready(proc, before, ready_timeout)
    return {"name": name, "pid": proc.pid}


def kill_worker_mid_activity(
    name: str,
    workflow_id: str,
    restart: bool = True,
    timeout: float = 30.0,
    activity_id: str | None = None,
    address: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Wait until the worker runs an activity of ``workflow_id`` (``activity_id``, when
    given: a pipeline step's name), then SIGKILL it, and (``restart``) start it again.

    Raises:
        ChaosError: When no activity of the workflow starts within ``timeout`` seconds.
    """

    async def wait_started() -> None:
        client = await _runs.temporal_client(_address(address, configuration))
        deadline = time.monotonic() + timeout
        while not await _runs.pending_activity_started(client, workflow_id, activity_id):
            if time.monotonic() > deadline:
                raise ChaosError(
                    f"no activity of workflow {workflow_id!r} started within {timeout:.0f} s"
                )
            await asyncio.sleep(0.05)

    _runs.run_sync(wait_started())
    killed = kill_worker(name, configuration)
    if restart:
        restarted = restart_worker(name, configuration=configuration)
        return {"name": name, "killed": killed["pid"], "restarted": restarted["pid"]}
    return {"name": name, "killed": killed["pid"]}


def stop_worker(name: str, configuration: Configuration = None) -> bool:
    """Stop a worker gracefully; returns whether it was running."""
    return _owned.stop(_folder(configuration), name)


# -- the Temporal server ----------------------------------------------------------------------


def start_temporal_server(
    name: str = "temporal", port: int | None = None, configuration: Configuration = None
) -> dict[str, Any]:
    """Start a Temporal dev server of the experiment's own, with a persistent database
    (``<chaos dir>/<name>/temporal.db``), so a restart loses nothing.

    Returns:
        ``{"name", "address"}``: pass the address to probes, actions and workers.
    """
    from orchlab.runtime import TemporalDevServer

    folder = _folder(configuration)
    server = TemporalDevServer(folder / name, port=port)
    server.start(timeout=60.0, tie_to_parent=False)
    assert server.process is not None
    argv = server.process.argv
    meta = {"address": server.address, "port": server.port, "state_dir": str(folder / name)}
    _owned.record(folder, _owned.OwnedProcess(name, "temporal", server.pid, argv, meta=meta))
    server.process = None  # recorded: it outlives this object
    return {"name": name, "address": server.address}


def restart_temporal_server(
    name: str = "temporal", down: float = 1.0, configuration: Configuration = None
) -> dict[str, Any]:
    """Stop the experiment's Temporal dev server (SIGTERM), keep it down ``down`` seconds,
    and start it again on the same port and database.

    Returns:
        ``{"name", "address", "down_seconds"}``: how long the frontend did not answer.
    """
    from orchlab.runtime import TemporalDevServer
    from orchlab.runtime._process import stop_group

    folder = _folder(configuration)
    proc = _owned.lookup(folder, name, "temporal")
    began = time.monotonic()
    stop_group(proc.pid)
    time.sleep(down)
    server = TemporalDevServer(Path(proc.meta["state_dir"]), port=int(proc.meta["port"]))
    server.start(timeout=60.0, tie_to_parent=False)
    assert server.process is not None
    _owned.record(
        folder,
        _owned.OwnedProcess(name, "temporal", server.pid, server.process.argv, meta=proc.meta),
    )
    server.process = None
    return {"name": name, "address": server.address, "down_seconds": time.monotonic() - began}


def stop_temporal_server(name: str = "temporal", configuration: Configuration = None) -> bool:
    """Stop the experiment's Temporal dev server; returns whether it was running."""
    return _owned.stop(_folder(configuration), name)


# -- load -------------------------------------------------------------------------------------


def start_canary(
    workflow_id: str,
    task_queue: str,
    url: str,
    timeout: float = 10.0,
    breaker: str | None = None,
    fallback: bool = False,
    hold: float = 0.0,
    address: str | None = None,
    configuration: Configuration = None,
) -> str:
    """Start one canary workflow (a guarded dependency call) without waiting; returns its
    run id. See :mod:`orchlab.chaos._canary`."""
    from orchlab.chaos._canary import CANARY_WORKFLOW, canary_input

    url = _owned.expand(url, _folder(configuration))
    payload = canary_input(url, timeout=timeout, breaker=breaker, fallback=fallback, hold=hold)

    async def start() -> str:
        client = await _runs.temporal_client(_address(address, configuration))
        handle = await client.start_workflow(
            CANARY_WORKFLOW, payload, id=workflow_id, task_queue=task_queue
        )
        return str(handle.result_run_id)

    return _runs.run_sync(start())


def run_canaries(
    count: int,
    task_queue: str,
    url: str,
    timeout: float = 10.0,
    breaker: str | None = None,
    fallback: bool = False,
    id_prefix: str = "canary",
    address: str | None = None,
    deadline: float = 120.0,
    configuration: Configuration = None,
) -> dict[str, int]:
    """Run ``count`` canary workflows at once and wait for them (the load a steady-state
    probe then measures).

    Returns:
        How many ended in each status (``{"COMPLETED": 3}``).
    """
    import uuid

    from orchlab.chaos._canary import CANARY_WORKFLOW, canary_input

    url = _owned.expand(url, _folder(configuration))
    payload = canary_input(url, timeout=timeout, breaker=breaker, fallback=fallback)
    batch = uuid.uuid4().hex[:8]

    async def one(client: Any, i: int) -> str:
        handle = await client.start_workflow(
            CANARY_WORKFLOW, payload, id=f"{id_prefix}-{batch}-{i}", task_queue=task_queue
        )
        with contextlib.suppress(Exception):  # its status below says how it ended
            await handle.result()
        return await _runs.workflow_status(client, handle.id)

    async def run() -> dict[str, int]:
        client = await _runs.temporal_client(_address(address, configuration))
        statuses = await asyncio.wait_for(
            asyncio.gather(*(one(client, i) for i in range(count))), deadline
        )
        counts: dict[str, int] = {}
        for status in statuses:
            counts[status] = counts.get(status, 0) + 1
        return counts

    return _runs.run_sync(run())


def start_pipeline(
    spec: str,
    task_queue: str,
    run_id: str,
    params: dict[str, Any] | None = None,
    workdir: str | None = None,
    address: str | None = None,
    configuration: Configuration = None,
) -> str:
    """Start a declarative pipeline (:mod:`orchlab.pipelines`) as a Temporal workflow on
    ``task_queue`` without waiting; returns its workflow id (``<pipeline>/<run id>``).
    Workers from :func:`start_worker` with ``pipelines=True`` run it; ``{name}`` in a
    parameter is the address of a process the experiment started. Artifacts go to
    ``workdir`` (by default ``<chaos dir>/runs``)."""
    from orchlab.chaos.worker import register_lookup_task
    from orchlab.pipelines._local import prepare_run
    from orchlab.pipelines._temporal_workflow import PipelineInput, PipelineWorkflow

    register_lookup_task()  # the spec is checked here, before a worker sees it
    folder = _folder(configuration)
    bound = {
        k: _owned.expand(v, folder) if isinstance(v, str) else v for k, v in (params or {}).items()
    }
    setup = prepare_run(spec, bound, workdir=workdir or folder / "runs", run_id=run_id)
    payload = PipelineInput(plan=setup.plan, run_id=setup.run_id, workdir=str(setup.workdir))
    workflow_id = f"{setup.plan.pipeline}/{setup.run_id}"

    async def start() -> str:
        client = await _runs.temporal_client(_address(address, configuration))
        await client.start_workflow(
            PipelineWorkflow.run, payload, id=workflow_id, task_queue=task_queue
        )
        return workflow_id

    return _runs.run_sync(start())


# -- disk -------------------------------------------------------------------------------------


def fill_folder(path: str, quota: int, configuration: Configuration = None) -> dict[str, Any]:
    """Fill ``path`` up to ``quota`` bytes in all with a ballast file, as a state folder at
    its disk quota (never past what the disk has free, less 100 MB).

    Returns:
        ``{"path", "ballast_bytes", "used_bytes"}``.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise ChaosError(f"no folder at {folder}")
    used = sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    spare = max(0, shutil.disk_usage(folder).free - 100 * 1024 * 1024)
    size = max(0, min(quota - used, spare))
    with open(folder / BALLAST, "wb") as handle:
        handle.truncate(0)
        block = b"\0" * (1 << 20)
        left = size
        while left > 0:
            left -= handle.write(block[: min(left, len(block))])
        handle.flush()
        os.fsync(handle.fileno())
    return {"path": str(folder), "ballast_bytes": size, "used_bytes": used + size}


def release_folder(path: str, configuration: Configuration = None) -> bool:
    """Rollback: remove :func:`fill_folder`'s ballast; returns whether there was one."""
    ballast = Path(path) / BALLAST
    existed = ballast.exists()
    ballast.unlink(missing_ok=True)
    return existed


# -- cleanup ----------------------------------------------------------------------------------


def stop_everything(configuration: Configuration = None) -> list[str]:
    """Rollback: stop every process this experiment's actions started; returns their names."""
    return _owned.stop_all(_folder(configuration))


__all__ = [
    "BALLAST",
    "fill_folder",
    "heal",
    "inject_faults",
    "inject_latency",
    "kill_worker",
    "kill_worker_mid_activity",
    "partition",
    "release_folder",
    "restart_temporal_server",
    "restart_worker",
    "run_canaries",
    "start_canary",
    "start_dependency",
    "start_pipeline",
    "start_proxy",
    "start_temporal_server",
    "start_worker",
    "stop_everything",
    "stop_proxy",
    "stop_temporal_server",
    "stop_worker",
]
