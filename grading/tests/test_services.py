"""labgrader.services: a fresh Temporal dev server per submission, and what a run is given."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.client import Client

from labgrader.relay import Route, parse_endpoint
from labgrader.services import FreshTemporal, run_engines
from orchlab.runtime._process import port_open


def test_each_lease_is_a_fresh_server_that_dies_with_its_run() -> None:
    fresh = FreshTemporal(servers=2)
    try:
        with fresh.lease() as first:
            mark = f"left-behind-{uuid.uuid4().hex[:8]}"

            async def leave() -> None:
                client = await Client.connect(first)
                await client.start_workflow("anything", id=mark, task_queue="q")

            asyncio.run(leave())
        host, port = parse_endpoint(first)
        assert not port_open(host, port)  # killed with its run, not kept for the next
        with fresh.lease() as second:

            async def look() -> list[str]:
                client = await Client.connect(second)
                return [wf.id async for wf in client.list_workflows()]

            assert second != first
            assert asyncio.run(look()) == []  # nothing of the first submission
        assert fresh.started >= 2  # spares are started ahead (how fast: sandbox_setup bench)
    finally:
        fresh.close()


def test_a_relayed_run_keeps_the_batchs_addresses_relayed_to_its_own_engines() -> None:
    shared = {"TEMPORAL_ADDRESS": "127.0.0.1:7233", "PREFECT_API_URL": "http://127.0.0.1:4200/api"}
    engines = run_engines(shared, temporal="127.0.0.1:40001", relayed=True)
    assert engines.env == shared
    assert [Route.parse(r) for r in engines.routes] == [
        Route("127.0.0.1:7233", "127.0.0.1:40001", "tcp"),
        Route("127.0.0.1:4200", "127.0.0.1:4200", "prefect"),
    ]
    direct = run_engines(shared, temporal="127.0.0.1:40001", relayed=False)
    assert direct.env["TEMPORAL_ADDRESS"] == "127.0.0.1:40001" and direct.routes == ()


def test_a_route_reads_back_and_an_old_bare_endpoint_still_parses() -> None:
    route = Route("127.0.0.1:7233", "127.0.0.1:40001")
    assert Route.parse(route.text()) == route
    assert Route.parse("127.0.0.1:7233") == Route("127.0.0.1:7233", "127.0.0.1:7233")
    with pytest.raises(ValueError, match="unknown relay protocol 'udp'"):
        Route.parse("udp a:1 b:2")
    with pytest.raises(ValueError, match="expected 'PROTOCOL LISTEN UPSTREAM' or host:port"):
        Route.parse("a:1 b:2")
