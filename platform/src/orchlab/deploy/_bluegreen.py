"""Blue/green deployment: two slots, one live; switch in one step, roll back in one step.

A :class:`BlueGreen` router keeps which model version runs in each slot and which slot
takes traffic. :meth:`~BlueGreen.deploy` puts a version into the idle slot (the live one
keeps serving), optionally after a smoke check; :meth:`~BlueGreen.switch` makes the idle
slot live; :meth:`~BlueGreen.rollback` switches straight back, because the previous
version is still warm in the other slot. State can be saved to a JSON file, and every
change is audited.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from orchlab.errors import ValidationFailed
from orchlab.files import write_atomic
from orchlab.policy import AuditLog

Slot = Literal["blue", "green"]


def _other(slot: Slot) -> Slot:
    return "green" if slot == "blue" else "blue"


@dataclass
class BlueGreenState:
    """What runs where."""

    live: Slot = "blue"
    """The slot taking traffic."""
    blue: str | None = None
    """The version in the blue slot."""
    green: str | None = None
    """The version in the green slot."""
    history: list[dict[str, Any]] = field(default_factory=list)
    """Every deploy, switch and rollback, oldest first."""


class BlueGreen:
    """A blue/green router for one service.

    Args:
        service: The service's name (audit subject).
        state_file: Where to persist the state (JSON); None keeps it in memory.
        audit: Where every change is recorded.
        actor: Who makes the changes.
    """

    def __init__(
        self,
        service: str,
        *,
        state_file: Path | str | None = None,
        audit: AuditLog | None = None,
        actor: str = "orchlab",
    ) -> None:
        self.service = service
        self.state_file = Path(state_file) if state_file else None
        self.audit = audit
        self.actor = actor
        self.state = BlueGreenState()
        if self.state_file and self.state_file.exists():
            self.state = BlueGreenState(**json.loads(self.state_file.read_text()))

    @property
    def live(self) -> Slot:
        """The live slot."""
        return self.state.live

    @property
    def idle(self) -> Slot:
        """The slot not taking traffic."""
        return _other(self.state.live)

    def version(self, slot: Slot) -> str | None:
        """The version in a slot."""
        return self.state.blue if slot == "blue" else self.state.green

    @property
    def live_version(self) -> str | None:
        """The version taking traffic."""
        return self.version(self.live)

    def route(self, request_id: str = "") -> tuple[Slot, str | None]:
        """Where a request goes: always the live slot (all-or-nothing)."""
        return self.live, self.live_version

    def deploy(self, version: str, *, smoke: Callable[[str], bool] | None = None) -> Slot:
        """Put ``version`` in the idle slot; the live slot keeps serving.

        Args:
            version: The model version.
            smoke: A check run on the idle slot before it may go live.

        Raises:
            ValidationFailed: When the smoke check fails (the idle slot is left as it was).
        """
        slot = self.idle
        if smoke is not None and not smoke(version):
            self._event("bluegreen.smoke_failed", {"slot": slot, "version": version})
            raise ValidationFailed(
                f"smoke check failed for {version} in the {slot} slot of {self.service}; "
                f"{self.live} ({self.live_version}) keeps serving"
            )
        if slot == "blue":
            self.state.blue = version
        else:
            self.state.green = version
        self._event("bluegreen.deployed", {"slot": slot, "version": version})
        return slot

    def switch(self) -> Slot:
        """Send all traffic to the idle slot.

        Raises:
            ValidationFailed: When the idle slot is empty.
        """
        target = self.idle
        if self.version(target) is None:
            raise ValidationFailed(f"the {target} slot of {self.service} is empty: deploy first")
        previous = self.live
        self.state.live = target
        self._event(
            "bluegreen.switched", {"from": previous, "to": target, "version": self.version(target)}
        )
        return target

    def rollback(self, reason: str = "") -> Slot:
        """Switch straight back to the previous slot (its version is still running)."""
        target = self.idle
        if self.version(target) is None:
            raise ValidationFailed(f"nothing to roll back to: the {target} slot is empty")
        self.state.live = target
        self._event(
            "bluegreen.rolled_back",
            {"to": target, "version": self.version(target), "reason": reason},
        )
        return target

    def _event(self, action: str, data: dict[str, Any]) -> None:
        self.state.history.append({"action": action, **data})
        if self.state_file:
            write_atomic(self.state_file, json.dumps(asdict(self.state), indent=2))
        if self.audit is not None:
            self.audit.append(action, actor=self.actor, subject=self.service, data=data)


__all__ = ["BlueGreen", "BlueGreenState", "Slot"]
