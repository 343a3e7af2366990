# exercise: pause-resume-skip
# why: progress reports every requested skip of a step in the run, even one that had already run (a skip then changes the record)
@workflow.defn(name="ControlledPipeline", sandboxed=False)
class ControlledPipeline:
    """Run steps in order; operators can pause, resume and skip."""

    def __init__(self) -> None:
        self.paused = False
        self.to_skip: set[str] = set()
        self.done: list[str] = []
        self.steps: list[str] = []

    @workflow.run
    async def run(self, inp: RunInput) -> list[str]:
        self.steps = list(inp.steps)
        outputs = []
        for step in inp.steps:
            await workflow.wait_condition(lambda: not self.paused)
            if step in self.to_skip:
                continue
            outputs.append(await workflow.execute_activity(
                run_step, StepInput(inp.run_id, step),
                start_to_close_timeout=timedelta(seconds=10), retry_policy=QUICK_RETRY,
            ))
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
        return Progress(self.paused, list(self.done), [s for s in self.steps if s in self.to_skip])
