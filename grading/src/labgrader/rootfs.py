"""A check run's private root: an allow-list of bind mounts, nothing else of the machine.

:func:`enter_private_root` assembles a new root on an empty tmpfs and moves the calling
process into it with ``pivot_root``; the old root is detached, so no path leads back to it.
The new root holds only:

* the folders it is given to expose (the system's ``/usr``, ``/etc`` and friends, the Python
  installation and the libraries' source folders), each bound read-only at its own path, so
  ``sys.executable``, ``sys.path`` and the paths of modules imported before stay valid;
* the run's workspace, read-write, at its own path;
* an empty, private tmpfs at each private folder (``/tmp``, ``/var/tmp``, ``/run``,
  ``/dev/shm``): nothing a run leaves there is seen by the next one;
* a minimal ``/dev`` (``null``, ``zero``, ``full``, ``random``, ``urandom``, ``tty``), ``/proc``
  and a read-only ``/sys``.

The folders leading to an exposed path are created in the new root's own read-only tmpfs,
mode ``0111``: they can be walked through, not listed, and they hold nothing but the way to
what is exposed. A course whose Python installation lives in its checkout therefore shows
the run its ``.venv`` and its source folders, not its root, ``.git``, solutions or checks: a
folder that nobody exposed does not exist there, even one created after the batch started
(an allow-list fails closed, where covering folders one by one would fail open).

Everything is done with system calls on paths and descriptors, in a freshly forked
single-threaded process, before it imports anything more.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import platform
import stat
from collections.abc import Sequence
from pathlib import Path

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MNT_DETACH = 2

# statvfs's f_flag bits and the mount flags they stand for: a bind mount made in a user
# namespace must keep the flags of its source (they are locked), so a read-only remount
# repeats them.
_KEPT_FLAGS = (
    (os.ST_NOSUID, MS_NOSUID),
    (os.ST_NODEV, MS_NODEV),
    (os.ST_NOEXEC, MS_NOEXEC),
    (os.ST_NOATIME, MS_NOATIME),
    (os.ST_NODIRATIME, MS_NODIRATIME),
    (os.ST_RELATIME, MS_RELATIME),
)
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}

SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
"""The system's folders every run sees read-only (programs, shared libraries, settings)."""
PRIVATE_FOLDERS = ("/tmp", "/var/tmp", "/run", "/dev/shm")
"""The folders every run gets empty and of its own."""
DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
"""The device nodes of a run's ``/dev``."""
STAGE = ".labgrader-root"
"""The folder of the workspace where the new root is assembled (gone once it is entered)."""


def libc() -> ctypes.CDLL:
    """The C library, with ``errno`` kept for :func:`check`."""
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def check(result: int, what: str) -> None:
    """Raise :class:`OSError` naming ``what`` when a C call failed."""
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(
    lib: ctypes.CDLL, source: str, target: str, fstype: str | None, flags: int, data: str = ""
) -> None:
    check(
        lib.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            flags,
            data.encode() if data else None,
        ),
        f"mount {source} on {target}",
    )


def _kept_flags(path: str) -> int:
    """The mount flags of the mount holding ``path`` that a bind of it must keep."""
    found = os.statvfs(path).f_flag
    return sum(flag for bit, flag in _KEPT_FLAGS if found & bit)


def _bind(lib: ctypes.CDLL, source: str, target: str, *, read_only: bool) -> None:
    """Bind ``source`` (and what is mounted inside it) at ``target``, read-only if asked."""
    _mount(lib, source, target, None, MS_BIND | MS_REC)
    if read_only:
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | _kept_flags(source)
        _mount(lib, "none", target, None, flags)


def _tmpfs(lib: ctypes.CDLL, target: str, *, mode: int, size_mb: int, extra: int = 0) -> None:
    _mount(
        lib,
        "tmpfs",
        target,
        "tmpfs",
        MS_NOSUID | MS_NODEV | extra,
        f"mode={mode:o},size={size_mb}m",
    )


def _mirror(root: str, path: str, *, depth: int = 0) -> str:
    """Make in ``root`` the folders and symbolic links that lead to ``path`` on this machine.

    Folders are made walkable, not listable (mode ``0111``); a symbolic link is made as it
    is, and what it points to is mirrored too; the last part is made a folder, or an empty
    file when ``path`` is a file here (something to mount a file on).

    Returns:
        The real path that ``path`` names (where to mount what is exposed there).
    """
    if depth > 32:
        raise OSError(40, f"too many symbolic links on the way to {path}")
    current = "/"
    parts = Path(path).parts[1:]
    for number, part in enumerate(parts, 1):
        host = os.path.join(current, part)
        inside = root + host
        if os.path.islink(host):
            link = os.readlink(host)
            if not os.path.lexists(inside):
                os.symlink(link, inside)
            current = _mirror(root, os.path.normpath(os.path.join(current, link)), depth=depth + 1)
            continue
        if not os.path.lexists(inside):
            if number == len(parts) and os.path.exists(host) and not os.path.isdir(host):
                os.close(os.open(inside, os.O_WRONLY | os.O_CREAT, 0o444))
            else:
                os.mkdir(inside)
                os.chmod(inside, 0o111)
        current = host
    return current


def _device(lib: ctypes.CDLL, root: str, name: str) -> None:
    host = f"/dev/{name}"
    if not os.path.exists(host):
        return
    inside = root + host
    os.close(os.open(inside, os.O_WRONLY | os.O_CREAT, 0o666))
    _mount(lib, host, inside, None, MS_BIND)


def _dev(lib: ctypes.CDLL, root: str) -> None:
    """A ``/dev`` of the run's own: a few device nodes, links to ``/proc/self/fd``, and the
    folder where ``/dev/shm`` is mounted with the other private folders."""
    inside = root + "/dev"
    os.makedirs(inside, exist_ok=True)
    _tmpfs(lib, inside, mode=0o755, size_mb=1, extra=MS_NOEXEC)
    for name in DEVICES:
        _device(lib, root, name)
    for name, target in (
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        os.symlink(target, f"{inside}/{name}")
    os.mkdir(f"{inside}/shm")


def _pivot(lib: ctypes.CDLL, root: str) -> None:
    """Make ``root`` this process's root and detach the old one (``pivot_root(".", ".")``)."""
    number = _SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(38, f"pivot_root: unknown system call number on {platform.machine()}")
    os.chdir(root)
    check(lib.syscall(number, b".", b"."), "pivot_root")
    check(lib.umount2(b".", MNT_DETACH), "detach the old root")
    os.chdir("/")


def _close_folder_descriptors() -> None:
    """Close every descriptor open on a folder: one of the old root would lead back to it."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        with contextlib.suppress(OSError):
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                os.close(fd)


def enter_private_root(
    lib: ctypes.CDLL,
    *,
    expose: Sequence[str],
    work: Path,
    private: Sequence[str] = PRIVATE_FOLDERS,
    tmp_mb: int = 256,
) -> None:
    """Move this process into a new root that holds only what is listed (see the module).

    Call it in a private mount namespace whose propagation is private, with the rights to
    mount there (root, or root of a user namespace of its own).

    Args:
        lib: The C library (:func:`libc`).
        expose: Folders (or files) seen read-only at their own path; missing ones are left out.
        work: The run's workspace, seen read-write at its own path; the working folder after.
        private: Folders that are empty and of this run's own (a tmpfs each, sticky, ``1777``).
        tmp_mb: The size limit of each private folder, in MiB.

    Raises:
        OSError: When a step fails; the process is then in no state to run anything.
    """
    stage = str(work / STAGE)
    os.mkdir(stage, 0o755)
    _tmpfs(lib, stage, mode=0o755, size_mb=1)
    mounts: list[tuple[str, str, str]] = []  # (real target, kind, source)
    for path in (*SYSTEM_FOLDERS, *expose):
        if os.path.lexists(path):
            mounts.append((os.path.realpath(path), "ro", path))
    for path in private:
        mounts.append((os.path.realpath(path), "private", path))
    mounts.append((os.path.realpath(work), "work", str(work)))
    mounts.append(("/proc", "proc", "/proc"))
    if os.path.isdir("/sys"):
        mounts.append(("/sys", "ro", "/sys"))
    mounts.append(("/dev", "dev", "/dev"))
    # Parents before children: /tmp's tmpfs first, then the workspace inside it.
    exposed: list[str] = []
    for real, kind, source in sorted(mounts, key=lambda m: (m[0].count("/"), m[0], m[1])):
        if kind == "dev":
            _dev(lib, stage)
            continue
        target = stage + _mirror(stage, source)
        if kind == "ro":
            if any(Path(real).is_relative_to(e) for e in exposed):
                continue  # inside a folder already exposed (/bin in /usr): the link suffices
            exposed.append(real)
            _bind(lib, source, target, read_only=True)
        elif kind == "work":
            _mount(lib, source, target, None, MS_BIND)  # not its stage: no recursion
        elif kind == "proc":
            _mount(lib, "/proc", target, None, MS_BIND | MS_REC)
        else:
            _tmpfs(lib, target, mode=0o1777, size_mb=tmp_mb)
    flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV
    _mount(lib, "none", stage + "/dev", None, flags | MS_NOEXEC)
    _mount(lib, "none", stage, None, flags)
    _pivot(lib, stage)
    _close_folder_descriptors()
    os.chdir(work)
    with contextlib.suppress(OSError):  # the stage's folder in the workspace, now empty
        os.rmdir(stage)


__all__ = [
    "DEVICES",
    "PRIVATE_FOLDERS",
    "STAGE",
    "SYSTEM_FOLDERS",
    "check",
    "enter_private_root",
    "libc",
]
