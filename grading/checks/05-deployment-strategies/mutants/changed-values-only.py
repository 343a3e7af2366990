# exercise: config-drift
# why: reports changed values but forgets keys present on one side only
def drift_keys(declared: Mapping[str, Any], live: Mapping[str, Any], ignore: Iterable[str] = ()) -> list[str]:
    def flatten(config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for key, value in config.items():
            if isinstance(value, Mapping):
                flat.update(flatten(value, f"{prefix}{key}."))
            else:
                flat[f"{prefix}{key}"] = value
        return flat

    left, right = flatten(declared), flatten(live)
    drifted = {key for key in left.keys() & right.keys() if left[key] != right[key]}
    return sorted(drifted - set(ignore))
