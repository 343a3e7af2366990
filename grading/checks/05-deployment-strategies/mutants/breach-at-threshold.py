# exercise: canary
# why: treats a value equal to the threshold as a breach ('>=' instead of '>')
def canary_rollout(
    metric: Callable[[int], float],
    threshold: float,
    *,
    steps: Sequence[int] = CANARY_STEPS,
    set_traffic: Callable[[int], None] = lambda percent: None,
) -> CanaryRun:
    steps = list(steps)
    if not steps or steps[-1] != 100 or any(not 1 <= p <= 100 for p in steps) or any(a >= b for a, b in zip(steps, steps[1:])):
        raise ValueError(f"steps must be increasing percentages ending at 100, got {steps}")
    timeline: list[tuple[int, float]] = []
    for percent in steps:
        set_traffic(percent)
        value = metric(percent)
        timeline.append((percent, value))
        if value >= threshold:
            set_traffic(0)
            timeline.append((0, value))
            return CanaryRun("rolled_back", 0, timeline)
    return CanaryRun("promoted", 100, timeline)
