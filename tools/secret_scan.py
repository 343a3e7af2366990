"""Prove that a canary secret leaked into nothing a test suite wrote.

Set a random secret in the environment of every test phase (``make test`` exports
``ORCHLAB_SECRET_SUITE_TOKEN``), send every phase's output and temporary files under one
folder, then scan that folder::

    python tools/secret_scan.py --env ORCHLAB_SECRET_SUITE_TOKEN .state/test-output

Exit 0 when the value appears in no file, 1 naming the files where it does, 2 when the
variable is unset (a scan for nothing proves nothing).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

_CHUNK = 1 << 20


def _files(roots: Iterable[Path]) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
            continue
        for folder, _dirs, names in os.walk(root):
            for name in names:
                path = Path(folder) / name
                if path.is_file() and not path.is_symlink():
                    yield path


def _contains(path: Path, needle: bytes) -> bool:
    # Read in overlapping chunks so a match across a chunk boundary is still found.
    tail = b""
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                if needle in tail + chunk:
                    return True
                tail = chunk[-(len(needle) - 1) :]
    except OSError:
        return False
    return False


def scan(roots: Iterable[Path], secret: str) -> tuple[int, list[Path]]:
    """Search every regular file under ``roots`` for ``secret``.

    Args:
        roots: Files or folders to search.
        secret: The value to look for (also as UTF-16, as some tools write it).

    Returns:
        The number of files scanned, and the files that contain the secret.
    """
    needles = [secret.encode(), secret.encode("utf-16-le")]
    scanned, leaks = 0, []
    for path in _files(roots):
        scanned += 1
        if any(_contains(path, n) for n in needles):
            leaks.append(path)
    return scanned, leaks


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", required=True, help="the variable holding the canary secret")
    parser.add_argument("roots", nargs="+", type=Path, help="files or folders to scan")
    args = parser.parse_args(argv)
    secret = os.environ.get(args.env, "")
    if len(secret) < 12:
        print(f"secret scan: {args.env} is unset or too short to be a canary", file=sys.stderr)
        return 2
    scanned, leaks = scan(args.roots, secret)
    if leaks:
        print(f"secret scan: the value of {args.env} appears in {len(leaks)} file(s):")
        for path in leaks:
            print(f"  {path}")
        return 1
    print(f"secret scan: {scanned} files scanned; the value of {args.env} appears in none")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
