"""The one channel between the learner's process and the checks' process.

Each side sends requests (``call``, ``getattr``, ``callback``, ...) and answers the other's,
over one Unix stream socket: length-prefixed msgpack frames, values encoded by a
:class:`~labgrader.harness.codec.Codec`. Calls nest as they would in one process: while a
thread waits for its answer, a request that the other side makes *while serving it* (a check's
fake dependency that the notebook's code calls back) is served by that same waiting thread, so
call stacks cross the boundary and back without dead-locking. Requests that belong to no
waiting call (a worker thread of the notebook calling a check's fake activity) go to
:meth:`Channel.unsolicited`.

A frame is ``[kind, id, op, payload, parent]``: ``kind`` is ``req``, ``ok``, ``err`` or
``note`` (a request that wants no answer), ``parent`` the id of the request the sender was
serving when it sent this one.
"""

from __future__ import annotations

import contextlib
import itertools
import queue
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from labgrader.errors import LabgraderError
from labgrader.harness.codec import MAX_MESSAGE, Codec, Unsendable

_HEADER = struct.Struct("!I")


class ChannelClosed(LabgraderError, ConnectionError):
    """The other side of the channel went away (its process ended)."""


@dataclass(frozen=True)
class Request:
    """A request from the other side."""

    id: int
    op: str
    payload: Any
    wants_answer: bool = True


Handler = Callable[[str, Any], Any]
"""Serves one request: ``handler(op, payload) -> result``; raising sends the error back."""


@dataclass(frozen=True)
class _Reply:
    ok: bool
    value: Any


class Channel:
    """One end of the channel.

    Args:
        sock: A connected Unix stream socket.
        codec: How this side encodes and decodes values.
        handler: Serves the other side's requests.
    """

    def __init__(self, sock: socket.socket, codec: Codec, handler: Handler) -> None:
        self.sock = sock
        self.codec = codec
        self.handler = handler
        self.inbox: queue.Queue[Request | None] = queue.Queue()
        """Requests that belong to no waiting call, for :meth:`serve_forever`."""
        self._send_lock = threading.Lock()
        self._ids = itertools.count(1)
        self._waiters: dict[int, queue.Queue[_Reply | Request]] = {}
        self._waiters_lock = threading.Lock()
        self._local = threading.local()
        self._closed: str | None = None
        self._reader = threading.Thread(
            target=self._read_loop, name="labgrader-channel", daemon=True
        )
        self._reader.start()

    # -- sending -------------------------------------------------------------------------

    def _send(self, frame: list[Any]) -> None:
        data = self.codec.dumps(frame)
        if len(data) > MAX_MESSAGE:
            raise Unsendable(f"a message of {len(data)} bytes is too large to cross")
        with self._send_lock:
            try:
                self.sock.sendall(_HEADER.pack(len(data)) + data)
            except OSError as exc:
                raise ChannelClosed(f"the other process went away ({exc})") from None

    def request(self, op: str, payload: Any = None, *, timeout: float | None = None) -> Any:
        """Send a request and wait for its answer, serving nested requests meanwhile.

        Raises:
            ChannelClosed: When the other side ends before answering.
            Unsendable: When a value of the request cannot cross.
            Exception: Whatever the other side raised, rebuilt by this side's codec.
        """
        if self._closed is not None:
            raise ChannelClosed(self._closed)
        rid = next(self._ids)
        box: queue.Queue[_Reply | Request] = queue.Queue()
        with self._waiters_lock:
            self._waiters[rid] = box
        try:
            self._send(["req", rid, op, payload, getattr(self._local, "serving", None)])
            while True:
                try:
                    item = box.get(timeout=timeout if timeout is not None else 0.25)
                except queue.Empty:
                    if timeout is not None:
                        raise TimeoutError(f"no answer to {op!r} within {timeout:g} s") from None
                    continue  # wake up now and then: signal handlers run between waits
                if isinstance(item, Request):
                    self.serve(item)
                    continue
                if item.ok:
                    return item.value
                raise item.value
        finally:
            with self._waiters_lock:
                self._waiters.pop(rid, None)

    def notify(self, op: str, payload: Any = None) -> None:
        """Send a request that wants no answer."""
        self._send(["note", 0, op, payload, getattr(self._local, "serving", None)])

    def serve(self, request: Request) -> None:
        """Serve one request in this thread and send its answer."""
        outer = getattr(self._local, "serving", None)
        self._local.serving = request.id
        try:
            try:
                result = self.handler(request.op, request.payload)
            except BaseException as exc:
                if not isinstance(exc, Exception):
                    raise
                if request.wants_answer:
                    self._send_error(request, exc)
                return
            if request.wants_answer:
                try:
                    self._send(["ok", request.id, request.op, result, None])
                except ChannelClosed:
                    raise
                except Exception as exc:  # the answer itself cannot cross
                    error = exc if isinstance(exc, Unsendable) else Unsendable(_describe(exc))
                    self._send_error(request, error)
        finally:
            self._local.serving = outer

    def _send_error(self, request: Request, exc: BaseException) -> None:
        try:
            self._send(["err", request.id, request.op, exc, None])
        except Unsendable:
            self._send(["err", request.id, request.op, RuntimeError(_describe(exc)), None])

    def serve_forever(self) -> None:
        """Serve requests that belong to no waiting call, until the channel closes."""
        while (request := self.inbox.get()) is not None:
            self.serve(request)

    def unsolicited(self, request: Request) -> None:
        """Route a request that belongs to no waiting call (default: :attr:`inbox`)."""
        self.inbox.put(request)

    # -- receiving -----------------------------------------------------------------------

    def _read_exact(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                raise ChannelClosed("the other process ended")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _read_loop(self) -> None:
        reason = "the other process ended"
        try:
            while True:
                (size,) = _HEADER.unpack(self._read_exact(_HEADER.size))
                if size > MAX_MESSAGE:
                    reason = f"the other process sent a message of {size} bytes: too large"
                    break
                data = self._read_exact(size)
                try:
                    kind, rid, op, payload, parent = self.codec.loads(data)
                except BaseException as exc:  # a value this side refuses: that call fails
                    if not isinstance(exc, Exception):
                        raise
                    kind, rid, op, payload, parent = _refused(data, exc)
                self._dispatch(kind, rid, op, payload, parent)
        except (ChannelClosed, OSError) as exc:
            reason = str(exc) if isinstance(exc, ChannelClosed) else f"the channel broke: {exc}"
        finally:
            self._close(reason)

    def _dispatch(self, kind: str, rid: int, op: str, payload: Any, parent: int | None) -> None:
        if kind in ("ok", "err"):
            with self._waiters_lock:
                box = self._waiters.get(rid)
            if box is not None:
                box.put(_Reply(kind == "ok", payload))
            return
        if kind == "refused":
            self._send(["err", rid, op, payload, None])
            return
        request = Request(rid, op, payload, wants_answer=kind == "req")
        with self._waiters_lock:
            box = self._waiters.get(parent) if parent is not None else None
        if box is not None:
            box.put(request)
        else:
            self.unsolicited(request)

    def _close(self, reason: str) -> None:
        self._closed = reason
        with self._waiters_lock:
            waiters = list(self._waiters.values())
        for box in waiters:
            box.put(_Reply(False, ChannelClosed(reason)))
        self.inbox.put(None)

    @property
    def busy(self) -> bool:
        """Whether a call is still waiting for its answer (a check left it unfinished)."""
        with self._waiters_lock:
            return bool(self._waiters)

    @property
    def closed(self) -> str | None:
        """Why the channel closed, or ``None`` while it is open."""
        return self._closed

    def close(self) -> None:
        """Close this end (the other side sees the channel end)."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _refused(data: bytes, exc: Exception) -> tuple[str, int, str, Any, int | None]:
    """A frame whose value this side refused: answer the request (or fail the waiting call)."""
    import msgpack

    try:
        frame = msgpack.unpackb(data, ext_hook=lambda code, raw: None, strict_map_key=False)
        kind, rid, op, parent = frame[0], int(frame[1]), str(frame[2]), frame[4]
    except Exception:
        raise ChannelClosed(f"the other process sent a garbled message ({exc})") from None
    error = Unsendable(str(exc)) if not isinstance(exc, Unsendable) else exc
    if kind in ("ok", "err"):
        return "err", rid, op, error, None
    return "refused", rid, op, error, parent


__all__ = ["Channel", "ChannelClosed", "Handler", "Request"]
