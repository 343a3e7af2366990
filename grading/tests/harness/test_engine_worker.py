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
from temporalio.client import Client

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


async def _checkout(nb, client, order):
    """Run the notebook's Checkout on a worker of its process: its receipt and queried skus."""
    queue = f"engine-{uuid.uuid4().hex[:8]}"
    async with harness.worker(nb, client, queue, workflows=[nb.Checkout], activities=[nb.price]):
        handle = await client.start_workflow(
            nb.Checkout.run,
            order,
            id=f"wf-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            execution_timeout=timedelta(seconds=30),
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
            id=f"wf-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            execution_timeout=timedelta(seconds=30),
        )
    assert result == "cupx2"
    assert stamped == [(nb.Order, "cup", os.getpid())], (
        "the fake activity should get the check's own Order, in the checks' process"
    )


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
