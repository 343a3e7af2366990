"""A pre-warmed check runner: one server process imports pytest and the heavy libraries once,
then forks a fresh child for each check run.

Starting a Python interpreter and importing pytest, Prefect, Temporal's SDK and
scikit-learn costs 10 to 20 s per check run on a small machine; a forked child inherits
them already imported and starts in milliseconds. Each child runs in its own session
(process group), with its own working folder, environment, output files and resource
limits, exactly as a fresh ``python -m pytest`` would; the parent kills its whole process
group when it ends or times out.

The server is started with the environment every run shares (the engines' addresses: some
libraries read their settings once, at import) and with the modules to import, usually the
imports of the lab's solution notebook (trusted code; a learner's imports are never
preloaded). It talks to the parent over its stdin and stdout, one JSON object per line.

>>> with ForkServer(preload=("prefect", "sklearn")) as pool:
...     code = pool.run(["-m", "pytest", ...], cwd=work, env={}, stdout=out, stderr=err)
"""

from __future__ import annotations

import ast
import contextlib
import gc
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from labgrader.errors import LabgraderError
from labgrader.limits import Limits, apply_limits
from labgrader.mutants import MUTANTS_DIR
from labgrader.notebook import (
    LIVE_MODULE_PREFIX,
    SUBMISSION_MODULE_PREFIX,
    Submission,
    write_submission,
)
from labgrader.sandbox import Sandbox, enter_sandbox

BASE_PRELOAD = (
    "pytest",
    "_pytest.pytester",
    "labgrader.pytest_plugin",
    "labgrader.notebook",
)
"""Modules every server imports: pytest and the harness."""

CRASH_EXIT = 70
"""The exit code of a child whose harness could not even start."""
WARM_FLAG = "--warm="
"""How the server is told a trusted notebook module to warm up with (see ``warm``)."""
WARM_TIMEOUT = 60.0
"""Seconds a warm-up run may take before the server gives up on it (and imports nothing)."""


class PoolError(LabgraderError, RuntimeError):
    """The check-run server died or could not start; the run it was serving earns nothing."""


def notebook_imports(source: str) -> tuple[str, ...]:
    """What a trusted module imports (a solution notebook, a check file), to preload it.

    ``from prefect import flow`` gives ``prefect`` and ``prefect.flow``: Prefect (like other
    libraries) imports most of itself lazily, on the first read of such a name, and that read
    costs as much as the import (a second or more here) in every run that was not warmed.

    Args:
        source: Python source (a built submission of a solution notebook, a check file).

    Returns:
        The modules and ``module.name`` entries, in order of first import, each once.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return ()
    names: dict[str, None] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names[alias.name] = None
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names[node.module] = None
            for alias in node.names:
                if alias.name != "*":
                    names[f"{node.module}.{alias.name}"] = None
    return tuple(names)


def checks_imports(checks_dir: Path) -> tuple[str, ...]:
    """What a lab's check files and conftest import (trusted code), to preload it.

    A check run imports them while it collects the checks: preloaded, the import is paid once
    per batch instead of once per run (temporalio's client alone is about a second here).
    """
    names: dict[str, None] = {}
    for path in sorted(checks_dir.rglob("*.py")):
        if MUTANTS_DIR in path.relative_to(checks_dir).parts:
            continue  # wrong answers to exercises, not the checks' code
        with contextlib.suppress(OSError, UnicodeDecodeError):
            names.update(dict.fromkeys(notebook_imports(path.read_text(encoding="utf-8"))))
    return tuple(names)


def preload_one(name: str) -> None:
    """Import ``name``, or, when it is ``module.attribute``, import the module and read it.

    Raises:
        Exception: Whatever the import raised (the caller ignores it: the run that needs the
            module reports it).
    """
    try:
        importlib.import_module(name)
    except ModuleNotFoundError:
        module, _, attribute = name.rpartition(".")
        if not module:
            raise
        getattr(importlib.import_module(module), attribute)


@dataclass(frozen=True)
class RunRequest:
    """One check run to fork."""

    argv: Sequence[str]
    """The arguments after the interpreter: ``["-m", "pytest", ...]`` (only ``-m pytest``)."""
    cwd: Path
    """The run's working folder."""
    env: Mapping[str, str]
    """The run's whole environment."""
    stdout: Path
    """Where the run's standard output goes."""
    stderr: Path
    """Where the run's standard error goes."""
    limits: Limits | None = None
    """Resource limits for the child."""
    key: bytes | None = None
    """The harness's key: handed to the child through a pipe (``--labgrader-key-fd``)."""
    sandbox: Sandbox | None = None
    """How to isolate the child (namespaces, its own user)."""


class ForkServer:
    """The parent's handle on a check-run server; thread-safe.

    Args:
        preload: Modules to import once in the server (failures are ignored: the child
            will report them when it imports them itself).
        env: The server's environment (default: this process's).
        python: The interpreter (default: this one).
        warm: Built modules of trusted notebooks (the lab's solutions): each is run once
            in a throwaway
            child of the server, and the server imports every library module that run
            imported (lazily too: Prefect's first ``@flow`` imports pydantic's v1 layer). The
            notebook's own code never lives in the server, so no check run can find it.
    """

    def __init__(
        self,
        *,
        preload: Iterable[str] = (),
        env: Mapping[str, str] | None = None,
        python: str | None = None,
        warm: Iterable[Submission] = (),
    ) -> None:
        self.preload = tuple(dict.fromkeys((*BASE_PRELOAD, *preload)))
        self.warm = tuple(warm)
        self.env = dict(os.environ if env is None else env)
        self.python = python or sys.executable
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._waiters: dict[int, _Waiter] = {}
        self._next = 0

    def __enter__(self) -> ForkServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def start(self) -> None:
        """Start the server (if it is not running) and wait until it has imported everything.

        Raises:
            PoolError: When the server does not start.
        """
        with self._lock:
            if self._proc is not None and self._proc.poll() is None:
                return
            with tempfile.TemporaryDirectory(prefix="labgrader-warm-") as folder:
                # The modules are read while the server starts: gone once it is ready.
                warm = [
                    f"{WARM_FLAG}{write_submission(sub, Path(folder), name=f'warm{n}')}"
                    for n, sub in enumerate(self.warm)
                ]
                proc = subprocess.Popen(
                    [self.python, "-m", "labgrader.pool", *warm, *self.preload],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.DEVNULL,
                    env=self.env,
                    start_new_session=True,
                )
                assert proc.stdout is not None
                line = proc.stdout.readline()
            if b'"ready"' not in line:
                with contextlib.suppress(OSError):
                    proc.kill()
                proc.wait()
                raise PoolError(
                    f"the check-run server did not start (exit code {proc.returncode}); "
                    f"try `{self.python} -m labgrader.pool pytest` to see why"
                )
            self._proc = proc
            threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdout is not None
        for raw in proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                continue
            with self._lock:
                waiter = self._waiters.get(int(event.get("id", -1)))
            if waiter is not None:
                waiter.update(event)
        with self._lock:
            waiters = list(self._waiters.values())
            if self._proc is proc:
                self._proc = None
        for waiter in waiters:
            waiter.update({"lost": True})

    def run(
        self,
        request: RunRequest,
        *,
        timeout: float | None = None,
        on_start: Callable[[int], None] | None = None,
    ) -> int | None:
        """Fork one check run and wait for it; its process group is killed afterwards.

        Args:
            request: What to run.
            timeout: Seconds before the run's process group is killed.
            on_start: Called with the child's pid once it runs.

        Returns:
            The child's exit code (a negative number for a signal), or ``None`` on timeout.

        Raises:
            PoolError: When the server died (it is restarted for the next run).
        """
        self.start()
        waiter = _Waiter()
        with self._lock:
            self._next += 1
            rid = self._next
            self._waiters[rid] = waiter
            proc = self._proc
        message = {
            "id": rid,
            "argv": list(request.argv),
            "cwd": str(request.cwd),
            "env": dict(request.env),
            "stdout": str(request.stdout),
            "stderr": str(request.stderr),
            "limits": request.limits.to_dict() if request.limits else None,
            "key": request.key.decode() if request.key else None,
            "sandbox": request.sandbox.to_dict() if request.sandbox else None,
        }
        try:
            if proc is None or proc.stdin is None:
                raise PoolError("the check-run server is not running")
            try:
                with self._lock:
                    proc.stdin.write(json.dumps(message).encode() + b"\n")
                    proc.stdin.flush()
            except OSError as exc:
                raise PoolError(f"the check-run server is gone: {exc}") from None
            pid = waiter.wait_started()
            if pid is None:
                raise PoolError("the check-run server died before the run started")
            if on_start:
                on_start(pid)
            code = waiter.wait_exit(timeout)
            _kill_group(pid)
            if waiter.lost and code is None:
                raise PoolError("the check-run server died during the run")
            return code
        finally:
            with self._lock:
                self._waiters.pop(rid, None)

    def close(self) -> None:
        """Stop the server and every run still going."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        with contextlib.suppress(OSError):
            if proc.stdin:
                proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()


class _Waiter:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.pid: int | None = None
        self.code: int | None = None
        self.exited = False
        self.lost = False

    def update(self, event: Mapping[str, Any]) -> None:
        with self._cond:
            if "pid" in event:
                self.pid = int(event["pid"])
            if "exit" in event:
                self.code = int(event["exit"])
                self.exited = True
            if event.get("lost"):
                self.lost = True
            self._cond.notify_all()

    def wait_started(self) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: self.pid is not None or self.lost)
            return self.pid

    def wait_exit(self, timeout: float | None) -> int | None:
        with self._cond:
            done = self._cond.wait_for(lambda: self.exited or self.lost, timeout)
            if not done and self.pid is not None:
                _kill_group(self.pid)
                return None
            return self.code if self.exited else None


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


# --- the server side -----------------------------------------------------------------------


def _child(message: Mapping[str, Any], proto: int) -> int:
    """In the forked child: become the check run, return its exit code."""
    os.setsid()
    os.close(proto)  # the child must not be able to talk to the parent
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    null = os.open(os.devnull, os.O_RDONLY)
    out = os.open(message["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    err = os.open(message["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    for fd, target in ((null, 0), (out, 1), (err, 2)):
        os.dup2(fd, target)
        os.close(fd)
    os.chdir(message["cwd"])
    os.environ.clear()
    os.environ.update(message["env"])
    argv = list(message["argv"])
    if message.get("key"):
        read_fd, write_fd = os.pipe()
        os.write(write_fd, str(message["key"]).encode())
        os.close(write_fd)
        argv += ["--labgrader-key-fd", str(read_fd)]
    if message.get("sandbox"):
        sandbox = Sandbox.from_dict(message["sandbox"])
        for gap in enter_sandbox(sandbox, work=Path(message["cwd"]), pid_namespace=True):
            print(f"labgrader: isolation: {gap}", file=sys.stderr)
    if message.get("limits"):
        apply_limits(Limits.from_dict(message["limits"]))
    if argv[:2] != ["-m", "pytest"]:
        print(f"labgrader.pool runs pytest only, got {argv[:2]}", file=sys.stderr)
        return CRASH_EXIT
    sys.argv = ["pytest", *argv[2:]]
    sys.path[0] = str(message["cwd"])
    import pytest

    return int(pytest.main(argv[2:]))


def warm_imports(module_path: Path, timeout: float = WARM_TIMEOUT) -> list[str]:
    """Run a trusted notebook module in a throwaway child; return the modules it imported.

    The child executes the module's cells as a learner process would, sends back the names in
    its ``sys.modules`` (nothing else) and exits. Nothing is returned when it fails or takes
    longer than ``timeout``.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            os.close(read_fd)
            from labgrader.harness.learner import CellModule

            CellModule(Submission.from_files(module_path), str(module_path)).load()
            with os.fdopen(write_fd, "w", encoding="utf-8") as pipe:
                pipe.write("\n".join(sorted(sys.modules)))
        except BaseException:
            code = CRASH_EXIT
        finally:
            os._exit(code)
    os.close(write_fd)
    chunks: list[bytes] = []
    done = threading.Event()

    def read() -> None:
        with os.fdopen(read_fd, "rb") as pipe:
            chunks.append(pipe.read())
        done.set()

    threading.Thread(target=read, daemon=True).start()
    if not done.wait(timeout):
        _kill_group(pid)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if not done.is_set() or os.waitstatus_to_exitcode(status) != 0:
        return []
    names = b"".join(chunks).decode("utf-8", "replace").splitlines()
    return [
        n
        for n in names
        if n not in sys.modules
        and not n.startswith((SUBMISSION_MODULE_PREFIX, LIVE_MODULE_PREFIX, "__"))
    ]


def serve(preload: Sequence[str]) -> None:
    """Run the server: import ``preload``, then fork one child per request until stdin ends.

    Entries ``--warm=PATH`` name trusted notebook modules to warm up with
    (:func:`warm_imports`), after the other entries are imported.
    """
    # The protocol gets its own descriptor; what preloaded modules print goes nowhere.
    proto = os.dup(1)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.close(null)
    out = os.fdopen(proto, "wb")
    write_lock = threading.Lock()
    children: dict[int, int] = {}
    have_children = threading.Condition()

    def send(event: Mapping[str, Any]) -> None:
        with write_lock:
            out.write(json.dumps(event).encode() + b"\n")
            out.flush()

    def reap() -> None:
        while True:
            with have_children:
                have_children.wait_for(lambda: bool(children))
            try:
                pid, status = os.wait()
            except ChildProcessError:
                continue
            with have_children:
                rid = children.pop(pid, None)
            if rid is not None:
                send({"id": rid, "exit": os.waitstatus_to_exitcode(status)})

    warm = [Path(n.removeprefix(WARM_FLAG)) for n in preload if n.startswith(WARM_FLAG)]
    for name in preload:
        if not name.startswith(WARM_FLAG):
            with contextlib.suppress(Exception):
                preload_one(name)
    for path in warm:
        for name in warm_imports(path):
            with contextlib.suppress(Exception):
                importlib.import_module(name)
    # What is loaded now lives as long as the server: out of the collector's sight, a child's
    # collections (pytest runs several at its end) scan only what the child made, not the
    # hundreds of thousands of objects of Prefect, Temporal and scikit-learn (0.6 s each).
    gc.freeze()
    send({"ready": True})
    threading.Thread(target=reap, daemon=True).start()
    for raw in sys.stdin.buffer:
        message = json.loads(raw)
        with have_children:
            pid = os.fork()
            if pid == 0:
                code = CRASH_EXIT
                try:
                    code = _child(message, proto)
                finally:
                    with contextlib.suppress(Exception):
                        sys.stdout.flush()
                        sys.stderr.flush()
                    os._exit(code)
            children[pid] = int(message["id"])
            send({"id": message["id"], "pid": pid})
            have_children.notify_all()


if __name__ == "__main__":
    serve(sys.argv[1:])


__all__ = [
    "BASE_PRELOAD",
    "ForkServer",
    "PoolError",
    "RunRequest",
    "checks_imports",
    "notebook_imports",
    "preload_one",
    "serve",
    "warm_imports",
]
