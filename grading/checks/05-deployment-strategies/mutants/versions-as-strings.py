# exercise: worker-build
# why: compares versions as dotted strings, so 1.9.0 sorts above 1.10.0
def choose_build(builds: Sequence[Build], env: str) -> str:
    best: Build | None = None
    for build in builds:
        version = ".".join(map(str, build.version))
        if build.ci_passed and env in build.promoted_to and (best is None or version >= ".".join(map(str, best.version))):
            best = build
    if best is None:
        raise LookupError(f"no build passed CI and was promoted to {env}")
    return best.build_id
