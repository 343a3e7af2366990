"""The errors of orchlab.events, under orchlab's one root."""

from __future__ import annotations

from orchlab.errors import PermanentError


class EventError(PermanentError):
    """An event that cannot be acted on (the sender must fix it; redelivering will not help)."""

    status = 400
    """The HTTP status the receiver answers with."""


class InvalidEvent(EventError, ValueError):
    """Not a CloudEvent: a required attribute is missing or malformed, or the body is not JSON."""


class InvalidEventData(EventError, ValueError):
    """A CloudEvent whose ``data`` does not match its route's schema."""

    status = 422


class UnroutedEvent(EventError, LookupError):
    """A CloudEvent of a type no route handles."""

    status = 404


__all__ = ["EventError", "InvalidEvent", "InvalidEventData", "UnroutedEvent"]
