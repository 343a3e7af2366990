# exercise: retry-call
# why: rng=None is passed on as it is instead of an unseeded random.Random(), so a call without rng crashes on its first jittered wait
def retry_call(
    fn: Callable[[], T],
    policy: Backoff,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> T:
    """Call ``fn``, retrying transient failures with the policy's backoff."""
    delays = backoff_delays(policy, rng)
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if classify_failure(exc) is not FailureClass.TRANSIENT or attempt == policy.max_attempts:
                raise
            sleep(delays[attempt - 1])
    raise AssertionError("unreachable: max_attempts must be at least 1")
