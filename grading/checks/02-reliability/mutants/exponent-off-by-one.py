# exercise: backoff-delays
# why: the first wait is initial * multiplier instead of initial
def backoff_delays(policy: Backoff, rng: random.Random) -> list[float]:
    """The waits between the attempts of a retry policy.

    Args:
        policy: The retry policy.
        rng: Draws the jitter: one ``uniform`` call per wait.

    Returns:
        ``max_attempts - 1`` waits in seconds, in order.
    """
    delays = []
    for n in range(1, policy.max_attempts):
        cap = min(policy.maximum, policy.initial * policy.multiplier**n)
        if policy.jitter == "full":
            delays.append(rng.uniform(0, cap))
        elif policy.jitter == "equal":
            delays.append(cap / 2 + rng.uniform(0, cap / 2))
        else:
            delays.append(cap)
    return delays
