"""Resource limits for a check run: memory, CPU time, file size, processes, open files,
and the time one check may take.

Applied with ``setrlimit`` in the check run's own process just before pytest starts, so a
submission that allocates without end, spins, writes a huge file or forks many processes
is stopped by the kernel and its run scored as crashed, while the batch goes on.

The process limit (``RLIMIT_NPROC``) counts every process of the user, and the kernel does
not enforce it for root: :func:`apply_limits` sets it above what the user already runs,
and :mod:`labgrader.sandbox` drops root to an unprivileged user where it can.
"""

from __future__ import annotations

import os
import resource
from dataclasses import asdict, dataclass
from typing import Any

_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one check run may use; ``None`` leaves a resource unlimited."""

    memory_mb: int | None = 4096
    """Address space in MiB (``RLIMIT_AS``): an allocation past it raises ``MemoryError``."""
    cpu_seconds: int | None = 600
    """CPU seconds (``RLIMIT_CPU``): past it the kernel kills the run."""
    file_mb: int | None = 64
    """Largest file the run may write, in MiB (``RLIMIT_FSIZE``)."""
    processes: int | None = 64
    """Processes (and threads) the run may add to what its user already runs (``RLIMIT_NPROC``)."""
    open_files: int | None = 1024
    """Open file descriptors (``RLIMIT_NOFILE``)."""
    check_seconds: float | None = 60.0
    """Seconds one check (its set-up, call and clean-up) may take: past it, that check fails
    with a message and the next one runs (the run's own time limit still applies)."""

    def to_dict(self) -> dict[str, Any]:
        """The limits as plain JSON-ready data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Limits:
        """Read limits written by :meth:`to_dict`."""
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})


def _user_tasks(uid: int) -> int:
    """How many processes and threads the user runs now (what ``RLIMIT_NPROC`` counts)."""
    count = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid == uid:
                count += len(os.listdir(f"/proc/{entry.name}/task"))
        except OSError:
            continue
    return count


def _set(which: int, value: int) -> None:
    _, hard = resource.getrlimit(which)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(which, (value, value))


def apply_limits(limits: Limits) -> None:
    """Apply ``limits`` to the current process (and, through inheritance, its children)."""
    if limits.memory_mb is not None:
        _set(resource.RLIMIT_AS, limits.memory_mb * _MB)
    if limits.cpu_seconds is not None:
        _set(resource.RLIMIT_CPU, limits.cpu_seconds)
    if limits.file_mb is not None:
        _set(resource.RLIMIT_FSIZE, limits.file_mb * _MB)
    if limits.open_files is not None:
        _set(resource.RLIMIT_NOFILE, limits.open_files)
    if limits.processes is not None:
        _set(resource.RLIMIT_NPROC, _user_tasks(os.getuid()) + limits.processes)


__all__ = ["Limits", "apply_limits"]
