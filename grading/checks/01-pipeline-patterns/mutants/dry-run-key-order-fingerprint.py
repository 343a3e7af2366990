# exercise: dry-run
# why: fingerprints the spec without sorting keys, so reordering the same definition changes the version
def dry_run(
    spec: Mapping[str, Any], overrides: Iterable[str] = (), *, tasks: Mapping[str, Callable[..., Any]]
) -> Plan:
    """Check a pipeline spec and plan a run of it, without running anything."""
    steps = spec["steps"]
    for name, step in steps.items():
        if step["task"] not in tasks:
            known = ", ".join(sorted(tasks))
            raise SpecError(f"step {name!r} uses unknown task {step['task']!r}; known tasks: {known}")
    canonical = json.dumps(spec)
    return Plan(
        pipeline=spec["name"],
        version=hashlib.sha256(canonical.encode()).hexdigest()[:12],
        order=execution_order({name: step.get("needs", []) for name, step in steps.items()}),
        params=resolve_params(spec["params"], overrides),
    )
