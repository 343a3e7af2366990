"""The local stack: start, stop and find the embedded services, or use external ones.

``orchlab up`` starts the stack and records it in ``<state_dir>/services.json``; any process
(a notebook kernel, ``orchlab run``, a test) then finds the engines with
:func:`temporal_address` and :func:`prefect_api_url`. ``TEMPORAL_ADDRESS`` and
``PREFECT_API_URL`` always win: that is how the same code runs against a real Temporal
cluster or Prefect server.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from orchlab.config import Settings
from orchlab.errors import ServiceError
from orchlab.runtime._process import http_ok, pid_alive, port_open, stop_group
from orchlab.runtime.services import (
    EmbeddedService,
    JupyterLab,
    PrefectServer,
    ServiceRecord,
    TemporalDevServer,
)

STATE_FILE = "services.json"


def find_state_dir(settings: Settings | None = None) -> Path:
    """The state folder: ``ORCHLAB_STATE_DIR``, else the nearest ``.state`` holding a running
    stack in this folder or a parent (so a kernel in ``labs/01-...`` finds the stack), else
    ``./.state``."""
    if "ORCHLAB_STATE_DIR" in os.environ:
        return Path(os.environ["ORCHLAB_STATE_DIR"]).resolve()
    default = (settings or Settings()).state_dir
    if default.is_absolute():
        return default
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / default / STATE_FILE).exists():
            return folder / default
    return here / default


def read_stack(state_dir: Path | None = None) -> dict[str, ServiceRecord]:
    """The services recorded by ``orchlab up`` that are still alive (empty when none).

    A stale record (its processes gone) is removed.
    """
    path = (state_dir or find_state_dir()) / STATE_FILE
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    records = {name: ServiceRecord(**rec) for name, rec in raw.get("services", {}).items()}
    alive = {name: rec for name, rec in records.items() if pid_alive(rec.pid)}
    if not alive:
        with contextlib.suppress(OSError):
            path.unlink()
    return alive


def write_stack(state_dir: Path, records: dict[str, ServiceRecord]) -> None:
    """Record running services atomically."""
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / f".{STATE_FILE}.tmp"
    body = {"owner_pid": os.getpid(), "services": {n: asdict(r) for n, r in records.items()}}
    tmp.write_text(json.dumps(body, indent=2))
    tmp.replace(state_dir / STATE_FILE)


def clear_stack(state_dir: Path) -> None:
    """Forget the recorded stack."""
    with contextlib.suppress(OSError):
        (state_dir / STATE_FILE).unlink()


def stop_stack(state_dir: Path | None = None) -> list[str]:
    """Stop every recorded service (whoever started it). Returns the names stopped."""
    folder = state_dir or find_state_dir()
    stopped = []
    for name, rec in read_stack(folder).items():
        stop_group(rec.pid)
        stopped.append(name)
    clear_stack(folder)
    return stopped


def _host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


def answers(record: ServiceRecord) -> bool:
    """Whether a recorded service answers right now (its port, health or status endpoint)."""
    if record.name == "temporal":
        return port_open(*_host_port(record.url))
    if record.name == "prefect":
        return http_ok(f"{record.url}/health")
    return http_ok(record.url.replace("/lab?", "/api/status?"))


def temporal_address(state_dir: Path | None = None) -> str:
    """The Temporal frontend to use.

    ``TEMPORAL_ADDRESS`` when set, else the dev server started by ``orchlab up``.

    Raises:
        ServiceError: When neither exists; the message says how to start one.
    """
    if os.environ.get("TEMPORAL_ADDRESS"):
        return os.environ["TEMPORAL_ADDRESS"]
    rec = read_stack(state_dir).get("temporal")
    if rec and port_open(*_host_port(rec.url)):
        return rec.url
    raise ServiceError(
        "no Temporal server found: run `make lab` (or `orchlab up`), or set TEMPORAL_ADDRESS "
        "to a Temporal cluster's frontend (host:port)"
    )


def prefect_api_url(state_dir: Path | None = None) -> str:
    """The Prefect API to use.

    ``PREFECT_API_URL`` when set, else the server started by ``orchlab up``.

    Raises:
        ServiceError: When neither exists; the message says how to start one.
    """
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]
    rec = read_stack(state_dir).get("prefect")
    if rec:
        return rec.url
    raise ServiceError(
        "no Prefect server found: run `make lab` (or `orchlab up`), or set PREFECT_API_URL "
        "to a Prefect server's API (http://host:port/api)"
    )


def ui_urls(state_dir: Path | None = None) -> dict[str, str]:
    """Where a person can watch runs: the Temporal Web UI and the Prefect UI, when known.

    The stack started by ``orchlab up`` records both; ``TEMPORAL_UI_URL`` names an external
    Temporal UI. Engines started headless (tests, ``orchlab exec``) have none.
    """
    urls = {
        name: rec.extra["ui"] for name, rec in read_stack(state_dir).items() if "ui" in rec.extra
    }
    if os.environ.get("TEMPORAL_UI_URL"):
        urls["temporal"] = os.environ["TEMPORAL_UI_URL"]
    return urls


_owned: dict[str, EmbeddedService] = {}


def _own(service: EmbeddedService, timeout: float) -> EmbeddedService:
    service.start(timeout=timeout)
    _owned[service.name] = service
    atexit.register(service.stop)
    return service


def use_prefect(api_url: str) -> None:
    """Point this process (and its children) at a Prefect API, even if Prefect is imported."""
    os.environ["PREFECT_API_URL"] = api_url
    if "prefect.context" in sys.modules:
        sys.modules["prefect.context"].refresh_global_settings_context()


def ensure_temporal(*, timeout: float = 60.0) -> str:
    """Like :func:`temporal_address`, but start a dev server owned by this process when none
    is found (stopped when the process exits). Sets ``TEMPORAL_ADDRESS`` for children."""
    try:
        return temporal_address()
    except ServiceError:
        pass
    server = _owned.get("temporal") or _own(
        TemporalDevServer(Path(tempfile.mkdtemp(prefix="orchlab-temporal-"))), timeout
    )
    assert isinstance(server, TemporalDevServer)
    os.environ["TEMPORAL_ADDRESS"] = server.address
    return server.address


def ensure_prefect(*, timeout: float = 120.0) -> str:
    """Like :func:`prefect_api_url`, but start a Prefect server owned by this process when
    none is found (stopped when the process exits). Points Prefect in this process at it."""
    try:
        url = prefect_api_url()
    except ServiceError:
        server = _owned.get("prefect") or _own(
            PrefectServer(Path(tempfile.mkdtemp(prefix="orchlab-prefect-")), ui=False), timeout
        )
        assert isinstance(server, PrefectServer)
        url = server.api_url
    use_prefect(url)
    return url


class Stack:
    """The whole local stack for ``make lab``: Temporal (with UI), Prefect (with UI) and,
    optionally, JupyterLab on ``labs/``.

    Args:
        settings: Ports, host and state folder.
        jupyter: Also start JupyterLab.
        labs_dir: The folder JupyterLab serves.
    """

    def __init__(
        self, settings: Settings, *, jupyter: bool = False, labs_dir: Path = Path("labs")
    ) -> None:
        self.settings = settings
        self.state_dir = find_state_dir(settings)
        self.jupyter = jupyter
        self.labs_dir = labs_dir
        self.services: list[EmbeddedService] = []
        self.notes: list[str] = []

    def _port(self, wanted: int, what: str) -> int | None:
        """The configured port, or None (a free one) when something else holds it."""
        if port_open(self.settings.host, wanted):
            self.notes.append(f"port {wanted} ({what}) is busy; using a free port instead")
            return None
        return wanted

    def start(self, *, tie_to_parent: bool = True) -> dict[str, ServiceRecord]:
        """Start the services (external ones are used, not started) and record them.

        Raises:
            ServiceError: When a stack is already running here, or a service fails to start
                (those already started are stopped again).
        """
        running = read_stack(self.state_dir)
        if running:
            raise ServiceError(
                "orchlab is already running here: "
                + ", ".join(f"{n} {r.extra.get('ui', r.url)}" for n, r in running.items())
                + " (stop it with Ctrl-C in its terminal, or `orchlab down`)"
            )
        s = self.settings
        env: dict[str, str] = {"ORCHLAB_STATE_DIR": str(self.state_dir)}
        try:
            if s.temporal_address:
                self.notes.append(f"using the external Temporal at {s.temporal_address}")
            else:
                temporal = TemporalDevServer(
                    self.state_dir / "temporal",
                    host=s.host,
                    port=self._port(s.temporal_port, "Temporal"),
                    ui=True,
                    ui_port=self._port(s.temporal_ui_port, "Temporal UI"),
                    namespace=s.temporal_namespace,
                )
                self._start(temporal, tie_to_parent)
                env["TEMPORAL_ADDRESS"] = temporal.address
            if s.prefect_api_url:
                self.notes.append(f"using the external Prefect at {s.prefect_api_url}")
            else:
                prefect = PrefectServer(
                    self.state_dir / "prefect",
                    host=s.host,
                    port=self._port(s.prefect_port, "Prefect"),
                )
                self._start(prefect, tie_to_parent)
                env["PREFECT_API_URL"] = prefect.api_url
            if self.jupyter:
                lab = JupyterLab(
                    self.state_dir / "jupyter",
                    root_dir=self.labs_dir,
                    host=s.host,
                    port=self._port(s.jupyter_port, "JupyterLab"),
                    env=env,
                )
                self._start(lab, tie_to_parent)
        except BaseException:
            self.stop()
            raise
        records = {svc.name: svc.record() for svc in self.services}
        write_stack(self.state_dir, records)
        return records

    def _start(self, service: EmbeddedService, tie_to_parent: bool) -> None:
        self.services.append(service)
        service.start(timeout=self.settings.startup_timeout, tie_to_parent=tie_to_parent)

    def stop(self) -> None:
        """Stop every service this stack started, newest first, and forget the record."""
        for service in reversed(self.services):
            service.stop()
        self.services.clear()
        clear_stack(self.state_dir)


__all__ = [
    "Stack",
    "answers",
    "clear_stack",
    "ensure_prefect",
    "ensure_temporal",
    "find_state_dir",
    "prefect_api_url",
    "read_stack",
    "stop_stack",
    "temporal_address",
    "ui_urls",
    "use_prefect",
    "write_stack",
]
