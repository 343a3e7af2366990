# exercise: prefect-retries
# why: retry_condition_fn retries every failure, permanent ones included
def prefect_retry_options(policy: Backoff) -> dict[str, Any]:
    """Prefect task options that apply ``policy`` and retry only transient failures.

    Args:
        policy: The retry policy (its jitter is left to Prefect).

    Returns:
        ``retries``, ``retry_delay_seconds`` and ``retry_condition_fn`` for ``task(...)``.
    """

    def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
        exc = state.result(raise_on_failure=False)
        return True

    no_jitter = Backoff(
        policy.initial, policy.multiplier, policy.maximum, policy.max_attempts, "none"
    )
    return {
        "retries": policy.max_attempts - 1,
        "retry_delay_seconds": backoff_delays(no_jitter, random.Random(0)),
        "retry_condition_fn": retry_transient,
    }
