"""The pytest plugin that lab checks run under: ``pytest -p labgrader.pytest_plugin``.

It provides:

* the ``check`` marker every check carries::

      @pytest.mark.check(exercise="dag-order", points=2)               # visible
      @pytest.mark.check(exercise="dag-order", points=1, hidden=True)  # hidden

* the ``nb`` fixture: the module built from the notebook's code cells (cells tagged
  ``demo`` or ``check`` and IPython magics left out), executed afresh for each check;
* orchlab's service fixtures (``temporal_address``, ``temporal_client``,
  ``temporal_time_skipping``, ``prefect_api_url``, ``task_queue``), re-exported from
  :mod:`orchlab.testing.fixtures`;
* options to use it by hand: ``--notebook PATH`` (the notebook ``nb`` is built from),
  ``--exercise ID`` (run one exercise's checks) and ``--visible-only``;
* the harness: when labgrader runs the checks it passes a results file and a key; every
  record the plugin writes there is signed, so a point counts only if this harness recorded
  the check as passed in that run. Before any notebook code runs, it arms a
  :class:`labgrader.guard.Guard`: an audit hook that refuses (and reports) the ways code
  reaches into the harness, and an integrity check of pytest's and labgrader's modules,
  made before each verdict: a run whose harness was changed earns nothing.

Share helpers between the check files of a lab through fixtures in a ``conftest.py``: the
checks are imported with ``--import-mode=importlib``, so sibling modules are not importable.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import hmac
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

import pytest

import labgrader.checks  # noqa: F401  (loaded before the guard arms, so it watches it)
from labgrader.errors import NotebookImportError
from labgrader.guard import Guard
from labgrader.harness.channel import ChannelClosed
from labgrader.harness.codec import Unsendable
from labgrader.harness.proxy import NotebookNameError
from labgrader.notebook import (
    LIVE_MODULE_PREFIX,
    SUBMISSION_MODULE_PREFIX,
    ModuleLoader,
    build_submission,
    read_notebook,
    write_submission,
)

CHECK_MARKER = "check"
"""The marker name: ``@pytest.mark.check(exercise=..., points=..., hidden=False)``."""
ORCHLAB_FIXTURES = (
    "temporal_address",
    "temporal_client",
    "temporal_time_skipping",
    "prefect_api_url",
    "task_queue",
)
"""The service fixtures re-exported from :mod:`orchlab.testing.fixtures`."""
_MAX_MESSAGE = 2000
_HARNESS_MODULES = (
    "labgrader.pytest_plugin",
    "labgrader.checks",
    "labgrader.notebook",
    "_pytest.runner",
    "_pytest.python",
    "_pytest.main",
    "_pytest.reports",
    "_pytest.outcomes",
    "pluggy._callers",
    "pluggy._hooks",
    "pluggy._manager",
    "_signal",
)
"""The modules whose functions and classes decide a verdict: the guard watches them."""


class Recorder(Protocol):
    """Where the harness writes its records."""

    def emit(self, record: dict[str, Any]) -> None:
        """Write one record."""


def sign(key: bytes, payload: str) -> str:
    """Return the hex HMAC-SHA256 of a record's payload."""
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


class FileRecorder:
    """Appends signed records to a file, one JSON line each, unbuffered.

    Each line is ``<hmac> <payload>``; records are numbered, so a dropped, reordered or
    forged line is detected by :func:`read_records`. Writes go straight to the file
    descriptor: a process that dies mid-run leaves every record written so far.

    Args:
        path: The results file.
        key: The secret the parent shares with the harness.
    """

    def __init__(self, path: Path, key: bytes) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._key = key
        self._seq = 0

    def emit(self, record: dict[str, Any]) -> None:
        """Sign and append one record."""
        payload = json.dumps({**record, "seq": self._seq}, sort_keys=True)
        self._seq += 1
        os.write(self._fd, f"{sign(self._key, payload)} {payload}\n".encode())


def read_records(path: Path, key: bytes) -> list[dict[str, Any]]:
    """Read and verify the records a :class:`FileRecorder` wrote.

    Raises:
        ValueError: When a line is garbled, unsigned, forged or out of sequence.
    """
    records: list[dict[str, Any]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        mac, _, payload = line.partition(" ")
        if not hmac.compare_digest(mac, sign(key, payload)):
            raise ValueError(f"record {number} of the results file is not the harness's own")
        record = json.loads(payload)
        if record.get("seq") != number - 1:
            raise ValueError(f"record {number} of the results file is out of sequence")
        records.append(record)
    return records


@dataclass
class MemoryRecorder:
    """Keeps records in a list (for checks run inside the notebook's own kernel)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    """The records, in order."""

    def emit(self, record: dict[str, Any]) -> None:
        """Keep one record."""
        self.records.append(dict(record))


@dataclass(frozen=True)
class CheckInfo:
    """A collected check's marker."""

    nodeid: str
    exercise: str
    points: float
    hidden: bool


@dataclass
class _Outcome:
    called: bool = False
    failed: bool = False
    message: str = ""


@dataclass
class _State:
    recorder: Recorder | None = None
    session: Any = None
    guard: Guard | None = None
    tampered: str | None = None
    checks: dict[str, CheckInfo] = field(default_factory=dict)
    outcomes: dict[str, _Outcome] = field(default_factory=dict)
    codes: dict[str, tuple[object, object]] = field(default_factory=dict)
    completed: set[str] = field(default_factory=set)
    stopped: bool = False


SOURCE_KEY = pytest.StashKey[Callable[[], ModuleType]]()
"""The stash entry holding the function that builds the ``nb`` module."""
RECORDER_KEY = pytest.StashKey[Recorder]()
"""The stash entry holding the recorder, when something set it before configure."""
_STATE_KEY = pytest.StashKey[_State]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add labgrader's options."""
    group = parser.getgroup("labgrader", "labgrader lab checks")
    group.addoption(
        "--notebook",
        dest="labgrader_notebook",
        metavar="PATH",
        default=None,
        help="build the `nb` fixture from this notebook's code cells",
    )
    group.addoption(
        "--exercise",
        dest="labgrader_exercise",
        metavar="ID",
        default=None,
        help="run only the checks of this exercise",
    )
    group.addoption(
        "--visible-only",
        dest="labgrader_visible_only",
        action="store_true",
        help="skip hidden checks, as learners see them",
    )
    # Used by labgrader's harness only.
    group.addoption("--labgrader-submission", default=None, help=argparse.SUPPRESS)
    group.addoption("--labgrader-results", default=None, help=argparse.SUPPRESS)
    group.addoption("--labgrader-key-fd", type=int, default=None, help=argparse.SUPPRESS)
    group.addoption("--labgrader-no-services", action="store_true", help=argparse.SUPPRESS)
    group.addoption("--labgrader-first-failure", action="store_true", help=argparse.SUPPRESS)
    group.addoption("--labgrader-check-timeout", type=float, default=None, help=argparse.SUPPRESS)
    group.addoption("--labgrader-process", action="store_true", help=argparse.SUPPRESS)


def _read_key(fd: int) -> bytes:
    with os.fdopen(fd, "rb") as pipe:
        return pipe.read().strip()


def _use_orchlab_fixtures(config: pytest.Config) -> None:
    manager = config.pluginmanager
    asyncio_plugin = sys.modules.get("pytest_asyncio.plugin")
    if not manager.has_plugin("asyncio") and not (
        asyncio_plugin and manager.is_registered(asyncio_plugin)
    ):
        # The service fixtures are async; with plugin autoload off, load pytest-asyncio here.
        manager.import_plugin("pytest_asyncio.plugin")
    manager.import_plugin("orchlab.testing.fixtures")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; set up the notebook source, the recorder and the fixtures."""
    config.addinivalue_line(
        "markers",
        f"{CHECK_MARKER}(exercise, points, hidden=False): a graded check of a lab exercise",
    )
    state = _State(recorder=config.stash.get(RECORDER_KEY, None))
    config.stash[_STATE_KEY] = state
    if config.getoption("labgrader_first_failure"):
        config.pluginmanager.register(_PassOverAfterStop(state), "labgrader-pass-over")
    results = config.getoption("labgrader_results")
    key_fd = config.getoption("labgrader_key_fd")
    submission = config.getoption("labgrader_submission")
    if submission and config.getoption("labgrader_process"):
        # First of all, before the key is read or a check exists: the learner's processes
        # are forked from what this process is now.
        from labgrader.harness.session import LearnerSession

        state.session = LearnerSession(
            Path(submission),
            close_fds=(key_fd,) if key_fd is not None else (),
            on_flag=functools.partial(_flag_later, state),
        )
        config.add_cleanup(state.session.close)
    if results and key_fd is not None:
        state.recorder = FileRecorder(Path(results), _read_key(key_fd))
    if SOURCE_KEY not in config.stash and state.session is None:
        notebook = config.getoption("labgrader_notebook")
        if notebook and not submission:
            folder = Path(tempfile.mkdtemp(prefix="labgrader-"))
            config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
            submission = str(
                write_submission(build_submission(read_notebook(Path(notebook))), folder)
            )
        if submission:
            config.stash[SOURCE_KEY] = ModuleLoader(Path(submission)).load
    if not config.getoption("labgrader_no_services"):
        _use_orchlab_fixtures(config)
    if check_timeout := config.getoption("labgrader_check_timeout"):
        config.stash[_TIMER_KEY] = _Timer(check_timeout)
    if state.recorder is not None and results and submission and state.session is None:
        # Armed last, once every module the run needs is imported, before any notebook code.
        emit = state.recorder.emit  # bound now: patching the class later changes nothing
        state.recorder = _BoundRecorder(emit)
        state.guard = Guard(
            str(Path(submission)),
            functools.partial(_flag, emit),
            checks=[str(root) for root in _check_roots(config)],
        )
        state.guard.arm()
        state.guard.watch(sys.modules[name] for name in _HARNESS_MODULES if name in sys.modules)


@dataclass(frozen=True)
class _BoundRecorder:
    emit: Callable[[dict[str, Any]], None]


def _flag(emit: Callable[[dict[str, Any]], None], what: str) -> None:
    emit({"event": "flag", "what": what})


def _flag_later(state: _State, what: str) -> None:
    """A flag from the learner's process's guard (it may come from any thread)."""
    if state.recorder is not None:
        state.recorder.emit({"event": "flag", "what": what})


def _tampered(state: _State) -> bool:
    """Whether the harness was changed; the first change found is recorded, once."""
    if state.tampered is None and state.guard is not None:
        state.tampered = state.guard.changed()
        if state.tampered is not None and state.recorder is not None:
            state.recorder.emit({"event": "tampered", "what": state.tampered})
    return state.tampered is not None


def _marker_info(item: pytest.Item) -> CheckInfo | str:
    """Read a check's marker, or return what is wrong with it."""
    marker = item.get_closest_marker(CHECK_MARKER)
    where = item.nodeid
    if marker is None:
        return (
            f"{where} has no @pytest.mark.{CHECK_MARKER}(exercise=..., points=...) marker: "
            "every check needs one"
        )
    exercise = marker.kwargs.get("exercise", marker.args[0] if marker.args else None)
    points = marker.kwargs.get("points", marker.args[1] if len(marker.args) > 1 else None)
    hidden = marker.kwargs.get("hidden", False)
    if not isinstance(exercise, str) or not exercise:
        return f"{where}: the check marker needs exercise='<exercise-id>'"
    if isinstance(points, bool) or not isinstance(points, int | float) or points <= 0:
        return f"{where}: the check marker needs points=<a number above 0>, got {points!r}"
    if not isinstance(hidden, bool):
        return f"{where}: the check marker's hidden must be True or False, got {hidden!r}"
    return CheckInfo(item.nodeid, exercise, float(points), hidden)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Keep the selected checks (by exercise and visibility); report malformed markers."""
    state = config.stash[_STATE_KEY]
    exercise = config.getoption("labgrader_exercise")
    visible_only = config.getoption("labgrader_visible_only")
    selected: list[pytest.Item] = []
    deselected: list[pytest.Item] = []
    for item in items:
        info = _marker_info(item)
        if isinstance(info, str):
            if state.recorder is not None:
                state.recorder.emit({"event": "error", "message": info})
            deselected.append(item)
        elif (exercise and info.exercise != exercise) or (visible_only and info.hidden):
            deselected.append(item)
        else:
            state.checks[item.nodeid] = info
            function = getattr(item, "function", None)
            state.codes[item.nodeid] = (function, getattr(function, "__code__", None))
            selected.append(item)
    # The visible checks first, always: a hidden check's inputs can then never reach a
    # visible check's message (in process mode the hidden ones also get a learner process
    # of their own, after the visible ones finished).
    selected.sort(key=lambda item: state.checks[item.nodeid].hidden)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = selected
    if state.recorder is not None:
        state.recorder.emit(
            {
                "event": "collected",
                "checks": [
                    [c.nodeid, c.exercise, c.points, c.hidden] for c in state.checks.values()
                ],
            }
        )


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    """Record a check file that could not be collected (an instructor's error)."""
    report = yield
    state = collector.config.stash.get(_STATE_KEY, None)
    if report.failed and state is not None and state.recorder is not None:
        lines = [line for line in str(report.longrepr).strip().splitlines() if line.strip()]
        detail = lines[-1].removeprefix("E").strip() if lines else "unknown error"
        state.recorder.emit(
            {"event": "error", "message": f"cannot collect {report.nodeid}: {detail}"}
        )
    return report


class CheckTimeout(Exception):
    """A check took longer than its time limit (``--labgrader-check-timeout``)."""


@dataclass
class _Timer:
    """The time left to the running check, across its set-up, call and clean-up."""

    limit: float
    left: float = 0.0

    def start(self) -> None:
        self.left = self.limit

    def arm(self) -> None:
        signal.signal(signal.SIGALRM, self._expired)
        signal.setitimer(signal.ITIMER_REAL, max(self.left, 0.001))

    def disarm(self) -> None:
        self.left, _ = signal.setitimer(signal.ITIMER_REAL, 0)

    def _expired(self, signum: int, frame: object) -> None:
        self.left = 0.0
        raise CheckTimeout(
            f"the check took longer than {self.limit:g} s and was stopped: look for an endless "
            "loop or a call that waits forever"
        )


_TIMER_KEY = pytest.StashKey[_Timer]()


def _timed(item: pytest.Item) -> Generator[None, object, object]:
    timer = item.config.stash.get(_TIMER_KEY, None)
    if timer is None:
        return (yield)
    timer.arm()
    try:
        return (yield)
    finally:
        timer.disarm()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Generator[None, object, object]:
    """Run the check's set-up under its time limit."""
    return (yield from _timed(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    """Run the check under its time limit."""
    return (yield from _timed(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Run the check's clean-up under its time limit."""
    return (yield from _timed(item))


def first_line(text: str) -> str:
    """Return the first non-empty line of a text."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def unanswered(exc: BaseException) -> str | None:
    """The stub's message when an exercise is not answered yet, wherever it surfaced.

    The starter's ``raise NotImplementedError(...)`` may reach a check directly, as the cause
    or context of another error, or through an engine (Temporal turns it into an
    ``ApplicationError`` of type ``NotImplementedError`` inside a workflow failure).
    """
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        err = todo.pop()
        if not isinstance(err, BaseException) or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, NotImplementedError) or getattr(err, "type", None) == (
            "NotImplementedError"
        ):
            return first_line(str(getattr(err, "message", None) or err)) or "not implemented"
        todo += [err.__cause__, err.__context__, getattr(err, "cause", None)]
    return None


def failure_message(exc: BaseException) -> str:
    """Say why a check failed in plain words: the assertion message, or the error's first line."""
    stub = unanswered(exc)
    if stub is not None:
        return f"not answered yet ({stub})"
    if (
        isinstance(exc, AttributeError)
        and isinstance(exc.obj, ModuleType)
        and exc.obj.__name__.startswith((SUBMISSION_MODULE_PREFIX, LIVE_MODULE_PREFIX))
    ):
        return (
            f"the notebook does not define {exc.name!r}: define it (and run its cell) with the "
            "name the exercise asks for"
        )
    if isinstance(exc, NotebookNameError):
        return str(exc)
    if isinstance(exc, ChannelClosed):
        return f"the notebook's process ended during the check: {exc}"
    if isinstance(exc, Unsendable):
        return f"a value could not cross to or from the notebook: {exc}"
    if isinstance(exc, pytest.skip.Exception):
        return f"skipped: {exc.msg}"
    if isinstance(exc, CheckTimeout):
        return str(exc)
    if isinstance(exc, pytest.fail.Exception | NotebookImportError):
        text = str(exc).strip()
    elif isinstance(exc, AssertionError):
        # pytest's rewritten assert gives "<message>\nassert <explanation>": keep the message.
        text = str(exc).strip()
        head, sep, _ = text.partition("\nassert ")
        text = head if sep else first_line(text)
        text = text or "assertion failed"
    elif (root := engine_root_cause(exc)) is not None:
        text = _engine_text(exc, root)
    else:
        line = first_line(str(exc))
        text = f"{type(exc).__name__}: {line}" if line else type(exc).__name__
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 3] + "..."


def engine_root_cause(exc: BaseException) -> BaseException | None:
    """The innermost cause of an engine's error chain (a workflow failure caused by an
    activity error caused by the learner's exception), or ``None`` when ``exc`` is no
    engine error or has no cause."""
    if not type(exc).__module__.startswith(("temporalio.", "prefect.")):
        return None
    err, seen = exc, {id(exc)}
    while (nxt := getattr(err, "cause", None) or err.__cause__) is not None and id(nxt) not in seen:
        seen.add(id(nxt))
        err = nxt
    return None if err is exc else err


def _engine_text(exc: BaseException, root: BaseException) -> str:
    where = "the workflow failed" if type(exc).__name__ == "WorkflowFailureError" else "failed"
    kind = getattr(root, "type", None)
    if isinstance(kind, str) and hasattr(root, "message"):  # an ApplicationError: the original
        return f"{where}: {kind or type(root).__name__}: {first_line(str(root.message))}"
    if type(root).__name__ == "TimeoutError" and kind is not None:
        return f"{where}: timed out ({getattr(kind, 'name', kind)})"
    line = first_line(str(getattr(root, "message", None) or root))
    return f"{where}: {type(root).__name__}: {line}" if line else f"{where}: {type(root).__name__}"


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Note that the check's own function ran to its end, unchanged.

    A notebook that patches pytest (``Function.runtest``, the call hook) or swaps a check's
    code for a no-op never reaches this point with the check's original code: no pass.
    """
    result = yield
    state = pyfuncitem.config.stash[_STATE_KEY]
    # The function collected (pytest-asyncio may wrap what is called) must keep its code.
    function, code = state.codes.get(pyfuncitem.nodeid, (None, None))
    if function is None or getattr(function, "__code__", None) is code:
        state.completed.add(pyfuncitem.nodeid)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Note each phase's outcome and the first failure's message."""
    report = yield
    state = item.config.stash[_STATE_KEY]
    outcome = state.outcomes.setdefault(item.nodeid, _Outcome())
    if report.failed or report.skipped:
        if not outcome.failed:
            message = (
                failure_message(call.excinfo.value)
                if call.excinfo
                else first_line(report.longreprtext)
            )
            if (
                call.when == "setup"
                and call.excinfo
                and not call.excinfo.errisinstance((NotebookImportError, pytest.skip.Exception))
            ):
                message = f"the check could not start: {message}"
            elif call.when == "teardown":
                message = f"the check's clean-up failed: {message}"
            outcome.message = message
        outcome.failed = True
    elif call.when == "call":
        outcome.called = True
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(
    item: pytest.Item, nextitem: pytest.Item | None
) -> Generator[None, object, object]:
    """Record that a check began and, once all its phases ran, whether it passed."""
    state = item.config.stash[_STATE_KEY]
    if state.stopped:
        return (yield)  # passed over (see _PassOverAfterStop): no record
    if state.recorder is not None:
        state.recorder.emit({"event": "begin", "nodeid": item.nodeid})
    if (timer := item.config.stash.get(_TIMER_KEY, None)) is not None:
        timer.start()
    began = time.perf_counter()
    result = yield
    seconds = time.perf_counter() - began
    outcome = state.outcomes.get(item.nodeid, _Outcome())
    passed = outcome.called and not outcome.failed
    if _tampered(state):
        passed = False
        outcome.message = f"the notebook changed the grader's harness ({state.tampered})"
    elif passed and item.nodeid not in state.completed:
        passed = False
        outcome.message = "the check did not run to its end (pytest or the check was tampered with)"
    if state.recorder is not None:
        state.recorder.emit(
            {
                "event": "result",
                "nodeid": item.nodeid,
                "passed": passed,
                "message": outcome.message,
                "seconds": round(seconds, 4),
            }
        )
        if not passed and item.config.getoption("labgrader_first_failure"):
            # Proving a wrong answer loses points needs one failing check: stop here.
            state.recorder.emit({"event": "stopped", "nodeid": item.nodeid})
            state.stopped = True
    return result


@dataclass(frozen=True)
class _PassOverAfterStop:
    """Passes over the checks after the first failing one (``--labgrader-first-failure``).

    Not ``session.shouldstop``: pytest ends such a run as interrupted, and its report of the
    interruption renders a full traceback (seconds per mutant on a busy machine).
    """

    state: _State

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(
        self, item: pytest.Item, nextitem: pytest.Item | None
    ) -> bool | None:
        """Run nothing once the run stopped (pluggy takes ``True`` as done)."""
        return True if self.state.stopped else None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Under the harness, delete the check files once imported, and forget their modules:
    the notebook's code, which runs after this, can neither read the hidden checks' source
    nor import their modules to read their inputs, nor edit or delete the checks."""
    config = session.config
    if config.getoption("labgrader_results") and config.getoption("labgrader_submission"):
        roots = _check_roots(config)
        for root in roots:
            shutil.rmtree(root, ignore_errors=True)
        # Plain string prefixes: thousands of modules are loaded, a Path per module costs.
        prefixes = tuple(f"{root}{os.sep}" for root in roots)
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if isinstance(file, str) and file.startswith(prefixes):
                del sys.modules[name]


def _check_roots(config: pytest.Config) -> list[Path]:
    """The folders of checks this run was given."""
    return sorted({Path(str(a)).resolve() for a in config.args if Path(str(a)).is_dir()})


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Record that the run completed."""
    state = session.config.stash.get(_STATE_KEY, None)
    if state is not None and state.recorder is not None:
        _tampered(state)
        state.recorder.emit({"event": "done", "exitstatus": int(exitstatus)})


@pytest.fixture
def nb(request: pytest.FixtureRequest) -> Any:
    """The learner's notebook as a module, executed afresh for this check.

    Raises:
        NotebookImportError: When the notebook's code fails; every check using it fails
            with a message naming the cell and the error.
    """
    state = request.config.stash.get(_STATE_KEY, None)
    if state is not None and state.session is not None:
        info = state.checks.get(request.node.nodeid)
        return state.session.module(hidden=bool(info and info.hidden))
    load = request.config.stash.get(SOURCE_KEY, None)
    if load is None:
        pytest.fail(
            "no notebook to check: run with --notebook PATH (or through labgrader)", pytrace=False
        )
    return load()


__all__ = [
    "CHECK_MARKER",
    "ORCHLAB_FIXTURES",
    "RECORDER_KEY",
    "SOURCE_KEY",
    "CheckInfo",
    "CheckTimeout",
    "FileRecorder",
    "MemoryRecorder",
    "Recorder",
    "engine_root_cause",
    "failure_message",
    "nb",
    "read_records",
]
