"""Writing files so that a reader never sees half of one.

:func:`write_atomic` writes to a unique temporary file in the target's folder, flushes it to
disk (``fsync``) and renames it over the target (``os.replace``, atomic on one file
system). :func:`atomic_path` does the same for code that wants to write the file itself.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """Yield a unique temporary path next to ``path``; move it into place only on success.

    The caller writes the temporary file; when the block ends without an exception it is
    flushed to disk and renamed over ``path``. On an exception ``path`` is left as it was
    and the temporary file is removed. The parent folder is created when missing.

    Args:
        path: The file to write.

    Yields:
        The temporary file's path (it exists, empty).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with tmp.open("rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: Path | str, data: bytes | str, *, encoding: str = "utf-8") -> None:
    """Write ``data`` to ``path`` atomically: unique temporary file, fsync, rename.

    Args:
        path: The file to write (its parent folder is created when missing).
        data: The content; text is encoded with ``encoding`` (newlines kept as given).
        encoding: The text encoding.
    """
    raw = data.encode(encoding) if isinstance(data, str) else data
    with atomic_path(path) as tmp:
        tmp.write_bytes(raw)


__all__ = ["atomic_path", "write_atomic"]
