# exercise: deadline-fallback
# why: every failure falls back to the default, so an error the partner reports is hidden
@workflow.defn(name="FetchWithDeadline", sandboxed=False)
class FetchWithDeadline:
    """Fetch features within a budget; serve a default when it is spent."""

    @workflow.run
    async def run(self, inp: FetchInput) -> FetchResult:
        try:
            value = await workflow.execute_activity(
                fetch_features,
                inp.key,
                start_to_close_timeout=timedelta(seconds=inp.attempt_timeout_s),
                schedule_to_close_timeout=timedelta(seconds=inp.total_timeout_s),
                retry_policy=RetryPolicy(
                    initial_interval=timedelta(milliseconds=100), backoff_coefficient=1.0
                ),
            )
        except ActivityError as exc:
            return FetchResult(inp.default, "fallback")
        return FetchResult(value, "partner")
