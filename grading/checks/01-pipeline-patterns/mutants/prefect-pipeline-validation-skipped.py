# exercise: prefect-pipeline
# why: a missing dependency: training does not wait for (or use) validation, so bad data is trained on
@flow(name="wine-quality")
def train_flow(plan: Plan, registry: str, ranges: Mapping[str, Range] = WINE_RANGES) -> PipelineResult:
    """Ingest, validate, train and (if good enough) register, as Prefect tasks."""
    p = plan.params
    split = ingest_task(DataConfig(dataset=p["dataset"], test_size=p["test_size"], seed=p["seed"]))
    metrics = train_task(split, C=p["C"], seed=p["seed"])
    card = register_task(plan, metrics, registry) if metrics["accuracy"] >= p["min_accuracy"] else None
    return PipelineResult(metrics=metrics, model_card=card)
