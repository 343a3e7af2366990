# exercise: pause-resume-skip
# why: the pause is only honoured before the first step, so a pause sent mid-run is ignored
@workflow.defn(name="ControlledPipeline", sandboxed=False)
class ControlledPipeline:
    """Run steps in order; operators can pause, resume and skip."""

    def __init__(self) -> None:
        self.paused = False
        self.to_skip: set[str] = set()
        self.done: list[str] = []
        self.skipped: list[str] = []

    @workflow.run
    async def run(self, inp: RunInput) -> list[str]:
        outputs = []
        await workflow.wait_condition(lambda: not self.paused)
        for step in inp.steps:
            if step in self.to_skip:
                self.skipped.append(step)
                continue
            outputs.append(
                await workflow.execute_activity(
                    run_step,
                    StepInput(inp.run_id, step),
                    start_to_close_timeout=timedelta(seconds=10),
                    retry_policy=QUICK_RETRY,
                )
            )
            self.done.append(step)
        return outputs

    @workflow.signal
    def pause(self) -> None:
        self.paused = True

    @workflow.signal
    def resume(self) -> None:
        self.paused = False

    @workflow.signal
    def skip(self, step: str) -> None:
        self.to_skip.add(step)

    @workflow.query
    def progress(self) -> Progress:
        return Progress(self.paused, list(self.done), list(self.skipped))
