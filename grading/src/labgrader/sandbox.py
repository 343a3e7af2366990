"""Isolate a check run with what the OS offers: namespaces, a throwaway user, a clean env.

Inside the check run's own process, before pytest starts, :func:`enter_sandbox`:

* with a private mount namespace (``unshare(CLONE_NEWNS)``), moves into a private root
  assembled from bind mounts (:mod:`labgrader.rootfs`): its workspace, the system's programs
  and libraries and the Python installation (read-only, at their own paths, so the
  interpreter and every imported module keep working), empty ``/tmp``, ``/var/tmp``,
  ``/run`` and ``/dev/shm`` of its own (and System V IPC of its own), and nothing else.
  What is not exposed does not exist there: not the course's checkout around its ``.venv``
  (its root, ``.git``, ``solutions/``, ``labs/``, ``grading/checks/``), not the batch's
  inputs and output, not another run's files;
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
  one without capabilities, so the mounts of its root are locked;
* always sets ``no_new_privs``: no setuid program can give the run more rights.

The learner's own process, forked from the check run, narrows its view again with
:func:`enter_learner_sandbox`: its own folder, the installation, its own private folders.

Where a step is not possible (no privileges, no namespaces), it is skipped and
:func:`isolation_level` says so in words (once the mount namespace is made, a root that
cannot be assembled stops the run instead: half a root would show the host's files);
resource limits (:mod:`labgrader.limits`), time limits and the process-group kill still
apply. The environment is always scrubbed
(:func:`scrub_environment`): only what Python, pytest and the engines need is kept.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import fcntl
import functools
import json
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labgrader.errors import LabgraderError
from labgrader.relay import hand_over, loopback_endpoints, start_relay
from labgrader.rootfs import PRIVATE_FOLDERS, enter_private_root
from labgrader.rootfs import check as _call
from labgrader.rootfs import libc as _libc

CLONE_NEWNS = 0x00020000
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWIPC = 0x08000000
_MS_NOSUID = 2
_MS_NODEV = 4
_MS_NOEXEC = 8
_MS_REC = 16384
_MS_PRIVATE = 1 << 18
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
_PR_SET_PDEATHSIG = 1
_PR_GET_DUMPABLE = 3
_PR_SET_DUMPABLE = 4
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


class SandboxError(LabgraderError, RuntimeError):
    """A sandbox that would show a run what it must not see, or that could not be entered."""


@dataclass(frozen=True)
class Sandbox:
    """How to isolate one check run (JSON-ready: it travels to the pre-warmed server)."""

    expose: tuple[str, ...] = ()
    """Folders the run sees read-only, at their own path (the Python installation and the
    libraries' source folders); with any, the run gets a private root that holds only these,
    the system's folders, its workspace and its private folders. Without, its root is the
    host's (no mount namespace at all)."""
    hide: tuple[str, ...] = ()
    """Folders that must never be seen (solutions, checks, the batch's inputs and output): an
    exposed folder that holds one, or lies inside one, is refused (:class:`SandboxError`)."""
    private: tuple[str, ...] = PRIVATE_FOLDERS
    """Folders that are empty and of the run's own (a tmpfs each)."""
    tmp_mb: int = 256
    """The size limit of each private folder, in MiB."""
    network: bool = True
    """Share the host's network; ``False`` gives the run a network of its own: loopback only."""
    uid: int | None = None
    """Run as this user (only when started as root)."""
    relay: tuple[str, ...] = ()
    """With a network of its own: the engines' loopback ``host:port`` the run may reach."""

    def __post_init__(self) -> None:
        if self.hide and not self.expose:
            # Hiding is what a private root does: with nothing exposed there is none, and
            # the run would see every folder meant to be hidden.
            raise ValueError(
                "a sandbox that hides folders must name the folders it exposes (the Python "
                "installation): build it with default_sandbox()"
            )
        if self.tmp_mb < 1:
            raise ValueError(f"tmp_mb must be at least 1 (MiB), got {self.tmp_mb}")

    def to_dict(self) -> dict[str, Any]:
        """The sandbox as plain data."""
        return {
            "expose": list(self.expose),
            "hide": list(self.hide),
            "private": list(self.private),
            "tmp_mb": self.tmp_mb,
            "network": self.network,
            "uid": self.uid,
            "relay": list(self.relay),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Sandbox:
        """Read a sandbox written by :meth:`to_dict`."""
        return cls(
            expose=tuple(data.get("expose") or ()),
            hide=tuple(data.get("hide") or ()),
            private=tuple(data.get("private", PRIVATE_FOLDERS)),
            tmp_mb=int(data.get("tmp_mb", 256)),
            network=bool(data.get("network", True)),
            uid=data.get("uid"),
            relay=tuple(data.get("relay") or ()),
        )


def _refuse_hidden(expose: Sequence[str], hide: Sequence[str], *, work: Path | None) -> None:
    """Raise when a run would see what it must not: an exposed folder that holds a hidden one,
    lies inside one, or holds the runs' workspaces (``work``, or where they are all made); a
    workspace that lies inside a hidden folder or holds one."""
    real = os.path.realpath
    workspaces = [real(work if work is not None else tempfile.gettempdir())]
    for shown in expose:
        folder = Path(real(shown))
        for secret in hide:
            hidden = Path(real(secret))
            if hidden.is_relative_to(folder) or folder.is_relative_to(hidden):
                how = "holds it" if hidden.is_relative_to(folder) else "lies inside it"
                raise SandboxError(
                    f"a check run would see {hidden}: {shown}, of the Python installation, is "
                    f"shown to every run and {how}; keep the Python installation and the "
                    "course's packages (a src layout) apart from the course's solutions and "
                    "checks and the batch's folders"
                )
        for workspace in workspaces:
            if Path(workspace).is_relative_to(folder):
                raise SandboxError(
                    f"a check run would see other runs' folders: {shown}, of the Python "
                    f"installation, is shown to every run and holds {workspace}, where the "
                    "runs' folders are made; set TMPDIR to a folder outside the installation"
                )
    if work is not None:
        for secret in hide:
            hidden, folder = Path(real(secret)), Path(workspaces[0])
            if hidden.is_relative_to(folder) or folder.is_relative_to(hidden):
                how = "holds it" if hidden.is_relative_to(folder) else "lies inside it"
                raise SandboxError(f"a check run would see {hidden}: its folder {folder} {how}")


def enter_sandbox(sandbox: Sandbox, *, work: Path, pid_namespace: bool = False) -> list[str]:
    """Apply a sandbox to the current (single-threaded, freshly forked) process.

    As root, the namespaces are the host's to make and the run then becomes its own user.
    Otherwise the run first enters a user namespace of its own (where the kernel allows
    unprivileged ones), makes its mount and network namespaces there, and finally moves to a
    nested user namespace as its original user, without capabilities, where its private
    root's mounts are locked: they cannot be undone or made writable from inside.

    With ``sandbox.expose``, the process ends in its private root (:mod:`labgrader.rootfs`)
    with ``work`` as its working folder; it may be called again, in a process forked from a
    sandboxed one, to narrow that process's view further (:func:`enter_learner_sandbox`).

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

    Raises:
        SandboxError: When the workspace lies inside (or holds) a hidden folder, or the
            private root could not be assembled once its namespace was made: the run must
            not go on with the host's files.
    """
    skipped: list[str] = []
    libc = _libc()
    uid, gid = os.getuid(), os.getgid()
    wanted = bool(sandbox.expose) or not sandbox.network
    relay = start_relay() if not sandbox.network and sandbox.relay else None
    in_userns = False
    # A process that changed its user (a check run that root made a user of its own) is not
    # dumpable: its /proc/self files are root's, and it could not write its uid_map.
    dumpable = libc.prctl(_PR_GET_DUMPABLE, 0, 0, 0, 0)
    if wanted and uid != 0:
        libc.prctl(_PR_SET_DUMPABLE, 1, 0, 0, 0)
        try:
            _user_namespace(libc, inside=0, outside_uid=uid, outside_gid=gid)
            in_userns = True
        except OSError as exc:
            skipped.append(f"no user namespace ({exc.strerror})")
    if sandbox.expose:
        try:
            # System V shared memory, semaphores and message queues of its own too: like
            # /dev/shm, they would otherwise outlive the run for the next one to read.
            _call(libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare(CLONE_NEWNS)")
        except OSError as exc:
            skipped.append(f"no private mount namespace ({exc.strerror})")
        else:
            _refuse_hidden(sandbox.expose, sandbox.hide, work=Path(work))
            try:
                _call(libc.mount(b"none", b"/", None, _MS_REC | _MS_PRIVATE, None), "private /")
                enter_private_root(
                    libc,
                    expose=sandbox.expose,
                    work=Path(work),
                    private=sandbox.private,
                    tmp_mb=sandbox.tmp_mb,
                )
            except OSError as exc:
                # Half a root is no root: the run must not go on with the host's files.
                raise SandboxError(f"the check run's private root failed: {exc}") from exc
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
    if dumpable != 1:
        libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
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
    # From here on a failure leaves the process in a namespace where it is nobody: no way
    # to go on, nor back.
    try:
        with contextlib.suppress(FileNotFoundError):  # absent on old kernels
            _write("/proc/self/setgroups", b"deny")
        _write("/proc/self/uid_map", f"{inside} {outside_uid} 1".encode())
        inside_gid = inside if gid is None else gid
        _write("/proc/self/gid_map", f"{inside_gid} {outside_gid} 1".encode())
    except OSError as exc:
        raise SandboxError(f"could not map the run's user in its user namespace: {exc}") from exc


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


_PATH_PROBE = "import json, sys; print(json.dumps(sys.path))"


@functools.cache
def installation_paths(python: str | None = None) -> tuple[str, ...]:
    """The folders of a Python installation and its libraries, outermost only, resolved.

    What the interpreter imports from when nothing of the caller's is added (``python -I``:
    no current folder, no ``PYTHONPATH``, no user site): its prefixes, the standard library,
    ``site-packages`` and what the ``.pth`` files there add, such as the source folders of
    editable installs (``platform/src``, ``grading/src``), never the checkout around them.

    Args:
        python: The interpreter (default: this one).
    """
    python = python or sys.executable
    done = subprocess.run(
        [python, "-I", "-c", _PATH_PROBE], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SandboxError(f"could not ask {python} for its import path: {done.stderr[-500:]}")
    found = [*json.loads(done.stdout), sys.prefix, sys.base_prefix, sys.exec_prefix]
    found.append(str(Path(__file__).resolve().parent.parent))  # labgrader itself
    real = sorted({os.path.realpath(p) for p in found if p and os.path.exists(p)})
    outermost: list[str] = []
    for path in real:  # sorted: a folder comes before what it holds
        if not any(Path(path).is_relative_to(o) for o in outermost):
            outermost.append(path)
    return tuple(outermost)


def default_sandbox(
    course_root: Path | None,
    extra: Sequence[Path] = (),
    *,
    engines: Mapping[str, str] | None = None,
) -> Sandbox:
    """The sandbox of a batch's check runs.

    What a run sees: its workspace, the system's folders, the Python installation and the
    libraries' folders (:func:`installation_paths`), read-only; private ``/tmp``, ``/var/tmp``,
    ``/run``, ``/dev/shm`` and ``PREFECT_HOME``. What must never be exposed: the course's
    ``solutions/``, ``labs/``, checks and ``.git``, and ``extra``. The network: the run's own
    loopback, plus the engines' ports when they are on loopback (the host's network when one
    is remote).

    Args:
        course_root: The course (its ``solutions/``, ``labs/``, checks and ``.git``).
        extra: More folders never to expose (the batch's inputs and output, the checks).
        engines: ``TEMPORAL_ADDRESS`` / ``PREFECT_API_URL`` of the engines the checks need.

    Raises:
        SandboxError: When the installation's folders hold one of those (a course installed
            without a src layout, a venv in the output folder): no run could be isolated.
    """
    hide = [Path(p).resolve() for p in extra]
    if course_root is not None:
        root = course_root.resolve()
        hide += [root / "solutions", root / "labs", root / "grading" / "checks", root / ".git"]
    expose = installation_paths()
    hidden = tuple(dict.fromkeys(str(h) for h in hide))
    _refuse_hidden(expose, hidden, work=None)
    private = list(PRIVATE_FOLDERS)
    prefect_home = (engines or {}).get("PREFECT_HOME") or os.environ.get("PREFECT_HOME")
    if prefect_home:
        private.append(prefect_home)  # Prefect's settings and local storage: each run its own
    relay = loopback_endpoints(engines or {})
    return Sandbox(
        expose=expose,
        hide=hidden,
        private=tuple(private),
        network=relay is None,
        relay=relay or (),
    )


def enter_learner_sandbox(
    sandbox: Sandbox,
    *,
    work: Path,
    keep_fds: Sequence[int] = (),
    uid: int | None = None,
    pid_namespace: bool = True,
) -> list[str]:
    """Isolate the learner's process: the one that runs notebook code, apart from the checks.

    Call it first thing in that process (forked, single-threaded), before any notebook code
    runs. It closes every descriptor but 0, 1, 2 and ``keep_fds`` (the channel to the
    checks' process), then enters ``sandbox`` with ``work`` as the workspace: a private root
    that shows the Python installation read-only, ``work`` and private ``/tmp``, ``/var/tmp``,
    ``/run`` and ``/dev/shm``, nothing of the checks' process's own folder unless ``work`` is
    inside it (then only ``work``: the folders on the way are walkable, not listable).

    Two orders work:

    * as root, fork the learner's process before the check run enters its own sandbox, and
      give each a uid of its own (two :meth:`UserPool.user` uids): different users, each in
      its own root and network (each gets its relay to the engines);
    * from a check run already in its sandbox (or without root): the learner's process makes
      its namespaces inside a user namespace of its own (where the kernel allows it) and
      keeps its uid; pass ``dataclasses.replace(sandbox, network=True)`` to stay in the check
      run's private network (its relayed engine ports) instead of making another.

    Args:
        sandbox: The batch's sandbox (:func:`default_sandbox`).
        work: The learner's workspace: only what notebook code may see (the submission
            module), never the checks, the results file or the checks' output.
        keep_fds: Descriptors to keep open besides 0, 1 and 2.
        uid: As root, the user to run as (default: ``sandbox.uid``); ignored otherwise.
        pid_namespace: Without root, also a PID namespace of its own (see :func:`enter_sandbox`).

    Returns:
        What could not be applied, one phrase each (empty when everything was).
    """
    keep = sorted({fd for fd in keep_fds if fd > 2})
    start = 3
    for fd in [*keep, resource.getrlimit(resource.RLIMIT_NOFILE)[0]]:
        os.closerange(start, fd)
        start = fd + 1
    box = dataclasses.replace(sandbox, uid=uid) if uid is not None else sandbox
    return enter_sandbox(box, work=work, pid_namespace=pid_namespace)


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
    if sandbox.expose:
        home = os.environ.get("PREFECT_HOME")
        private = ["PREFECT_HOME" if f == home else f for f in sandbox.private]
        parts.append(
            "private mount namespace and root: its workspace, the Python installation "
            f"read-only, private {', '.join(private)}; nothing else of the course, of the "
            "batch or of other learners"
        )
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
    "SandboxError",
    "UserPool",
    "default_sandbox",
    "enter_learner_sandbox",
    "enter_sandbox",
    "installation_paths",
    "isolation_level",
    "kill_user",
    "scrub_environment",
    "user_namespaces_available",
]
