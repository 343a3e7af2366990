# exercise: promotion-gate
# why: a missing or non-numeric accuracy is skipped instead of denied, the incident of the lab's story
def promotion_decision(request: Mapping[str, Any]) -> GateDecision:
    """Decide whether a model may be promoted, with every reason it may not.

    Args:
        request: source, target, metrics, requested_by and (optional) approval.

    Returns:
        The decision.
    """
    # BEGIN SOLUTION
    reasons: list[str] = []
    source, target = request.get("source"), request.get("target")
    if source not in ORDER or target not in ORDER:
        reasons.append(f"unknown environment: {source!r} -> {target!r}; use dev, staging, prod")
    elif ORDER[target] != ORDER[source] + 1:
        reasons.append(f"one step at a time: cannot promote from {source} to {target}")
    metrics = request.get("metrics")
    accuracy = metrics.get("accuracy") if isinstance(metrics, Mapping) else None
    if isinstance(accuracy, bool) or not isinstance(accuracy, int | float):
        pass
    elif target in MIN_ACCURACY and accuracy < MIN_ACCURACY[target]:
        reasons.append(f"accuracy below {MIN_ACCURACY[target]} required for {target}: {accuracy}")
    if target == "prod":
        approval = request.get("approval")
        approval = approval if isinstance(approval, Mapping) else {}
        if approval.get("approved") is not True:
            reasons.append("approval required for prod")
        if "approver" in approval and approval.get("approver") == request.get("requested_by"):
            reasons.append(f"four-eyes rule: {approval.get('approver')} cannot approve their own request")
    return GateDecision(allow=not reasons, reasons=reasons)
    # END SOLUTION
