"""Relay a check run's private loopback ports to the batch's engines on the host.

A check run that needs an engine gets a network namespace of its own, whose only interface
is its own loopback: it can reach nothing on the host or beyond. Before it leaves the host's
namespaces, :func:`labgrader.sandbox.enter_sandbox` starts this relay; once in its own
network namespace, it binds there the engines' loopback ports (``127.0.0.1:7233`` for
Temporal, ``127.0.0.1:4200`` for Prefect) and hands the listening sockets over a Unix socket
(:func:`send_listeners`) to the relay, which copies bytes between each accepted connection
and the engine's real port. Nothing else is reachable: not another port of the host, not the
internet. The relay cannot be traced or read by the run (it is not dumpable).

Run as ``python -I -m labgrader.relay --from-fd FD``; it stops when the check run ends (it is
in the run's process group, and dies with its parent).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence

_CHUNK = 65536
_MAX_LISTENERS = 32
_PR_SET_DUMPABLE = 4


def parse_endpoint(text: str) -> tuple[str, int]:
    """Split ``host:port`` (``[::1]:port`` for IPv6) into its parts.

    Raises:
        ValueError: When the text is not ``host:port`` with a port number.
    """
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {text!r}")
    return host.strip("[]"), int(port)


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until end of stream, then pass the end of stream on."""
    try:
        while data := await reader.read(_CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.transport.abort()


def _handler(
    host: str, port: int
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.transport.abort()
            return
        try:
            await asyncio.gather(_copy(reader, upstream_writer), _copy(upstream_reader, writer))
        finally:
            for side in (writer, upstream_writer):
                with contextlib.suppress(OSError):
                    side.close()

    return handle


async def relay(listeners: Sequence[tuple[socket.socket, str, int]]) -> None:
    """Serve every listening socket, each to its engine, until cancelled or killed."""
    servers = [
        await asyncio.start_server(_handler(host, port), sock=sock)
        for sock, host, port in listeners
    ]
    await asyncio.gather(*(server.serve_forever() for server in servers))


def send_listeners(channel: socket.socket, listeners: Sequence[tuple[socket.socket, str]]) -> None:
    """Hand listening sockets, each with the ``host:port`` it stands for, to the relay."""
    endpoints = json.dumps([endpoint for _, endpoint in listeners]).encode()
    socket.send_fds(channel, [endpoints], [sock.fileno() for sock, _ in listeners])


def receive_listeners(channel: socket.socket) -> list[tuple[socket.socket, str, int]]:
    """Receive what :func:`send_listeners` sent: ``(socket, host, port)`` each; none at EOF.

    Raises:
        ValueError: When the message does not match its sockets.
    """
    data, fds, _, _ = socket.recv_fds(channel, 65536, _MAX_LISTENERS)
    if not data:
        return []
    endpoints = json.loads(data)
    if len(endpoints) != len(fds):
        raise ValueError(f"{len(endpoints)} endpoints came with {len(fds)} sockets")
    return [
        (socket.socket(fileno=fd), *parse_endpoint(endpoint))
        for fd, endpoint in zip(fds, endpoints, strict=True)
    ]


def main(argv: Sequence[str]) -> int:
    """Receive the listening sockets on ``--from-fd FD`` and relay them until killed."""
    with contextlib.suppress(OSError, AttributeError):
        # Not dumpable: the check run (maybe the same user) cannot trace it or read its memory.
        ctypes.CDLL(None).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)
    if len(argv) != 2 or argv[0] != "--from-fd" or not argv[1].isdigit():
        print("usage: python -m labgrader.relay --from-fd FD", file=sys.stderr)
        return 2
    with socket.socket(fileno=int(argv[1])) as channel:
        listeners = receive_listeners(channel)
    if not listeners:  # the run got no network namespace: nothing to relay
        return 0
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(relay(listeners))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
