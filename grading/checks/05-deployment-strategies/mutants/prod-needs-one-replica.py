# exercise: iac-gate
# why: applies the same minimum of one replica to prod, so a single-replica prod passes the gate
def iac_violations(spec: Mapping[str, Any]) -> list[str]:
    violations = set()
    if spec.get("env") not in ENVIRONMENTS:
        violations.add("env")
    image = spec.get("image")
    if not isinstance(image, str) or ":" not in image:
        violations.add("image")
    else:
        tag = image.rsplit(":", 1)[1]
        if not tag or tag == "latest" or "/" in tag:
            violations.add("image")
    replicas = spec.get("replicas")
    if not isinstance(replicas, int) or replicas < 1:
        violations.add("replicas")
    resources = spec.get("resources")
    if not isinstance(resources, Mapping):
        resources = {}
    for name in ("cpu", "memory"):
        if not resources.get(name):
            violations.add(f"resources.{name}")
    return sorted(violations)
