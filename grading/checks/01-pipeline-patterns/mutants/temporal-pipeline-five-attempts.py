# exercise: temporal-pipeline
# why: maximum_attempts=5 instead of at most 3, so an ingest that keeps failing is tried five times before the run fails
@workflow.defn(name="wine-quality", sandboxed=False)
class TrainPipeline:
    """The wine-quality pipeline as a Temporal workflow: each step an activity."""

    @workflow.run
    async def run(self, inp: PipelineInput) -> PipelineResult:
        p = inp.plan.params
        call = {
            "start_to_close_timeout": timedelta(minutes=1),
            "retry_policy": RetryPolicy(maximum_attempts=5, non_retryable_error_types=["ValidationFailed"]),
        }
        config = DataConfig(dataset=p["dataset"], test_size=p["test_size"], seed=p["seed"])
        split = await workflow.execute_activity(ingest_activity, config, **call)
        split = await workflow.execute_activity(validate_activity, ValidateInput(split, inp.ranges), **call)
        metrics = await workflow.execute_activity(train_activity, TrainInput(split, p["C"], p["seed"]), **call)
        card = None
        if metrics["accuracy"] >= p["min_accuracy"]:
            card = await workflow.execute_activity(
                register_activity, RegisterInput(inp.plan, metrics, inp.registry), **call
            )
        return PipelineResult(metrics=metrics, model_card=card)
