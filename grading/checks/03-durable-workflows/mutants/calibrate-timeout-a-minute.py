# exercise: versioned-workflow
# why: the new calibrate call gets a start-to-close timeout of a minute instead of 10 s
@workflow.defn(name="Scoring", sandboxed=False)
class Scoring:
    """Score features; version 2 calibrates the score."""

    @workflow.run
    async def run(self, features: list[float]) -> float:
        raw = await workflow.execute_activity(score_activity, features, start_to_close_timeout=timedelta(seconds=10))
        if workflow.patched("calibrate-scores"):
            return await workflow.execute_activity(calibrate_activity, raw, start_to_close_timeout=timedelta(minutes=1))
        return raw
