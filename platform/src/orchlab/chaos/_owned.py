"""The processes a chaos experiment may hurt: only those orchlab started for it.

Every process an action starts (a worker, a proxy, a Temporal dev server, a dependency) is
recorded in ``<chaos dir>/owned.json`` with its pid, command line and environment, so a
later action (in the same ``chaos run`` or another) can kill, restart or stop it by *name*.
A name that is not recorded is refused: a fault never touches a pid or port orchlab did not
start. :func:`stop_all` stops what an experiment left (the control does it at the end).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orchlab.errors import OrchlabError
from orchlab.runtime._process import ManagedProcess, pid_alive, stop_group

REGISTRY = "owned.json"


class NotOwned(OrchlabError, LookupError):
    """A fault named a process that orchlab did not start for chaos experiments."""


class ChaosError(OrchlabError, RuntimeError):
    """A chaos action or probe could not do what it was asked (the message says why)."""


def chaos_dir(configuration: Mapping[str, Any] | None = None) -> Path:
    """Where chaos state lives: the experiment's ``chaos_dir`` configuration, else
    ``<state dir>/chaos`` (``.state/chaos``)."""
    configured = (configuration or {}).get("chaos_dir")
    if configured:
        return Path(str(configured)).resolve()
    from orchlab.runtime import find_state_dir

    return find_state_dir() / "chaos"


@dataclass
class OwnedProcess:
    """One process started for chaos experiments."""

    name: str
    """The name actions use."""
    kind: str
    """``worker``, ``proxy``, ``temporal``, ``process``."""
    pid: int
    """Its process-group leader."""
    argv: list[str]
    """How it was started (a restart runs this again)."""
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment it was started with."""
    log: str = ""
    """Its log file."""
    meta: dict[str, Any] = field(default_factory=dict)
    """What else actions need (ports, task queue, state folder)."""

    @property
    def alive(self) -> bool:
        """Whether it is still running."""
        return self.pid > 0 and pid_alive(self.pid)


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[dict[str, OwnedProcess]]:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / REGISTRY
    with open(path, "a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        text = handle.read()
        raw = json.loads(text) if text.strip() else {}
        table = {name: OwnedProcess(**rec) for name, rec in raw.items()}
        yield table
        handle.seek(0)
        handle.truncate()
        handle.write(json.dumps({n: asdict(p) for n, p in table.items()}, indent=2))


def owned(folder: Path) -> dict[str, OwnedProcess]:
    """Every recorded process, alive or not."""
    with _locked(folder) as table:
        return dict(table)


def lookup(folder: Path, name: str, kind: str | None = None) -> OwnedProcess:
    """The recorded process called ``name``.

    Raises:
        NotOwned: When orchlab started no such process (or one of another kind).
    """
    found = owned(folder).get(name)
    if found is None or (kind is not None and found.kind != kind):
        what = f"{kind} " if kind else ""
        raise NotOwned(
            f"orchlab started no {what}process named {name!r} here ({folder}); faults "
            "touch only processes orchlab started (start it with the matching action first)"
        )
    return found


def record(folder: Path, proc: OwnedProcess) -> OwnedProcess:
    """Record (or replace) a process."""
    with _locked(folder) as table:
        table[proc.name] = proc
    return proc


def forget(folder: Path, name: str) -> None:
    """Drop a process from the record."""
    with _locked(folder) as table:
        table.pop(name, None)


def spawn(
    folder: Path,
    name: str,
    kind: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    meta: Mapping[str, Any] | None = None,
) -> OwnedProcess:
    """Start a process in its own group, outliving this one, and record it.

    Raises:
        ChaosError: When a live process of that name is already recorded.
    """
    previous = owned(folder).get(name)
    if previous is not None and previous.alive:
        raise ChaosError(
            f"a {previous.kind} named {name!r} already runs (pid {previous.pid}); stop it "
            "first or pick another name"
        )
    log = folder / "logs" / f"{name}.log"
    child = ManagedProcess(name, argv, log_file=log, env=env, tie_to_parent=False)
    child.start()
    assert child.pid is not None
    proc = OwnedProcess(name, kind, child.pid, list(argv), dict(env or {}), str(log))
    proc.meta = dict(meta or {})
    return record(folder, proc)


_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")


def expand(text: str, folder: Path) -> str:
    """Replace each ``{name}`` in ``text`` by the address (``host:port``) of the process
    recorded under that name: ``http://{dep-proxy}/features.json``. An experiment names
    what its actions started instead of fixing ports.

    Raises:
        NotOwned: When a name is not recorded.
    """

    def address(match: re.Match[str]) -> str:
        meta = lookup(folder, match.group(1)).meta
        if "address" not in meta:
            raise NotOwned(f"process {match.group(1)!r} has no address to put in {text!r}")
        return str(meta["address"])

    return _PLACEHOLDER.sub(address, text)


def python_argv(module: str, *args: str) -> list[str]:
    """``python -m module args...`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def kill(
    folder: Path, name: str, sig: int = signal.SIGKILL, *, kind: str | None = None
) -> OwnedProcess:
    """Send ``sig`` to a recorded process's whole group and wait until it is gone
    (for SIGKILL).

    Raises:
        NotOwned: When orchlab started no such process (of ``kind``, when given).
    """
    proc = lookup(folder, name, kind)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    if sig == signal.SIGKILL:
        stop_group(proc.pid, timeout=5.0)
    return proc


def stop(folder: Path, name: str) -> bool:
    """Stop a recorded process (SIGTERM, then SIGKILL) and forget it. Returns whether it
    was running."""
    proc = owned(folder).get(name)
    if proc is None:
        return False
    was_alive = proc.alive
    if was_alive:
        stop_group(proc.pid, timeout=10.0)
    forget(folder, name)
    return was_alive


def restart(folder: Path, name: str) -> OwnedProcess:
    """Start a recorded process again with the same command line and environment (after
    stopping it if it still runs).

    Raises:
        NotOwned: When orchlab started no such process.
    """
    proc = lookup(folder, name)
    if proc.alive:
        stop_group(proc.pid, timeout=10.0)
    forget(folder, name)
    return spawn(folder, name, proc.kind, proc.argv, env=proc.env, meta=proc.meta)


def stop_all(folder: Path) -> list[str]:
    """Stop every recorded process; returns the names that were running."""
    stopped = []
    for name in list(owned(folder)):
        if stop(folder, name):
            stopped.append(name)
    return stopped


__all__ = [
    "ChaosError",
    "NotOwned",
    "OwnedProcess",
    "chaos_dir",
    "expand",
    "forget",
    "kill",
    "lookup",
    "owned",
    "python_argv",
    "record",
    "restart",
    "spawn",
    "stop",
    "stop_all",
]
