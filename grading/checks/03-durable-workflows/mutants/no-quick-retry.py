# exercise: durable-steps
# why: run_step is called without QUICK_RETRY, so a lost attempt waits out Temporal's default back-off (1 s, doubling, no limit)
@workflow.defn(name="TrainingRun", sandboxed=False)
class TrainingRun:
    """Run a pipeline's steps in order; progress survives the loss of a worker."""

    def __init__(self) -> None:
        self.outputs: list[str] = []

    @workflow.run
    async def run(self, inp: RunInput) -> list[str]:
        for step in inp.steps:
            output = await workflow.execute_activity(
                run_step, StepInput(inp.run_id, step),
                start_to_close_timeout=timedelta(seconds=10),
            )
            self.outputs.append(output)
        return self.outputs

    @workflow.query
    def progress(self) -> list[str]:
        """The outputs so far."""
        return list(self.outputs)
