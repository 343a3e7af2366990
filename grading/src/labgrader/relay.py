"""Relay a check run's private loopback ports to the batch's engines on the host.

Both sides live here: :func:`loopback_endpoints` finds the engines' ports,
:func:`start_relay` and :func:`hand_over` are what :func:`labgrader.sandbox.enter_sandbox`
calls, and :func:`main` is the relay process.

A check run that needs an engine gets a network namespace of its own, whose only interface
is its own loopback: it can reach nothing on the host or beyond. Before it leaves the host's
namespaces, :func:`labgrader.sandbox.enter_sandbox` starts this relay; once in its own
network namespace, it binds there the engines' loopback ports (``127.0.0.1:7233`` for
Temporal, ``127.0.0.1:4200`` for Prefect) and hands the listening sockets over a Unix socket
(:func:`send_listeners`) to the relay, which copies bytes between each accepted connection
and the engine's real port. Nothing else is reachable: not another port of the host, not the
internet. The relay cannot be traced or read by the run (it is not dumpable).

Each relayed port is a :class:`Route`: the ``host:port`` the run connects to inside its
namespace, the engine it reaches, and how. A Temporal route is plain bytes to a dev server
of the run's own (:class:`labgrader.services.FreshTemporal` starts a fresh one for every
submission, so a run sees no other run's workflows, task queues or history); a Prefect route
goes through :mod:`labgrader.prefect_relay`, which lets the run touch only what it created.
The relay is one process per run, so what it remembers belongs to that run alone.

Run as ``python -I -m labgrader.relay --from-fd FD``; it stops when the check run ends (it is
in the run's process group, and dies with its parent).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ipaddress
import json
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

_CHUNK = 65536
_MAX_LISTENERS = 32
_PR_SET_PDEATHSIG = 1
_PR_SET_DUMPABLE = 4


def _prctl(option: int, value: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def parse_endpoint(text: str) -> tuple[str, int]:
    """Split ``host:port`` (``[::1]:port`` for IPv6) into its parts.

    Raises:
        ValueError: When the text is not ``host:port`` with a port number.
    """
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {text!r}")
    return host.strip("[]"), int(port)


PROTOCOLS = ("tcp", "prefect")
"""How a route relays: bytes as they come, or Prefect API requests one by one."""


@dataclass(frozen=True)
class Route:
    """One relayed port: what a run connects to, where it lands, and how."""

    listen: str
    """The ``host:port`` bound inside the run's network namespace."""
    upstream: str
    """The engine's ``host:port`` on the host."""
    protocol: str = "tcp"
    """``tcp`` (bytes as they come) or ``prefect`` (see :mod:`labgrader.prefect_relay`)."""

    def __post_init__(self) -> None:
        parse_endpoint(self.listen)
        parse_endpoint(self.upstream)
        if self.protocol not in PROTOCOLS:
            raise ValueError(
                f"unknown relay protocol {self.protocol!r}: expected one of {PROTOCOLS}"
            )

    def text(self) -> str:
        """The route as one line: ``PROTOCOL LISTEN UPSTREAM``."""
        return f"{self.protocol} {self.listen} {self.upstream}"

    @classmethod
    def parse(cls, text: str) -> Route:
        """Read :meth:`text`; a bare ``host:port`` is a byte route to that same endpoint.

        Raises:
            ValueError: When the text is neither.
        """
        parts = text.split()
        if len(parts) == 1:
            return cls(parts[0], parts[0])
        if len(parts) != 3:
            raise ValueError(f"expected 'PROTOCOL LISTEN UPSTREAM' or host:port, got {text!r}")
        return cls(parts[1], parts[2], parts[0])


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


def route_handler(
    route: Route,
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    """The connection handler of one route (a Prefect route's policy is made here, once)."""
    host, port = parse_endpoint(route.upstream)
    if route.protocol == "prefect":
        from labgrader.prefect_relay import PrefectPolicy, prefect_handler

        inner = prefect_handler(host, port, PrefectPolicy(), _copy)
    else:
        inner = _handler(host, port)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # asyncio sets TCP_NODELAY only on sockets made with proto IPPROTO_TCP, not on those
        # accepted from a plain socket(): without it, Nagle and delayed ACKs hold every
        # small reply back about 40 ms (measured: 40 ms per Prefect request, 0.4 ms with).
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        await inner(reader, writer)

    return handle


async def relay(listeners: Sequence[tuple[socket.socket, Route]]) -> None:
    """Serve every listening socket, each along its route, until cancelled or killed."""
    servers = [
        await asyncio.start_server(route_handler(route), sock=sock) for sock, route in listeners
    ]
    await asyncio.gather(*(server.serve_forever() for server in servers))


def send_listeners(
    channel: socket.socket, listeners: Sequence[tuple[socket.socket, Route]]
) -> None:
    """Hand listening sockets, each with the route it stands for, to the relay."""
    routes = json.dumps([route.text() for _, route in listeners]).encode()
    socket.send_fds(channel, [routes], [sock.fileno() for sock, _ in listeners])


def receive_listeners(channel: socket.socket) -> list[tuple[socket.socket, Route]]:
    """Receive what :func:`send_listeners` sent: ``(socket, route)`` each; none at EOF.

    Raises:
        ValueError: When the message does not match its sockets.
    """
    data, fds, _, _ = socket.recv_fds(channel, 65536, _MAX_LISTENERS)
    if not data:
        return []
    routes = json.loads(data)
    if len(routes) != len(fds):
        raise ValueError(f"{len(routes)} routes came with {len(fds)} sockets")
    return [
        (socket.socket(fileno=fd), Route.parse(text)) for fd, text in zip(fds, routes, strict=True)
    ]


def loopback_endpoints(env: Mapping[str, str]) -> tuple[str, ...] | None:
    """The engines' ``host:port`` named by ``TEMPORAL_ADDRESS`` and ``PREFECT_API_URL``.

    Returns:
        The endpoints, or ``None`` when one is not on loopback (a remote cluster): the check
        runs then share the host's network to reach it.
    """
    endpoints: list[str] = []
    if address := env.get("TEMPORAL_ADDRESS"):
        endpoints.append(address if "://" not in address else urlsplit(address).netloc)
    if url := env.get("PREFECT_API_URL"):
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        endpoints.append(f"{parts.hostname}:{port}")
    for endpoint in endpoints:
        try:
            host, _ = parse_endpoint(endpoint)
        except ValueError:
            return None
        if host != "localhost" and not _is_loopback(host):
            return None
    return tuple(dict.fromkeys(endpoints))


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def start_relay() -> socket.socket:
    """Start the relay in this process's namespaces, before any namespace is left: it keeps
    the host's network. Returns the socket to :func:`hand_over` the listening sockets
    through; the relay dies with this process."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.fork() == 0:  # the relay
        try:
            _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
            ours.close()
            os.set_inheritable(theirs.fileno(), True)
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1):
                os.dup2(null, fd)
            argv = [
                sys.executable,
                "-I",
                "-m",
                "labgrader.relay",
                "--from-fd",
                str(theirs.fileno()),
            ]
            os.execv(sys.executable, argv)
        finally:
            os._exit(127)
    theirs.close()
    return ours


def hand_over(channel: socket.socket, routes: Sequence[str]) -> None:
    """Bind the ``routes`` (:meth:`Route.text`, or bare ``host:port``) in this process's
    (private) network namespace and hand their listening sockets to the relay started by
    :func:`start_relay`."""
    listeners: list[tuple[socket.socket, Route]] = []
    try:
        for text in routes:
            route = Route.parse(text)
            host, port = parse_endpoint(route.listen)
            names = ["127.0.0.1", "::1"] if host == "localhost" else [host]
            for name in names:
                try:
                    listeners.append((_listen(name, port), route))
                except OSError:
                    if name == host:  # ::1 for "localhost" may be missing: 127.0.0.1 is enough
                        raise
        send_listeners(channel, listeners)
    finally:
        for sock, _ in listeners:
            sock.close()


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    return sock


def main(argv: Sequence[str]) -> int:
    """Receive the listening sockets on ``--from-fd FD`` and relay them until killed."""
    with contextlib.suppress(OSError, AttributeError):
        # Not dumpable: the check run (maybe the same user) cannot trace it or read its memory.
        _prctl(_PR_SET_DUMPABLE, 0)
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


__all__ = [
    "PROTOCOLS",
    "Route",
    "hand_over",
    "loopback_endpoints",
    "parse_endpoint",
    "receive_listeners",
    "relay",
    "route_handler",
    "send_listeners",
    "start_relay",
]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
