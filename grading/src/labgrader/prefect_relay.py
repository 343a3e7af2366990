"""An API-aware relay to the batch's Prefect server: a check run may run its own flows, and
nothing else.

Every check run shares the batch's one Prefect server (it takes seconds to start, far too
long to start one per submission). What a submission may do there is therefore decided
request by request, here, in the run's relay (:mod:`labgrader.relay`), which is a process
of its own outside the run's reach, one per run. A flow run needs only a few API calls:
create its flow and its flow run, move them through their states, create task runs, send
logs and events. Those pass, and only on objects this run created:

- ``POST /flows/`` creates the flow under a name private to this run (the submission's name
  plus a random suffix), so no two submissions ever share a flow, its tags or its labels;
- flow runs and task runs this run created may be read and moved through their states;
  any other id is refused, as is every filter, count, delete, and every write to
  variables, blocks, artifacts, deployments, work pools, automations or concurrency limits;
- logs are write-only, events go in only (the ``/events/in`` websocket).

A refused request gets ``403`` with a JSON ``detail`` that says why. Nothing a submission
writes can be read back by another submission, and nothing another submission made can be
read, changed or deleted.

HTTP/1.1 only (Prefect's client default), framed by h11.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import h11

_CHUNK = 65536
_MAX_BODY = 16 * 1024 * 1024
_UUID = r"[0-9a-fA-F-]{36}"
_HOP_HEADERS = {b"connection", b"keep-alive", b"content-length", b"transfer-encoding"}
# Asked of the server without: the relay reads what a create returns (the id it now owns).
_REQUEST_ONLY = {b"accept-encoding"}

# What a flow run reads of the server itself (no learner's data is behind any of these).
_READ_ONLY = ("/health", "/ready", "/admin/version", "/admin/storage", "/csrf-token")

REFUSED = "refused by the grader"
"""How every refusal's ``detail`` starts."""


@dataclass
class PrefectPolicy:
    """What one check run has created on the Prefect server, and so may touch."""

    suffix: str = field(default_factory=lambda: secrets.token_hex(6))
    """Appended to the names of the flows this run creates."""
    flows: set[str] = field(default_factory=set)
    """Flow ids this run created (under its own names)."""
    flow_runs: set[str] = field(default_factory=set)
    """Flow run ids this run created."""
    task_runs: set[str] = field(default_factory=set)
    """Task run ids this run created."""

    def refusal(self, method: str, path: str, body: bytes) -> str | None:
        """Why the request is refused, or ``None`` when it may pass.

        Args:
            method: The HTTP method.
            path: The path without the query, after the API's ``/api`` prefix.
            body: The request's body.
        """
        if method == "GET" and path in _READ_ONLY:
            return None
        if method == "POST" and path == "/flows/":
            return None
        if method == "POST" and path == "/logs/":
            return None
        if method == "GET" and path == "/events/in":
            return None  # the websocket events go in by; nothing comes out of it
        if method == "POST" and path == "/flow_runs/":
            flow = _field(body, "flow_id")
            if flow not in self.flows:
                return f"{REFUSED}: a check run may start runs of its own flows only"
            return None
        if method == "POST" and path == "/task_runs/":
            run = _field(body, "flow_run_id")
            if run is not None and run not in self.flow_runs:
                return f"{REFUSED}: a check run may add task runs to its own flow runs only"
            return None
        for pattern, owned, what in self._objects():
            match = re.fullmatch(pattern, path)
            if match and method in ("GET", "PATCH", "POST"):
                if match.group(1).lower() not in owned:
                    return f"{REFUSED}: that {what} belongs to another check run (or to nobody)"
                return None
        return (
            f"{REFUSED}: a check run may only run its own flows on the Prefect server "
            f"({method} {path} is not needed for that)"
        )

    def _objects(self) -> list[tuple[str, set[str], str]]:
        return [
            (rf"/flows/({_UUID})", self.flows, "flow"),
            (rf"/flow_runs/({_UUID})(?:/set_state|/labels)?", self.flow_runs, "flow run"),
            (rf"/task_runs/({_UUID})(?:/set_state)?", self.task_runs, "task run"),
        ]

    def rewrite(self, method: str, path: str, body: bytes) -> bytes:
        """The request body to send on: a created flow's name made private to this run."""
        if method == "POST" and path == "/flows/":
            data = _json(body)
            if isinstance(data, dict) and isinstance(data.get("name"), str):
                data["name"] = f"{data['name']}-{self.suffix}"
                return json.dumps(data).encode()
        return body

    def observe(self, method: str, path: str, status: int, body: bytes) -> None:
        """Remember what a successful create returned: this run owns it from now on."""
        if method != "POST" or not 200 <= status < 300:
            return
        owner = {
            "/flows/": self.flows,
            "/flow_runs/": self.flow_runs,
            "/task_runs/": self.task_runs,
        }
        if (owned := owner.get(path)) is not None:
            created = _field(body, "id")
            if created is not None:
                owned.add(created)


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _field(body: bytes, name: str) -> str | None:
    """A UUID field of a JSON object body, normalised; ``None`` when absent or not one."""
    data = _json(body)
    value = data.get(name) if isinstance(data, dict) else None
    try:
        return str(uuid.UUID(str(value))) if value is not None else None
    except ValueError:
        return None


class _Closed(Exception):
    """The peer closed the connection."""


async def _next_message(
    conn: h11.Connection, reader: asyncio.StreamReader
) -> tuple[h11.Request | h11.Response | h11.InformationalResponse, bytes]:
    """Read one whole message (head and body) from ``conn``."""
    head: h11.Request | h11.Response | h11.InformationalResponse | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(_CHUNK))
        elif isinstance(event, h11.InformationalResponse) and event.status_code == 101:
            return event, b""
        elif isinstance(event, h11.Request | h11.Response):
            head = event
        elif isinstance(event, h11.Data):
            body += event.data
            if len(body) > _MAX_BODY:
                raise _Closed
        elif isinstance(event, h11.EndOfMessage) and head is not None:
            return head, bytes(body)
        elif event is h11.PAUSED or isinstance(event, h11.ConnectionClosed):
            raise _Closed


def _headers(
    headers: Any, body: bytes | None, drop: set[bytes] = _HOP_HEADERS
) -> list[tuple[bytes, bytes]]:
    kept = [(k, v) for k, v in headers if k.lower() not in drop]
    if body is not None:
        kept.append((b"content-length", str(len(body)).encode()))
    return kept


async def _tunnel(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    up_reader: asyncio.StreamReader,
    up_writer: asyncio.StreamWriter,
    copy: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any],
) -> None:
    await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))


def _refuse(conn: h11.Connection, reason: str) -> bytes:
    body = json.dumps({"detail": reason}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return (
        conn.send(h11.Response(status_code=403, headers=headers))
        + conn.send(h11.Data(data=body))
        + conn.send(h11.EndOfMessage())
    )


def prefect_handler(
    host: str,
    port: int,
    policy: PrefectPolicy,
    copy: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any],
    log: Callable[[str], None] = lambda line: print(line, file=sys.stderr),
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any]:
    """A connection handler that relays Prefect API requests the ``policy`` allows.

    Args:
        host: The Prefect server's host.
        port: The Prefect server's port.
        policy: The run's policy (one per run, shared by its connections).
        copy: Copies one direction of a byte stream (for websockets, once switched).
        log: Where refusals are told.
    """

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=_MAX_BODY)
        try:
            while True:
                request, body = await _next_message(conn, reader)
                assert isinstance(request, h11.Request)
                method = request.method.decode()
                target = request.target.decode("latin-1").split("?", 1)[0]
                path = target[4:] if target.startswith("/api/") else target
                if (reason := policy.refusal(method, path, body)) is not None:
                    log(f"labgrader.relay: {method} {target}: {reason}")
                    writer.write(_refuse(conn, reason))
                    await writer.drain()
                    conn.start_next_cycle()
                    continue
                body = policy.rewrite(method, path, body)
                if await _forward(conn, request, body, method, path, reader, writer):
                    return  # switched to a websocket: done when it ends
                conn.start_next_cycle()
        except (_Closed, h11.ProtocolError, OSError):
            pass
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    async def _forward(
        conn: h11.Connection,
        request: h11.Request,
        body: bytes,
        method: str,
        path: str,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        upstream = h11.Connection(h11.CLIENT, max_incomplete_event_size=_MAX_BODY)
        try:
            upgrade = any(k.lower() == b"upgrade" for k, _ in request.headers)
            headers = _headers(
                request.headers, None if upgrade else body, _HOP_HEADERS | _REQUEST_ONLY
            )
            if upgrade:
                headers += [(k, v) for k, v in request.headers if k.lower() == b"connection"]
            else:
                headers.append((b"connection", b"close"))
            out = upstream.send(
                h11.Request(method=request.method, target=request.target, headers=headers)
            )
            if not upgrade:
                out += upstream.send(h11.Data(data=body)) if body else b""
            out += upstream.send(h11.EndOfMessage())
            up_writer.write(out)
            await up_writer.drain()
            response, answer = await _next_message(upstream, up_reader)
            if isinstance(response, h11.InformationalResponse):
                writer.write(conn.send(response))
                await writer.drain()
                leftover_up = upstream.trailing_data[0]
                leftover_client = conn.trailing_data[0]
                if leftover_up:
                    writer.write(leftover_up)
                if leftover_client:
                    up_writer.write(leftover_client)
                await _tunnel(reader, writer, up_reader, up_writer, copy)
                return True
            assert isinstance(response, h11.Response)
            policy.observe(method, path, response.status_code, answer)
            writer.write(
                conn.send(
                    h11.Response(
                        status_code=response.status_code,
                        headers=_headers(response.headers, answer),
                        reason=response.reason,
                    )
                )
                + conn.send(h11.Data(data=answer))
                + conn.send(h11.EndOfMessage())
            )
            await writer.drain()
            return False
        finally:
            with contextlib.suppress(OSError):
                up_writer.close()

    return handle


__all__ = ["REFUSED", "PrefectPolicy", "prefect_handler"]
