"""Helpers shared by the lab 04 checks (as the fixture ``t``): a worker per check."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from temporalio.worker import Worker

BUILD_ID = "orchlab-lab04-checks"


@contextlib.asynccontextmanager
async def worker(client, task_queue, workflows) -> AsyncIterator[Worker]:
    """A worker for one check: explicit build id, and a bug in the workflow code fails the
    run at once instead of being retried until the execution timeout."""
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=workflows,
        workflow_failure_exception_types=[Exception],
        build_id=BUILD_ID,
    ) as w:
        yield w


def workflow_id(task_queue: str) -> str:
    return f"{task_queue}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def t() -> SimpleNamespace:
    """The helpers above, for the check files (sibling modules are not importable)."""
    return SimpleNamespace(worker=worker, workflow_id=workflow_id)
