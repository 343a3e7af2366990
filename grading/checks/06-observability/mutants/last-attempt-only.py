# exercise: run-cost
# why: keeps only a step's last attempt instead of adding up its retries
def run_cost(usages: list[StepUsage], card: Mapping[str, float], budget: float | None = None) -> RunCostLite:
    """Price a run's step attempts by a rate card."""
    for price in ("cpu_hour", "gb_hour", "per_1k_actions"):
        if price not in card:
            raise ValueError(f"the rate card has no {price!r}")
    steps: dict[str, float] = {}
    for usage in usages:
        if min(usage.cpu_seconds, usage.wall_seconds, usage.memory_gb, usage.actions) < 0:
            raise ValueError(f"negative usage in {usage!r}")
        cost = (usage.cpu_seconds / 3600 * card["cpu_hour"] + usage.memory_gb * usage.wall_seconds / 3600 * card["gb_hour"]
                + usage.actions / 1000 * card["per_1k_actions"])
        steps[usage.step] = cost
    total = sum(steps.values(), 0.0)
    return RunCostLite(steps, total, budget is not None and total > budget)
