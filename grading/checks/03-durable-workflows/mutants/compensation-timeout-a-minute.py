# exercise: saga
# why: the compensations get a start-to-close timeout of a minute instead of 10 s, so a hung undo holds the rollback six times longer
@workflow.defn(name="ProvisionSaga", sandboxed=False)
class ProvisionSaga:
    """Reserve, copy, deploy; on failure undo what was done, in reverse."""

    @workflow.run
    async def run(self, run_id: str) -> list[str]:
        done: list[str] = []
        compensations: list[str] = []
        for step, compensation in SAGA_STEPS:
            try:
                result = await workflow.execute_activity(
                    step, run_id, start_to_close_timeout=timedelta(seconds=10), retry_policy=STEP_RETRY
                )
            except ActivityError:
                failed = []
                for undo in reversed(compensations):
                    try:
                        await workflow.execute_activity(
                            undo, run_id, start_to_close_timeout=timedelta(minutes=1),
                            retry_policy=COMPENSATION_RETRY,
                        )
                    except ActivityError:
                        failed.append(undo)
                if failed:
                    raise ApplicationError(
                        f"compensation failed: {', '.join(failed)}; original failure in {step}",
                        type="CompensationFailed", non_retryable=True,
                    ) from None
                raise
            compensations.append(compensation)
            done.append(result)
        return done
