# exercise: classify-failure
# why: every 4xx status is treated as permanent, so a 429 rate limit is never retried and a 401 does not stop the run
def classify_failure(exc: BaseException) -> FailureClass:
    """Classify a failure: retry it (transient), park it (permanent) or stop (fatal).

    Args:
        exc: The exception a step raised.

    Returns:
        Its failure class, by the contract's rules, first match wins.
    """
    if isinstance(exc, OrchlabError):
        return exc.failure_class
    if isinstance(exc, HTTPError):
        if exc.status >= 500:
            return FailureClass.TRANSIENT
        return FailureClass.PERMANENT
    if isinstance(exc, TimeoutError | ConnectionError):
        return FailureClass.TRANSIENT
    if isinstance(exc, MemoryError):
        return FailureClass.FATAL
    return FailureClass.PERMANENT
