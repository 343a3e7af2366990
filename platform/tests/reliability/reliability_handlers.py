"""Functions the reliability tests name by reference (replay handlers) or run in other
processes."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def _log() -> Path:
    return Path(os.environ["RELIABILITY_REPLAY_LOG"])


def reprocess(payload: Any) -> dict[str, Any]:
    """Record the replay and return a receipt."""
    with _log().open("a") as out:
        out.write(f"{payload}\n")
    return {"reprocessed": payload}


def still_broken(payload: Any) -> None:
    raise ConnectionError(f"downstream still down for {payload}")


NOT_CALLABLE = 3


def hammer(path: str, keys: list[str], sink: str) -> None:
    """Apply an effect for every key through one shared ledger, appending to ``sink``."""
    from orchlab.reliability import IdempotencyConflict, IdempotencyLedger

    ledger = IdempotencyLedger(path, lease_seconds=30)

    def effect(key: str) -> str:
        with open(sink, "a") as out:
            out.write(f"{key}\n")
        return key

    for key in keys:
        while True:
            try:
                ledger.run(key, effect, key)
                break
            except IdempotencyConflict:
                time.sleep(0.001)


def flaky_score(payload: Any) -> dict[str, Any]:
    """Fails transiently while ``payload["down"]`` is true, permanently on a bad payload."""
    if not isinstance(payload, dict):
        raise ValueError(f"expected a dict payload, got {payload!r}")
    if payload.get("fatal"):
        from orchlab.errors import FatalError

        raise FatalError("model registry is corrupt")
    if payload.get("down"):
        raise TimeoutError("model api timed out")
    return {"score": payload["x"] * 2}
