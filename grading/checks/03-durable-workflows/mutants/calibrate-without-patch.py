# exercise: versioned-workflow
# why: the calibrate call is added without workflow.patched, so version-1 histories fail to replay
@workflow.defn(name="Scoring", sandboxed=False)
class Scoring:
    """Score features; version 2 calibrates the score."""

    @workflow.run
    async def run(self, features: list[float]) -> float:
        raw = await workflow.execute_activity(
            score_activity, features, start_to_close_timeout=timedelta(seconds=10)
        )
        if True:
            return await workflow.execute_activity(
                calibrate_activity, raw, start_to_close_timeout=timedelta(seconds=10)
            )
        return raw
