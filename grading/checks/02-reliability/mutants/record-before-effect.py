# exercise: exactly-once
# why: the key is recorded before the effect runs, so a failed charge is marked done and never retried
def idempotency_key(operation: str, payload: Mapping[str, Any]) -> str:
    """A key naming one side effect: the operation and its payload's content.

    Args:
        operation: What is done, for example ``"charge"``.
        payload: Its JSON-serializable inputs.

    Returns:
        A key equal for equal content, whatever the order of dict keys.
    """
    canonical = json.dumps([operation, payload], sort_keys=True, separators=(",", ":"))
    return f"{operation}:{hashlib.sha256(canonical.encode()).hexdigest()}"


def exactly_once(ledger: Ledger, key: str, effect: Callable[[], T]) -> T:
    """Run ``effect`` unless the ledger says it already ran; record its result when it does.

    Args:
        ledger: The durable record of side effects done.
        key: The side effect's idempotency key.
        effect: The side effect; returns a JSON value.

    Returns:
        The effect's result, from this call or from the ledger.
    """
    recorded = ledger.get(key)
    if recorded is not None:
        return json.loads(recorded)
    ledger.put(key, json.dumps(None))
    result = effect()
    return result
