"""Relay a check run's private loopback ports to the batch's engines on the host.

A check run that needs an engine gets a network namespace of its own, whose only interface
is its own loopback: it can reach nothing on the host or beyond. :func:`labgrader.sandbox.
enter_sandbox` binds, inside that namespace, the engines' loopback ports (``127.0.0.1:7233``
for Temporal, ``127.0.0.1:4200`` for Prefect) and hands the listening sockets to this
process, which runs in the host's namespace and copies bytes between each accepted
connection and the engine's real port. Nothing else is reachable: not another port of the
host, not the internet.

Run as ``python -I -m labgrader.relay FD=HOST:PORT ...``; it stops when the check run ends
(it is in the run's process group, and dies with its parent).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
from collections.abc import Awaitable, Callable, Sequence

_CHUNK = 65536


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


def main(argv: Sequence[str]) -> int:
    """Relay ``FD=HOST:PORT`` pairs: the listening socket FD to the engine at HOST:PORT."""
    listeners = []
    for arg in argv:
        fd, _, endpoint = arg.partition("=")
        host, port = parse_endpoint(endpoint)
        listeners.append((socket.socket(fileno=int(fd)), host, port))
    if not listeners:  # pragma: no cover - a usage error
        print("usage: python -m labgrader.relay FD=HOST:PORT ...", file=sys.stderr)
        return 2
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(relay(listeners))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
