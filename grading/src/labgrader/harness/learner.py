"""The learner's process: runs the notebook's code and answers the checks' requests.

It holds the module built from the notebook, executed cell by cell as *Run All* with errors
allowed would (a cell that does not compile or raises is reported once, the next cells still
run), and serves what the checks ask of it over the channel: read a name, call a function,
build an instance, start a worker for the engine. Results go back by value
(:mod:`labgrader.harness.codec`); an object that is not plain data stays here and the checks
get a handle to it. The checks' callables arrive as callbacks: calling one asks the checks'
process to run it.

Nothing of the checks ever reaches this process: it is started before they are collected, and
all it learns of them is what they send.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import dataclasses
import enum
import inspect
import itertools
import re
import sys
import threading
import traceback
import typing
from dataclasses import dataclass
from types import CodeType, ModuleType
from typing import Any

from labgrader.harness.channel import Channel
from labgrader.harness.codec import Codec, Tag, Unsendable, dataclass_fields, typed_relay
from labgrader.notebook import SUBMISSION_MODULE_PREFIX, Submission

_DEFINED = re.compile(r"^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*[:=]", re.M)
_TYPE_NAMES = {
    int: "int",
    float: "float",
    str: "str",
    bool: "bool",
    bytes: "bytes",
}


@dataclass(frozen=True)
class CellError:
    """A cell that did not compile or raised when the module was built."""

    cell: int
    exercise: str | None
    line: int | None
    error: str
    names: tuple[str, ...]
    """The names the cell would have defined (read from its text)."""

    def describe(self) -> str:
        """``cell 7 (exercise 'x') did not run (SyntaxError, line 3: invalid syntax)``."""
        where = f"cell {self.cell}" + (f" (exercise {self.exercise!r})" if self.exercise else "")
        line = f", line {self.line}" if self.line else ""
        return f"{where} did not run ({self.error}{line})"


class CellModule:
    """The notebook's code as a module, one cell at a time.

    Args:
        submission: The module source and where each cell sits in it.
        filename: The file name the code objects carry (messages and the guard use it).
    """

    def __init__(self, submission: Submission, filename: str) -> None:
        self.submission = submission
        self.filename = filename
        self._codes: list[tuple[int, CodeType | CellError]] | None = None
        self._counter = itertools.count(1)

    def _compile(self) -> list[tuple[int, CodeType | CellError]]:
        lines = self.submission.source.splitlines(keepends=True)
        out: list[tuple[int, CodeType | CellError]] = []
        for span in self.submission.spans:
            # Blank lines in front keep line numbers those of the whole module.
            text = "\n" * (span.first_line - 1) + "".join(
                lines[span.first_line - 1 : span.last_line]
            )
            try:
                out.append((span.cell, compile(text, self.filename, "exec", dont_inherit=True)))
            except SyntaxError as exc:
                line = exc.lineno - span.first_line + 1 if exc.lineno else None
                out.append((span.cell, self._error(span.cell, f"SyntaxError: {exc.msg}", line)))
            except (RecursionError, MemoryError, ValueError) as exc:
                out.append((span.cell, self._error(span.cell, _first(exc), None)))
        return out

    def _error(self, cell: int, error: str, line: int | None) -> CellError:
        span = next(s for s in self.submission.spans if s.cell == cell)
        source = self.submission.source.splitlines()[span.first_line - 1 : span.last_line]
        names = tuple(
            dict.fromkeys(m.group(1) or m.group(2) for m in _DEFINED.finditer("\n".join(source)))
        )
        return CellError(cell, span.exercise, line, error, names)

    def load(self) -> tuple[ModuleType, list[CellError]]:
        """Execute every cell afresh into a new module; return it and the cells that failed."""
        if self._codes is None:
            self._codes = self._compile()
        name = f"{SUBMISSION_MODULE_PREFIX}{next(self._counter)}"
        module = ModuleType(name)
        module.__file__ = self.filename
        module.__dict__["display"] = lambda *objs, **kw: None
        sys.modules[name] = module  # before running: dataclasses and pickling look it up
        errors: list[CellError] = []
        for cell, code in self._codes:
            if isinstance(code, CellError):
                errors.append(code)
                continue
            try:
                exec(code, module.__dict__)
            except Exception as exc:
                errors.append(
                    self._error(
                        cell, _first(exc), _line_in(exc, self.filename, cell, self.submission)
                    )
                )
        return module, errors


def _first(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _line_in(exc: BaseException, filename: str, cell: int, submission: Submission) -> int | None:
    span = next(s for s in submission.spans if s.cell == cell)
    lineno = None
    for frame, frame_line in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == filename:
            lineno = frame_line
    return lineno - span.first_line + 1 if lineno else None


class CheckError(Exception):
    """An error raised on the checks' side whose class this process does not know."""


class Callback:
    """A callable of the checks' side: calling it asks the checks' process to run it."""

    def __init__(self, channel: Channel, cid: int, info: dict[str, Any]) -> None:
        self._channel = channel
        self.id = cid
        self.name = str(info.get("name") or "callback")
        self.is_async = bool(info.get("async"))
        self.activity = info.get("activity")
        self.arg_types: list[Any] = list(info.get("arg_types") or ())
        self.ret_type: Any = info.get("ret_type")
        self.is_callable = bool(info.get("callable", True))
        self.__name__ = self.__qualname__ = self.name

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._channel.request("attribute", [self.id, name])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self.is_callable:
            raise TypeError(f"the check's {self.name} object is not callable")
        if self.is_async:
            return self._acall(*args, **kwargs)
        payload = [self.id, list(args), kwargs, _activity_context(self._channel.codec)]
        return self._channel.request("callback", payload)

    async def _acall(self, *args: Any, **kwargs: Any) -> Any:
        # Called from one of the notebook's activities (or as a check's fake activity): the
        # check's code runs there as if in this activity (its info, attempt, heartbeat details)
        # and is cancelled when this activity is.
        context = _activity_context(self._channel.codec)
        payload = [self.id, list(args), kwargs, context]
        loop = asyncio.get_running_loop()
        call = loop.run_in_executor(
            _CALLBACK_THREADS, lambda: self._channel.request("callback", payload)
        )
        try:
            return await call
        except asyncio.CancelledError:
            if context is not None:
                self._channel.notify("cancel", context["token"])
            raise

    def __repr__(self) -> str:
        return f"<check's callable {self.name}>"


_CALLBACK_THREADS = concurrent.futures.ThreadPoolExecutor(32, thread_name_prefix="labgrader-call")
"""Threads that wait for the checks' async callables (one per call in flight)."""
_TOKENS = itertools.count(1)
_ACTIVITY_INFO = (
    "activity_id",
    "activity_type",
    "attempt",
    "heartbeat_details",
    "heartbeat_timeout",
    "schedule_to_close_timeout",
    "start_to_close_timeout",
    "scheduled_time",
    "current_attempt_scheduled_time",
    "started_time",
    "task_queue",
    "workflow_id",
    "workflow_namespace",
    "workflow_run_id",
    "workflow_type",
    "is_local",
)
"""The fields of an activity's info a check's code sees as its own when the activity calls it."""


def _activity_context(codec: Codec) -> dict[str, Any] | None:
    """The running activity's info as plain data (and a token to cancel it by), if any."""
    activity = sys.modules.get("temporalio.activity")
    if activity is None or not activity.in_activity():
        return None
    info = activity.info()
    fields = {}
    for name in _ACTIVITY_INFO:
        value = getattr(info, name, None)
        if name == "heartbeat_details":
            value = list(value or ())
        try:
            codec.dumps(value)
        except Unsendable:
            continue
        fields[name] = value
    return {"token": next(_TOKENS), "info": fields}


class LearnerCodec(Codec):
    """What this side sends: its own objects as handles, its classes by reference."""

    def __init__(self, learner: Learner) -> None:
        self.learner = learner

    def encode_other(self, value: Any) -> tuple[Tag, Any]:
        learner = self.learner
        if isinstance(value, Callback):
            return Tag.CALLBACK, [value.id]
        if isinstance(value, type):
            return Tag.CLASSREF, learner.describe(value)
        if isinstance(value, enum.Enum):
            return Tag.ENUM, [
                learner.describe(type(value)),
                value.name,
                self.plain_or_repr(value.value),
            ]
        if dataclasses.is_dataclass(value):
            return Tag.DATACLASS, [learner.describe(type(value)), dataclass_fields(value)]
        if isinstance(value, BaseException):
            return Tag.EXCEPTION, learner.exception_payload(value)
        kind = "object"
        if inspect.isfunction(value) or inspect.ismethod(value):
            kind = "coroutine" if inspect.iscoroutinefunction(value) else "function"
        name = getattr(value, "__name__", None) if kind != "object" else None
        return Tag.HANDLE, [learner.keep(value), type(value).__name__, callable(value), kind, name]

    def decode_tag(self, tag: Tag, payload: Any) -> Any:
        learner = self.learner
        if tag is Tag.HANDLE:
            return learner.resolve(payload[0])
        if tag is Tag.CALLBACK:
            return Callback(learner.channel, int(payload[0]), payload[1])
        if tag is Tag.CLASSREF:
            return learner.class_by_key(payload["key"])
        if tag is Tag.DATACLASS:
            cls = learner.class_by_key(payload[0]["key"])
            return cls(**dict(payload[1]))
        if tag is Tag.ENUM:
            return learner.class_by_key(payload[0]["key"])[payload[1]]
        if tag is Tag.EXCEPTION:
            return learner.rebuild_exception(payload)
        if tag is Tag.WORKFLOW_HANDLE:
            return learner.engine.workflow_handle(*payload)
        return super().decode_tag(tag, payload)


class Learner:
    """The server of the learner's process.

    Args:
        submission: The notebook's module.
        filename: The file name of the notebook's code.
    """

    def __init__(self, submission: Submission, filename: str) -> None:
        self.cells = CellModule(submission, filename)
        self.module: ModuleType | None = None
        self.errors: list[CellError] = []
        self._objects: dict[int, Any] = {}
        self._handles: dict[int, int] = {}
        self._ids = itertools.count(1)
        self._descriptions: dict[type, dict[str, Any]] = {}
        self.channel: Channel = None  # type: ignore[assignment]  # set by serve()
        self.engine = _Engine()

    # -- handles -------------------------------------------------------------------------

    def keep(self, value: Any) -> int:
        """Keep an object here and return its handle."""
        hid = self._handles.get(id(value))
        if hid is not None and self._objects.get(hid) is value:
            return hid
        hid = next(self._ids)
        self._objects[hid] = value
        self._handles[id(value)] = hid
        return hid

    def resolve(self, hid: int) -> Any:
        try:
            return self._objects[int(hid)]
        except KeyError:
            raise Unsendable(f"handle {hid} is not an object of this notebook run") from None

    # -- classes -------------------------------------------------------------------------

    def key(self, cls: type) -> str:
        module = self.module
        if module is not None and cls.__module__ == module.__name__:
            return cls.__qualname__
        return f"{cls.__module__}:{cls.__qualname__}"

    def class_by_key(self, key: str) -> Any:
        module_name, sep, qualname = key.rpartition(":")
        if sep:
            owner: Any = sys.modules.get(module_name)
            if owner is None:
                import importlib

                owner = importlib.import_module(module_name)
        else:
            owner, qualname = self.module, key
        for part in qualname.split("."):
            owner = getattr(owner, part)
        if not isinstance(owner, type):
            raise Unsendable(f"{key} is not a class")
        return owner

    def describe(self, cls: type) -> dict[str, Any]:
        """What the checks' side needs to build its own mirror of a class (plain data)."""
        cached = self._descriptions.get(cls)
        if cached is not None:
            return cached
        desc: dict[str, Any] = {"key": self.key(cls), "name": cls.__name__}
        self._descriptions[cls] = desc  # before recursing: classes may refer to each other
        if issubclass(cls, enum.Enum):
            desc["kind"] = "enum"
            desc["members"] = [[m.name, self.channel.codec.plain_or_repr(m.value)] for m in cls]
            desc["base"] = next((b.__name__ for b in cls.__mro__ if b in (int, str)), None)
        elif dataclasses.is_dataclass(cls):
            desc["kind"] = "dataclass"
            desc["frozen"] = bool(cls.__dataclass_params__.frozen)  # type: ignore[attr-defined]
            desc["fields"] = [self._field(cls, f) for f in dataclasses.fields(cls)]
        elif issubclass(cls, BaseException):
            desc["kind"] = "exception"
            desc["base"] = next(
                b.__name__ for b in cls.__mro__ if getattr(builtins, b.__name__, None) is b
            )
            desc["parents"] = [
                self.describe(b) for b in cls.__bases__ if b.__module__ != "builtins"
            ]
        elif hasattr(cls, "__temporal_workflow_definition"):
            desc.update(self._workflow(cls))
        else:
            desc["kind"] = "class"
        return desc

    def _field(self, cls: type, f: dataclasses.Field[Any]) -> list[Any]:
        try:
            hints = typing.get_type_hints(cls)
        except Exception:
            hints = {}
        default: Any = None
        has = "none"
        if f.default is not dataclasses.MISSING:
            has, default = "value", self.channel.codec.plain_or_repr(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            has, default = "factory", self.channel.codec.plain_or_repr(f.default_factory())
        return [f.name, has, default, self._type(hints.get(f.name))]

    def _type(self, hint: Any) -> Any:
        if hint in _TYPE_NAMES:
            return _TYPE_NAMES[hint]
        import datetime as dt

        for kind in (dt.datetime, dt.date, dt.timedelta):
            if hint is kind:
                return kind.__name__
        if isinstance(hint, type) and (
            dataclasses.is_dataclass(hint) or issubclass(hint, enum.Enum)
        ):
            return ["class", self.describe(hint)]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
        if origin in (list, tuple, set, frozenset) and args:
            return [origin.__name__, self._type(args[0])]
        if origin is dict and len(args) == 2:
            return ["dict", self._type(args[0]), self._type(args[1])]
        if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)) and args:
            rest = [a for a in args if a is not type(None)]
            if len(rest) == 1:
                return ["optional", self._type(rest[0])]
        return "any"

    def _workflow(self, cls: type) -> dict[str, Any]:
        definition = getattr(cls, "__temporal_workflow_definition")
        run_hints = typing.get_type_hints(definition.run_fn) if definition.run_fn else {}
        params = [
            [p.name, self._type(run_hints.get(p.name))]
            for p in list(inspect.signature(definition.run_fn).parameters.values())[1:]
        ]
        methods: dict[str, list[Any]] = {}
        for kind, table in (
            ("signal", definition.signals),
            ("query", definition.queries),
            ("update", definition.updates),
        ):
            for name, item in table.items():
                if name is None or item.fn is None:
                    continue
                hints = typing.get_type_hints(item.fn)
                item_params = [
                    [p.name, self._type(hints.get(p.name))]
                    for p in list(inspect.signature(item.fn).parameters.values())[1:]
                ]
                methods[item.fn.__name__] = [
                    kind,
                    name,
                    item_params,
                    self._type(hints.get("return")),
                ]
        return {
            "kind": "workflow",
            "workflow": definition.name,
            "run": [definition.run_fn.__name__, params, self._type(run_hints.get("return"))],
            "methods": methods,
        }

    # -- exceptions ----------------------------------------------------------------------

    def exception_payload(self, exc: BaseException) -> list[Any]:
        codec = self.channel.codec
        attrs = codec.exception_attributes(exc)
        args = [codec.plain_or_repr(a) for a in exc.args]
        origin = getattr(exc, "_labgrader_origin", None)
        return [self.describe(type(exc)), args, attrs, str(exc), origin]

    def rebuild_exception(self, payload: list[Any]) -> BaseException:
        desc, args, attrs, message, origin = payload
        key = desc["key"]
        try:
            if key.startswith("builtins:"):
                cls = getattr(builtins, key.partition(":")[2])
                if not issubclass(cls, BaseException):
                    raise TypeError(key)
                exc = cls(*args)
            else:
                cls = self._exception_class(desc)
                # Rebuilt without calling __init__: the same state, whatever its signature.
                exc = cls.__new__(cls, *args)
                exc.args = tuple(args)
        except Exception:
            exc = CheckError(message)
        if origin is not None:  # the checks' own exception: it goes back as itself
            with contextlib.suppress(AttributeError, TypeError):
                exc._labgrader_origin = origin  # type: ignore[attr-defined]
        for name, value in attrs.items():
            with contextlib.suppress(AttributeError, TypeError):
                setattr(exc, name, value)
        return exc  # type: ignore[no-any-return]

    def _exception_class(self, desc: dict[str, Any]) -> type[BaseException]:
        """The exception class a description names, or one made from the first base known."""
        for number, key in enumerate([desc["key"], *desc.get("mro", [])]):
            try:
                if key.startswith("builtins:"):
                    cls = getattr(builtins, key.partition(":")[2])
                else:
                    cls = self.class_by_key(key)
            except (ImportError, AttributeError, Unsendable):
                continue
            if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                continue
            if number == 0:
                return cls
            made: type[BaseException] = type(str(desc.get("name", "CheckError")), (cls,), {})
            return made
        raise TypeError(desc["key"])

    # -- requests ------------------------------------------------------------------------

    def handle(self, op: str, payload: Any) -> Any:
        method = getattr(self, f"op_{op}", None)
        if method is None:
            raise Unsendable(f"unknown request {op!r}")
        return method(payload)

    def op_load(self, payload: Any) -> dict[str, Any]:
        _use_engines(dict(payload or {}))
        self.engine.stop_all()
        self._objects.clear()
        self._handles.clear()
        self._descriptions.clear()
        self.module, self.errors = self.cells.load()
        return {
            "errors": [
                [e.cell, e.exercise, e.line, e.error, list(e.names), e.describe()]
                for e in self.errors
            ],
        }

    def _target(self, hid: int | None) -> Any:
        return self.module if hid is None else self.resolve(hid)

    def op_getattr(self, payload: Any) -> Any:
        hid, name = payload
        return getattr(self._target(hid), name)

    def op_hasattr(self, payload: Any) -> bool:
        hid, name = payload
        return hasattr(self._target(hid), name)

    def op_setattr(self, payload: Any) -> None:
        hid, name, value = payload
        setattr(self._target(hid), name, value)

    def op_names(self, payload: Any) -> list[str]:
        return sorted(vars(self._target(payload)))

    def op_call(self, payload: Any) -> Any:
        target, args, kwargs = payload
        function = target if not isinstance(target, int) else self.resolve(target)
        result = function(*args, **kwargs)
        if inspect.isawaitable(result):
            result = self.engine.run(result)
        # The checks' lists, dicts and sets come back as they are now: the notebook may
        # change an argument in place (append to a chain), as it could in one process.
        changed = [[i, a] for i, a in enumerate(args) if type(a) in (list, dict, set)]
        changed += [[k, v] for k, v in kwargs.items() if type(v) in (list, dict, set)]
        return [result, changed]

    def op_dunder(self, payload: Any) -> Any:
        hid, name, args = payload
        obj = self.resolve(hid)
        if name == "iter":
            return list(obj)
        if name not in ("len", "getitem", "contains", "str", "repr"):
            raise Unsendable(f"{name} is not forwarded")
        function: Any = {
            "len": len,
            "getitem": lambda o, k: o[k],
            "contains": lambda o, k: k in o,
            "str": str,
            "repr": repr,
        }[name]
        return function(obj, *args)

    def op_worker_start(self, payload: Any) -> int:
        return self.engine.start_worker(**payload)

    def op_worker_stop(self, payload: Any) -> None:
        self.engine.stop_worker(int(payload))

    def op_activity_info(self, payload: Any) -> list[Any]:
        definition = getattr(payload, "__temporal_activity_definition", None)
        if definition is None:
            raise Unsendable(f"{getattr(payload, '__name__', payload)!r} is not an activity")
        arg_types = [t if isinstance(t, type) else None for t in definition.arg_types or ()]
        ret = definition.ret_type
        return [definition.name, arg_types, ret if isinstance(ret, type) else None]

    def op_replay(self, payload: Any) -> None:
        from temporalio.client import WorkflowHistory
        from temporalio.worker import Replayer

        workflows, workflow_id, history = payload
        replayer = Replayer(workflows=list(workflows))
        self.engine.run(replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, history)))


ENGINE_VARIABLES = ("TEMPORAL_ADDRESS", "PREFECT_API_URL")
"""Where the engines are: the checks' process may learn it after this process was forked (a
fixture started an engine), and tells it with each load."""


def _use_engines(env: dict[str, str]) -> None:
    import os

    for name in ENGINE_VARIABLES:
        value = env.get(name)
        if value is None or os.environ.get(name) == value:
            continue
        os.environ[name] = str(value)
        if name == "PREFECT_API_URL" and "prefect.context" in sys.modules:
            # Prefect read its settings when it was imported: read them again.
            sys.modules["prefect.context"].refresh_global_settings_context()


class _Engine:
    """An event loop in a thread of its own, for the notebook's workers and coroutines."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._workers: dict[int, tuple[Any, concurrent.futures.Future[Any]]] = {}
        self._ids = itertools.count(1)
        self._clients: dict[tuple[str, str], Any] = {}

    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="labgrader-engine", daemon=True).start()
            self._loop = loop
        return self._loop

    def run(self, awaitable: Any) -> Any:
        async def wrap() -> Any:
            return await awaitable

        return asyncio.run_coroutine_threadsafe(wrap(), self.loop()).result()

    async def _connect(self, address: str, namespace: str) -> Any:
        client = self._clients.get((address, namespace))
        if client is None:
            from temporalio.client import Client

            client = await Client.connect(address, namespace=namespace)
            self._clients[(address, namespace)] = client
        return client

    def workflow_handle(
        self, address: str, namespace: str, wid: str, run_id: Any, first_run_id: Any
    ) -> Any:
        """A handle of this process's own client to a run the checks hold a handle to."""
        client = asyncio.run_coroutine_threadsafe(
            self._connect(address, namespace), self.loop()
        ).result()
        return client.get_workflow_handle(wid, run_id=run_id, first_execution_run_id=first_run_id)

    def start_worker(
        self,
        *,
        address: str,
        namespace: str,
        task_queue: str,
        workflows: list[Any],
        activities: list[Any],
        options: dict[str, Any],
    ) -> int:
        from temporalio import activity as temporal_activity
        from temporalio.worker import Worker

        def as_activity(fn: Any) -> Any:
            if not isinstance(fn, Callback):
                return fn
            name = fn.activity or fn.name

            async def relay(*args: Any) -> Any:
                return await fn._acall(*args)

            # The check's activity's parameter types, so the worker decodes its arguments
            # into the notebook's classes (which cross back as the check's mirrors).
            typed_relay(relay, fn.arg_types, fn.ret_type)
            return temporal_activity.defn(name=name)(relay)

        async def start() -> tuple[Any, Any]:
            client = await self._connect(address, namespace)
            worker = Worker(
                client,
                task_queue=task_queue,
                workflows=workflows,
                activities=[as_activity(a) for a in activities],
                activity_executor=concurrent.futures.ThreadPoolExecutor(8),
                **options,
            )
            task = asyncio.ensure_future(worker.run())
            return worker, task

        worker, task = asyncio.run_coroutine_threadsafe(start(), self.loop()).result()
        wid = next(self._ids)
        self._workers[wid] = (worker, task)
        return wid

    def stop_worker(self, wid: int) -> None:
        entry = self._workers.pop(wid, None)
        if entry is None:
            return
        worker, _task = entry

        async def stop() -> None:
            await worker.shutdown()

        asyncio.run_coroutine_threadsafe(stop(), self.loop()).result(timeout=30)

    def stop_all(self) -> None:
        for wid in list(self._workers):
            try:
                self.stop_worker(wid)
            except Exception:
                self._workers.pop(wid, None)


def serve(sock: Any, submission: Submission, filename: str) -> None:
    """Run the learner's side until the checks' side closes the channel."""
    from labgrader.guard import Guard

    learner = Learner(submission, filename)
    channel = learner.channel = Channel(sock, LearnerCodec(learner), learner.handle)
    # Defence in depth: this process holds nothing of the checks, but what the notebook tries
    # on the harness is still refused and flagged for review.
    Guard(filename, lambda what: channel.notify("flag", what), checks=[]).arm()
    channel.serve_forever()


__all__ = ["Callback", "CellError", "CellModule", "CheckError", "Learner", "LearnerCodec", "serve"]
