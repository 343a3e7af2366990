"""Where claim-checked payloads live: a small object-store interface and a folder store.

A store keeps immutable objects under content keys (``sha256:<hex>``), so putting the same
bytes twice is one object and a key names exactly one content. :class:`FolderStore` is the
embedded default (one file per object, written atomically, fanned out by the key's first two
hex digits so no folder holds millions of entries). A team moving to S3, GCS or Azure
implements :class:`ObjectStore`'s four methods over its SDK; nothing else changes.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Protocol, runtime_checkable

from orchlab.files import write_atomic

_KEY = re.compile(r"^sha256:[0-9a-f]{64}$")


def content_key(data: bytes) -> str:
    """The content key of ``data``: ``sha256:`` and its SHA-256 in hex."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def check_key(key: str) -> str:
    """Return ``key`` if it is a well-formed content key, else raise ``ValueError``.

    A key read back from a workflow history is data from outside: it must never become a
    path that leaves the store.
    """
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError(f"not a claim-check key: {key!r} (expected 'sha256:' and 64 hex digits)")
    return key


@runtime_checkable
class ObjectStore(Protocol):
    """Immutable objects by content key. Implementations must be safe to call from threads."""

    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` (a no-op if the object exists)."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None if there is no such object."""

    def delete(self, key: str) -> bool:
        """Remove the object; True if it existed."""

    def keys(self) -> list[str]:
        """Every stored key."""


class FolderStore:
    """Objects as files under ``root/<2 hex>/<64 hex>``.

    Args:
        root: The store's folder (created on first write).
    """

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        digest = check_key(key).removeprefix("sha256:")
        return self.root / digest[:2] / digest

    def put(self, key: str, data: bytes) -> None:
        """Write the object atomically unless it is already there."""
        path = self._path(key)
        if not path.exists():
            write_atomic(path, data)

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None."""
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, key: str) -> bool:
        """Remove the object's file."""
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            return False
        return True

    def keys(self) -> list[str]:
        """Every stored key, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(
            "sha256:" + p.name
            for p in self.root.glob("??/*")
            if p.is_file() and _KEY.match("sha256:" + p.name)
        )

    def sweep(self, *, older_than: float, keep: set[str] | frozenset[str] = frozenset()) -> int:
        """Delete objects whose files are older than ``older_than`` seconds, except ``keep``.

        Retention for claim checks: run it with the keys that open workflows still reference
        (or with an age beyond the namespace's history retention, after which no history can
        point at an object).

        Returns:
            How many objects were deleted.
        """
        cutoff = time.time() - older_than
        deleted = 0
        for key in self.keys():
            path = self._path(key)
            if key not in keep and path.stat().st_mtime < cutoff:
                deleted += self.delete(key)
        return deleted

    def __repr__(self) -> str:
        return f"FolderStore({str(self.root)!r})"


__all__ = ["FolderStore", "ObjectStore", "check_key", "content_key"]
