"""Which workflow an event type starts or signals, and the idempotent id it gets."""

from __future__ import annotations

import builtins
import dataclasses
import hashlib

import pydantic

from orchlab.events._envelope import ReceivedEvent
from orchlab.events._errors import InvalidEvent, InvalidEventData


@dataclasses.dataclass(frozen=True)
class Route:
    """What to do with CloudEvents of one ``type``.

    Start mode (the default): each distinct event starts one run of ``workflow`` on
    ``task_queue``, with the :class:`ReceivedEvent` as its one argument. Signal mode
    (``signal`` set): the event is sent as that signal to the workflow whose id is the event's
    ``subject``.

    Args:
        type: The CloudEvents ``type`` this route takes.
        workflow: The workflow type's name (start mode).
        task_queue: Where its workers poll (start mode).
        schema: A pydantic model the event's data must match; the run receives the data as
            the model's JSON form (defaults filled in, types coerced).
        id_prefix: The start of every workflow id (default: the workflow's name).
        signal: Signal mode: the signal's name.
    """

    type: str
    workflow: str = ""
    task_queue: str = ""
    schema: builtins.type[pydantic.BaseModel] | None = None
    id_prefix: str = ""
    signal: str | None = None

    def __post_init__(self) -> None:
        if not self.type:
            raise ValueError("a route needs the CloudEvents type it takes")
        if self.signal is None and not (self.workflow and self.task_queue):
            raise ValueError(
                f"route for {self.type!r}: a start route needs a workflow and a task_queue "
                "(or give signal= to signal a running workflow instead)"
            )

    def workflow_id(self, event: ReceivedEvent) -> str:
        """The run's id for ``event``: the same for every delivery of one event.

        CloudEvents says ``source`` and ``id`` together identify an event, so the id is made
        from both; a redelivered event maps onto the run it already started.
        """
        if self.signal is not None:
            if not event.subject:
                raise InvalidEvent(
                    f"event {event.id!r} of type {event.type!r} has no subject: the route "
                    f"signals {self.signal!r} to the workflow whose id is the subject"
                )
            return event.subject
        digest = hashlib.sha256(f"{event.source}\n{event.id}".encode()).hexdigest()[:24]
        return f"{self.id_prefix or self.workflow}-{digest}"

    def checked(self, event: ReceivedEvent) -> ReceivedEvent:
        """``event`` with its data validated (and normalised) by the route's schema.

        Raises:
            InvalidEventData: The data does not match, naming the first field that fails.
        """
        if self.schema is None:
            return event
        try:
            model = self.schema.model_validate(event.data)
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "data"
            raise InvalidEventData(
                f"event {event.id!r} of type {event.type!r}: {where}: {first['msg']} "
                f"({exc.error_count()} error(s) against {self.schema.__name__})"
            ) from None
        return dataclasses.replace(event, data=model.model_dump(mode="json"))


__all__ = ["Route"]
