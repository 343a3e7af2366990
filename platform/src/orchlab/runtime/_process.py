"""A child process that orchlab owns: started in its own process group, logged to a file,
health-checked, and stopped with its whole group so nothing is left behind."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from orchlab.errors import ServiceError

_PR_SET_PDEATHSIG = 1


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 1.0) -> bool:
    """Whether ``url`` answers a GET with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= int(resp.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (and is not a zombie we own)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError, OSError):
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    # Linux only: the child gets SIGTERM when the process that started it dies, so a killed
    # test session or notebook kernel leaves no orphan servers behind.
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def stop_group(pid: int, *, timeout: float = 10.0) -> None:
    """Stop the process group led by ``pid``: SIGTERM, then SIGKILL after ``timeout`` s."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)


class ManagedProcess:
    """A long-running child process in its own session (process group).

    Args:
        name: A short name for messages ("temporal", "prefect").
        argv: The command line.
        log_file: Where stdout and stderr go.
        env: Extra environment variables, on top of the current environment.
        tie_to_parent: When true, the child is sent SIGTERM if this process dies.
    """

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_file: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        tie_to_parent: bool = True,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_file = log_file
        self.env = dict(env or {})
        self.cwd = cwd
        self.tie_to_parent = tie_to_parent
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        """The child's pid, once started."""
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        """Start the child. Raises :class:`ServiceError` when the binary cannot be run."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_file.open("ab")
        try:
            self._proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=self.cwd,
                start_new_session=True,
                preexec_fn=_die_with_parent
                if self.tie_to_parent and sys.platform == "linux"
                else None,
            )
        except OSError as exc:
            raise ServiceError(f"cannot start {self.name}: {exc}") from exc
        finally:
            log.close()

    def wait_healthy(self, check: Callable[[], bool], *, timeout: float) -> None:
        """Wait until ``check()`` is true; stop the child and raise if it dies or times out."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            if self._proc is not None and self._proc.poll() is not None:
                raise ServiceError(
                    f"{self.name} exited with code {self._proc.returncode} during start-up; "
                    f"last lines of {self.log_file}:\n{self.log_tail()}"
                )
            time.sleep(0.1)
        self.stop()
        raise ServiceError(
            f"{self.name} was not healthy after {timeout:.0f} s; last lines of "
            f"{self.log_file}:\n{self.log_tail()}"
        )

    def log_tail(self, lines: int = 15) -> str:
        """The last lines of the child's log, for error messages."""
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def running(self) -> bool:
        """Whether the child is still running."""
        return self._proc is not None and self._proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the child and everything it started."""
        if self._proc is None:
            return
        stop_group(self._proc.pid, timeout=timeout)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(timeout=1)
        self._proc = None
