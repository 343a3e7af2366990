"""Workflows that the events tests start and signal."""

from __future__ import annotations

from temporalio import workflow

from orchlab.events import ReceivedEvent


@workflow.defn(sandboxed=False)
class OnArrival:
    @workflow.run
    async def run(self, event: ReceivedEvent) -> dict[str, object]:
        return {"id": event.id, "source": event.source, "data": event.data}


@workflow.defn(sandboxed=False)
class AwaitsApproval:
    def __init__(self) -> None:
        self.approvals: list[ReceivedEvent] = []

    @workflow.run
    async def run(self) -> str:
        await workflow.wait_condition(lambda: bool(self.approvals))
        return f"approved by {self.approvals[0].data['by']}"

    @workflow.signal
    def approve(self, event: ReceivedEvent) -> None:
        self.approvals.append(event)
