# exercise: checkpoint-flow
# why: the steps run as plain tasks with no cache policy, so a rerun starts from scratch
@flow(name="lab02-checkpointed")
def checkpointed_flow(day: str, checkpoints: str, fail_train: bool = False) -> dict[str, float]:
    """Extract, build features and train, resuming from the last step that succeeded.

    Args:
        day: The day to train on.
        checkpoints: The folder holding the cached results' records.
        fail_train: Make the train step fail (to see the resume).

    Returns:
        The trained model's parameters.
    """
    options: dict[str, Any] = {}
    amounts = task(extract, **options)(day)
    features = task(build_features, **options)(amounts)
    return task(train, **options)(features, fail_train)
