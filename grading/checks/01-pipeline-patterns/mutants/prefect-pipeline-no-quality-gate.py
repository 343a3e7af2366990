# exercise: prefect-pipeline
# why: registers every trained model, whatever its accuracy (the quality gate is missing)
@flow(name="wine-quality")
def train_flow(plan: Plan, registry: str, ranges: Mapping[str, Range] = WINE_RANGES) -> PipelineResult:
    """Ingest, validate, train and (if good enough) register, as Prefect tasks."""
    p = plan.params
    split = ingest_task(DataConfig(dataset=p["dataset"], test_size=p["test_size"], seed=p["seed"]))
    split = validate_task(split, ranges)
    metrics = train_task(split, C=p["C"], seed=p["seed"])
    card = register_task(plan, metrics, registry)
    return PipelineResult(metrics=metrics, model_card=card)
