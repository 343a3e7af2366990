"""The key that real grading workers and the coordinator share, and what it signs.

A row that a ``labgrader worker`` returns travels through the Temporal server, which a
worker that is not ours might also poll. So every row is signed: an HMAC-SHA256 over the
row, the lab and the notebook's digest, with a key that only the coordinator
(``labgrader grade --backend temporal``) and the real workers hold. The key is read from a
file (``--key-file``, or ``LABGRADER_KEY_FILE``) or from ``LABGRADER_KEY`` in the
environment; it is never part of a workflow input, and check runs never see it (their
environment is scrubbed of anything named ``*KEY*``, and the file is outside what a run can
read). See ``docs/instructors/distributed-grading.md`` for how to make and hand it out.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from labgrader.errors import WorkerKeyError

KEY_FILE_ENV = "LABGRADER_KEY_FILE"
"""The environment variable naming the key file."""
KEY_ENV = "LABGRADER_KEY"
"""The environment variable holding the key itself (hex)."""
MIN_KEY_BYTES = 32
"""The shortest key accepted: 256 bits."""


def new_key() -> str:
    """A fresh key, as the hex text a key file holds."""
    return secrets.token_hex(MIN_KEY_BYTES)


def write_key(path: Path) -> None:
    """Write a fresh key to a new file that only its owner may read (mode 0600).

    Raises:
        WorkerKeyError: When the file exists already (a key is never overwritten).
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise WorkerKeyError(f"{path} exists already: remove it first to make a new key") from exc
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(new_key() + "\n")


def _parse(text: str, where: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError as exc:
        raise WorkerKeyError(
            f"{where} does not hold a hex key: make one with `labgrader keygen FILE`"
        ) from exc
    if len(key) < MIN_KEY_BYTES:
        raise WorkerKeyError(
            f"{where} holds a {len(key)}-byte key; at least {MIN_KEY_BYTES} bytes are needed: "
            "make one with `labgrader keygen FILE`"
        )
    return key


def load_key(path: Path | None = None, env: Mapping[str, str] | None = None) -> bytes:
    """The shared key: from ``path``, else ``LABGRADER_KEY_FILE``, else ``LABGRADER_KEY``.

    Raises:
        WorkerKeyError: When none is given, the file cannot be read, is readable by others,
            or holds no key of at least 32 bytes.
    """
    env = os.environ if env is None else env
    if path is None and env.get(KEY_FILE_ENV):
        path = Path(env[KEY_FILE_ENV])
    if path is not None:
        try:
            mode = path.stat().st_mode
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise WorkerKeyError(f"cannot read the key file {path}: {exc}") from exc
        if mode & 0o077:
            raise WorkerKeyError(
                f"the key file {path} may be read by others (mode {mode & 0o777:o}): "
                f"chmod 600 {path}"
            )
        return _parse(text, f"the key file {path}")
    if env.get(KEY_ENV):
        return _parse(env[KEY_ENV], KEY_ENV)
    raise WorkerKeyError(
        "distributed grading needs the workers' key: pass --key-file FILE (or set "
        f"{KEY_FILE_ENV}); make one with `labgrader keygen FILE`"
    )


def _message(row: Mapping[str, Any], *, lab: str, digest: str) -> bytes:
    return json.dumps(
        {"lab": lab, "digest": digest, "row": row}, sort_keys=True, separators=(",", ":")
    ).encode()


def sign_row(key: bytes, row: Mapping[str, Any], *, lab: str, digest: str) -> dict[str, Any]:
    """The activity's result: the row and its signature."""
    mac = hmac.new(key, _message(row, lab=lab, digest=digest), hashlib.sha256).hexdigest()
    return {"row": dict(row), "signature": mac}


def verify_row(
    key: bytes, result: object, *, lab: str, digest: str, learner: str
) -> tuple[dict[str, Any] | None, str]:
    """Check a result returned through Temporal.

    Returns:
        The row (``None`` when rejected) and, when rejected, why.
    """
    if not isinstance(result, dict) or not isinstance(result.get("row"), dict):
        return None, "the result is not a signed row"
    signature = result.get("signature")
    if not isinstance(signature, str):
        return None, "the row is not signed"
    row: dict[str, Any] = result["row"]
    expected = hmac.new(key, _message(row, lab=lab, digest=digest), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return None, "the row's signature does not match (not signed with the workers' key)"
    if row.get("digest") != digest or row.get("learner") != learner:
        return None, "the row is for another submission"
    return row, ""


def keyed_queue(key: bytes, task_queue: str, attempt: int) -> str:
    """The task queue of a re-sent submission: a name only the key's holders can work out,
    so that a worker without the key, which returned a rejected row, cannot poll it."""
    tag = hmac.new(key, f"{task_queue}:{attempt}".encode(), hashlib.sha256).hexdigest()[:16]
    return f"{task_queue}-{tag}"


__all__ = [
    "KEY_ENV",
    "KEY_FILE_ENV",
    "MIN_KEY_BYTES",
    "keyed_queue",
    "load_key",
    "new_key",
    "sign_row",
    "verify_row",
    "write_key",
]
