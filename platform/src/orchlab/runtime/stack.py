"""The local stack: start, stop and find the embedded services, or use external ones.

``orchlab up`` starts the stack and records it in ``<state_dir>/services.json``; any process
(a notebook kernel, ``orchlab run``, a test) then finds the engines with
:func:`connect_temporal` (or :func:`temporal_address`) and :func:`prefect_api_url`. A
configured engine always wins (the Temporal SDK's environment configuration, with TLS and an
API key, and ``PREFECT_API_URL`` / ``PREFECT_API_KEY``, all read through
:mod:`orchlab.config`): that is how the same code runs against a real Temporal cluster or
Prefect server.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from orchlab.config import Settings, get_settings
from orchlab.errors import ServiceError, first_line
from orchlab.files import write_atomic
from orchlab.runtime._process import http_ok, pid_alive, port_open, stop_group
from orchlab.runtime.services import (
    EmbeddedService,
    JupyterLab,
    PrefectServer,
    ServiceRecord,
    TemporalDevServer,
)

if TYPE_CHECKING:
    from temporalio.client import Client

STATE_FILE = "services.json"


def find_state_dir(settings: Settings | None = None) -> Path:
    """The state folder: ``ORCHLAB_STATE_DIR`` when set, else the profile's folder (``.state``,
    ``.state/test``) nearest to here that holds a running stack, in this folder or a parent
    (so a kernel in ``labs/01-...`` finds the stack), else that folder here."""
    s = settings or get_settings()
    if s.state_dir_is_explicit or s.state_dir.is_absolute():
        return s.state_dir.resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / s.state_dir / STATE_FILE).exists():
            return folder / s.state_dir
    return here / s.state_dir


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
    body = {"owner_pid": os.getpid(), "services": {n: asdict(r) for n, r in records.items()}}
    write_atomic(state_dir / STATE_FILE, json.dumps(body, indent=2))


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


def temporal_connect_options(
    settings: Settings | None = None, state_dir: Path | None = None
) -> dict[str, Any]:
    """Keyword arguments for ``temporalio.client.Client.connect``, ``target_host`` included.

    The Temporal SDK's environment configuration (a TOML profile, ``TEMPORAL_*``
    variables: address, namespace, TLS client certificates, API key), with
    ``ORCHLAB_TEMPORAL_ADDRESS`` / ``ORCHLAB_TEMPORAL_NAMESPACE`` on top; when no address is
    configured, the dev server started by ``orchlab up``.

    Args:
        settings: orchlab's settings; read from the environment when omitted.
        state_dir: Where ``orchlab up`` recorded its stack; found when omitted.

    Raises:
        ConfigError: When the Temporal configuration is invalid.
        ServiceError: When no address is configured and no stack runs; the message says how
            to start one.
    """
    s = settings or get_settings()
    options = s.temporal_connect_config()
    if not options.get("target_host"):
        rec = read_stack(state_dir or find_state_dir(s)).get("temporal")
        if not (rec and port_open(*_host_port(rec.url))):
            raise ServiceError(
                "no Temporal server found: run `make lab` (or `orchlab up`), or set "
                "TEMPORAL_ADDRESS to a Temporal cluster's frontend (host:port), or name a "
                "Temporal configuration profile (TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE)"
            )
        options["target_host"] = rec.url
    return options


def temporal_address(state_dir: Path | None = None, settings: Settings | None = None) -> str:
    """The Temporal frontend to use (``host:port``); see :func:`temporal_connect_options`.

    Raises:
        ServiceError: When none is configured or running; the message says how to start one.
    """
    return str(temporal_connect_options(settings, state_dir)["target_host"])


async def connect_temporal(
    settings: Settings | None = None,
    *,
    address: str | None = None,
    namespace: str | None = None,
    **connect_options: Any,
) -> Client:
    """Connect a Temporal client as configured (TLS, API key, namespace included).

    Args:
        settings: orchlab's settings; read from the environment when omitted.
        address: A frontend that beats the configured one (TLS and API key still apply).
        namespace: A namespace that beats the configured one.
        **connect_options: More ``Client.connect`` arguments (``data_converter``,
            ``interceptors``, ...); they beat the configured ones.

    Raises:
        ConfigError: When the Temporal configuration is invalid.
        ServiceError: When no server is configured or running, or it cannot be reached
            (refused, a TLS handshake that fails); the message names the address.
    """
    from temporalio.client import Client

    s = settings or get_settings()
    options = s.temporal_connect_config() if address else temporal_connect_options(s)
    if address:
        options["target_host"] = address
    if namespace:
        options["namespace"] = namespace
    options.update(connect_options)
    try:
        return await Client.connect(**options)
    except RuntimeError as exc:  # the SDK's "Failed client connect: ..." (TLS, refused, ...)
        if address:
            source = "the address given"
        else:
            from orchlab.config._temporal import temporal_address_source

            source = temporal_address_source(s) or "the engines `make lab` started"
        raise ServiceError(
            f"cannot reach Temporal at {options['target_host']} (from {source}; namespace "
            f"{options.get('namespace', 'default')}): {connect_cause(exc)}. Start the engines "
            "with `make lab` (or `orchlab up`), or set TEMPORAL_ADDRESS to a reachable frontend"
        ) from exc


_CAUSES = (
    ("connection refused", "connection refused (nothing listens there)"),
    ("dns error", "the host name does not resolve"),
    ("failed to lookup address", "the host name does not resolve"),
    ("timed out", "no answer in time"),
    ("deadline", "no answer in time"),
    ("certificate", "the TLS handshake failed (check the certificates)"),
    (
        "error after connection",
        "the server closed the connection while it was set up (does it want a TLS client "
        "certificate or other credentials?)",
    ),
    ("tls", "the TLS handshake failed (check TEMPORAL_TLS* and the certificates)"),
    ("unauthenticated", "the server refused the credentials (API key or client certificate)"),
    ("permission", "the server refused the credentials (API key or client certificate)"),
)


def connect_cause(exc: BaseException) -> str:
    """What went wrong with a connection, in a few words instead of a transport dump."""
    text = str(exc).lower()
    if found := re.search(r"InvalidCertificate\([A-Za-z]+\)", str(exc)):
        return (
            f"the server's certificate is not trusted ({found.group(0)}): check "
            "TEMPORAL_TLS_SERVER_CA_CERT_PATH and TEMPORAL_TLS_SERVER_NAME"
        )
    for marker, words in _CAUSES:
        if marker in text:
            return words
    return first_line(exc)[:200]


def reach_prefect(api_url: str, *, source: str, timeout: float = 5.0) -> None:
    """Fail fast, in one line, when nothing answers at a Prefect API.

    Any HTTP answer counts (a server that wants an API key still answers); only a transport
    failure (refused, unresolvable, silent) is an error.

    Raises:
        ServiceError: Naming the URL, where it came from and what to do.
    """
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{api_url.rstrip('/')}/health", timeout=timeout):
            return
    except urllib.error.HTTPError:
        return
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ServiceError(
            f"cannot reach Prefect at {api_url} (from {source}): {connect_cause(reason)}. "
            "Start the engines with `make lab` (or `orchlab up`), or set PREFECT_API_URL to a "
            "reachable server's API (http://host:port/api)"
        ) from None


def prefect_api_url(state_dir: Path | None = None, settings: Settings | None = None) -> str:
    """The Prefect API to use.

    ``PREFECT_API_URL`` (or ``ORCHLAB_PREFECT_API_URL``) when set, else the server started by
    ``orchlab up``.

    Raises:
        ServiceError: When neither exists; the message says how to start one.
    """
    s = settings or get_settings()
    if s.prefect_api_url:
        return s.prefect_api_url
    rec = read_stack(state_dir or find_state_dir(s)).get("prefect")
    if rec:
        return rec.url
    raise ServiceError(
        "no Prefect server found: run `make lab` (or `orchlab up`), or set PREFECT_API_URL "
        "to a Prefect server's API (http://host:port/api) and, if it needs one, PREFECT_API_KEY"
    )


def prefect_api_source(api_url: str, settings: Settings | None = None) -> str:
    """Where a Prefect API URL comes from, in words, for an error message."""
    s = settings or get_settings()
    if s.prefect_api_url and s.prefect_api_url.rstrip("/") == api_url.rstrip("/"):
        return "PREFECT_API_URL"
    rec = read_stack(find_state_dir(s)).get("prefect")
    if rec and rec.url.rstrip("/") == api_url.rstrip("/"):
        return "the engines `make lab` started"
    return "Prefect's own settings" if not s.prefect_api_url else "the address given"


def ui_urls(state_dir: Path | None = None, settings: Settings | None = None) -> dict[str, str]:
    """Where a person can watch runs: the Temporal Web UI and the Prefect UI, when known.

    The stack started by ``orchlab up`` records both; ``TEMPORAL_UI_URL`` names an external
    Temporal UI. Engines started headless (tests, ``orchlab exec``) have none.
    """
    s = settings or get_settings()
    urls = {
        name: rec.extra["ui"]
        for name, rec in read_stack(state_dir or find_state_dir(s)).items()
        if "ui" in rec.extra
    }
    if s.temporal_ui_url:
        urls["temporal"] = s.temporal_ui_url
    return urls


def run_link(
    engine: str,
    engine_run_id: str,
    *,
    namespace: str | None = None,
    state_dir: Path | None = None,
    settings: Settings | None = None,
) -> str | None:
    """A direct link to one run in its engine's UI, or ``None`` when no UI is known.

    Args:
        engine: ``temporal`` or ``prefect`` (anything else has no UI).
        engine_run_id: The Temporal workflow id, or the Prefect flow run id.
        namespace: The Temporal namespace (default: the configured one).
        state_dir: Where ``orchlab up`` recorded the UIs; found when omitted.
        settings: orchlab's settings; read from the environment when omitted.

    Returns:
        ``<Temporal UI>/namespaces/<ns>/workflows/<id>`` or ``<Prefect UI>/runs/flow-run/<id>``.
    """
    s = settings or get_settings()
    ui = ui_urls(state_dir, s).get(engine)
    if not ui or not engine_run_id:
        return None
    ui = ui.rstrip("/")
    if engine == "temporal":
        ns = quote(namespace or s.temporal_namespace, safe="")
        return f"{ui}/namespaces/{ns}/workflows/{quote(engine_run_id, safe='')}"
    if engine == "prefect":
        return f"{ui}/runs/flow-run/{quote(engine_run_id, safe='')}"
    return None


_owned: dict[str, EmbeddedService] = {}


def _own(service: EmbeddedService, timeout: float | None) -> EmbeddedService:
    service.start(timeout=timeout)
    _owned[service.name] = service
    atexit.register(service.stop)
    return service


def use_prefect(api_url: str, api_key: str | None = None) -> None:
    """Point this process (and its children) at a Prefect API, even if Prefect is imported.

    Args:
        api_url: The API (``http://host:port/api``).
        api_key: The API key to send; by default the configured one (``PREFECT_API_KEY``),
            if any.
    """
    key = api_key
    if key is None and (configured := get_settings().prefect_api_key) is not None:
        key = configured.get_secret_value()
    os.environ["PREFECT_API_URL"] = api_url
    if key is not None:
        os.environ["PREFECT_API_KEY"] = key
    if "prefect.context" in sys.modules:
        sys.modules["prefect.context"].refresh_global_settings_context()


def ensure_temporal(*, timeout: float = 60.0) -> str:
    """Like :func:`temporal_address`, but start a dev server owned by this process when none
    is found (stopped when the process exits). Sets ``TEMPORAL_ADDRESS`` for children.

    Raises:
        ServiceError: When none is found and the profile (``prod``) starts no embedded engine.
    """
    settings = get_settings()
    try:
        return temporal_address(settings=settings)
    except ServiceError:
        if not settings.embedded_allowed:
            raise
    server = _owned.get("temporal") or _own(
        TemporalDevServer(Path(tempfile.mkdtemp(prefix="orchlab-temporal-"))), timeout
    )
    assert isinstance(server, TemporalDevServer)
    os.environ["TEMPORAL_ADDRESS"] = server.address
    return server.address


def ensure_prefect(*, timeout: float | None = None) -> str:
    """Like :func:`prefect_api_url`, but start a Prefect server owned by this process when
    none is found (stopped when the process exits). Points Prefect in this process at it.

    Raises:
        ServiceError: When none is found and the profile (``prod``) starts no embedded engine.
    """
    settings = get_settings()
    try:
        url = prefect_api_url(settings=settings)
    except ServiceError:
        if not settings.embedded_allowed:
            raise
        server = _owned.get("prefect") or _own(
            PrefectServer(Path(tempfile.mkdtemp(prefix="orchlab-prefect-")), ui=False), timeout
        )
        assert isinstance(server, PrefectServer)
        url = server.api_url
    use_prefect(url)
    return url


_LABELS = {"temporal": "Temporal", "prefect": "Prefect", "jupyter": "JupyterLab"}


class Stack:
    """The whole local stack for ``make lab``: Temporal (with UI), Prefect (with UI) and,
    optionally, JupyterLab on ``labs/``.

    Args:
        settings: Ports, host and state folder.
        jupyter: Also start JupyterLab.
        labs_dir: The folder JupyterLab serves.
        on_stage: Called with what is starting ("starting Prefect...") and, once it
            answers, how long it took ("Prefect ready in 12.3 s").
    """

    def __init__(
        self,
        settings: Settings,
        *,
        jupyter: bool = False,
        labs_dir: Path = Path("labs"),
        on_stage: Callable[[str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.state_dir = find_state_dir(settings)
        self.jupyter = jupyter
        self.labs_dir = labs_dir
        self.on_stage = on_stage
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
        temporal_config = s.temporal_connect_config()
        external_temporal = temporal_config.get("target_host")
        wanted = (
            ("Temporal", external_temporal, "TEMPORAL_ADDRESS"),
            ("Prefect", s.prefect_api_url, "PREFECT_API_URL"),
        )
        for engine, external, variable in wanted:
            if not external and not s.embedded_allowed:
                raise ServiceError(
                    f"profile {s.profile.value!r} starts no embedded {engine}: set {variable} "
                    "to an external one"
                )
        try:
            if external_temporal:
                self.notes.append(f"using the external Temporal at {external_temporal}")
            else:
                temporal = TemporalDevServer(
                    self.state_dir / "temporal",
                    host=s.host,
                    port=self._port(s.temporal_port, "Temporal"),
                    ui=True,
                    ui_port=self._port(s.temporal_ui_port, "Temporal UI"),
                    namespace=temporal_config["namespace"],  # the one clients will use
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
        label = _LABELS.get(service.name, service.name)
        say = self.on_stage or (lambda _: None)
        say(f"starting {label}...")
        began = time.monotonic()
        service.start(timeout=self.settings.startup_timeout, tie_to_parent=tie_to_parent)
        say(f"{label} ready in {time.monotonic() - began:.1f} s")

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
    "connect_cause",
    "connect_temporal",
    "ensure_prefect",
    "ensure_temporal",
    "find_state_dir",
    "prefect_api_source",
    "prefect_api_url",
    "reach_prefect",
    "read_stack",
    "run_link",
    "stop_stack",
    "temporal_address",
    "temporal_connect_options",
    "ui_urls",
    "use_prefect",
    "write_stack",
]
