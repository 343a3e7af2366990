# exercise: env-secrets
# why: resolves a reference from whatever environment it names, so a dev deployment reads prod secrets
def resolve_secrets(config: Mapping[str, Any], env: str, store: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            out[key] = resolve_secrets(value, env, store)
        elif isinstance(value, str) and value.startswith("secret://"):
            ref = value[len("secret://"):]
            if ref not in store:
                raise KeyError(f"no secret {value} in the store")
            out[key] = store[ref]
        else:
            out[key] = value
    return out
