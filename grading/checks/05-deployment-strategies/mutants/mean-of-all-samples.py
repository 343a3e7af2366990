# exercise: rollback-decision
# why: averages every sample since the start, so a late regression is diluted by the healthy past
def rollback_decision(
    baseline: float, samples: Sequence[float], *, max_ratio: float = 1.5, window: int = 3
) -> Literal["wait", "rollback", "continue"]:
    if len(samples) < window:
        return "wait"
    return "rollback" if sum(samples) / len(samples) > baseline * max_ratio else "continue"
