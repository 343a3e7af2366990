# exercise: dead-letter
# why: replay does not remove the letters that succeeded, so replaying twice processes them twice
def process_batch(
    items: Mapping[str, dict[str, Any]],
    handler: Callable[[dict[str, Any]], Any],
    dlq: DeadLetterQueue,
    *,
    max_attempts: int = 3,
) -> dict[str, Any]:
    """Process every item; dead-letter the ones that fail (a fatal failure stops the batch).

    Returns:
        The results of the items that succeeded, by key.
    """
    results: dict[str, Any] = {}
    for key, payload in items.items():
        for attempt in range(1, max_attempts + 1):
            try:
                results[key] = handler(payload)
                break
            except Exception as exc:
                kind = classify_failure(exc)
                if kind is FailureClass.FATAL:
                    raise
                if kind is FailureClass.PERMANENT or attempt == max_attempts:
                    dlq.put(DeadLetter(key, payload, type(exc).__name__, str(exc), attempt))
                    break
    return results


def replay(dlq: DeadLetterQueue, handler: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    """Try every dead letter once more; remove the ones that succeed.

    Returns:
        The results of the letters that succeeded, by key.
    """
    results: dict[str, Any] = {}
    for letter in list(dlq.letters.values()):
        try:
            result = handler(letter.payload)
        except Exception as exc:
            if classify_failure(exc) is FailureClass.FATAL:
                raise
            letter.attempts += 1
            letter.error_type, letter.error = type(exc).__name__, str(exc)
            continue
        results[letter.key] = result
    return results
