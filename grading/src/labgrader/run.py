"""Run a lab's checks against one notebook in a child process, and read what it recorded.

The child is ``python -m pytest -p labgrader.pytest_plugin`` in a temporary folder holding
a copy of the checks and the module built from the notebook. The parent passes it a
results file and, through a pipe, a fresh key; the harness signs every record it writes.
A point counts only if the harness recorded that check as passed and the run completed:
a crash, an early exit, a hang past the time limit, or a missing, garbled or forged record
earns nothing and still yields one row per check, with a message.

pytest's plugin autoload is turned off in the child (other installed plugins cost seconds
at start-up); pytest-asyncio and orchlab's service fixtures are loaded only when the
checks use them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labgrader.errors import LabNotFound
from labgrader.limits import Limits, apply_limits
from labgrader.notebook import Submission, write_submission
from labgrader.pool import ForkServer, PoolError, RunRequest, checks_imports
from labgrader.pytest_plugin import ORCHLAB_FIXTURES, read_records
from labgrader.results import CheckResult, RunStatus
from labgrader.sandbox import Sandbox, UserPool, enter_sandbox, scrub_environment

DEFAULT_TIMEOUT = 300.0
"""Seconds one notebook's check run may take before it is stopped."""

_SERVICE_FIXTURES = {
    "temporal_address": "temporal",
    "temporal_client": "temporal",
    "prefect_api_url": "prefect",
}
_IGNORE = shutil.ignore_patterns(
    "__pycache__", "*.pyc", ".pytest_cache", ".ipynb_checkpoints", "mutants"
)
_SCRUBBED_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")


@dataclass(frozen=True)
class ChecksInfo:
    """What a lab's checks need, read from their source without importing them."""

    asyncio: bool
    """Some check or fixture is a coroutine (``async def``): load pytest-asyncio."""
    orchlab_fixtures: bool
    """Some check uses orchlab's service fixtures: load them."""
    services: frozenset[str]
    """The engines the checks need: ``temporal``, ``prefect``."""
    process: bool = False
    """The notebook's code runs in a learner process of its own (see
    :mod:`labgrader.harness`): a lab whose checks are written for it says
    ``LABGRADER_PROCESS = True`` in its ``conftest.py``. The other labs' checks still run
    the notebook's code in their own process, under the guard."""


def scan_checks(checks_dir: Path) -> ChecksInfo:
    """Read a checks folder's Python files for what they need.

    Raises:
        LabNotFound: When the folder does not exist or holds no ``test_*.py``.
    """
    if not checks_dir.is_dir() or not any(checks_dir.rglob("test_*.py")):
        raise LabNotFound(
            f"no checks found: expected {checks_dir.name}/test_*.py in the checks folder"
        )
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(checks_dir.rglob("*.py")))
    used = {name for name in ORCHLAB_FIXTURES if re.search(rf"\b{name}\b", text)}
    return ChecksInfo(
        asyncio=bool(re.search(r"\basync\s+def\b", text)) or bool(used),
        orchlab_fixtures=bool(used),
        services=frozenset(_SERVICE_FIXTURES[n] for n in used if n in _SERVICE_FIXTURES),
        process=bool(re.search(r"^LABGRADER_PROCESS\s*=\s*True\b", text, re.M)),
    )


def checks_preload(checks_dir: Path, info: ChecksInfo | None = None) -> list[str]:
    """What a check-run server should import for a lab's checks: the plugins their runs load
    and what the check files import (trusted code), so no run pays for it again."""
    info = info or scan_checks(checks_dir)
    names = ["pytest_asyncio.plugin"] if info.asyncio else []
    if info.orchlab_fixtures:
        names.append("orchlab.testing.fixtures")
    if info.process:
        names.append("labgrader.harness.learner")
    return [*names, *checks_imports(checks_dir)]


def pytest_ini(info: ChecksInfo) -> str:
    """The pytest configuration check runs use, independent of the course's own."""
    lines = [
        "[pytest]",
        "python_files = test_*.py",
        "filterwarnings =",
        "    ignore::DeprecationWarning",
    ]
    if info.asyncio:
        lines += [
            "asyncio_mode = auto",
            "asyncio_default_fixture_loop_scope = session",
            "asyncio_default_test_loop_scope = session",
        ]
    return "\n".join(lines) + "\n"


def pytest_args(
    info: ChecksInfo,
    *,
    ini: Path,
    checks: Path,
    exercise: str | None,
    visible_only: bool,
    first_failure: bool = False,
) -> list[str]:
    """The pytest arguments of a check run (without the harness's own options)."""
    args = [
        "-p",
        "labgrader.pytest_plugin",
        "-p",
        "no:cacheprovider",
        "-c",
        str(ini),
        "--rootdir",
        str(checks),
        "--import-mode=importlib",
        "-q",
        "--no-header",
        "-rN",
        # The harness records its own message per check; pytest's long tracebacks, which
        # re-parse every module on the way (seconds for a failing engine check), only go to
        # the run's output file, where Python's own format is enough.
        "--tb=native",
    ]
    if info.asyncio:
        args += ["-p", "pytest_asyncio.plugin"]
    if not info.orchlab_fixtures:
        args.append("--labgrader-no-services")
    if exercise:
        args += ["--exercise", exercise]
    if visible_only:
        args.append("--visible-only")
    if first_failure:
        args.append("--labgrader-first-failure")
    if info.process:
        args.append("--labgrader-process")
    return [*args, str(checks)]


@dataclass(frozen=True)
class RunOutcome:
    """What one check run gave."""

    status: RunStatus
    """How the run ended."""
    checks: tuple[CheckResult, ...]
    """One row per collected check; points only when the status is ok."""
    message: str
    """What went wrong with the run as a whole; empty when ok."""
    duration: float
    """Wall-clock seconds."""
    flags: tuple[str, ...] = ()
    """What the notebook tried that the guard refused (see :mod:`labgrader.guard`)."""


def outcome_from_records(
    records: Sequence[Mapping[str, Any]],
    *,
    failure: tuple[RunStatus, str] | None = None,
    duration: float = 0.0,
) -> RunOutcome:
    """Turn the harness's records into check results.

    Args:
        records: The records, in order.
        failure: The run's status and message when the parent already knows it failed
            (timed out, garbled records).
        duration: Wall-clock seconds of the run.
    """
    collected: list[list[Any]] = []
    results: dict[str, Mapping[str, Any]] = {}
    errors: list[str] = []
    running: str | None = None
    done = False
    stopped = False
    flags: list[str] = []
    tampered: str | None = None
    for record in records:
        event = record.get("event")
        if event == "collected":
            collected = list(record["checks"])
        elif event == "begin":
            running = str(record["nodeid"])
        elif event == "result":
            results[str(record["nodeid"])] = record
            running = None
        elif event == "error":
            errors.append(str(record["message"]))
        elif event == "stopped":
            stopped = True
        elif event == "flag":
            flags.append(str(record["what"]))
        elif event == "tampered":
            tampered = tampered or str(record["what"])
        elif event == "done":
            done = True
    status, message = failure or (RunStatus.OK, "")
    if failure is None:
        missing = [c[0] for c in collected if c[0] not in results and not stopped]
        if tampered:
            status = RunStatus.TAMPERED
            message = f"the notebook changed the grader's harness ({tampered}): no points"
        elif not done:
            status, message = RunStatus.CRASHED, "the check run ended before the harness finished"
        elif errors:
            status, message = RunStatus.ERROR, "; ".join(errors)
        elif missing:
            status, message = RunStatus.CRASHED, f"the check run stopped before {missing[0]} ran"
    if status is not RunStatus.OK and running and running not in message:
        message += f" (while running {running})"
    rows = []
    for nodeid, exercise, points, hidden in collected:
        result = results.get(nodeid)
        passed = status is RunStatus.OK and bool(result and result.get("passed"))
        if status is RunStatus.OK and stopped and not result:
            why = "not run: the run stopped at the first failing check"
        elif status is RunStatus.OK or (result and not result.get("passed")):
            why = str(result.get("message", "")) if result and not passed else ""
        elif nodeid == running:
            why = f"this check was running when the run {_ended(status)}: no points"
        elif result:
            why = f"passed, but the run {_ended(status)} afterwards: no points"
        else:
            why = f"not run: the run {_ended(status)}"
        rows.append(
            CheckResult(
                str(exercise),
                str(nodeid),
                float(points) if passed else 0.0,
                float(points),
                bool(hidden),
                passed,
                why,
                float(result.get("seconds", 0.0)) if result else 0.0,
            )
        )
    return RunOutcome(status, tuple(rows), message, duration, tuple(flags))


def _ended(status: RunStatus) -> str:
    return {
        RunStatus.TIMEOUT: "timed out",
        RunStatus.ERROR: "failed",
        RunStatus.TAMPERED: "was tampered with",
    }.get(status, "crashed")


def _tail(path: Path, lines: int = 3) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line.strip() for line in text.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def child_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a check run: this process's, minus pytest's own settings.

    Args:
        extra: Variables to add (``TEMPORAL_ADDRESS``, ...).
    """
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env.update(extra or {})
    env.update(
        PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", LABGRADER_GRADING="1", PYTHONDONTWRITEBYTECODE="1"
    )
    return env


def _spawn(
    args: list[str],
    *,
    work: Path,
    env: Mapping[str, str],
    key: bytes,
    timeout: float,
    limits: Limits | None,
    sandbox: Sandbox | None,
) -> int | None:
    """Run pytest in a fresh interpreter; return its exit code, ``None`` on timeout."""

    def prepare() -> None:
        if sandbox is not None:
            enter_sandbox(sandbox, work=work)
        if limits is not None:
            apply_limits(limits)

    read_fd, write_fd = os.pipe()
    os.write(write_fd, key)
    os.close(write_fd)
    with open(work / "stdout.txt", "wb") as out, open(work / "stderr.txt", "wb") as err:
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "pytest", *args, "--labgrader-key-fd", str(read_fd)],
                cwd=work,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                pass_fds=(read_fd,),
                start_new_session=True,
                preexec_fn=prepare if (limits or sandbox) else None,
            )
        finally:
            os.close(read_fd)
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        finally:
            _kill_group(proc)  # whatever the checks or the notebook left running
            proc.wait()


def run_checks(
    submission: Submission,
    *,
    checks_dir: Path,
    exercise: str | None = None,
    include_hidden: bool = True,
    env: Mapping[str, str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    pool: ForkServer | None = None,
    limits: Limits | None = None,
    first_failure: bool = False,
    sandbox: Sandbox | None = None,
    users: UserPool | None = None,
    base: Path | None = None,
) -> RunOutcome:
    """Run a lab's checks against a submission in a child process.

    Args:
        submission: The module built from the notebook.
        checks_dir: The lab's checks folder; it is copied, never run in place.
        exercise: Run only this exercise's checks.
        include_hidden: Run hidden checks too.
        env: Extra environment variables for the child (``TEMPORAL_ADDRESS``, ...).
        timeout: Seconds before the run is stopped and scored as timed out.
        pool: Fork the run from this pre-warmed server instead of starting an interpreter
            (the server's own environment then also applies).
        limits: Resource limits for the run.
        first_failure: Stop at the first failing check (the checks after it earn nothing):
            enough to prove that a wrong answer loses points.
        sandbox: Isolate the run (see :mod:`labgrader.sandbox`).
        users: Give the run a user of its own from this pool (when root); every process
            of that user is killed when the run ends.
        base: The folder the run's own folder is made in (a batch's folder of runs);
            default the system's temporary folder.

    Returns:
        The outcome: status, one row per check, and a message when the run failed.

    Raises:
        LabNotFound: When ``checks_dir`` holds no checks.
    """
    info = scan_checks(checks_dir)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="labgrader-run-", dir=base) as tmp:
        work = Path(tmp)
        checks = work / "checks"
        shutil.copytree(checks_dir, checks, ignore=_IGNORE)
        module = write_submission(submission, work)
        ini = work / "pytest.ini"
        ini.write_text(pytest_ini(info), encoding="utf-8")
        results = work / "results.jsonl"
        key = secrets.token_hex(32).encode()
        child_env = child_environment(env)
        if sandbox is not None:
            child_env = {**scrub_environment(child_env), "HOME": str(work), "TMPDIR": str(work)}
        args = pytest_args(
            info,
            ini=ini,
            checks=checks,
            exercise=exercise,
            visible_only=not include_hidden,
            first_failure=first_failure,
        )
        args += ["--labgrader-submission", str(module), "--labgrader-results", str(results)]
        if limits is not None and limits.check_seconds:
            args += ["--labgrader-check-timeout", f"{limits.check_seconds:g}"]
        failure: tuple[RunStatus, str] | None = None
        code: int | None
        with users.user() if users else contextlib.nullcontext() as uid:
            box = dataclasses.replace(sandbox, uid=uid) if sandbox and uid is not None else sandbox
            if pool is None:
                code = _spawn(
                    args,
                    work=work,
                    env=child_env,
                    key=key,
                    timeout=timeout,
                    limits=limits,
                    sandbox=box,
                )
            else:
                request = RunRequest(
                    argv=["-m", "pytest", *args],
                    cwd=work,
                    env=child_env,
                    stdout=work / "stdout.txt",
                    stderr=work / "stderr.txt",
                    limits=limits,
                    key=key,
                    sandbox=box,
                )
                try:
                    code = pool.run(request, timeout=timeout)
                except PoolError as exc:
                    code, failure = -1, (RunStatus.CRASHED, str(exc))
        if code is None:
            failure = (RunStatus.TIMEOUT, f"the check run was stopped after {timeout:g} s")
        duration = time.monotonic() - started
        try:
            records = read_records(results, key) if results.exists() else []
        except (ValueError, KeyError) as exc:
            return outcome_from_records(
                [],
                failure=(RunStatus.CRASHED, f"the results file is garbled or forged: {exc}"),
                duration=duration,
            )
        outcome = outcome_from_records(records, failure=failure, duration=duration)
        if outcome.status is RunStatus.CRASHED and failure is None:
            detail = _tail(work / "stderr.txt") or _tail(work / "stdout.txt")
            message = f"{outcome.message} ({_exit_text(code)})" + (f": {detail}" if detail else "")
            outcome = dataclasses.replace(outcome, message=message)
        return outcome


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"killed by {signal.Signals(-code).name}"
    return f"exit code {code}"


__all__ = [
    "DEFAULT_TIMEOUT",
    "ChecksInfo",
    "RunOutcome",
    "checks_preload",
    "child_environment",
    "outcome_from_records",
    "pytest_args",
    "pytest_ini",
    "run_checks",
    "scan_checks",
]
