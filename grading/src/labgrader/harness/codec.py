"""Values by value: the restricted encoding of everything that crosses between the learner's
process and the checks' process.

Nothing is pickled. A value crosses as plain data (msgpack) with a few tagged extension types,
and is rebuilt on the receiving side by that side's own code:

========================  ===============================================================
value                     crosses as
========================  ===============================================================
None, bool, int, float,   themselves (ints beyond 64 bits as text)
str, bytes
list, tuple, dict, set,   their items, each by value (dict keys keep their types)
frozenset
datetime, date, time,     ISO text plus the time zone's key (``zoneinfo``) or offset
timedelta, Decimal
enum member               class name, member name and value
dataclass instance        class name and fields, each by value
exception                 class name, built-in base, arguments, attributes, message
numpy array / scalar      dtype, shape and bytes (never the ``object`` dtype)
a class of the notebook   a reference by name (the other side builds its own mirror)
a Temporal workflow       the server, namespace, workflow id and run ids (the learner's
handle                    side gets a handle of its own client to the same run)
anything else             a *handle*: an id that only the sending side can resolve
========================  ===============================================================

Each side decides what a tag means for it: the checks' side turns a dataclass into an
instance of a mirror class it made itself (its ``__eq__`` is the checks' code, never the
notebook's), a handle into a proxy whose equality is identity, and sends its own callables as
*callbacks* that the learner's side can only call back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import inspect
from typing import Any
from zoneinfo import ZoneInfo

import msgpack

from labgrader.errors import LabgraderError


class Unsendable(LabgraderError, TypeError):
    """A value that cannot cross between the two processes; the message names its type."""


class Tag(enum.IntEnum):
    """The msgpack extension codes of the channel."""

    TUPLE = 1
    SET = 2
    FROZENSET = 3
    DICT = 4
    DATETIME = 5
    DATE = 6
    TIME = 7
    TIMEDELTA = 8
    DECIMAL = 9
    BIGINT = 10
    DATACLASS = 11
    ENUM = 12
    EXCEPTION = 13
    HANDLE = 14
    CALLBACK = 15
    CLASSREF = 16
    NDARRAY = 17
    NPSCALAR = 18
    WORKFLOW_HANDLE = 19


MAX_DEPTH = 64
"""How deep a value may nest; deeper values are refused (they cannot come from a sane answer)."""
MAX_MESSAGE = 256 * 1024 * 1024
"""The largest message either side accepts, in bytes."""

_INT64 = (-(2**63), 2**64 - 1)


def _tz(value: dt.tzinfo | None) -> list[Any] | None:
    if value is None:
        return None
    if isinstance(value, ZoneInfo):
        return ["zone", value.key]
    if isinstance(value, dt.timezone):
        offset = value.utcoffset(None)
        return ["offset", offset.total_seconds(), value.tzname(None)]
    raise Unsendable(f"a time zone of type {type(value).__name__} cannot cross; use zoneinfo")


def _untz(value: list[Any] | None) -> dt.tzinfo | None:
    if value is None:
        return None
    if value[0] == "zone":
        return ZoneInfo(str(value[1]))
    seconds, name = float(value[1]), value[2]
    offset = dt.timedelta(seconds=seconds)
    return dt.UTC if not seconds and name == "UTC" else dt.timezone(offset, name)


class Codec:
    """Encodes and decodes values; a side subclasses it for what only it can resolve.

    Subclasses override :meth:`encode_other` (values that are not plain data: their
    dataclasses, handles, callbacks) and :meth:`decode_tag` (the tags whose meaning is theirs).
    """

    def dumps(self, value: Any) -> bytes:
        """Encode a value.

        Raises:
            Unsendable: When a part of it cannot cross.
        """
        data: bytes = msgpack.packb(self._plain(value, 0), use_bin_type=True, strict_types=True)
        return data

    def loads(self, data: bytes) -> Any:
        """Decode a value."""
        return msgpack.unpackb(
            data,
            ext_hook=self._ext,
            raw=False,
            strict_map_key=False,
            use_list=True,
            max_bin_len=MAX_MESSAGE,
            max_str_len=MAX_MESSAGE,
        )

    def _ext(self, code: int, data: bytes) -> Any:
        try:
            tag = Tag(code)
        except ValueError:
            raise Unsendable(f"unknown value tag {code} on the channel") from None
        payload = self.loads(data)
        return self.decode_tag(tag, payload)

    def _tagged(self, tag: Tag, payload: Any, depth: int) -> msgpack.ExtType:
        data = msgpack.packb(self._plain(payload, depth), use_bin_type=True, strict_types=True)
        return msgpack.ExtType(int(tag), data)

    def _plain(self, value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise Unsendable(f"a value nested deeper than {MAX_DEPTH} levels cannot cross")
        kind = type(value)
        if value is None or kind in (bool, float, str, bytes, msgpack.ExtType):
            return value
        if kind is int:
            if _INT64[0] <= value <= _INT64[1]:
                return value
            return self._tagged(Tag.BIGINT, str(value), depth)
        if kind is list:
            return [self._plain(v, depth + 1) for v in value]
        if kind is tuple:
            return self._tagged(Tag.TUPLE, list(value), depth)
        if kind is dict:
            return self._tagged(Tag.DICT, [[k, v] for k, v in value.items()], depth)
        if kind is set:
            return self._tagged(Tag.SET, list(value), depth)
        if kind is frozenset:
            return self._tagged(Tag.FROZENSET, list(value), depth)
        if kind is dt.datetime:
            naive = value.replace(tzinfo=None).isoformat()
            return self._tagged(Tag.DATETIME, [naive, _tz(value.tzinfo), value.fold], depth)
        if kind is dt.date:
            return self._tagged(Tag.DATE, value.isoformat(), depth)
        if kind is dt.time:
            naive = value.replace(tzinfo=None).isoformat()
            return self._tagged(Tag.TIME, [naive, _tz(value.tzinfo)], depth)
        if kind is dt.timedelta:
            return self._tagged(
                Tag.TIMEDELTA, [value.days, value.seconds, value.microseconds], depth
            )
        if kind is decimal.Decimal:
            return self._tagged(Tag.DECIMAL, str(value), depth)
        numpy = _numpy_value(value)
        if numpy is not None:
            return self._tagged(numpy[0], numpy[1], depth)
        tag, payload = self.encode_other(value)
        return self._tagged(tag, payload, depth)

    def plain_or_repr(self, value: Any) -> Any:
        """The value itself when it can cross, else its ``repr`` (for messages and attributes
        of exceptions, which must cross even when a part of them cannot)."""
        try:
            self.dumps(value)
        except Unsendable:
            return repr(value)
        return value

    def exception_attributes(self, exc: BaseException) -> dict[str, Any]:
        """The attributes an exception crosses with: its public ones (as ``repr`` when they
        cannot cross), and for Temporal's own errors the private state their properties read
        (``type``, ``non_retryable``, ``details`` of an ``ApplicationError``) where it crosses
        as it is."""
        attrs = {}
        engine = type(exc).__module__.startswith("temporalio.")
        for name, value in vars(exc).items():
            if not isinstance(name, str) or name == "remote_message":
                continue
            if not name.startswith("_"):
                attrs[name] = self.plain_or_repr(value)
            elif engine and not name.startswith("__"):
                try:
                    self.dumps(value)
                except Unsendable:
                    continue
                attrs[name] = value
        return attrs

    def encode_other(self, value: Any) -> tuple[Tag, Any]:
        """Encode what is not plain data; the base codec refuses it."""
        raise Unsendable(f"a value of type {type(value).__name__} cannot cross")

    def decode_tag(self, tag: Tag, payload: Any) -> Any:
        """Rebuild a tagged value; subclasses handle their own tags, then call this."""
        if tag is Tag.TUPLE:
            return tuple(payload)
        if tag is Tag.DICT:
            return {_hashable(k): v for k, v in payload}
        if tag is Tag.SET:
            return {_hashable(v) for v in payload}
        if tag is Tag.FROZENSET:
            return frozenset(_hashable(v) for v in payload)
        if tag is Tag.BIGINT:
            return int(payload)
        if tag is Tag.DATETIME:
            naive, tz, fold = payload
            return dt.datetime.fromisoformat(naive).replace(tzinfo=_untz(tz), fold=fold)
        if tag is Tag.DATE:
            return dt.date.fromisoformat(payload)
        if tag is Tag.TIME:
            naive, tz = payload
            return dt.time.fromisoformat(naive).replace(tzinfo=_untz(tz))
        if tag is Tag.TIMEDELTA:
            days, seconds, micro = payload
            return dt.timedelta(days=days, seconds=seconds, microseconds=micro)
        if tag is Tag.DECIMAL:
            return decimal.Decimal(payload)
        if tag in (Tag.NDARRAY, Tag.NPSCALAR):
            return _numpy_rebuild(tag, payload)
        raise Unsendable(f"a value tagged {tag.name} cannot be rebuilt on this side")


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        raise Unsendable("a list cannot be a dict key or a set member")
    return value


def _numpy_value(value: Any) -> tuple[Tag, Any] | None:
    module = type(value).__module__
    if not module.startswith("numpy"):
        return None
    import numpy as np

    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise Unsendable("a numpy array of Python objects cannot cross; convert it to a list")
        return Tag.NDARRAY, [value.dtype.str, list(value.shape), value.tobytes(order="C")]
    if isinstance(value, np.generic) and not value.dtype.hasobject:
        return Tag.NPSCALAR, [value.dtype.str, value.tobytes()]
    return None


def _numpy_rebuild(tag: Tag, payload: Any) -> Any:
    import numpy as np

    dtype = np.dtype(payload[0])
    if dtype.hasobject:
        raise Unsendable("a numpy value of Python objects cannot cross")
    if tag is Tag.NPSCALAR:
        return np.frombuffer(payload[1], dtype=dtype)[0]
    return np.frombuffer(payload[2], dtype=dtype).reshape(payload[1]).copy()


def dataclass_fields(value: Any) -> list[list[Any]]:
    """The fields of a dataclass instance, as ``[name, value]`` pairs (encoded by value)."""
    return [[f.name, getattr(value, f.name)] for f in dataclasses.fields(value)]


def typed_relay(fn: Any, arg_types: list[Any], ret_type: Any) -> None:
    """Give a relay ``fn(*args)`` of an activity in the other process the parameter types the
    engine decodes its arguments into (when each is a class; else they arrive as plain data)."""
    if any(t is None for t in arg_types):
        return
    params = [
        inspect.Parameter(f"arg{i}", inspect.Parameter.POSITIONAL_ONLY, annotation=t)
        for i, t in enumerate(arg_types)
    ]
    fn.__signature__ = inspect.Signature(
        params, return_annotation=ret_type if ret_type is not None else inspect.Signature.empty
    )
    fn.__annotations__ = {p.name: p.annotation for p in params}
    if ret_type is not None:
        fn.__annotations__["return"] = ret_type


__all__ = [
    "MAX_DEPTH",
    "MAX_MESSAGE",
    "Codec",
    "Tag",
    "Unsendable",
    "dataclass_fields",
    "typed_relay",
]
