# exercise: resolve-params
# why: converts bools with bool(raw), so "false" becomes True
_BOOLS = {"true": True, "false": False}


def resolve_params(defaults: Mapping[str, object], overrides: Iterable[str]) -> dict[str, object]:
    """Apply ``key=value`` overrides to the defaults, converting each value to the default's type."""
    params = dict(defaults)
    for override in overrides:
        key, sep, raw = override.partition("=")
        key, raw = key.strip(), raw.strip()
        if not sep or not key:
            raise ConfigError(f"override {override!r} is not of the form key=value")
        if key not in defaults:
            known = ", ".join(sorted(defaults))
            raise ConfigError(f"unknown parameter {key!r}; known parameters: {known}")
        kind = type(defaults[key])
        try:
            params[key] = kind(raw)
        except ValueError:
            raise ConfigError(f"parameter {key!r} expects {kind.__name__}, got {raw!r}") from None
    return params
