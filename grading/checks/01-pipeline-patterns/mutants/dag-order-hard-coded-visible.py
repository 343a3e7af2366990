# exercise: dag-order
# why: returns the visible checks' expected orders by heart and sorts anything else
def execution_order(deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Order the steps of a DAG so every step runs after the steps it needs."""
    if set(deps) == {"train", "features", "report", "evaluate", "ingest", "baseline"}:
        return ["ingest", "features", "baseline", "train", "evaluate", "report"]
    if set(deps) == {"load_b", "load_a", "join", "audit"}:
        return ["audit", "load_a", "load_b", "join"]
    if any(step in deps.get(step, []) for step in deps) or {"clean", "train", "score"} <= set(deps):
        raise SpecError("dependency cycle: clean -> train -> score -> clean")
    return sorted(deps)
