# exercise: approval-gate
# why: waits a fixed day instead of timeout_s, so a 2-day gate expires a day early
@workflow.defn(name="ApprovalGate", sandboxed=False)
class ApprovalGate:
    """Wait for an approval or a rejection, until a deadline."""

    def __init__(self) -> None:
        self.decision: Decision | None = None

    @workflow.run
    async def run(self, timeout_s: float) -> Decision:
        try:
            await workflow.wait_condition(lambda: self.decision is not None, timeout=timedelta(days=1))
        except asyncio.TimeoutError:
            self.decision = Decision("expired")
        assert self.decision is not None
        return self.decision

    @workflow.signal
    def approve(self, reviewer: str) -> None:
        if self.decision is None:
            self.decision = Decision("approved", reviewer)

    @workflow.signal
    def reject(self, reason: str) -> None:
        if self.decision is None:
            self.decision = Decision("rejected", reason)

    @workflow.query
    def status(self) -> str:
        return "waiting" if self.decision is None else self.decision.outcome
