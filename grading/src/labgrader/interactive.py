"""Check your work from inside the notebook: ``labgrader.check("dag-order")``.

The visible checks of one exercise (or all) run against the live namespace of the running
kernel, so the learner needn't save the notebook first, and the result table is displayed
below the cell. The checks run in this process, in a thread of their own (the kernel's
event loop is busy in the main thread; async checks need a loop of their own).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from labgrader.course import is_lab_id
from labgrader.grade import resolve_lab
from labgrader.notebook import namespace_module
from labgrader.pytest_plugin import RECORDER_KEY, SOURCE_KEY, MemoryRecorder
from labgrader.results import GradeResult, RunStatus
from labgrader.run import RunOutcome, outcome_from_records, pytest_args, pytest_ini, scan_checks
from labgrader.services import service_env
from orchlab.logs import quiet_engine_logs

KERNEL = "the running notebook"
"""How results of :func:`check` name the notebook."""
DEFAULT_TIMEOUT = 120.0
"""Seconds the checks of one ``check()`` call may take."""


class _LivePlugin:
    """Hands the live namespace and an in-memory recorder to labgrader's pytest plugin."""

    def __init__(self, load: Callable[[], ModuleType], recorder: MemoryRecorder) -> None:
        self._load = load
        self._recorder = recorder

    @pytest.hookimpl(tryfirst=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        config.stash[SOURCE_KEY] = self._load
        config.stash[RECORDER_KEY] = self._recorder


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_in_process(
    namespace: Mapping[str, Any],
    *,
    checks_dir: Path,
    exercise: str | None,
    include_hidden: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    verbose: bool = False,
) -> RunOutcome:
    """Run a lab's checks against a live namespace, in this process.

    Args:
        namespace: The namespace the ``nb`` fixture exposes (a kernel's ``globals()``).
        checks_dir: The lab's checks folder.
        exercise: Run only this exercise's checks.
        include_hidden: Run hidden checks too.
        timeout: Seconds to wait; a run still going after it is reported as timed out (and
            keeps running in the background until the kernel restarts).
        verbose: Print what the checks printed (pytest's own report included) afterwards.
    """
    info = scan_checks(checks_dir)
    recorder = MemoryRecorder()
    started = time.monotonic()
    output = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="labgrader-check-") as tmp:
        checks = Path(tmp) / "checks"
        shutil.copytree(checks_dir, checks, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        ini = Path(tmp) / "pytest.ini"
        ini.write_text(pytest_ini(info), encoding="utf-8")
        args = pytest_args(
            info, ini=ini, checks=checks, exercise=exercise, visible_only=not include_hidden
        )
        plugin = _LivePlugin(lambda: namespace_module(namespace), recorder)
        crash: list[BaseException] = []

        def target() -> None:
            try:
                pytest.main([*args, "--capture=sys", "-p", "no:faulthandler"], plugins=[plugin])
            except BaseException as exc:  # reported as a crashed run, never raised in the kernel
                crash.append(exc)

        env = service_env(info.services, start=False) if info.services else {}
        with (
            _environ(PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", **env),
            contextlib.redirect_stdout(output),
            contextlib.redirect_stderr(output),
        ):
            thread = threading.Thread(target=target, name="labgrader-check", daemon=True)
            thread.start()
            thread.join(timeout)
        failure: tuple[RunStatus, str] | None = None
        if thread.is_alive():
            failure = (
                RunStatus.TIMEOUT,
                f"the checks were still running after {timeout:g} s "
                "(restart the kernel to stop them)",
            )
        elif crash:
            failure = (
                RunStatus.CRASHED,
                f"the checks crashed: {type(crash[0]).__name__}: {crash[0]}",
            )
        if verbose:
            print(output.getvalue())
        return outcome_from_records(
            recorder.records, failure=failure, duration=time.monotonic() - started
        )


def check(
    exercise: str | None = None,
    *,
    namespace: Mapping[str, Any] | None = None,
    lab: str | None = None,
    checks_dir: str | os.PathLike[str] | None = None,
    display: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    verbose: bool = False,
) -> GradeResult:
    """Run the visible checks of an exercise against the running notebook, and show the result.

    Call it in a "check your work" cell: ``labgrader.check("dag-order")``.

    Args:
        exercise: The exercise id; ``None`` runs every visible check of the lab.
        namespace: The definitions to check; default the caller's globals (the kernel's).
        lab: The lab id; default the current folder's name (a notebook's kernel runs in
            ``labs/NN-topic``).
        checks_dir: The lab's checks folder; default the course's ``grading/checks/<lab>``.
        display: Show the result table: in JupyterLab the returned result renders itself as
            one compact table below the cell; in a terminal a rich table is printed.
        timeout: Seconds to wait for the checks.
        verbose: Let the engines' logs through and print everything the checks printed
            (by default engine log noise is silenced while checks run).

    Returns:
        The result. Inside labgrader's own check runs this does nothing and returns an
        empty result, so a stray ``check()`` call in graded code costs nothing.

    Raises:
        LabNotFound: When the lab cannot be found; the message says how to name it.
    """
    if os.environ.get("LABGRADER_GRADING"):
        return GradeResult(notebook=KERNEL, lab=lab or "", status=RunStatus.OK)
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    cwd = Path.cwd()
    lab_id, checks = resolve_lab(
        lab=lab or (cwd.name if is_lab_id(cwd.name) else None),
        checks_dir=Path(checks_dir) if checks_dir is not None else None,
    )
    quiet = contextlib.nullcontext() if verbose else quiet_engine_logs()
    with quiet:
        outcome = run_in_process(
            namespace, checks_dir=checks, exercise=exercise, timeout=timeout, verbose=verbose
        )
    result = GradeResult(
        notebook=KERNEL,
        lab=lab_id,
        status=outcome.status,
        checks=outcome.checks,
        message=outcome.message,
        duration=outcome.duration,
    )
    if display and _in_jupyter():
        show(result)
    elif display:
        from labgrader.report import print_result

        print_result(result, exercise=exercise)
    return result


_SHOWN: weakref.WeakValueDictionary[int, GradeResult] = weakref.WeakValueDictionary()
"""Results already shown below their cell: the cell's own echo of the returned value is
then left out, so ``labgrader.check("x")`` shows one table, assigned or not."""


def show(result: GradeResult, *, again: bool = False) -> None:
    """Display a result's table below the running cell, once (``again`` shows it anyway)."""
    if _SHOWN.get(id(result)) is result and not again:
        return
    from IPython.display import HTML
    from IPython.display import display as ipython_display

    from labgrader.report import result_html

    ipython_display(HTML(result_html(result)))  # type: ignore[no-untyped-call]
    _SHOWN[id(result)] = result


def _in_jupyter() -> bool:
    """Whether this runs in a Jupyter kernel (which renders HTML below the cell)."""
    shell = sys.modules.get("IPython")
    get = getattr(shell, "get_ipython", None)
    return bool(get and type(get()).__name__ == "ZMQInteractiveShell")


__all__ = ["check", "run_in_process", "show"]
