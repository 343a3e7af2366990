"""Isolate a check run with what the OS offers: namespaces, a throwaway user, a clean env.

Inside the check run's own process, before pytest starts, :func:`enter_sandbox`:

* with a private mount namespace (``unshare(CLONE_NEWNS)``), covers the course's
  ``solutions/``, ``labs/`` and ``grading/checks/`` folders, the batch's inputs and output folder,
  ``/root`` and ``/home`` with empty read-only tmpfs mounts, so the submission cannot read
  solutions, hidden checks or other learners' work;
* with a network namespace of its own (``unshare(CLONE_NEWNET)``) whose only interface is
  its own loopback: no network at all, except, when the checks need an engine, the engines'
  loopback ports, relayed to the batch's shared engines by :mod:`labgrader.relay` (another
  port of the host, another machine or the internet stay out of reach; the engines are
  found by :func:`labgrader.relay.loopback_endpoints`);
* when run as root, becomes a user of its own (a uid from :data:`UID_BASE` up, one per
  concurrent run): it can signal no other process, ``RLIMIT_NPROC`` is enforced, and every
  process it leaves behind, even one that left the process group, is found by its uid and
  killed (:func:`kill_user`);
* when not run as root, makes those namespaces inside a user namespace of its own (where
  the kernel allows unprivileged ones, as most do), then drops back to its user in a nested
  one without capabilities, so the mounts that hide folders are locked;
* always sets ``no_new_privs``: no setuid program can give the run more rights.

Where a step is not possible (no privileges, no namespaces), it is skipped and
:func:`isolation_level` says so in words; resource limits (:mod:`labgrader.limits`), time
limits and the process-group kill still apply. The environment is always scrubbed
(:func:`scrub_environment`): only what Python, pytest and the engines need is kept.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import fcntl
import functools
import os
import shutil
import signal
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labgrader.relay import hand_over, loopback_endpoints, start_relay

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_BIND = 4096
_MS_MOVE = 8192
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_CAPABILITY_VERSION_3 = 0x20080522

UID_BASE = 61000
"""The first uid given to check runs when labgrader runs as root."""
UID_SPAN = 16000
"""The uids from :data:`UID_BASE` that check runs may get (a block of 8 per process)."""

_KEEP_ENV = frozenset(
    {
        "PATH",
        "LANG",
        "LC_ALL",
        "LC_CTYPE",
        "TZ",
        "TERM",
        "VIRTUAL_ENV",
        "TEMPORAL_ADDRESS",
        "PREFECT_API_URL",
        "PREFECT_HOME",
        "PREFECT_SERVER_ANALYTICS_ENABLED",
        "DO_NOT_TRACK",
        "TEMPORAL_VERSION_CHECK_DISABLED",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
        "LABGRADER_GRADING",
        "PYTHONDONTWRITEBYTECODE",
        "PYTHONHASHSEED",
    }
)
_SECRET_WORDS = ("KEY", "TOKEN", "SECRET", "PASSWORD", "CREDENTIAL", "AUTH")


def scrub_environment(env: Mapping[str, str]) -> dict[str, str]:
    """Keep only the variables a check run needs; never secrets, tokens or instructor paths."""
    return {
        k: v
        for k, v in env.items()
        if k in _KEEP_ENV and not any(word in k.upper() for word in _SECRET_WORDS)
    }


@dataclass(frozen=True)
class Sandbox:
    """How to isolate one check run (JSON-ready: it travels to the pre-warmed server)."""

    hide: tuple[str, ...] = ()
    """Folders to cover with an empty tmpfs."""
    keep: tuple[str, ...] = ()
    """Folders inside hidden ones that stay visible (the Python installation)."""
    network: bool = True
    """Share the host's network; ``False`` gives the run a network of its own: loopback only."""
    uid: int | None = None
    """Run as this user (only when started as root)."""
    relay: tuple[str, ...] = ()
    """With a network of its own: the engines' loopback ``host:port`` the run may reach."""

    def to_dict(self) -> dict[str, Any]:
        """The sandbox as plain data."""
        return {
            "hide": list(self.hide),
            "keep": list(self.keep),
            "network": self.network,
            "uid": self.uid,
            "relay": list(self.relay),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sandbox:
        """Read a sandbox written by :meth:`to_dict`."""
        return cls(
            tuple(data.get("hide") or ()),
            tuple(data.get("keep") or ()),
            bool(data.get("network", True)),
            data.get("uid"),
            tuple(data.get("relay") or ()),
        )


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _call(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def enter_sandbox(sandbox: Sandbox, *, work: Path, pid_namespace: bool = False) -> list[str]:
    """Apply a sandbox to the current (single-threaded, freshly forked) process.

    As root, the namespaces are the host's to make and the run then becomes its own user.
    Otherwise the run first enters a user namespace of its own (where the kernel allows
    unprivileged ones), makes its mount and network namespaces there, and finally moves to a
    nested user namespace as its original user, without capabilities, where the mounts that
    hide folders are locked: they cannot be undone from inside.

    Args:
        sandbox: What to apply.
        work: The run's folder: it stays visible and becomes the run user's.
        pid_namespace: Without root, also give the run a PID namespace of its own: it can
            signal no process of the grader's (its user's), and every process it starts ends
            with it. The caller returns as PID 1 of that namespace; the process it was waits
            for it and exits the same way (do not use this where the caller must ``exec``:
            the waiting process keeps the caller's descriptors open).

    Returns:
        What could not be applied, one phrase each (empty when everything was).
    """
    skipped: list[str] = []
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    wanted = bool(sandbox.hide) or not sandbox.network
    relay = start_relay() if not sandbox.network and sandbox.relay else None
    in_userns = False
    if wanted and uid != 0:
        try:
            _user_namespace(libc, inside=0, outside_uid=uid, outside_gid=gid)
            in_userns = True
        except OSError as exc:
            skipped.append(f"no user namespace ({exc.strerror})")
    if sandbox.hide:
        try:
            _call(libc.unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)")
            _call(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "make / private")
            for number, folder in enumerate(sandbox.hide):
                if not os.path.isdir(folder) or Path(work).is_relative_to(folder):
                    continue
                _hide(libc, folder, sandbox.keep, staging=Path(work) / f".keep-{number}")
        except OSError as exc:
            skipped.append(f"no private mount namespace ({exc.strerror})")
    if not sandbox.network:
        try:
            _private_network(libc, sandbox.relay, relay)
        except OSError as exc:
            skipped.append(f"no private network namespace ({exc.strerror})")
    if relay is not None:
        relay.close()
    if in_userns and pid_namespace:
        try:
            _own_pid_namespace(libc)
        except OSError as exc:
            skipped.append(f"no PID namespace of its own ({exc.strerror})")
    if in_userns:
        # Back to the original user, in a nested namespace: no capabilities, locked mounts.
        _user_namespace(libc, inside=uid, outside_uid=0, outside_gid=0, gid=gid)
        _drop_capabilities(libc)
    if sandbox.uid is not None and uid == 0:
        for root, dirs, files in os.walk(work):
            for name in [*dirs, *files]:
                with contextlib.suppress(OSError):
                    os.lchown(os.path.join(root, name), sandbox.uid, sandbox.uid)
        os.chown(work, sandbox.uid, sandbox.uid)
        os.setgroups([])
        os.setgid(sandbox.uid)
        os.setuid(sandbox.uid)
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)  # no setuid programs: no way back up
    return skipped


def _user_namespace(
    libc: ctypes.CDLL, *, inside: int, outside_uid: int, outside_gid: int, gid: int | None = None
) -> None:
    """Enter a new user namespace where ``inside`` is this process's uid (and gid)."""
    flags = CLONE_NEWUSER | (CLONE_NEWNS if inside != 0 else 0)
    _call(libc.unshare(flags), "unshare(CLONE_NEWUSER)")
    with contextlib.suppress(OSError):  # absent on old kernels; needed for gid_map unprivileged
        _write("/proc/self/setgroups", b"deny")
    _write("/proc/self/uid_map", f"{inside} {outside_uid} 1".encode())
    inside_gid = inside if gid is None else gid
    _write("/proc/self/gid_map", f"{inside_gid} {outside_gid} 1".encode())


def _write(path: str, data: bytes) -> None:
    """Write a /proc file with system calls only: until the folders are hidden and the
    Python installation put back, this process may not be able to import anything."""
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def _own_pid_namespace(libc: ctypes.CDLL) -> None:
    """Return as PID 1 of a new PID namespace, with a /proc of its own; the process outside
    waits for it and exits the way it did (the same code, or killed by the same signal)."""
    _call(libc.unshare(CLONE_NEWPID), "unshare(CLONE_NEWPID)")
    pid = os.fork()
    if pid == 0:
        # A session of its own, so that signalling "its group" reaches no process outside;
        # it dies with the process outside, which the grader's time limit kills.
        os.setsid()
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
        with contextlib.suppress(OSError):  # a /proc that shows only the run's own processes
            _call(libc.mount(b"proc", b"/proc", b"proc", flags, None), "mount /proc")
        return
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
        os.kill(os.getpid(), os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status))


def _drop_capabilities(libc: ctypes.CDLL) -> None:
    """Drop every capability this process holds (in its user namespace)."""
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()
    _call(libc.capset(header, data), "capset")


def _private_network(
    libc: ctypes.CDLL, endpoints: Sequence[str], relay: socket.socket | None
) -> None:
    """Move to a network namespace of its own, loopback up; hand the relay the ``endpoints``
    bound there."""
    _call(libc.unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)")
    _loopback_up()
    if relay is not None:
        hand_over(relay, endpoints)


def _loopback_up() -> None:
    """Bring up the loopback interface of a fresh network namespace (it starts down)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request)[:18])[1]
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


def _hide(libc: ctypes.CDLL, folder: str, keep: Sequence[str], *, staging: Path) -> None:
    """Cover ``folder`` with an empty tmpfs, leaving the ``keep`` folders inside it visible."""
    kept = [k for k in keep if Path(k).is_relative_to(folder) and k != folder]
    staged = []
    for number, path in enumerate(kept):
        stage = staging / str(number)
        stage.mkdir(parents=True)
        _call(libc.mount(path.encode(), str(stage).encode(), None, _MS_BIND | _MS_REC, None), path)
        staged.append((path, stage))
    flags = _MS_NOSUID | _MS_NODEV
    _call(
        libc.mount(b"tmpfs", folder.encode(), b"tmpfs", flags, b"size=64k,mode=755"),
        f"hide {folder}",
    )
    for path, stage in staged:
        os.makedirs(path, exist_ok=True)
        _call(libc.mount(str(stage).encode(), path.encode(), None, _MS_MOVE, None), path)
    if staged:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)


def _alive(pid: str) -> bool:
    """Whether a process is running (a zombie is dead: it only waits to be reaped)."""
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return stat_line.rpartition(")")[2].split()[:1] != ["Z"]


def _user_pids(uid: int) -> list[int]:
    pids = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid and _alive(entry.name):
                    pids.append(int(entry.name))
    return pids


def kill_user(uid: int, *, wait: float = 5.0) -> None:
    """Kill every process of a run's own user (what escaped its process group too).

    Waits up to ``wait`` seconds for them to be gone: a killed process that held a lot of
    memory takes a while to exit on a busy machine.
    """
    deadline = time.monotonic() + wait
    pause = 0.01
    while pids := _user_pids(uid):
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if time.monotonic() > deadline:
            return
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _process_base() -> int:
    """This process's block of uids, so two graders on one machine never share a user."""
    return UID_BASE + (os.getpid() % (UID_SPAN // 8)) * 8


@dataclass
class UserPool:
    """Hands out one uid per concurrent run (root only); thread-safe."""

    base: int = field(default_factory=_process_base)
    """The first uid (a block of 8 per process; more concurrent runs go past it)."""
    _free: list[int] = field(default_factory=list)
    _next: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextlib.contextmanager
    def user(self) -> Iterator[int | None]:
        """A uid for one run (``None`` when not root); its processes are killed afterwards."""
        if os.getuid() != 0:
            yield None
            return
        with self._lock:
            if self._free:
                uid = self._free.pop()
            else:
                uid = self.base + self._next
                self._next += 1
        try:
            yield uid
        finally:
            kill_user(uid)
            with self._lock:
                self._free.append(uid)


def default_sandbox(
    course_root: Path | None,
    extra: Sequence[Path] = (),
    *,
    engines: Mapping[str, str] | None = None,
) -> Sandbox:
    """The sandbox of a batch's check runs.

    The folders a check run must not see: the course's answers and checks, learners' work.
    The Python installation and labgrader stay visible inside them (``/root/.pyenv`` when
    Python lives there): the run needs them. The network: the run's own loopback, plus the
    engines' ports when they are on loopback (the host's network when one is remote).

    Args:
        course_root: The course (its ``solutions/``, ``labs/`` and checks are hidden).
        extra: More folders to hide (the batch's inputs and output).
        engines: ``TEMPORAL_ADDRESS`` / ``PREFECT_API_URL`` of the engines the checks need.
    """
    folders: list[Path] = [Path("/root"), Path("/home"), *extra]
    if course_root is not None:
        folders += [
            course_root / "solutions",
            course_root / "labs",
            course_root / "grading" / "checks",
        ]
    needed = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    needed.add(Path(__file__).resolve().parent.parent)
    hide: dict[str, None] = {}
    for folder in folders:
        path = folder.resolve()
        if path.is_file():
            path = path.parent
        if not any(path.is_relative_to(n) for n in needed):
            hide[str(path)] = None
    keep = tuple(str(n) for n in sorted(needed) if any(n.is_relative_to(h) for h in hide))
    relay = loopback_endpoints(engines or {})
    return Sandbox(hide=tuple(hide), keep=keep, network=relay is None, relay=relay or ())


def isolation_level(sandbox: Sandbox) -> str:
    """Describe, in words, the isolation this machine gives check runs."""
    root = os.getuid() == 0
    if not root and not user_namespaces_available():
        return (
            "no namespaces or users of its own (not running as root, and this kernel allows "
            "no unprivileged user namespaces): process limits, time limits and process-group "
            "kills only"
        )
    parts = ["a user of its own per run"] if root else ["a user namespace of its own per run"]
    parts.append("private mount namespace hiding solutions, checks and other learners")
    if sandbox.relay:
        parts.append(f"network: loopback only, to the engines at {', '.join(sandbox.relay)}")
    elif not sandbox.network:
        parts.append("no network")
    else:
        parts.append("the host's network (an engine is not on loopback)")
    if not root:
        parts.append(
            "a PID namespace of its own per run (not running as root: runs share this user, "
            "but cannot signal its other processes, and what a run starts ends with it)"
        )
    return "; ".join(parts)


@functools.cache
def user_namespaces_available() -> bool:
    """Whether this process may make a user namespace (tried in a short-lived child)."""
    pid = os.fork()
    if pid == 0:
        os._exit(0 if _libc().unshare(CLONE_NEWUSER) == 0 else 1)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) == 0


__all__ = [
    "UID_BASE",
    "UID_SPAN",
    "Sandbox",
    "UserPool",
    "default_sandbox",
    "enter_sandbox",
    "isolation_level",
    "kill_user",
    "scrub_environment",
    "user_namespaces_available",
]
