"""Start the learner's process and keep it apart from the checks' process.

A check run (pytest, the checks, the records) forks a *zygote* first thing, before it reads
its key, opens its results or collects a single check: the zygote holds nothing of the
checks, and forks a learner process whenever the checks need a fresh one (once for the
visible checks, once more for the hidden ones, and again after a check timed out). A
learner process keeps only its end of the channel (every other descriptor is closed), dies
with the check run, and finds the check run not dumpable: the same user cannot read its
memory or trace it.

A process that made Temporal's runtime already (a grading worker of the distributed backend,
a test session) must not fork one: the runtime's threads do not survive a fork, and a lock
one of them held stays held in the child. The zygote is a fresh interpreter then.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

from labgrader.errors import LabgraderError
from labgrader.notebook import Submission

_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4


class LearnerStartError(LabgraderError, RuntimeError):
    """The learner's process could not be started."""


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(option, value, 0, 0, 0)


def not_dumpable() -> None:
    """Keep processes of the same user from reading this process's memory or tracing it."""
    _prctl(_PR_SET_DUMPABLE, 0)


class Zygote:
    """A fork of the check run, made before the checks exist, that forks learner processes.

    Args:
        submission_path: The module built from the notebook (:func:`write_submission`).
        close_fds: Descriptors the learner's side must never hold (the key's pipe).
    """

    def __init__(self, submission_path: Path, *, close_fds: tuple[int, ...] = ()) -> None:
        self.submission = Submission.from_files(submission_path)
        self.filename = str(submission_path)
        control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self._control = control
        self._process: subprocess.Popen[bytes] | None = None
        if _temporal_runtime_made():
            # Temporal's runtime threads do not survive a fork, and a lock one of them held
            # stays held in every process forked after: a fresh interpreter instead.
            self._process = subprocess.Popen(
                [sys.executable, "-m", __name__, self.filename, str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
            )
            theirs.close()
            self.pid = self._process.pid
            return
        pid = os.fork()
        if pid == 0:  # the zygote
            control.close()
            for fd in close_fds:
                with contextlib.suppress(OSError):
                    os.close(fd)
            try:
                self._serve(theirs)
            finally:
                os._exit(0)
        theirs.close()
        self.pid = pid

    def _serve(self, control: socket.socket) -> None:
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # learner processes are reaped at once
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        while True:
            try:
                message, fds, _flags, _addr = socket.recv_fds(control, 16, 1)
            except OSError:
                return
            if not message or not fds:
                return
            pid = os.fork()
            if pid == 0:
                control.close()
                self._learner(fds[0])
            os.close(fds[0])
            control.sendall(pid.to_bytes(8, "big"))

    def _learner(self, fd: int) -> None:
        code = 0
        try:
            os.setsid()
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            os.closerange(3, fd)
            os.closerange(fd + 1, _max_fd())
            sock = socket.socket(fileno=fd)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            from labgrader.harness.learner import serve

            serve(sock, self.submission, self.filename)
        except BaseException:  # the learner's process ends here, whatever happened
            code = 70
        finally:
            sys.stdout.flush()
            os._exit(code)

    def spawn(self) -> tuple[int, socket.socket]:
        """Fork a learner process; return its pid and the checks' end of its channel."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            socket.send_fds(self._control, [b"spawn"], [theirs.fileno()])
            data = b""
            while len(data) < 8:
                chunk = self._control.recv(8 - len(data))
                if not chunk:
                    raise LearnerStartError("the learner's process could not be started")
                data += chunk
        except OSError as exc:
            ours.close()
            raise LearnerStartError(f"the learner's process could not be started: {exc}") from None
        finally:
            theirs.close()
        return int.from_bytes(data, "big"), ours

    def close(self) -> None:
        """Stop the zygote."""
        with contextlib.suppress(OSError):
            self._control.close()
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            return
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)


def _main(argv: list[str]) -> None:
    """The zygote started as a fresh interpreter: ``python -m labgrader.harness.process
    SUBMISSION FD``."""
    zygote = Zygote.__new__(Zygote)
    zygote.submission = Submission.from_files(Path(argv[0]))
    zygote.filename = argv[0]
    zygote._serve(socket.socket(fileno=int(argv[1])))


def _temporal_runtime_made() -> bool:
    """Whether this process made Temporal's runtime (its threads, its global state)."""
    runtime = sys.modules.get("temporalio.runtime")
    ref = getattr(runtime, "_runtime_ref", None)
    return getattr(ref, "_default_runtime", None) is not None


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (ValueError, OSError):
        return 65536


def kill(pid: int) -> None:
    """Kill a learner process and everything it started (its own session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGKILL)


__all__ = ["LearnerStartError", "Zygote", "kill", "not_dumpable"]

if __name__ == "__main__":
    _main(sys.argv[1:])
