# exercise: redact-secrets
# why: secret values are masked but secret-named keys are not, so an unregistered token leaks
def redact(value: Any, secrets: Collection[str]) -> Any:
    """A copy of ``value`` with secrets and secret-named fields masked."""
    # BEGIN SOLUTION
    if isinstance(value, str):
        for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
            value = value.replace(secret, MASK)
        return value
    if isinstance(value, dict):
        sensitive = ("password", "secret", "token", "api_key")
        return {k: redact(v, secrets)
                for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact(item, secrets) for item in value)
    return value
    # END SOLUTION
