"""Helpers shared by the lab 03 checks (as the fixture ``t``): a worker per check, quiet logs,
history reading.

The checks run against the notebook in a learner process of its own: ``nb`` is a proxy, values
cross by value, and the notebook's workflows and activities run on a worker in that process
(see ``labgrader.harness``).
"""

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace

import pytest
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError

from labgrader import harness

BUILD_ID = "orchlab-lab03-checks"


@contextlib.contextmanager
def quiet():
    """Silence the engine's error logs (tracebacks) for a failure a check provokes on purpose."""
    names = ("temporalio.activity", "temporalio.workflow", "temporalio.worker")
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


LABGRADER_PROCESS = True


@contextlib.asynccontextmanager
async def worker(nb, client, task_queue, workflows, activities=()) -> AsyncIterator[None]:
    """A worker for one check (in the notebook's process for the notebook's workflows):
    explicit build id, and a bug in the workflow code fails the run at once instead of being
    retried until the execution timeout."""
    async with harness.worker(
        nb,
        client,
        task_queue,
        workflows,
        activities,
        workflow_failure_exception_types=[Exception],
        build_id=BUILD_ID,
    ):
        yield


async def until_hung_or_closed(hung: asyncio.Event, handle: WorkflowHandle, timeout: float = 15):
    """Wait until an activity signals it hangs, or the run ends first (a broken answer)."""
    waiters = [asyncio.ensure_future(hung.wait()), asyncio.ensure_future(handle.result())]
    done, pending = await asyncio.wait(
        waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
    )
    for waiter in pending:
        waiter.cancel()
    for waiter in done:
        waiter.exception()  # retrieved here; the check reads the run's outcome itself


def workflow_id(task_queue: str) -> str:
    return f"{task_queue}-{uuid.uuid4().hex[:8]}"


TIMEOUT = timedelta(seconds=30)


async def activity_attempts(handle: WorkflowHandle) -> list[tuple[str, int]]:
    """(activity name, attempt of its Started event) for every started activity, in order."""
    scheduled, out = {}, []
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = name
        if event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            out.append((scheduled[started.scheduled_event_id], started.attempt))
    return out


def application_error(exc: BaseException | None) -> ApplicationError | None:
    """The first ApplicationError in an exception's cause chain."""
    while exc is not None and not isinstance(exc, ApplicationError):
        exc = exc.cause if hasattr(exc, "cause") else exc.__cause__
    return exc


@pytest.fixture
def t(nb) -> SimpleNamespace:
    """The helpers above, for the check files (sibling modules are not importable)."""
    return SimpleNamespace(
        quiet=quiet,
        worker=functools.partial(worker, nb),
        replay=functools.partial(harness.replay, nb),
        workflow_id=workflow_id,
        TIMEOUT=TIMEOUT,
        activity_attempts=activity_attempts,
        application_error=application_error,
        until_hung_or_closed=until_hung_or_closed,
    )
