# exercise: promotion-workflow
# why: waits a fixed day for the approval instead of approval_timeout_s, so a 2-day window expires a day early
@workflow.defn(name="Promotion", sandboxed=False)
class Promotion:
    """Promote a model version dev -> staging -> prod: a gate per hop, an approval before prod."""

    def __init__(self) -> None:
        self.environment = "dev"
        self.decision: tuple[str, str] | None = None

    @workflow.run
    async def run(self, inp: PromotionInput) -> PromotionOutcome:
        gate_timeout = timedelta(seconds=10)
        if not await workflow.execute_activity(run_gate, GateInput("staging", inp.version), start_to_close_timeout=gate_timeout):
            return PromotionOutcome("blocked", self.environment, "staging")
        self.environment = "staging"
        if not await workflow.execute_activity(run_gate, GateInput("prod", inp.version), start_to_close_timeout=gate_timeout):
            return PromotionOutcome("blocked", self.environment, "prod")
        try:
            await workflow.wait_condition(lambda: self.decision is not None, timeout=timedelta(days=1))
        except asyncio.TimeoutError:
            return PromotionOutcome("expired", self.environment, "")
        assert self.decision is not None
        outcome, detail = self.decision
        if outcome == "approved":
            self.environment = "prod"
            return PromotionOutcome("promoted", self.environment, detail)
        return PromotionOutcome("rejected", self.environment, detail)

    @workflow.signal
    def approve(self, reviewer: str) -> None:
        if self.decision is None:
            self.decision = ("approved", reviewer)

    @workflow.signal
    def reject(self, reason: str) -> None:
        if self.decision is None:
            self.decision = ("rejected", reason)

    @workflow.query
    def reached(self) -> str:
        return self.environment
