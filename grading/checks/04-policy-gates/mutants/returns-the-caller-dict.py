# exercise: validate-input
# why: a valid request is returned as the caller's own dict, not a clean copy
def validate_train_request(payload: Any, max_bytes: int = 4096) -> dict[str, Any]:
    """Check a training request; raise InputError naming the first bad field."""
    if not isinstance(payload, dict):
        raise InputError("(payload)", f"expected an object, got {type(payload).__name__}")
    size = len(json.dumps(payload, default=str).encode())
    if size > max_bytes:
        raise InputError("(payload)", f"{size} bytes, over the {max_bytes}-byte limit")
    for key in payload:
        if key not in TRAIN_FIELDS:
            raise InputError(str(key), "unknown field")
    for name in TRAIN_FIELDS:
        if name not in payload:
            raise InputError(name, "missing")
    dataset = payload["dataset"]
    if not isinstance(dataset, str) or not dataset:
        raise InputError("dataset", "must be a non-empty string")
    parts = dataset.replace("\\", "/").split("/")
    if dataset.startswith(("/", "\\")) or ".." in parts or "\0" in dataset:
        raise InputError("dataset", f"{dataset!r} is not a safe relative path")
    epochs = payload["epochs"]
    if isinstance(epochs, bool) or not isinstance(epochs, int) or not 1 <= epochs <= 100:
        raise InputError("epochs", f"must be an integer from 1 to 100, got {epochs!r}")
    owner = payload["owner"]
    if not isinstance(owner, str) or not owner:
        raise InputError("owner", "must be a non-empty string")
    return payload
