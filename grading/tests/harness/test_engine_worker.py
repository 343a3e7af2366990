"""The notebook's workflows and activities run on a worker in the learner's process; the checks
drive them through a real Temporal server and get their results by value, and a check's fake
activity, or a fake the notebook's activity calls, runs back in the checks' process."""

import os
import uuid
from datetime import timedelta

import pytest
import pytest_asyncio
from conftest import write_submission_of
from temporalio import activity
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ApplicationError

from labgrader import harness
from labgrader.harness.session import LearnerSession
from orchlab.testing.fixtures import temporal_address  # noqa: F401

CELLS = [
    """
    import dataclasses
    import os
    from datetime import timedelta
    from temporalio import activity, workflow
    """,
    """
    @dataclasses.dataclass(frozen=True)
    class Order:
        sku: str
        qty: int

    @dataclasses.dataclass(frozen=True)
    class Receipt:
        sku: str
        total: int
        pid: int
    """,
    """
    PRICE = None

    def use_price(fn):
        global PRICE
        PRICE = fn

    @activity.defn
    async def price(order: Order) -> Receipt:
        return Receipt(order.sku, PRICE(order.sku) * order.qty, os.getpid())
    """,
    """
    @workflow.defn(sandboxed=False)
    class Checkout:
        def __init__(self) -> None:
            self.seen = []

        @workflow.run
        async def run(self, order: Order) -> Receipt:
            self.seen.append(order.sku)
            return await workflow.execute_activity(
                price, order, start_to_close_timeout=timedelta(seconds=10)
            )

        @workflow.query
        def skus(self) -> list[str]:
            return self.seen
    """,
    """
    async def handle(sku: str) -> int:
        return 1

    @activity.defn(name="tally")
    async def tally(order: Order) -> list[int]:
        return [await handle(order.sku) for _ in range(order.qty)]

    @workflow.defn(sandboxed=False)
    class Tally:
        @workflow.run
        async def run(self, order: Order) -> list[int]:
            return await workflow.execute_activity(
                tally, order, start_to_close_timeout=timedelta(seconds=10)
            )

    async def first_event(handle) -> str:
        async for event in handle.fetch_history_events():
            return event.WhichOneof("attributes")
    """,
    """
    @workflow.defn(sandboxed=False)
    class Stamp:
        @workflow.run
        async def run(self, order: Order) -> str:
            return await workflow.execute_activity(
                "stamp", order, start_to_close_timeout=timedelta(seconds=10)
            )
    """,
]


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    s = LearnerSession(write_submission_of(CELLS, tmp_path_factory.mktemp("sub")))
    yield s
    s.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def temporal_client(session, temporal_address):  # noqa: F811
    """A client made after the learner's processes can be forked (as in a check run)."""
    return await Client.connect(temporal_address)


def _on(queue, wid=None):
    """Where and how long a check's workflow runs."""
    wid = wid or f"wf-{uuid.uuid4().hex[:8]}"
    return {"id": wid, "task_queue": queue, "execution_timeout": timedelta(seconds=30)}


async def _checkout(nb, client, order):
    """Run the notebook's Checkout on a worker of its process: its receipt and queried skus."""
    queue = f"engine-{uuid.uuid4().hex[:8]}"
    async with harness.worker(nb, client, queue, workflows=[nb.Checkout], activities=[nb.price]):
        handle = await client.start_workflow(
            nb.Checkout.run,
            order,
            **_on(queue),
        )
        return await handle.result(), await handle.query(nb.Checkout.skus)


async def test_the_notebooks_workflow_runs_in_the_learner_process(session, temporal_client):
    nb = session.module(hidden=False)
    prices = []

    def fake_price(sku):
        prices.append(sku)
        return 7

    nb.use_price(fake_price)
    receipt, skus = await _checkout(nb, temporal_client, nb.Order("tea", 3))
    assert type(receipt) is nb.Receipt, f"the result came back as {type(receipt)!r}"
    assert receipt == nb.Receipt("tea", 21, receipt.pid)
    assert receipt.pid != os.getpid(), "the activity ran in the checks' process"
    assert skus == ["tea"]
    assert prices == ["tea"], "the check's fake was not called back"


async def test_a_checks_fake_activity_runs_in_the_checks_process(session, temporal_client):
    nb = session.module(hidden=False)
    stamped = []

    @activity.defn(name="stamp")
    async def stamp(order: nb.Order) -> str:
        stamped.append((type(order), order.sku, os.getpid()))
        return f"{order.sku}x{order.qty}"

    queue = f"engine-{uuid.uuid4().hex[:8]}"
    async with harness.worker(nb, temporal_client, queue, workflows=[nb.Stamp], activities=[stamp]):
        result = await temporal_client.execute_workflow(
            nb.Stamp.run,
            nb.Order("cup", 2),
            **_on(queue),
        )
    assert result == "cupx2"
    assert stamped == [(nb.Order, "cup", os.getpid())], (
        "the fake activity should get the check's own Order, in the checks' process"
    )


async def test_a_check_callable_runs_as_if_in_the_notebooks_activity(
    session, temporal_client, monkeypatch
):
    nb = session.module(hidden=False)
    attempts = []

    async def handle(sku):
        attempts.append((sku, activity.info().activity_type, activity.info().attempt))
        return 2

    monkeypatch.setattr(nb, "handle", handle)
    queue = f"engine-{uuid.uuid4().hex[:8]}"
    async with harness.worker(
        nb, temporal_client, queue, workflows=[nb.Tally], activities=[nb.tally]
    ):
        handle_ = await temporal_client.start_workflow(
            nb.Tally.run,
            nb.Order("pen", 2),
            **_on(queue),
        )
        assert await handle_.result() == [2, 2]
    assert attempts == [("pen", "tally", 1), ("pen", "tally", 1)]
    # A handle of the checks crosses as a handle of the notebook's own client to the same run.
    assert await nb.first_event(handle_) == "workflow_execution_started_event_attributes"
    monkeypatch.undo()
    assert nb.handle is not handle, "monkeypatch could not put the notebook's function back"


async def test_a_checks_engine_error_keeps_its_type_and_replay_runs_there(session, temporal_client):
    nb = session.module(hidden=False)

    @activity.defn(name="stamp")
    async def refuse(order: nb.Order) -> str:
        raise ApplicationError("no such sku", type="NotFound", non_retryable=True)

    queue = f"engine-{uuid.uuid4().hex[:8]}"
    wid = f"wf-{uuid.uuid4().hex[:8]}"
    async with harness.worker(
        nb, temporal_client, queue, workflows=[nb.Stamp], activities=[refuse]
    ):
        with pytest.raises(WorkflowFailureError) as failed:
            await temporal_client.execute_workflow(
                nb.Stamp.run,
                nb.Order("ink", 1),
                **_on(queue, wid),
            )
    cause = failed.value.cause.cause
    assert isinstance(cause, ApplicationError) and cause.type == "NotFound", repr(cause)
    assert cause.non_retryable, "the error's non_retryable did not cross (it was retried)"
    history = await temporal_client.get_workflow_handle(wid).fetch_history()
    await harness.replay(nb, [nb.Stamp], history)
    with pytest.raises(RuntimeError, match="Workflow class Stamp is not registered"):
        await harness.replay(nb, [nb.Checkout], history)


async def test_a_learner_process_started_after_the_checks_made_a_client(tmp_path, temporal_client):
    # Temporal's runtime exists here now: the learner's processes come from a fresh
    # interpreter, since a fork would inherit the runtime's locks.
    late = LearnerSession(write_submission_of(CELLS, tmp_path))
    try:
        nb = late.module(hidden=False)
        nb.use_price(lambda sku: 5)
        receipt, skus = await _checkout(nb, temporal_client, nb.Order("jam", 2))
        assert receipt == nb.Receipt("jam", 10, receipt.pid) and skus == ["jam"]
        assert late.zygote._process is not None, "the zygote was forked from this process"
    finally:
        late.close()
