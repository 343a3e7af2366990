"""The engines (Temporal, Prefect) a lab's checks need, and each submission's share of them.

orchlab's fixtures start an embedded engine once per pytest session unless
``TEMPORAL_ADDRESS`` / ``PREFECT_API_URL`` name one. Grading many notebooks, each in its
own session, would start an engine per notebook; instead labgrader finds or starts each
engine once (through :mod:`orchlab.runtime`) and passes its address to every check run.

No submission may reach another's engine state (issue: a hostile run listing and
terminating its neighbours' workflows). So:

- **Temporal**: every submission gets a dev server of its own, fresh (an empty in-memory
  history), started ahead of need by :class:`FreshTemporal` and killed when its run ends. A
  dev server is healthy in about 0.2 s and costs about 0.15 s of CPU; keeping one more
  than ``jobs`` alive hides the start from the batch. The batch's shared server is never relayed
  into a run (it keeps distributed grading's coordination, see :mod:`labgrader.distributed`).
- **Prefect**: a server takes seconds to start, so the batch's one server is shared, and
  each run reaches it through an API-aware relay (:mod:`labgrader.prefect_relay`) that lets
  it touch only the flows and runs it created.

:func:`run_engines` puts both together for one run: the environment and the relay routes.
"""

from __future__ import annotations

import contextlib
import queue
import shutil
import tempfile
import threading
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from labgrader.errors import ServiceUnavailable
from labgrader.relay import Route

if TYPE_CHECKING:
    from orchlab.runtime import TemporalDevServer

FRESH_START_TIMEOUT = 30.0
"""Seconds a fresh dev server may take to become healthy (under load, more than 0.2 s)."""


def service_env(services: Collection[str], *, start: bool) -> dict[str, str]:
    """Return the environment variables that point check runs at the engines they need.

    Args:
        services: The engines needed: ``temporal``, ``prefect``.
        start: Start an embedded engine (owned by this process, stopped when it exits) when
            none is running. Without it, an engine that is not running is left to the
            checks' own fixtures.

    Returns:
        ``TEMPORAL_ADDRESS`` and/or ``PREFECT_API_URL``.

    Raises:
        ServiceUnavailable: When an engine cannot be started.
    """
    if not services:
        return {}
    # Imported only when a lab needs an engine: it is not needed to grade pure-Python labs.
    from orchlab import runtime
    from orchlab.errors import ServiceError

    env: dict[str, str] = {}
    try:
        if "temporal" in services:
            if start:
                env["TEMPORAL_ADDRESS"] = runtime.ensure_temporal()
            else:
                env["TEMPORAL_ADDRESS"] = runtime.temporal_address()
        if "prefect" in services:
            if start:
                env["PREFECT_API_URL"] = runtime.ensure_prefect()
            else:
                env["PREFECT_API_URL"] = runtime.prefect_api_url()
    except ServiceError as exc:
        if start:
            raise ServiceUnavailable(f"cannot start the engines the checks need: {exc}") from exc
    return env


class FreshTemporal:
    """Temporal dev servers used once each: one per submission, at most ``servers`` alive.

    Thread-safe. A background thread keeps ``servers`` alive, ready or leased; :meth:`lease`
    takes a ready one (waiting when none is ready yet) and kills it when the run is done, so
    no state outlives its submission. With one more server than the batch's ``jobs``, a
    ready one is always waiting (a dev server holds about 110 MB).

    Args:
        servers: Servers alive at once (``jobs + 1`` in a batch).
    """

    def __init__(self, servers: int = 3) -> None:
        if servers < 1:
            raise ValueError(f"servers must be at least 1, got {servers}")
        self._ready: queue.Queue[TemporalDevServer | BaseException] = queue.Queue()
        self._wanted = threading.Semaphore(servers)
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._alive: set[TemporalDevServer] = set()
        self.started = 0
        """How many servers were started (for the batch's figures)."""
        self._thread = threading.Thread(target=self._fill, name="fresh-temporal", daemon=True)
        self._thread.start()

    def _fill(self) -> None:
        from orchlab.errors import ServiceError
        from orchlab.runtime import TemporalDevServer

        while True:
            self._wanted.acquire()
            if self._closed.is_set():
                return
            server = TemporalDevServer(Path(tempfile.mkdtemp(prefix="labgrader-temporal-")))
            try:
                server.start(timeout=FRESH_START_TIMEOUT)
            except ServiceError as exc:
                shutil.rmtree(server.state_dir, ignore_errors=True)
                self._ready.put(ServiceUnavailable(f"cannot start a Temporal dev server: {exc}"))
                continue
            with self._lock:
                self._alive.add(server)
                self.started += 1
                if self._closed.is_set():
                    self._discard(server)
                    return
            self._ready.put(server)

    @contextlib.contextmanager
    def lease(self) -> Iterator[str]:
        """A fresh server's address, for one submission; the server dies afterwards.

        Raises:
            ServiceUnavailable: When no server could be started, or after :meth:`close`.
        """
        if self._closed.is_set():
            raise ServiceUnavailable("the fresh Temporal servers were closed")
        try:
            item = self._ready.get(timeout=FRESH_START_TIMEOUT * 2)
        except queue.Empty:
            raise ServiceUnavailable(
                f"no fresh Temporal dev server came up in {FRESH_START_TIMEOUT * 2:g} s"
            ) from None
        if isinstance(item, BaseException):
            self._wanted.release()
            raise item
        try:
            yield item.address
        finally:
            with self._lock:
                self._discard(item)
            self._wanted.release()

    def _discard(self, server: TemporalDevServer) -> None:
        """Kill a server (no graceful shutdown: nothing of it is kept) and remove its state."""
        self._alive.discard(server)
        if server.process is not None:
            server.process.stop(timeout=0)
            server.process = None
        shutil.rmtree(server.state_dir, ignore_errors=True)

    def close(self) -> None:
        """Stop every server, ready or leased. Safe to call twice."""
        self._closed.set()
        self._wanted.release()
        with self._lock:
            for server in list(self._alive):
                self._discard(server)


@dataclass(frozen=True)
class RunEngines:
    """The engines as one check run sees them."""

    env: dict[str, str]
    """``TEMPORAL_ADDRESS`` / ``PREFECT_API_URL`` inside the run."""
    routes: tuple[str, ...]
    """The relay routes (:meth:`labgrader.relay.Route.text`); empty without a network of
    its own."""


def run_engines(shared: Mapping[str, str], *, temporal: str | None, relayed: bool) -> RunEngines:
    """What one run is given: its own Temporal server and the guarded Prefect route.

    Args:
        shared: The batch's engines (:func:`service_env`).
        temporal: The run's own Temporal server (from :meth:`FreshTemporal.lease`), or
            ``None`` to keep the shared one (a remote cluster).
        relayed: The run has a network of its own (the relay carries its traffic). Without
            one the run is pointed straight at its own server, but nothing but addresses
            keeps it from the others: the batch's isolation says so.
    """
    env: dict[str, str] = {}
    routes: list[str] = []
    if address := shared.get("TEMPORAL_ADDRESS"):
        if relayed:
            env["TEMPORAL_ADDRESS"] = address
            routes.append(Route(address, temporal or address).text())
        else:
            env["TEMPORAL_ADDRESS"] = temporal or address
    if url := shared.get("PREFECT_API_URL"):
        env["PREFECT_API_URL"] = url
        if relayed:
            parts = urlsplit(url)
            endpoint = f"{parts.hostname}:{parts.port or 80}"
            routes.append(Route(endpoint, endpoint, "prefect").text())
    return RunEngines(env, tuple(routes))


__all__ = [
    "FRESH_START_TIMEOUT",
    "FreshTemporal",
    "RunEngines",
    "run_engines",
    "service_env",
]
