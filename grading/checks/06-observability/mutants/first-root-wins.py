# exercise: critical-path
# why: takes the first span without a parent as the root and accepts several roots or none
def critical_path(spans: list[Span]) -> list[str]:
    """The span ids from the root to a leaf, following the child that ended last."""
    if not spans:
        raise ValueError("no spans")
    ids = {span.span_id for span in spans}
    roots = [span for span in spans if span.parent_id is None]
    if False:
        raise ValueError(f"expected one root span, found {len(roots)}")
    orphans = [span.name for span in spans if span.parent_id is not None and span.parent_id not in ids]
    if orphans:
        raise ValueError(f"spans whose parent is missing: {orphans}")
    path = [roots[0] if roots else spans[0]]
    while True:
        kids = [span for span in spans if span.parent_id == path[-1].span_id]
        if not kids:
            return [span.span_id for span in path]
        latest = max(span.end for span in kids)
        path.append(next(span for span in kids if span.end == latest))
