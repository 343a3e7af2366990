# exercise: abac-authorize
# why: an unknown sensitivity label is treated as public instead of restricted, failing open
def authorize(principal: Mapping[str, Any], action: str, resource: Mapping[str, Any]) -> tuple[bool, str]:
    """May this principal perform this action on this workflow? Deny by default."""
    # BEGIN SOLUTION
    if action not in {"start", "signal", "cancel", "approve"}:
        return False, f"unknown action {action!r}"
    roles = list(principal.get("roles", []))
    if not any(action in ROLE_ACTIONS.get(role, set()) for role in roles):
        return False, f"no role of {principal.get('id')} allows {action}"
    if principal.get("team") != resource.get("team") and "admin" not in roles:
        return False, f"wrong team: {principal.get('team')} may not act on {resource.get('team')}'s workflows"
    clearance = SENSITIVITY.get(principal.get("clearance"), -1)  # type: ignore[arg-type]
    needed = SENSITIVITY.get(resource.get("sensitivity"), 0)  # type: ignore[arg-type]
    if clearance < needed:
        return False, f"clearance {principal.get('clearance')} is below {resource.get('sensitivity')}"
    return True, "allowed"
    # END SOLUTION
