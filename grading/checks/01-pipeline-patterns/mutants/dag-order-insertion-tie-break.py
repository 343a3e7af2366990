# exercise: dag-order
# why: steps ready at the same time run in the order they were listed, not alphabetically
def execution_order(deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Order the steps of a DAG so every step runs after the steps it needs."""
    needs = {step: set(upstream) for step, upstream in deps.items()}
    unknown = sorted(set().union(*needs.values()) - needs.keys())
    if unknown:
        raise SpecError(f"unknown step(s) named in needs: {', '.join(unknown)}")
    order: list[str] = []
    while len(order) < len(needs):
        ready = [s for s in needs if s not in order and needs[s] <= set(order)]
        if not ready:
            raise SpecError(f"dependency cycle among {sorted(needs.keys() - set(order))}")
        order.extend(ready)
    return order
