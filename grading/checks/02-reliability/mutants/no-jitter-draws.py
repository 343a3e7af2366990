# exercise: backoff-delays
# why: draws from rng even without jitter and throws the draw away: the waits are right, but the rng is used
def backoff_delays(policy: Backoff, rng: random.Random) -> list[float]:
    """The waits between the attempts of a retry policy."""
    delays = []
    for n in range(1, policy.max_attempts):
        cap = min(policy.maximum, policy.initial * policy.multiplier ** (n - 1))
        if policy.jitter == "full":
            delays.append(rng.uniform(0, cap))
        elif policy.jitter == "equal":
            delays.append(cap / 2 + rng.uniform(0, cap / 2))
        else:
            rng.uniform(0, cap)  # drawn and thrown away
            delays.append(cap)
    return delays
