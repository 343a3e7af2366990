# exercise: durable-steps
# why: the outputs are kept in a module-level list, which a replay on a new worker appends to again
OUTPUTS: list[str] = []


@workflow.defn(name="TrainingRun", sandboxed=False)
class TrainingRun:
    """Run a pipeline's steps in order; progress survives the loss of a worker."""

    def __init__(self) -> None:
        self.outputs: list[str] = []

    @workflow.run
    async def run(self, inp: RunInput) -> list[str]:
        for step in inp.steps:
            output = await workflow.execute_activity(
                run_step,
                StepInput(inp.run_id, step),
                start_to_close_timeout=timedelta(seconds=10),
                retry_policy=QUICK_RETRY,
            )
            OUTPUTS.append(output)
        self.outputs = OUTPUTS
        return self.outputs

    @workflow.query
    def progress(self) -> list[str]:
        """The outputs so far."""
        return list(OUTPUTS)
