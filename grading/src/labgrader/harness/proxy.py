"""The checks' side of the channel: ``nb``, a proxy for the notebook in the learner's process.

``nb.name`` asks the learner's process for a name of the notebook. What comes back is rebuilt
here by this side's own code:

* plain data (numbers, text, lists, dicts, dates, ...) as itself;
* a dataclass, enum or exception class of the notebook as a **mirror**: a class made here with
  the same name, fields, members or built-in base, whose equality and hashing are the
  standard library's, never the notebook's. Calling a mirror class builds the instance in the
  learner's process (so its validation runs there) and brings it back by value;
* a workflow class as a mirror that the Temporal client accepts (``client.execute_workflow(
  nb.Flow.run, ...)``, ``handle.signal(nb.Flow.pause)``); the workflow itself runs on a worker
  in the learner's process (:func:`labgrader.harness.engine.worker`);
* any other object (a function, an instance of one of the notebook's classes) as a
  :class:`RemoteObject`: calls, attribute reads and ``len``/``in``/``[]``/iteration go to the
  learner's process and their results come back by value; its equality is identity, so an
  object that claims to equal everything cannot exist on this side.

This side's callables (a check's fake dependency, a fake clock) cross as callbacks: the
notebook calls them, they run here.
"""

from __future__ import annotations

import asyncio
import builtins
import concurrent.futures
import contextlib
import dataclasses
import enum
import functools
import inspect
import itertools
import sys
import threading
import types
from collections.abc import Callable
from typing import Any

from labgrader.errors import NotebookImportError
from labgrader.harness.channel import Channel, Request
from labgrader.harness.codec import Codec, Tag, Unsendable, dataclass_fields

MIRROR_KEY = "__labgrader_key__"
HANDLE_ATTRIBUTE = "__labgrader_remote__"
"""The attribute of a stand-in function holding the notebook function it calls."""
"""The attribute of a mirror class holding the notebook class's key."""


class RemoteError(Exception):
    """An exception of the learner's process whose class has no mirror here."""


class NotebookNameError(AttributeError):
    """The notebook does not define a name a check asked for."""


class _MirrorMeta(type):
    """Calling a mirror class builds the instance in the learner's process."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        ref: _ProxyRef | None = cls.__dict__.get("__labgrader_proxy__")
        if ref is None:  # a subclass made here, or the base itself
            return super().__call__(*args, **kwargs)
        return ref.proxy._nb_request("call", [cls, list(args), kwargs])

    def _build(cls, *args: Any, **kwargs: Any) -> Any:
        return super().__call__(*args, **kwargs)


class _ProxyRef:
    """Holds a mirror's proxy (libraries that inspect a class's attributes see no proxy)."""

    __slots__ = ("proxy",)

    def __init__(self, proxy: NotebookProxy) -> None:
        self.proxy = proxy


class MirrorBase(metaclass=_MirrorMeta):
    """The base of the mirrors of the notebook's dataclasses."""


class MirrorException(Exception, metaclass=_MirrorMeta):
    """The base of the mirrors of the notebook's exceptions; ``str`` is the notebook's."""

    remote_message: str = ""

    def __str__(self) -> str:
        return self.remote_message or super().__str__()


class RemoteObject:
    """An object that stays in the learner's process; this side holds a handle to it."""

    __slots__ = ("_callable", "_id", "_proxy", "_type")

    def __init__(self, proxy: NotebookProxy, hid: int, type_name: str, is_callable: bool) -> None:
        object.__setattr__(self, "_proxy", proxy)
        object.__setattr__(self, "_id", hid)
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_callable", is_callable)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._proxy._nb_request("call", [self, list(args), kwargs])

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._proxy._nb_request("getattr", [self._id, name])

    def __setattr__(self, name: str, value: Any) -> None:
        self._proxy._nb_request("setattr", [self._id, name, value])

    def __len__(self) -> int:
        return int(self._proxy._nb_request("dunder", [self._id, "len", []]))

    def __iter__(self) -> Any:
        return iter(self._proxy._nb_request("dunder", [self._id, "iter", []]))

    def __getitem__(self, key: Any) -> Any:
        return self._proxy._nb_request("dunder", [self._id, "getitem", [key]])

    def __contains__(self, key: Any) -> bool:
        return bool(self._proxy._nb_request("dunder", [self._id, "contains", [key]]))

    def __eq__(self, other: object) -> bool:
        return other is self

    def __hash__(self) -> int:
        return hash((id(self._proxy), self._id))

    def __repr__(self) -> str:
        return f"<notebook object of type {self._type}>"

    @property
    def notebook_type(self) -> str:
        """The name of the object's type in the notebook."""
        return str(self._type)


class ChecksCodec(Codec):
    """What this side sends and how it rebuilds what the learner's side sends."""

    def __init__(self, proxy: NotebookProxy) -> None:
        self.proxy = proxy

    def encode_other(self, value: Any) -> tuple[Tag, Any]:
        proxy = self.proxy
        if isinstance(value, RemoteObject):
            return Tag.HANDLE, [value._id]
        remote = getattr(value, HANDLE_ATTRIBUTE, None)
        if isinstance(remote, RemoteObject):  # one of the notebook's functions, going back
            return Tag.HANDLE, [remote._id]
        if isinstance(value, type):
            return Tag.CLASSREF, {"key": _key_of(value)}
        if isinstance(value, enum.Enum):
            return Tag.ENUM, [{"key": _key_of(type(value))}, value.name, value.value]
        if dataclasses.is_dataclass(value):
            return Tag.DATACLASS, [{"key": _key_of(type(value))}, dataclass_fields(value)]
        if isinstance(value, BaseException):
            attrs = self.exception_attributes(value)
            args = [self.plain_or_repr(a) for a in value.args]
            origin = proxy._nb_callbacks.add(value)
            # Every class it is made of: the notebook rebuilds it from the first it knows (a
            # check's own subclass of an orchlab error arrives as a subclass of that error).
            desc = {
                "key": _key_of(type(value)),
                "name": type(value).__name__,
                "mro": [_key_of(c) for c in type(value).__mro__[1:] if c is not object],
            }
            return Tag.EXCEPTION, [desc, args, attrs, str(value), origin]
        handle = _workflow_handle(value)
        if handle is not None:
            return Tag.WORKFLOW_HANDLE, handle
        if isinstance(value, (types.ModuleType, NotebookProxy)):
            raise Unsendable(
                f"a value of type {type(value).__name__} cannot be sent to the notebook"
            )
        # A check's callable or object (a fake dependency, a seeded random number generator):
        # it stays here, and the notebook calls it, or its methods, back.
        return Tag.CALLBACK, [proxy._nb_callbacks.add(value), _callable_info(value)]

    def decode_tag(self, tag: Tag, payload: Any) -> Any:
        proxy = self.proxy
        if tag is Tag.HANDLE:
            hid, type_name, is_callable, kind, name = payload
            remote = proxy._nb_remote(int(hid), str(type_name), bool(is_callable))
            if kind == "object":
                return remote
            return proxy._nb_function(remote, str(kind), str(name or "function"))
        if tag is Tag.CALLBACK:
            return proxy._nb_callbacks.get(int(payload[0]))
        if tag is Tag.CLASSREF:
            return proxy._nb_mirror(payload)
        if tag is Tag.DATACLASS:
            cls = proxy._nb_mirror(payload[0])
            fields = dict(payload[1])
            if isinstance(cls, _MirrorMeta):
                return cls._build(**fields)  # the checks' own constructor: no notebook code
            return cls(**fields)  # a library's dataclass, already imported here
        if tag is Tag.ENUM:
            return proxy._nb_mirror(payload[0])[payload[1]]
        if tag is Tag.EXCEPTION:
            return proxy._nb_exception(payload)
        return super().decode_tag(tag, payload)


def _key_of(cls: type) -> str:
    key = cls.__dict__.get(MIRROR_KEY)
    if key is not None:
        return str(key)
    return f"{cls.__module__}:{cls.__qualname__}"


def _workflow_handle(value: Any) -> list[Any] | None:
    """A Temporal workflow handle of the checks, as the learner's side rebuilds it."""
    client_module = sys.modules.get("temporalio.client")
    if client_module is None or not isinstance(value, client_module.WorkflowHandle):
        return None
    client = value._client
    return [
        client.service_client.config.target_host,
        client.namespace,
        value.id,
        value.run_id,
        value.first_execution_run_id,
    ]


def _callable_info(fn: Any) -> dict[str, Any]:
    definition = getattr(fn, "__temporal_activity_definition", None)
    target = getattr(fn, "__func__", fn)
    info = {
        "callable": callable(fn),
        "name": getattr(fn, "__name__", type(fn).__name__),
        "async": inspect.iscoroutinefunction(target)
        or inspect.iscoroutinefunction(type(target).__call__),
        "activity": definition.name if definition is not None else None,
    }
    if definition is not None:
        # The types the worker there decodes the activity's arguments and result into (the
        # notebook's own classes for this side's mirrors); any other hint decodes as plain data.
        info["arg_types"] = [t if isinstance(t, type) else None for t in definition.arg_types or ()]
        ret = definition.ret_type
        info["ret_type"] = ret if isinstance(ret, type) else None
    return info


class _Callbacks:
    """This side's callables that the notebook may call back, by id."""

    def __init__(self) -> None:
        self._by_id: dict[int, Any] = {}
        self._ids: dict[int, int] = {}
        self._next = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, fn: Any) -> int:
        with self._lock:
            cid = self._ids.get(id(fn))
            if cid is None or self._by_id.get(cid) is not fn:
                cid = next(self._next)
                self._by_id[cid] = fn
                self._ids[id(fn)] = cid
            return cid

    def get(self, cid: int) -> Any:
        try:
            return self._by_id[cid]
        except KeyError:
            raise Unsendable(f"callback {cid} is not one of the checks' callables") from None


class NotebookProxy:
    """``nb``: the notebook's names, from the learner's process.

    The session attaches it to the channel of each freshly loaded module
    (:meth:`_nb_attach`); its own machinery is named ``_nb_*`` so that every other name is the
    notebook's.
    """

    # No instance __dict__: every attribute is the notebook's (pytest's monkeypatch reads the
    # old value with getattr, and puts it back on undo).
    __slots__ = ("_nb_runner", "_state")

    def __init__(self) -> None:
        object.__setattr__(self, "_state", _ProxyState())

    # The proxy's own machinery lives on a state object, so that every public attribute
    # name is the notebook's.
    @property
    def _s(self) -> _ProxyState:
        state: _ProxyState = object.__getattribute__(self, "_state")
        return state

    def _nb_attach(self, channel: Channel, errors: list[list[Any]]) -> None:
        """Use this channel (to a freshly loaded module) from now on."""
        state = self._s
        state.channel = channel
        state.errors = errors
        state.remotes.clear()
        state.mirrors.clear()
        state.functions.clear()

    @property
    def _nb_callbacks(self) -> _Callbacks:
        return self._s.callbacks

    @property
    def _nb_cell_errors(self) -> list[str]:
        """The cells that did not run when the notebook's module was built, described."""
        return [str(e[5]) for e in self._s.errors]

    def _nb_request(self, op: str, payload: Any) -> Any:
        """Ask the learner's process (see :class:`labgrader.harness.channel.Channel`)."""
        channel = self._s.channel
        if channel is None:
            raise NotebookImportError("the notebook's process is not running")
        if op != "call":
            return channel.request(op, payload)
        result, changed = channel.request(op, payload)
        _, args, kwargs = payload
        for where, value in changed:
            _update(args[where] if isinstance(where, int) else kwargs[where], value)
        return result

    def _nb_remote(self, hid: int, type_name: str, is_callable: bool) -> RemoteObject:
        remotes = self._s.remotes
        obj = remotes.get(hid)
        if obj is None:
            obj = remotes[hid] = RemoteObject(self, hid, type_name, is_callable)
        return obj

    def _nb_function(self, remote: RemoteObject, kind: str, name: str) -> Any:
        """A real function here that calls one of the notebook's functions (libraries such
        as Prefect accept only real functions as hooks)."""
        functions = self._s.functions
        made = functions.get(remote._id)
        if made is not None:
            return made
        if kind == "coroutine":

            async def call_async(*args: Any, **kwargs: Any) -> Any:
                return await asyncio.to_thread(remote, *args, **kwargs)

            made = call_async
        else:

            def call(*args: Any, **kwargs: Any) -> Any:
                return remote(*args, **kwargs)

            made = call
        made.__name__ = made.__qualname__ = name
        made.__module__ = "notebook"
        setattr(made, HANDLE_ATTRIBUTE, remote)
        functions[remote._id] = made
        return made

    # -- names ---------------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        try:
            return self._nb_request("getattr", [None, name])
        except AttributeError:
            raise NotebookNameError(self._nb_missing(name)) from None

    def __setattr__(self, name: str, value: Any) -> None:
        self._nb_request("setattr", [None, name, value])

    def __dir__(self) -> list[str]:
        return list(self._nb_request("names", None))

    def _nb_missing(self, name: str) -> str:
        for error in self._s.errors:
            if name in error[4]:
                return f"{name!r} is not defined: {error[5]}"
        return (
            f"the notebook does not define {name!r}: define it (and run its cell) with the "
            "name the exercise asks for"
        )

    def __repr__(self) -> str:
        return "<the notebook, in the learner's process>"

    # -- mirrors -------------------------------------------------------------------------

    def _nb_mirror(self, desc: dict[str, Any]) -> Any:
        """This side's class for a class of the notebook (or a library's own class)."""
        key = str(desc["key"])
        mirrors = self._s.mirrors
        if key in mirrors:
            return mirrors[key]
        module_name, sep, qualname = key.rpartition(":")
        if (sep and "kind" not in desc) or (sep and module_name in sys.modules):
            real = _lookup(module_name, qualname)
            if real is not None:
                mirrors[key] = real
                return real
        if "kind" not in desc:
            raise Unsendable(f"no class {key} is known on the checks' side")
        cls = _build_mirror(self, desc)
        mirrors[key] = cls
        return cls

    def _nb_exception(self, payload: list[Any]) -> BaseException:
        desc, args, attrs, message, origin = payload
        if origin is not None:
            with contextlib.suppress(Unsendable):
                original = self._nb_callbacks.get(int(origin))
                if isinstance(original, BaseException):
                    return original  # one of the checks' own exceptions, back as itself
        key = str(desc["key"])
        try:
            if key.startswith("builtins:"):
                cls = getattr(builtins, key.partition(":")[2])
                if not (isinstance(cls, type) and issubclass(cls, BaseException)):
                    raise TypeError(key)
                exc = cls(*args)
            else:
                cls = self._nb_mirror(desc)
                if isinstance(cls, _MirrorMeta):
                    exc = cls.__new__(cls, *args)  # type: ignore[arg-type]
                    exc.args = tuple(args)  # type: ignore[assignment]
                    exc.remote_message = str(message)  # type: ignore[assignment]
                else:
                    exc = cls(*args)
        except Exception:
            exc = RemoteError(f"{desc.get('name', key)}: {message}")
        for name, value in attrs.items():
            with contextlib.suppress(AttributeError, TypeError):
                setattr(exc, str(name), value)
        return exc


class _ProxyState:
    def __init__(self) -> None:
        self.channel: Channel | None = None
        self.errors: list[list[Any]] = []
        self.remotes: dict[int, RemoteObject] = {}
        self.mirrors: dict[str, Any] = {}
        self.functions: dict[int, Any] = {}
        self.callbacks = _Callbacks()


def _lookup(module_name: str, qualname: str) -> Any:
    owner: Any = sys.modules.get(module_name)  # never imports: only what this side has
    for part in qualname.split("."):
        owner = getattr(owner, part, None)
    return owner if isinstance(owner, type) else None


def _type_of(proxy: NotebookProxy, desc: Any) -> Any:
    import datetime as dt

    simple = {
        "int": int,
        "float": float,
        "str": str,
        "bool": bool,
        "bytes": bytes,
        "datetime": dt.datetime,
        "date": dt.date,
        "timedelta": dt.timedelta,
    }
    if isinstance(desc, str):
        return simple.get(desc, Any)
    kind = desc[0]
    if kind == "class":
        return proxy._nb_mirror(desc[1])
    if kind in ("list", "tuple", "set", "frozenset"):
        inner = _type_of(proxy, desc[1])
        container: Any = {"list": list, "tuple": tuple, "set": set, "frozenset": frozenset}[kind]
        return container[inner, ...] if kind == "tuple" else container[inner]
    if kind == "dict":
        return dict[_type_of(proxy, desc[1]), _type_of(proxy, desc[2])]  # type: ignore[misc]
    if kind == "optional":
        return _type_of(proxy, desc[1]) | None
    return Any


def _build_mirror(proxy: NotebookProxy, desc: dict[str, Any]) -> Any:
    kind, name = desc["kind"], str(desc["name"])
    namespace: dict[str, Any] = {MIRROR_KEY: desc["key"], "__labgrader_proxy__": _ProxyRef(proxy)}
    if kind == "dataclass":
        fields = []
        for fname, has, default, ftype in desc["fields"]:
            spec: Any = dataclasses.MISSING
            if has == "value":
                spec = dataclasses.field(default=default)
            elif has == "factory":
                spec = dataclasses.field(default_factory=functools.partial(_copy, default))
            typ = _type_of(proxy, ftype)
            fields.append((fname, typ) if spec is dataclasses.MISSING else (fname, typ, spec))
        cls = dataclasses.make_dataclass(
            name,
            fields,
            bases=(MirrorBase,),
            namespace=namespace,
            frozen=bool(desc["frozen"]),
            eq=True,
        )
        cls.__module__ = "notebook"
        return cls
    if kind == "enum":
        base = {"int": enum.IntEnum, "str": enum.StrEnum}.get(desc.get("base") or "", enum.Enum)
        members = [(m, v) for m, v in desc["members"]]
        made = base(name, members)  # type: ignore[call-overload]
        setattr(made, MIRROR_KEY, desc["key"])
        made.__module__ = "notebook"
        return made
    if kind == "exception":
        parents = tuple(proxy._nb_mirror(p) for p in desc.get("parents", ()))
        builtin = getattr(builtins, str(desc.get("base")), Exception)
        bases: tuple[type, ...] = parents or (MirrorException,)
        if not any(issubclass(b, builtin) for b in bases):
            bases = (*bases, builtin)
        if not any(issubclass(b, MirrorException) for b in bases):
            bases = (MirrorException, *bases)
        cls = _MirrorMeta(name, bases, namespace)
        cls.__module__ = "notebook"
        return cls
    if kind == "workflow":
        from labgrader.harness.engine import workflow_mirror

        return workflow_mirror(proxy, desc, namespace)
    # Any other class: calling it builds an instance there, which stays there.
    cls = _MirrorMeta(name, (), namespace)
    cls.__module__ = "notebook"
    return cls


def _update(original: Any, value: Any) -> None:
    """Make a check's list, dict or set what the notebook left it (same object, new items)."""
    if type(original) is not type(value):
        return
    if isinstance(original, list):
        original[:] = value
    else:
        original.clear()
        original.update(value)


def _copy(value: Any) -> Any:
    import copy

    return copy.deepcopy(value)


class CallbackRunner:
    """Runs the learner's calls back into this side that belong to no waiting call.

    They come from the notebook's worker threads (a check's fake activity): coroutines run on
    the check's event loop, plain functions on it too, so a check's state is only ever touched
    from the thread that runs the check.
    """

    def __init__(self, proxy: NotebookProxy) -> None:
        self.proxy = proxy
        self.loop: asyncio.AbstractEventLoop | None = None
        self._pool = concurrent.futures.ThreadPoolExecutor(16, thread_name_prefix="labgrader-cb")
        self._lock = threading.Lock()
        self._activities: dict[int, tuple[Any, asyncio.AbstractEventLoop]] = {}
        self._cancelled: set[int] = set()

    def unsolicited(self, channel: Channel, request: Request) -> None:
        self._pool.submit(self._serve, channel, request)

    def _serve(self, channel: Channel, request: Request) -> None:
        channel.serve(request)

    def call(
        self,
        fn: Callable[..., Any],
        args: list[Any],
        kwargs: dict[str, Any],
        *,
        activity: dict[str, Any] | None = None,
    ) -> Any:
        """Run one of this side's callables for the notebook.

        Args:
            fn: The callable.
            args: Its positional arguments.
            kwargs: Its keyword arguments.
            activity: The activity of the notebook's worker that calls it (its info and a
                token to cancel the call by): ``fn`` runs as if in that activity.
        """
        if activity is not None:
            fn = self._in_activity(fn, activity)
        loop = self.loop
        on_loop = loop is not None and loop.is_running() and _not_on(loop)
        if inspect.iscoroutinefunction(getattr(fn, "__func__", fn)):
            if not on_loop:
                return asyncio.run(fn(*args, **kwargs))
            assert loop is not None
            return asyncio.run_coroutine_threadsafe(fn(*args, **kwargs), loop).result()
        if threading.current_thread() is threading.main_thread() or not on_loop:
            return fn(*args, **kwargs)
        assert loop is not None
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn(*args, **kwargs))
            except BaseException as exc:
                future.set_exception(exc)

        loop.call_soon_threadsafe(run)
        return future.result()

    def _in_activity(self, fn: Callable[..., Any], activity: dict[str, Any]) -> Any:
        """``fn`` run in an activity context of Temporal's testing kit carrying the notebook
        activity's info; cancelled (by token) when that activity is."""
        from temporalio.testing import ActivityEnvironment

        env = ActivityEnvironment()
        env.info = dataclasses.replace(env.info, **activity["info"])
        token = int(activity["token"])
        if not inspect.iscoroutinefunction(getattr(fn, "__func__", fn)):
            return functools.partial(env.run, fn)

        async def run(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                self._activities[token] = (env, asyncio.get_running_loop())
                if token in self._cancelled:  # cancelled before it began here
                    self._cancelled.discard(token)
                    env.cancel()
            try:
                return await env.run(fn, *args, **kwargs)
            finally:
                with self._lock:
                    self._activities.pop(token, None)

        return run

    def cancel(self, token: int) -> None:
        """Cancel the call of an activity the notebook's worker cancelled."""
        with self._lock:
            entry = self._activities.pop(token, None)
            if entry is None:
                self._cancelled.add(token)
        if entry is not None:
            env, loop = entry
            loop.call_soon_threadsafe(env.cancel)


def _not_on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is not loop
    except RuntimeError:
        return True


__all__ = [
    "MIRROR_KEY",
    "CallbackRunner",
    "ChecksCodec",
    "MirrorBase",
    "MirrorException",
    "NotebookNameError",
    "NotebookProxy",
    "RemoteError",
    "RemoteObject",
]
