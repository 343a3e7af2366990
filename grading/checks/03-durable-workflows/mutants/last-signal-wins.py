# exercise: approval-gate
# why: every decision signal overwrites the previous one, so a late approval overrides a rejection
@workflow.defn(name="ApprovalGate", sandboxed=False)
class ApprovalGate:
    """Wait for an approval or a rejection, until a deadline."""

    def __init__(self) -> None:
        self.decision: Decision | None = None

    @workflow.run
    async def run(self, timeout_s: float) -> Decision:
        try:
            await workflow.wait_condition(
                lambda: self.decision is not None, timeout=timedelta(seconds=timeout_s)
            )
        except asyncio.TimeoutError:
            self.decision = Decision("expired")
        assert self.decision is not None
        return self.decision

    @workflow.signal
    def approve(self, reviewer: str) -> None:
        self.decision = Decision("approved", reviewer)

    @workflow.signal
    def reject(self, reason: str) -> None:
        if self.decision is None:
            self.decision = Decision("rejected", reason)

    @workflow.query
    def status(self) -> str:
        return "waiting" if self.decision is None else self.decision.outcome
