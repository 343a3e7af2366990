"""An HTTP receiver for CloudEvents that starts or signals Temporal workflows, idempotently.

::

    receiver = EventReceiver(client, [Route("com.example.object.created",
                                            workflow="TrainOnArrival", task_queue="ml")])
    uvicorn.run(receiver.app(), host="127.0.0.1", port=8099)

Answers: ``202`` a run was started (``workflow_id``, ``run_id``); ``200`` a redelivery, nothing
new started (``duplicate: true``); ``400`` not a CloudEvent; ``404`` no route for its type;
``422`` its data fails the route's schema; ``503`` Temporal is unreachable (redeliver later).
Senders retry on 5xx only, so a bad event is never retried into a storm, and a retry after a
lost answer starts nothing twice: the run's id comes from the event's ``source`` and ``id``
and Temporal refuses a second run with that id (``REJECT_DUPLICATE``, for as long as the
namespace keeps the first run's history).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from orchlab.errors import did_you_mean
from orchlab.events._envelope import ReceivedEvent, parse_http
from orchlab.events._errors import EventError, UnroutedEvent
from orchlab.events._routes import Route
from orchlab.runtime.stack import connect_cause


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What the receiver did with one delivery."""

    status: int
    """The HTTP status answered."""
    message: str
    """One line for the sender's logs."""
    event_id: str | None = None
    workflow_id: str | None = None
    run_id: str | None = None
    duplicate: bool = False
    """True when the event had been received before and nothing new was started."""

    def body(self) -> dict[str, Any]:
        """The JSON answer."""
        return {k: v for k, v in dataclasses.asdict(self).items() if v is not None}


class EventReceiver:
    """Routes CloudEvents to Temporal workflows.

    Args:
        client: The Temporal client (its namespace and data converter are used as they are).
        routes: One route per event type.
    """

    def __init__(self, client: Client, routes: Iterable[Route]) -> None:
        self.client = client
        self.routes: dict[str, Route] = {}
        for route in routes:
            if route.type in self.routes:
                raise ValueError(f"two routes for event type {route.type!r}")
            self.routes[route.type] = route

    async def handle(self, headers: Mapping[str, str], body: bytes) -> Outcome:
        """Act on one HTTP delivery; never raises for a bad event (the outcome says why)."""
        try:
            event = parse_http(headers, body)
        except EventError as exc:
            return Outcome(exc.status, str(exc))
        return await self.dispatch(event)

    async def dispatch(self, event: ReceivedEvent) -> Outcome:
        """Act on one event (from HTTP, a file drop, a queue consumer of yours)."""
        try:
            route = self._route(event)
            event = route.checked(event)
            workflow_id = route.workflow_id(event)
        except EventError as exc:
            return Outcome(exc.status, str(exc))
        try:
            if route.signal is not None:
                handle = self.client.get_workflow_handle(workflow_id)
                await handle.signal(route.signal, event)
                return Outcome(
                    202, f"signalled {route.signal!r} to {workflow_id}", event.id, workflow_id
                )
            started = await self.client.start_workflow(
                route.workflow,
                event,
                id=workflow_id,
                task_queue=route.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
        except WorkflowAlreadyStartedError as exc:
            return Outcome(
                200,
                f"event {event.id!r} from {event.source!r} was received before: run "
                f"{workflow_id} exists, nothing new started",
                event.id,
                workflow_id,
                exc.run_id,
                duplicate=True,
            )
        except (RPCError, RuntimeError) as exc:  # RuntimeError: the SDK's "Failed client connect"
            if isinstance(exc, RPCError) and exc.status == RPCStatusCode.NOT_FOUND:
                return Outcome(
                    404, f"no running workflow {workflow_id!r} to signal", event.id, workflow_id
                )
            return Outcome(
                503,
                f"Temporal did not take the event: {connect_cause(exc)}; redeliver it later",
                event.id,
                workflow_id,
            )
        return Outcome(
            202,
            f"started {route.workflow} {workflow_id}",
            event.id,
            workflow_id,
            started.first_execution_run_id or started.result_run_id,
        )

    def _route(self, event: ReceivedEvent) -> Route:
        route = self.routes.get(event.type)
        if route is None:
            raise UnroutedEvent(
                f"no route for event type {event.type!r}"
                f"{did_you_mean(event.type, self.routes)}; routes: {', '.join(sorted(self.routes))}"
            )
        return route

    def app(self) -> Any:
        """A FastAPI application: ``POST /events`` (CloudEvents), ``GET /healthz``."""
        from orchlab.events._app import build_app

        return build_app(self)


__all__ = ["EventReceiver", "Outcome"]
