"""A received CloudEvent as one plain dataclass: what a workflow started by an event gets.

CloudEvents travel over HTTP in two modes, and :func:`parse_http` reads both (the
``cloudevents`` SDK detects which): **structured** (the whole event is the JSON body,
``Content-Type: application/cloudevents+json``) and **binary** (attributes in ``ce-*``
headers, the data alone in the body).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cloudevents.core.bindings.http import HTTPMessage, from_http_event, to_structured_event
from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.v1.event import CloudEvent

from orchlab.errors import first_line
from orchlab.events._errors import InvalidEvent


@dataclasses.dataclass(frozen=True)
class ReceivedEvent:
    """The CloudEvent a route acts on, as plain data (it crosses into Temporal as is)."""

    id: str
    """The producer's id; with ``source``, unique per distinct event (redeliveries repeat it)."""
    source: str
    """Who produced it (a URI reference such as ``/storage/raw-data``)."""
    type: str
    """What happened (reverse-DNS style, such as ``com.example.object.created``)."""
    data: Any = None
    """The payload: a JSON value (after the route's schema, when it has one)."""
    subject: str | None = None
    """What the event is about within the source (an object key, a workflow id)."""
    time: str | None = None
    """When it happened, ISO 8601, as the producer said."""


def parse_http(headers: Mapping[str, str], body: bytes) -> ReceivedEvent:
    """Read a CloudEvent from an HTTP request, in binary or structured mode.

    Raises:
        InvalidEvent: Not a CloudEvent, with the first line of the reason.
    """
    message = HTTPMessage(headers={k.lower(): v for k, v in headers.items()}, body=body)
    try:
        event = from_http_event(message)
    except (BaseCloudEventException, ValueError, TypeError, KeyError) as exc:
        raise InvalidEvent(f"not a CloudEvent: {first_line(exc, type(exc).__name__)}") from None
    data = event.get_data()
    if isinstance(data, bytes):
        try:
            data = json.loads(data)
        except ValueError:
            raise InvalidEvent("the event's data is not JSON") from None
    when = event.get_time()
    return ReceivedEvent(
        id=event.get_id(),
        source=event.get_source(),
        type=event.get_type(),
        data=data,
        subject=event.get_subject(),
        time=when.isoformat() if when is not None else None,
    )


def structured(event: ReceivedEvent) -> tuple[dict[str, str], bytes]:
    """The headers and body that send ``event`` in structured mode (for producers and tests)."""
    attributes: dict[str, Any] = {"id": event.id, "source": event.source, "type": event.type}
    if event.subject is not None:
        attributes["subject"] = event.subject
    if event.time is not None:
        attributes["time"] = datetime.fromisoformat(event.time)
    attributes["datacontenttype"] = "application/json"
    message = to_structured_event(CloudEvent(attributes, event.data))
    return dict(message.headers), message.body


__all__ = ["ReceivedEvent", "parse_http", "structured"]
