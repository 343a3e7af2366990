# exercise: deadline-fallback
# why: no retry policy on the call, so the attempts follow Temporal's default back-off (1 s, doubling) instead of one every 0.1 s
@workflow.defn(name="FetchWithDeadline", sandboxed=False)
class FetchWithDeadline:
    """Fetch features within a budget; serve a default when it is spent."""

    @workflow.run
    async def run(self, inp: FetchInput) -> FetchResult:
        try:
            value = await workflow.execute_activity(
                fetch_features, inp.key,
                start_to_close_timeout=timedelta(seconds=inp.attempt_timeout_s),
                schedule_to_close_timeout=timedelta(seconds=inp.total_timeout_s),
            )
        except ActivityError as exc:
            if isinstance(exc.cause, ActivityTimeout):
                return FetchResult(inp.default, "fallback")
            raise
        return FetchResult(value, "partner")
