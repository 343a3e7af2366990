# exercise: approval-workflow
# why: a vote that arrives before run has started is dropped instead of kept and judged then
@workflow.defn(name="ModelApproval", sandboxed=False)
class ModelApproval:
    """Wait for a valid approval or rejection, until a timeout."""

    def __init__(self) -> None:
        self.ask: ApprovalAsk | None = None
        self.pending: list[Vote] = []
        self.result: ApprovalResult | None = None
        self.ignored: list[str] = []

    @workflow.run
    async def run(self, ask: ApprovalAsk) -> ApprovalResult:
        self.ask = ask
        for vote in self.pending:
            self._judge(vote)
        self.pending.clear()
        try:
            await workflow.wait_condition(lambda: self.result is not None, timeout=timedelta(seconds=ask.timeout_s))
        except asyncio.TimeoutError:
            self.result = ApprovalResult("timed-out", None, self.ignored)
        assert self.result is not None
        return self.result

    def _judge(self, vote: Vote) -> None:
        """Apply one vote: ignore it (recording the voter) or decide (only the first valid one)."""
        assert self.ask is not None
        if self.result is not None:
            return
        if vote.approver not in self.ask.approvers or vote.approver == self.ask.requested_by:
            self.ignored.append(vote.approver)
            return
        self.result = ApprovalResult("approved" if vote.approved else "rejected", vote.approver, self.ignored)

    @workflow.signal
    def decide(self, vote: Vote) -> None:
        if self.ask is not None:
            self._judge(vote)

    @workflow.query
    def status(self) -> str:
        return "waiting" if self.result is None else self.result.outcome
