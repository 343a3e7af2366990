"""Guard the harness from the notebook code it runs in the same process.

A check calls the learner's functions, so the learner's code runs inside the check run,
next to the harness that records which checks passed. The sandbox keeps that code away from
files, other processes and the network; this module keeps it away from the harness itself:

* an **audit hook** (:pep:`578`; once added, it cannot be removed) refuses, with a
  :class:`PermissionError` that names what was refused, the ways code reaches into the
  interpreter's internals: walking the garbage collector's objects, taking stack frames or
  tracebacks' frames, tracing or profiling, compiling code from strings, building code
  objects or swapping a function's code, reading process memory through ``/proc``, and
  adding audit hooks. Each refusal is reported (the feedback flags the submission for
  review);
* Python-level **signal handlers** (which are handed the frame that was running) may not be
  the notebook's own functions: ``signal.signal`` goes through the audit hook, which alone
  holds the real one;
* an **integrity check** (:meth:`Guard.changed`) compares the harness's modules and
  classes with how they were before the notebook ran: a notebook that rebinds a function of
  pytest's runner or a method of labgrader's plugin (assignments Python does not audit)
  gets no points at all.

Most rules apply only when the notebook's own code makes the call (its frames are told apart
by file name and module), so libraries it uses (logging, dataclasses, Prefect, Temporal)
work as usual. This raises the bar a long way, but Python code in one process cannot be
fenced off completely: :func:`review_flags` also lists, for the instructor, every construct
in a submission's source that touches the interpreter's or the grader's internals.
"""

from __future__ import annotations

import functools
import importlib
import io
import re
import sys
import threading
import tokenize
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import CodeType, FrameType, ModuleType
from typing import Any

from labgrader.notebook import SUBMISSION_MODULE_PREFIX

_ALWAYS = {
    "gc.get_objects": "walk the garbage collector's objects (gc.get_objects)",
    "gc.get_referrers": "walk the garbage collector's objects (gc.get_referrers)",
    "gc.get_referents": "walk the garbage collector's objects (gc.get_referents)",
    "sys._current_frames": "take other threads' stack frames (sys._current_frames)",
    "sys.addaudithook": "add an audit hook (sys.addaudithook)",
}
_FRAME_ATTRIBUTES = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame"})
_CODE_ATTRIBUTES = frozenset({"__code__", "gi_code", "cr_code", "ag_code"})
_FRAME_HELPERS = frozenset(
    {
        ("inspect", "currentframe"),
        ("inspect", "stack"),
        ("inspect", "trace"),
        ("inspect", "getinnerframes"),
        ("inspect", "getouterframes"),
        ("traceback", "walk_stack"),
        ("traceback", "walk_tb"),
        ("logging", "<lambda>"),
        ("asyncio", "_task_get_stack"),
    }
)
_PROC_MEMORY = re.compile(r"^/proc/(self|thread-self|\d+)(/task/\d+)?/mem$")
_WATCHED = frozenset(
    {
        *_ALWAYS,
        "open",
        "sys._getframe",
        "object.__getattr__",
        "object.__setattr__",
        "sys.settrace",
        "sys.setprofile",
        "compile",
        "code.__new__",
    }
)
_STACK_DEPTH = 64
_signal: Any = importlib.import_module("_signal")  # what signal.signal calls


class Guard:
    """The audit hook and integrity check of one check run.

    Args:
        submission: The path of the submission module (its code's file name).
        report: Called once per kind of refused action, with its description.
        checks: The folders of the checks: their functions' code may not be read.
    """

    def __init__(
        self, submission: str, report: Callable[[str], None], *, checks: Sequence[str] = ()
    ) -> None:
        self._submission = submission
        self._checks = tuple(f"{root.rstrip('/')}/" for root in checks)
        self._report = report
        self._reported: set[str] = set()
        self._snapshot: dict[tuple[str, str], dict[str, Any]] = {}
        self._inside = threading.local()

    # --- the audit hook ---------------------------------------------------------------------

    def arm(self) -> None:
        """Add the audit hook to this interpreter, for good, and guard ``signal.signal``.

        The real ``signal.signal`` is kept only by the hook (nothing can reach an audit
        hook); the function put in its place asks the hook to install each handler.
        """
        install = _signal.signal
        previous = threading.local()

        def hook(event: str, args: tuple[Any, ...]) -> None:
            if event == "labgrader.signal":
                signalnum, handler = args
                if self._is_notebook_function(handler):
                    self._refuse("install a signal handler of its own (signal.signal)")
                previous.handler = install(signalnum, handler)
            else:
                self._hook(event, args)

        def signal(signalnum: int, handler: Any) -> Any:
            sys.audit("labgrader.signal", signalnum, handler)
            return previous.__dict__.pop("handler", None)

        sys.addaudithook(hook)
        _signal.signal = signal

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if event not in _WATCHED or getattr(self._inside, "busy", False):
            return
        self._inside.busy = True
        try:
            refused = self._refused(event, args)
        finally:
            self._inside.busy = False
        if refused is not None:
            self._refuse(refused)

    def _refuse(self, what: str) -> None:
        if what not in self._reported:
            self._reported.add(what)
            self._report(what)
        raise PermissionError(f"labgrader: graded code may not {what}")

    def _is_notebook_function(self, handler: Any) -> bool:
        for _ in range(8):  # unwrap bound methods and partials
            if isinstance(handler, functools.partial):
                handler = handler.func
            elif hasattr(handler, "__func__"):
                handler = handler.__func__
            else:
                break
        code = getattr(handler, "__code__", None)
        if code is None:
            return False
        return self._is_notebook_code(code, getattr(handler, "__globals__", {}))

    def _refused(self, event: str, args: tuple[Any, ...]) -> str | None:
        """What the event would do, when the guard refuses it; ``None`` when it is allowed."""
        if event in _ALWAYS:
            return _ALWAYS[event]
        if event == "open":
            path = args[0]
            if isinstance(path, str) and _PROC_MEMORY.match(path):
                return f"read process memory ({path})"
            return None
        caller = _caller()
        if event == "sys._getframe":
            return "take stack frames (sys._getframe)" if self._takes_frames(caller) else None
        if event == "object.__getattr__":
            if args[1] in _FRAME_ATTRIBUTES and self._takes_frames(caller):
                return f"take stack frames (.{args[1]})"
            if (
                args[1] in _CODE_ATTRIBUTES
                and self._is_check_code(args[0], args[1])
                and self._on_stack(caller)
            ):
                return "read the checks' code"
            return None
        if event == "object.__setattr__":
            # The notebook's own assignment only: library decorators (types.coroutine) that
            # run while the notebook imports them rewrite code objects too.
            if args[1] == "__code__" and self._is_notebook(caller):
                return "swap a function's code (__code__)"
            return None
        if event in ("sys.settrace", "sys.setprofile"):
            return f"trace or profile the interpreter ({event})" if self._on_stack(caller) else None
        if event in ("compile", "code.__new__") and self._is_notebook(caller):
            return "run code built from strings (eval, exec, compile) or build code objects"
        return None

    def _is_check_code(self, owner: Any, attribute: str) -> bool:
        if not self._checks:
            return False
        code = getattr(owner, attribute, None)  # audited too: this hook is busy, it returns
        return str(getattr(code, "co_filename", "")).startswith(self._checks)

    def _is_notebook(self, frame: FrameType | None) -> bool:
        return frame is not None and self._is_notebook_code(frame.f_code, frame.f_globals)

    def _is_notebook_code(self, code: CodeType, module: Mapping[str, Any]) -> bool:
        """Whether code is the notebook's: from its file, or run in one of its modules."""
        if code.co_filename == self._submission:
            return True
        return str(module.get("__name__", "")).startswith(SUBMISSION_MODULE_PREFIX)

    def _takes_frames(self, caller: FrameType) -> bool:
        """Whether the notebook takes a frame itself or through a helper that hands it one."""
        frame: FrameType | None = caller
        while frame is not None and self._is_helper(frame):
            frame = frame.f_back
        return self._is_notebook(frame)

    @staticmethod
    def _is_helper(frame: FrameType) -> bool:
        module = str(frame.f_globals.get("__name__", ""))
        return (module.split(".")[0], frame.f_code.co_name) in _FRAME_HELPERS

    def _on_stack(self, frame: FrameType | None) -> bool:
        for _ in range(_STACK_DEPTH):
            if frame is None:
                return False
            if self._is_notebook(frame):
                return True
            frame = frame.f_back
        return False

    # --- the integrity check ----------------------------------------------------------------

    def watch(self, modules: Iterable[ModuleType]) -> None:
        """Remember the attributes of these modules and of the classes they define."""
        for module in modules:
            self._snapshot[(module.__name__, "")] = dict(vars(module))
            for name, value in list(vars(module).items()):
                if isinstance(value, type) and value.__module__ == module.__name__:
                    self._snapshot[(module.__name__, name)] = dict(vars(value))

    def changed(self) -> str | None:
        """The first watched attribute that was rebound or deleted, as ``module.Class.name``."""
        for (module_name, class_name), before in self._snapshot.items():
            module = sys.modules.get(module_name)
            if module is None:
                return module_name
            owner: Any = getattr(module, class_name, None) if class_name else module
            now: Mapping[str, Any] = vars(owner) if owner is not None else {}
            for name, value in before.items():
                if now.get(name, _MISSING) is not value:
                    return ".".join(p for p in (module_name, class_name, name) if p)
        return None


_MISSING = object()


def _caller() -> FrameType:
    """The frame of the code that raised the audit event (the first one outside this module)."""
    frame = sys._getframe(1)
    while frame.f_code.co_filename == __file__ and frame.f_back is not None:
        frame = frame.f_back
    return frame


_REVIEW_PATTERNS = (
    (r"\b(labgrader|_pytest|pluggy)\b", "uses the grader's or pytest's internals"),
    (r"^\s*(import|from)\s+pytest\b", "imports pytest"),
    (r"\bgc\s*\.\s*get_(objects|referrers|referents)\b", "walks the garbage collector"),
    (
        r"\b(_getframe|currentframe|_current_frames|f_back|f_locals|f_globals|tb_frame)\b",
        "takes stack frames",
    ),
    (r"\b(settrace|setprofile|addaudithook)\b", "traces the interpreter or adds audit hooks"),
    (r"\bctypes\b", "uses ctypes (raw memory access)"),
    (r"\bsignal\s*\.\s*(signal|setitimer|alarm)\b", "installs signal handlers"),
    (r"/proc/", "reads /proc"),
    (r"\b__code__\b|\bCodeType\b|\bFunctionType\b", "builds or swaps code objects"),
    (r"(?<![.\w])(exec|eval|compile|__import__)\s*\(", "runs code built from strings"),
    (r"\bimport_module\s*\(", "imports modules by a computed name (importlib.import_module)"),
    (r"\b(results\.json|junit|conftest)\b", "names the grader's result files"),
    (r"\bsys\s*\.\s*modules\b", "looks through the loaded modules (sys.modules)"),
)


def review_flags(source: str) -> list[tuple[str, int, str]]:
    """List the constructs in a submission's source that an instructor should look at.

    They cost no points by themselves (a notebook may ``import signal`` for good reasons).

    Returns:
        One ``(what, line number, line)`` per kind of construct, at its first appearance.
    """
    flags = []
    lines = _without_comments(source)
    for pattern, what in _REVIEW_PATTERNS:
        regex = re.compile(pattern)
        for number, line in enumerate(lines, start=1):
            if regex.search(line):
                flags.append((what, number, line.strip()[:80]))
                break
    return flags


def _without_comments(source: str) -> list[str]:
    """The source's lines with their comments blanked (labgrader's own notes are comments)."""
    lines = source.splitlines()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                row, col = token.start
                lines[row - 1] = lines[row - 1][:col]
    except (tokenize.TokenError, SyntaxError, IndexError):
        pass  # not valid Python: scan it as it is
    return lines


__all__ = ["Guard", "review_flags"]
