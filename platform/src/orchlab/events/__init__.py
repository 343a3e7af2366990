"""Events: start and signal workflows from CloudEvents, idempotently.

Receiving
    :class:`EventReceiver` routes CloudEvents (HTTP binary or structured mode, parsed by the
    ``cloudevents`` SDK) to Temporal: each :class:`Route` names the event type, the workflow it
    starts (or the signal it sends) and an optional pydantic schema for the data. A run's id
    comes from the event's ``source`` and ``id``, so a redelivered event starts nothing new.
    :meth:`EventReceiver.app` is a FastAPI app to serve with uvicorn on loopback.
Data arrival
    :func:`file_events` and :func:`watch` turn files dropped into a folder into
    ``object.created`` events with content-hash ids.
"""

from orchlab.events._envelope import ReceivedEvent, parse_http, structured
from orchlab.events._errors import EventError, InvalidEvent, InvalidEventData, UnroutedEvent
from orchlab.events._filedrop import OBJECT_CREATED, file_events, watch
from orchlab.events._receiver import EventReceiver, Outcome
from orchlab.events._routes import Route

__all__ = [
    "OBJECT_CREATED",
    "EventError",
    "EventReceiver",
    "InvalidEvent",
    "InvalidEventData",
    "Outcome",
    "ReceivedEvent",
    "Route",
    "UnroutedEvent",
    "file_events",
    "parse_http",
    "structured",
    "watch",
]
