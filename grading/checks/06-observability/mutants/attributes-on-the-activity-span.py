# exercise: traced-workflow
# why: sets the attributes on the interceptor's RunActivity span instead of opening a score span of its own
@activity.defn(name="score_batch")
async def score_batch(batch: ScoreBatch) -> int:
    """Count the scores at or above the threshold, inside a span that says what was scored."""
    span = trace.get_current_span()
    span.set_attributes({"model": batch.model, "rows": len(batch.scores)})
    if True:
        if any(not 0 <= score <= 1 for score in batch.scores):
            raise ValueError(f"a score outside [0, 1] in {batch.scores!r}")
        accepted = sum(1 for score in batch.scores if score >= batch.threshold)
        span.set_attribute("accepted", accepted)
        return accepted


@workflow.defn(name="TracedScoring", sandboxed=False)
class TracedScoring:
    """Score every batch of a job, in order, and say so in the trace."""

    @workflow.run
    async def run(self, job: ScoreJob) -> int:
        otel_workflow.completed_span("plan", attributes={"batches": len(job.batches)})
        total = 0
        for batch in job.batches:
            total += await workflow.execute_activity(
                score_batch, ScoreBatch(job.model, batch, job.threshold),
                start_to_close_timeout=timedelta(seconds=10), retry_policy=RetryPolicy(maximum_attempts=1),
            )
        return total
