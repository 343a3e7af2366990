"""A fault-injecting TCP proxy on loopback: latency, jitter, a bandwidth cap, resets and a
black hole between a client and the dependency it talks to.

Put a :class:`FaultProxy` between a worker and anything it connects to over TCP (the
Temporal frontend, a feature store, a database) and point the worker at the proxy. With no
faults it forwards bytes unchanged; :meth:`FaultProxy.set_faults` changes the faults of every
connection at once, open ones included:

* ``latency`` / ``jitter``: every chunk from the upstream is delivered ``latency +- jitter``
  seconds after it arrived (chunks keep their order; a stream is delayed, not slowed down),
  so a request and its answer take ``latency`` longer, as with Toxiproxy's latency toxic;
* ``bandwidth``: at most that many bytes per second in each direction;
* ``reset``: a new connection is reset (RST) with this probability, as a crashing or
  overloaded service does;
* ``blackhole``: nothing gets through and nothing is answered: connections are accepted and
  then stall, as in a network partition. Healing it lets the stalled bytes through, as TCP
  does when a short partition ends; a client whose own timeouts fired has reconnected.

Run one in a process of its own with ``python -m orchlab.chaos._proxy`` (what the chaos
actions do): it takes its faults from a line of JSON on its control port.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import socket
import struct
import sys
import time
from dataclasses import asdict, dataclass, fields
from typing import Any

CHUNK = 64 * 1024
"""Bytes read at once from either side."""


@dataclass(frozen=True)
class Faults:
    """What a :class:`FaultProxy` does to the traffic through it (nothing by default)."""

    latency: float = 0.0
    """Seconds added to every chunk from the upstream (the answers)."""
    jitter: float = 0.0
    """Up to this many seconds more or less than ``latency``, drawn per chunk."""
    bandwidth: int | None = None
    """Bytes per second in each direction; None is unlimited."""
    reset: float = 0.0
    """Probability (0 to 1) that a new connection is reset at once."""
    blackhole: bool = False
    """Accept connections but let nothing through (a partition)."""

    def __post_init__(self) -> None:
        if self.latency < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {self.latency}")
        if self.jitter < 0:
            raise ValueError(f"jitter must be >= 0 seconds, got {self.jitter}")
        if self.bandwidth is not None and self.bandwidth < 1:
            raise ValueError(f"bandwidth must be at least 1 byte per second, got {self.bandwidth}")
        if not 0.0 <= self.reset <= 1.0:
            raise ValueError(f"reset is a probability between 0 and 1, got {self.reset}")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Faults:
        """Faults from JSON; an unknown name is refused with the known ones.

        Raises:
            ValueError: On an unknown fault or a value out of range.
        """
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(
                f"unknown fault(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        return cls(**raw)

    def to_dict(self) -> dict[str, Any]:
        """The faults as JSON."""
        return asdict(self)


@dataclass
class ProxyStats:
    """Counters since the proxy started."""

    connections: int = 0
    """Connections accepted."""
    resets: int = 0
    """Connections reset by the ``reset`` fault."""
    bytes_up: int = 0
    """Bytes forwarded from clients to the upstream."""
    bytes_down: int = 0
    """Bytes forwarded from the upstream to clients."""
    open: int = 0
    """Connections open now."""


def _reset(writer: asyncio.StreamWriter) -> None:
    # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


class FaultProxy:
    """A TCP proxy from a loopback port to ``upstream`` that injects :class:`Faults`.

    Args:
        upstream: ``host:port`` of the dependency.
        host: The interface to listen on (loopback).
        port: The port to listen on; 0 picks a free one (read :attr:`address`).
        faults: The faults to start with.
        seed: Seeds jitter and reset draws, for repeatable runs.

    Example::

        proxy = await FaultProxy("127.0.0.1:7233").start()
        proxy.set_faults(Faults(latency=0.5))
        ...
        await proxy.close()
    """

    def __init__(
        self,
        upstream: str,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        seed: int | None = None,
    ) -> None:
        up_host, sep, up_port = upstream.rpartition(":")
        if not sep or not up_port.isdigit():
            raise ValueError(f"upstream must be host:port, got {upstream!r}")
        self.upstream = (up_host.strip("[]") or "127.0.0.1", int(up_port))
        self.host = host
        self.port = port
        self.faults = faults or Faults()
        self.stats = ProxyStats()
        self._rng = random.Random(seed)
        self._flowing = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._apply_blackhole()

    @property
    def address(self) -> str:
        """Where clients connect instead of the upstream (``host:port``)."""
        return f"{self.host}:{self.port}"

    def set_faults(self, faults: Faults) -> None:
        """Apply ``faults`` from now on, to open connections too."""
        self.faults = faults
        self._apply_blackhole()

    def _apply_blackhole(self) -> None:
        if self.faults.blackhole:
            self._flowing.clear()
        else:
            self._flowing.set()

    async def start(self) -> FaultProxy:
        """Start listening. Returns the proxy, with :attr:`port` bound."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        """Stop listening and drop every open connection."""
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats.connections += 1
        self.stats.open += 1
        try:
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            pass  # the proxy is closing: the connection just ends
        finally:
            self.stats.open -= 1
            self._tasks.discard(task)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.faults.reset and self._rng.random() < self.faults.reset:
            self.stats.resets += 1
            _reset(writer)
            return
        await self._flowing.wait()  # a black hole accepts, then says nothing
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            _reset(writer)  # the upstream is down: so is the proxy, for this client
            return
        pipes = [
            asyncio.create_task(self._pipe(reader, up_writer, "bytes_up", delayed=False)),
            asyncio.create_task(self._pipe(up_reader, writer, "bytes_down", delayed=True)),
        ]
        try:
            # When either side is done, the connection is over.
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
            await asyncio.gather(*pipes, return_exceptions=True)
            for w in (writer, up_writer):
                with contextlib.suppress(Exception):
                    w.close()

    def _delay(self) -> float:
        f = self.faults
        if not f.latency and not f.jitter:
            return 0.0
        return max(0.0, f.latency + self._rng.uniform(-f.jitter, f.jitter))

    async def _write(self, writer: asyncio.StreamWriter, data: bytes) -> None:
        if self.faults.bandwidth:
            await _paced(writer, data, self.faults.bandwidth)
        else:
            writer.write(data)
            await writer.drain()

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        counter: str,
        *,
        delayed: bool,
    ) -> None:
        # A reader stamps each chunk with its due time; the writer delivers it then. So a
        # stream is shifted by the latency instead of paying it once per chunk.
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def read() -> None:
            while True:
                await self._flowing.wait()
                data = await reader.read(CHUNK)
                await queue.put((time.monotonic() + (self._delay() if delayed else 0.0), data))
                if not data:
                    return

        reading = asyncio.create_task(read())
        try:
            while True:
                due, data = await queue.get()
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                await self._flowing.wait()
                if not data:
                    with contextlib.suppress(OSError):
                        writer.write_eof()
                    return
                await self._write(writer, data)
                setattr(self.stats, counter, getattr(self.stats, counter) + len(data))
        finally:
            reading.cancel()
            await asyncio.gather(reading, return_exceptions=True)


async def _paced(writer: asyncio.StreamWriter, data: bytes, rate: int) -> None:
    # A slice a tenth of a second's worth, each sent when its time has come: the client
    # never gets bytes faster than the cap, even from one large chunk.
    step = max(1, rate // 10)
    for start in range(0, len(data), step):
        piece = data[start : start + step]
        await asyncio.sleep(len(piece) / rate)
        writer.write(piece)
        await writer.drain()


async def _control(
    proxy: FaultProxy, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    # One JSON object a line: {"faults": {...}} sets faults, {} only reads; each answer
    # is {"faults": ..., "stats": ...} or {"error": "..."}.
    try:
        while line := await reader.readline():
            try:
                request = json.loads(line)
                if "faults" in request:
                    proxy.set_faults(Faults.from_dict(request["faults"]))
                answer: dict[str, Any] = {
                    "faults": proxy.faults.to_dict(),
                    "stats": asdict(proxy.stats),
                    "address": proxy.address,
                }
            except (ValueError, TypeError) as exc:
                answer = {"error": str(exc)}
            writer.write(json.dumps(answer).encode() + b"\n")
            await writer.drain()
    finally:
        writer.close()


async def serve(upstream: str, port: int, control_port: int, seed: int | None) -> None:
    """Run a proxy and its control port until cancelled (the process's main)."""
    proxy = await FaultProxy(upstream, port=port, seed=seed).start()
    control = await asyncio.start_server(
        lambda r, w: _control(proxy, r, w), "127.0.0.1", control_port
    )
    print(f"proxy {proxy.address} -> {upstream}", flush=True)
    async with control:
        try:
            await control.serve_forever()
        finally:
            await proxy.close()


def main(argv: list[str] | None = None) -> None:
    """``python -m orchlab.chaos._proxy UPSTREAM --port P --control-port C``."""
    parser = argparse.ArgumentParser(prog="orchlab.chaos._proxy", description=__doc__)
    parser.add_argument("upstream", help="host:port of the dependency")
    parser.add_argument("--port", type=int, required=True, help="loopback port to listen on")
    parser.add_argument("--control-port", type=int, required=True, help="JSON control port")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.upstream, args.port, args.control_port, args.seed))


if __name__ == "__main__":  # pragma: no cover - a process of its own
    main(sys.argv[1:])


__all__ = ["CHUNK", "FaultProxy", "Faults", "ProxyStats", "serve"]
