# exercise: fail-closed
# why: any truthy answer from the policy counts as an allow, not only a GateDecision
def run_gate(policy: Callable[[Mapping[str, Any]], Any], request: Mapping[str, Any]) -> GateDecision:
    """Run a policy and fail closed: any error or malformed answer is a denial with a reason."""
    # BEGIN SOLUTION
    try:
        result = policy(request)
    except Exception as exc:
        return GateDecision(False, [f"policy error: {type(exc).__name__}: {exc}"])
    if result is True:
        return GateDecision(True, [])
    if not isinstance(result, GateDecision):
        return GateDecision(False, [f"policy error: returned {result!r}, not a GateDecision"])
    if result.allow is True and not result.reasons:
        return result
    if result.allow is True or result.allow is not False:
        return GateDecision(False, [f"policy error: inconsistent decision {result!r}"])
    return result if result.reasons else GateDecision(False, ["denied without a reason"])
    # END SOLUTION
