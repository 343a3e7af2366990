"""Helpers shared by the lab 04 checks (as the fixture ``t``): a worker per check.

The checks run against the notebook in a learner process of its own: ``nb`` is a proxy, values
cross by value, and the notebook's workflows run on a worker in that process (see
``labgrader.harness``).
"""

import contextlib
import functools
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest

from labgrader import harness

BUILD_ID = "orchlab-lab04-checks"


LABGRADER_PROCESS = True


@contextlib.asynccontextmanager
async def worker(nb, client, task_queue, workflows) -> AsyncIterator[None]:
    """A worker for one check (in the notebook's process): explicit build id, and a bug in the
    workflow code fails the run at once instead of being retried until the execution timeout."""
    async with harness.worker(
        nb,
        client,
        task_queue,
        workflows,
        workflow_failure_exception_types=[Exception],
        build_id=BUILD_ID,
    ):
        yield


def workflow_id(task_queue: str) -> str:
    return f"{task_queue}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def t(nb) -> SimpleNamespace:
    """The helpers above, for the check files (sibling modules are not importable)."""
    return SimpleNamespace(worker=functools.partial(worker, nb), workflow_id=workflow_id)
