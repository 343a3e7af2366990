# exercise: config-drift
# why: compares only the top-level keys, so a nested change is reported as its whole section
def drift_keys(declared: Mapping[str, Any], live: Mapping[str, Any], ignore: Iterable[str] = ()) -> list[str]:
    skip = set(ignore)
    keys = declared.keys() | live.keys()
    drifted = {key for key in keys if key not in declared or key not in live or declared[key] != live[key]}
    return sorted(drifted - skip)
