"""labgrader.prefect_relay against the real Prefect server: a run reaches what it created,
and nothing another run created, nor any variable, block, artifact or listing."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from labgrader.relay import Route, route_handler
from orchlab.testing.fixtures import prefect_api_url  # noqa: F401  (a fixture)


class _Client(httpx.Client):
    """Retries a 503 as Prefect's own client does: the shared server's database answers 503
    for a moment when other test phases keep it busy."""

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        for _ in range(10):
            response = super().request(*args, **kwargs)
            if response.status_code != 503:
                return response
            time.sleep(0.5)
        return response


@pytest.fixture
def relay(prefect_api_url: str) -> Iterator[Callable[[], str]]:  # noqa: F811
    """Start relays (one per call: one run each) to the session's Prefect server."""
    parts = urlsplit(prefect_api_url)
    upstream = f"{parts.hostname}:{parts.port}"
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def start() -> str:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        listen = f"127.0.0.1:{sock.getsockname()[1]}"
        handler = route_handler(Route(listen, upstream, "prefect"))
        asyncio.run_coroutine_threadsafe(asyncio.start_server(handler, sock=sock), loop).result()
        return f"http://{listen}/api"

    # The loop is left running (a daemon thread): stopping it under open connections only
    # makes noise about them.
    yield start


def test_a_run_runs_its_own_flow_and_nobody_else_can_touch_it(
    relay: Callable[[], str],
) -> None:
    mine, theirs = relay(), relay()
    with (
        _Client(base_url=mine, timeout=10) as http,
        _Client(base_url=theirs, timeout=10) as other,
    ):
        flow = http.post("/flows/", json={"name": "wine"})
        assert flow.status_code in (200, 201)
        assert flow.json()["name"].startswith("wine-")  # a name of this run's own
        run = http.post("/flow_runs/", json={"flow_id": flow.json()["id"]})
        assert run.status_code == 201
        run_id = run.json()["id"]
        assert http.get(f"/flow_runs/{run_id}").status_code == 200
        state = {"state": {"type": "RUNNING"}, "force": True}
        assert http.post(f"/flow_runs/{run_id}/set_state", json=state).status_code in (200, 201)

        refused = other.get(f"/flow_runs/{run_id}")
        assert refused.status_code == 403
        assert refused.json()["detail"] == (
            "refused by the grader: that flow run belongs to another check run (or to nobody)"
        )
        assert other.delete(f"/flow_runs/{run_id}").status_code == 403
        assert other.post(f"/flow_runs/{run_id}/set_state", json=state).status_code == 403
        started = other.post("/flow_runs/", json={"flow_id": flow.json()["id"]})
        assert started.status_code == 403
        assert "runs of its own flows only" in started.json()["detail"]
        assert http.get(f"/flow_runs/{run_id}").json()["state_type"] == "RUNNING"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/flow_runs/filter", {}),
        ("POST", "/flows/filter", {}),
        ("POST", "/variables/", {"name": "leak", "value": "answers"}),
        ("GET", "/variables/name/leak", None),
        ("POST", "/block_documents/", {"name": "leak", "data": {}}),
        ("POST", "/artifacts/", {"key": "leak", "data": "answers"}),
        ("POST", "/logs/filter", {}),
        ("POST", "/events/filter", {}),
        ("POST", "/deployments/", {"name": "leak"}),
        ("DELETE", "/flows/00000000-0000-0000-0000-000000000000", None),
    ],
)
def test_what_a_flow_run_does_not_need_is_refused_with_why(
    relay: Callable[[], str], method: str, path: str, body: object
) -> None:
    with _Client(base_url=relay(), timeout=10) as http:
        answer = http.request(method, path, json=body)
    assert answer.status_code == 403
    assert answer.json()["detail"].startswith("refused by the grader: a check run may only run")
    assert f"{method} {path}" in answer.json()["detail"]


def test_events_go_in_through_the_websocket(relay: Callable[[], str]) -> None:
    from prefect.events import Event
    from prefect.events.clients import PrefectEventsClient

    url = relay()

    async def send() -> None:
        async with PrefectEventsClient(api_url=url, reconnection_attempts=0) as events:
            await events.emit(Event(event="labgrader.test", resource={"prefect.resource.id": "x"}))

    asyncio.run(send())
