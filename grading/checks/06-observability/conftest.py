"""Helpers shared by the lab 06 checks (as the fixture ``t``).

The checks run against the notebook in a learner process of its own: ``nb`` is a proxy, values
cross by value, and the notebook's workflows and activities run on a worker in that process
(see ``labgrader.harness``). The traced-workflow checks start runs from a client of their own,
traced by a tracer provider of their own, so the trace a check looks into begins on this side.
"""

import contextlib
import functools
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

from labgrader import harness

LABGRADER_PROCESS = True

BUILD_ID = "orchlab-lab06-checks"
"""An explicit build id: without one the SDK hashes every loaded module once per process
(about 2 s in a learner process that has imported the observability stack)."""


@contextlib.asynccontextmanager
async def worker(nb, client, task_queue, workflows, activities) -> AsyncIterator[None]:
    """A worker in the notebook's process with the notebook's tracing interceptor and an explicit
    build id; a bug in the workflow code fails the run at once instead of being retried."""
    async with harness.worker(
        nb,
        client,
        task_queue,
        workflows,
        activities,
        interceptors=[nb.TRACING_INTERCEPTOR],
        workflow_failure_exception_types=[Exception],
        build_id=BUILD_ID,
    ):
        yield


def traced(client: Client) -> tuple[Client, InMemorySpanExporter]:
    """A client on ``client``'s connection whose starts are traced into an exporter of the
    checks' own (never the process's global provider)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    config = client.config()
    config["interceptors"] = [TracingInterceptor(provider.get_tracer("lab06-checks"))]
    return Client(**config), exporter


@pytest.fixture
def t(nb) -> SimpleNamespace:
    """The helpers above, for the check files (sibling modules are not importable)."""
    return SimpleNamespace(worker=functools.partial(worker, nb), traced=traced)
