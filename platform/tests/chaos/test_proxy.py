"""The fault proxy against a real loopback echo server: bytes through unchanged, and each
fault doing what it says. Delays are checked as lower bounds only (a busy machine can only
make them longer), never as upper bounds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from orchlab.chaos import FaultProxy, Faults


async def _echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()


@pytest_asyncio.fixture
async def echo() -> AsyncIterator[str]:
    server = await asyncio.start_server(_echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"127.0.0.1:{port}"


@pytest_asyncio.fixture
async def proxy(echo: str) -> AsyncIterator[FaultProxy]:
    proxy = await FaultProxy(echo, seed=1).start()
    try:
        yield proxy
    finally:
        await proxy.close()


async def _open(proxy: FaultProxy) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = proxy.address.split(":")
    return await asyncio.open_connection(host, int(port))


async def _round_trip(proxy: FaultProxy, payload: bytes) -> bytes:
    reader, writer = await _open(proxy)
    writer.write(payload)
    await writer.drain()
    got = await asyncio.wait_for(reader.readexactly(len(payload)), 30)
    writer.close()
    return got


async def test_without_faults_bytes_pass_unchanged_and_are_counted(proxy: FaultProxy) -> None:
    payload = bytes(range(256)) * 1000
    assert await _round_trip(proxy, payload) == payload
    assert proxy.stats.connections == 1
    assert proxy.stats.bytes_up == len(payload)
    assert proxy.stats.bytes_down == len(payload)


async def test_latency_delays_every_answer(proxy: FaultProxy) -> None:
    proxy.set_faults(Faults(latency=0.4))
    began = time.monotonic()
    assert await _round_trip(proxy, b"ping") == b"ping"
    assert time.monotonic() - began >= 0.4


async def test_bandwidth_caps_bytes_per_second(proxy: FaultProxy) -> None:
    proxy.set_faults(Faults(bandwidth=100_000))
    began = time.monotonic()
    payload = b"x" * 50_000
    assert await _round_trip(proxy, payload) == payload
    assert time.monotonic() - began >= 0.5  # 50 kB at 100 kB/s


async def test_reset_aborts_new_connections(proxy: FaultProxy) -> None:
    proxy.set_faults(Faults(reset=1.0))
    reader, writer = await _open(proxy)
    with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
        writer.write(b"ping")
        await writer.drain()
        await asyncio.wait_for(reader.readexactly(4), 30)
    assert proxy.stats.resets == 1


async def test_blackhole_stalls_traffic_until_healed(proxy: FaultProxy) -> None:
    reader, writer = await _open(proxy)
    writer.write(b"one")
    assert await asyncio.wait_for(reader.readexactly(3), 30) == b"one"
    proxy.set_faults(Faults(blackhole=True))
    writer.write(b"two")
    await writer.drain()
    with pytest.raises(TimeoutError):  # nothing gets through a partition
        await asyncio.wait_for(reader.readexactly(3), 0.3)
    proxy.set_faults(Faults())
    assert await asyncio.wait_for(reader.readexactly(3), 30) == b"two"  # and nothing is lost
    writer.close()


async def test_an_upstream_that_is_down_resets_the_client() -> None:
    proxy = await FaultProxy("127.0.0.1:1").start()
    try:
        reader, _ = await _open(proxy)
        try:
            answer = await asyncio.wait_for(reader.read(10), 30)
        except ConnectionResetError:
            answer = b""
        assert answer == b""
        assert proxy.stats.bytes_down == 0
    finally:
        await proxy.close()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"latency": -1}, "latency must be >= 0 seconds, got -1"),
        ({"reset": 2}, "reset is a probability between 0 and 1, got 2"),
        ({"bandwidth": 0}, "bandwidth must be at least 1 byte per second, got 0"),
        ({"latncy": 1}, "unknown fault(s) latncy; known: bandwidth, blackhole, jitter"),
    ],
)
def test_faults_are_validated(raw: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Faults.from_dict(raw)


def test_upstream_must_be_host_and_port() -> None:
    with pytest.raises(ValueError, match="upstream must be host:port, got 'nowhere'"):
        FaultProxy("nowhere")
