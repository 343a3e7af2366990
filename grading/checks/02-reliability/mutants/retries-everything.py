# exercise: retry-call
# why: every exception is retried, so a 400 is sent again and again before it is reported
def retry_call(
    fn: Callable[[], T],
    policy: Backoff,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Call ``fn``, retrying transient failures with the policy's backoff.

    Args:
        fn: The call to make.
        policy: Attempts and waits.
        sleep: Waits the given seconds (inject a recorder in tests).
        rng: Draws the jitter; ``None`` for an unseeded one.

    Returns:
        ``fn``'s first result.

    Raises:
        Exception: The original exception, at once when it is not transient, or after the last
            attempt.
    """
    delays = backoff_delays(policy, rng or random.Random())
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == policy.max_attempts:
                raise
            sleep(delays[attempt - 1])
    raise AssertionError("unreachable: max_attempts must be at least 1")
