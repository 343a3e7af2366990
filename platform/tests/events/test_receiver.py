"""The CloudEvents receiver on a real uvicorn server and a real Temporal dev server: events
start runs once however often they are delivered, bad events are refused with a status and a
reason, and nothing is started for them."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pydantic
import pytest
import uvicorn
from event_workflows import AwaitsApproval, OnArrival
from temporalio.client import Client
from temporalio.worker import Worker

from orchlab.events import EventReceiver, ReceivedEvent, Route, structured


class Arrival(pydantic.BaseModel):
    path: str
    rows: int
    split: str = "train"


@contextlib.asynccontextmanager
async def serving(receiver: EventReceiver) -> AsyncIterator[str]:
    config = uvicorn.Config(receiver.app(), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _event(**changes: object) -> ReceivedEvent:
    fields: dict[str, object] = {
        "id": uuid.uuid4().hex,
        "source": "/storage/raw",
        "type": "com.example.object.created",
        "data": {"path": "wine.csv", "rows": 178},
    }
    fields.update(changes)
    return ReceivedEvent(**fields)  # type: ignore[arg-type]


async def test_an_event_starts_one_run_however_often_it_is_delivered(
    temporal_client: Client, task_queue: str
) -> None:
    route = Route(
        "com.example.object.created", workflow="OnArrival", task_queue=task_queue, schema=Arrival
    )
    receiver = EventReceiver(temporal_client, [route])
    event = _event()
    headers, body = structured(event)
    async with serving(receiver) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await http.get("/healthz")).json() == {"ok": True, "routes": [route.type]}
        first = await http.post("/events", headers=headers, content=body)
        assert first.status_code == 202, first.text
        again = await http.post("/events", headers=headers, content=body)
        assert again.status_code == 200 and again.json()["duplicate"] is True
        assert again.json()["workflow_id"] == first.json()["workflow_id"]
        assert again.json()["run_id"] == first.json()["run_id"]

        async with Worker(temporal_client, task_queue=task_queue, workflows=[OnArrival]):
            result = await temporal_client.get_workflow_handle(first.json()["workflow_id"]).result()
        # The schema filled its default; the run got the event as one dataclass.
        assert result == {
            "id": event.id,
            "source": "/storage/raw",
            "data": {"path": "wine.csv", "rows": 178, "split": "train"},
        }
        # Delivered again after the run completed: still nothing new.
        late = await http.post("/events", headers=headers, content=body)
        assert late.status_code == 200 and late.json()["duplicate"] is True

        # The same id from another source is another event.
        other = await http.post(
            "/events", headers=headers, content=body.replace(b"/storage/raw", b"/storage/other")
        )
        assert other.status_code == 202
        assert other.json()["workflow_id"] != first.json()["workflow_id"]


async def test_binary_mode_is_read_like_structured(
    temporal_client: Client, task_queue: str
) -> None:
    receiver = EventReceiver(
        temporal_client,
        [Route("com.example.object.created", workflow="OnArrival", task_queue=task_queue)],
    )
    event_id = uuid.uuid4().hex
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event_id,
        "ce-source": "/storage/raw",
        "ce-type": "com.example.object.created",
        "content-type": "application/json",
    }
    async with serving(receiver) as url, httpx.AsyncClient(base_url=url) as http:
        answer = await http.post("/events", headers=headers, content=b'{"path": "b.csv"}')
        assert answer.status_code == 202, answer.text
        async with Worker(temporal_client, task_queue=task_queue, workflows=[OnArrival]):
            result = await temporal_client.get_workflow_handle(
                answer.json()["workflow_id"]
            ).result()
    assert result["id"] == event_id and result["data"] == {"path": "b.csv"}


async def test_bad_events_get_a_status_and_a_reason_and_start_nothing(
    temporal_client: Client, task_queue: str
) -> None:
    route = Route(
        "com.example.object.created", workflow="OnArrival", task_queue=task_queue, schema=Arrival
    )
    receiver = EventReceiver(temporal_client, [route])

    wrong_data = await receiver.handle(*structured(_event(data={"path": "x.csv", "rows": "many"})))
    assert wrong_data.status == 422
    assert "rows: Input should be a valid integer" in wrong_data.message

    unrouted = await receiver.handle(*structured(_event(type="com.example.object.creatd")))
    assert unrouted.status == 404
    assert "did you mean 'com.example.object.created'" in unrouted.message

    not_an_event = await receiver.handle(
        {"content-type": "application/cloudevents+json"}, b'{"specversion": "1.0", "id": "1"}'
    )
    assert not_an_event.status == 400 and not_an_event.message.startswith("not a CloudEvent")

    garbage = await receiver.handle({"content-type": "application/cloudevents+json"}, b"{nope")
    assert garbage.status == 400

    # Nothing reached Temporal for any of them.
    started = [wf async for wf in temporal_client.list_workflows(f"TaskQueue = '{task_queue}'")]
    assert started == []


async def test_signal_routes_deliver_to_the_workflow_named_by_the_subject(
    temporal_client: Client, task_queue: str
) -> None:
    receiver = EventReceiver(
        temporal_client, [Route("com.example.approval.granted", signal="approve")]
    )
    wf_id = f"awaits-{uuid.uuid4().hex[:8]}"
    async with Worker(temporal_client, task_queue=task_queue, workflows=[AwaitsApproval]):
        handle = await temporal_client.start_workflow(
            AwaitsApproval.run, id=wf_id, task_queue=task_queue
        )
        approval = _event(type="com.example.approval.granted", subject=wf_id, data={"by": "ana"})
        outcome = await receiver.handle(*structured(approval))
        assert outcome.status == 202 and outcome.workflow_id == wf_id
        assert await handle.result() == "approved by ana"

    no_subject = await receiver.handle(*structured(_event(type="com.example.approval.granted")))
    assert no_subject.status == 400 and "has no subject" in no_subject.message
    missing = await receiver.handle(
        *structured(_event(type="com.example.approval.granted", subject="no-such-run"))
    )
    assert missing.status == 404 and "no-such-run" in missing.message


async def test_an_unreachable_engine_is_503_so_the_sender_redelivers(task_queue: str) -> None:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = await Client.connect(f"127.0.0.1:{port}", lazy=True)
    receiver = EventReceiver(
        client, [Route("com.example.object.created", workflow="OnArrival", task_queue=task_queue)]
    )
    outcome = await receiver.handle(*structured(_event()))
    assert outcome.status == 503
    assert outcome.message.startswith(
        "Temporal did not take the event: connection refused (nothing listens there)"
    )
    assert outcome.message.endswith("redeliver it later")


def test_routes_refuse_incomplete_definitions() -> None:
    with pytest.raises(ValueError, match="needs a workflow and a task_queue"):
        Route("com.example.x", workflow="W")
    with pytest.raises(ValueError, match="two routes for event type"):
        EventReceiver(None, [Route("t", signal="s"), Route("t", signal="s")])  # type: ignore[arg-type]
