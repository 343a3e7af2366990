# exercise: redact-secrets
# why: secrets are replaced in the given order, so a secret containing another leaves its tail visible
def redact(value: Any, secrets: Collection[str]) -> Any:
    """A copy of ``value`` with secrets and secret-named fields masked."""
    # BEGIN SOLUTION
    if isinstance(value, str):
        for secret in [s for s in secrets if len(s) >= 4]:
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        sensitive = ("password", "secret", "token", "api_key")
        return {k: MASK if any(word in str(k).lower() for word in sensitive) else redact(v, secrets)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item, secrets) for item in value)
    return value
    # END SOLUTION
