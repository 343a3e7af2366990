"""Time the phases of ``make test`` and print where the time went.

Usage: ``python tools/phase.py NAME -- CMD ...`` runs CMD, prints its wall time and
appends it to ``.state/phases.tsv``; ``python tools/phase.py --summary`` prints the table.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

_LOG = Path(".state/phases.tsv")


def _summary() -> int:
    rows = [line.split("\t") for line in _LOG.read_text().splitlines()] if _LOG.exists() else []
    total = sum(float(r[1]) for r in rows)
    print("\nphase times")
    for name, seconds, rc in rows:
        flag = "" if rc == "0" else f"  (exit {rc})"
        print(f"  {name:<16}{float(seconds):8.1f} s{flag}")
    print(f"  {'sum of phases':<16}{total:8.1f} s")
    start = _LOG.with_suffix(".start")
    if start.exists():
        wall = time.time() - float(start.read_text().strip())
        print(f"  {'wall time':<16}{wall:8.1f} s  (install to end; phases run two at a time)")
    return 0


def _run_teed(cmd: list[str], name: str) -> int:
    """Run ``cmd``; with ``ORCHLAB_TEST_OUT`` set, also keep its output in ``logs/NAME.log``
    there (the suite's secret scan reads it)."""
    out = os.environ.get("ORCHLAB_TEST_OUT")
    if not out:
        return subprocess.call(cmd)
    log = Path(out) / "logs" / f"{name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with (
        log.open("wb") as fh,
        subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc,
    ):
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.buffer.write(line)
            fh.write(line)
        sys.stdout.flush()
        return proc.wait()


def main(argv: list[str]) -> int:
    if argv[:1] == ["--summary"]:
        return _summary()
    if len(argv) < 3 or argv[1] != "--":
        print("usage: python tools/phase.py NAME -- CMD ... | --summary", file=sys.stderr)
        return 2
    name, cmd = argv[0], argv[2:]
    print(f"==> {name}: {' '.join(cmd)}", flush=True)
    start = time.monotonic()
    rc = _run_teed(cmd, name)
    elapsed = time.monotonic() - start
    _LOG.parent.mkdir(parents=True, exist_ok=True)
    with _LOG.open("a") as fh:
        fh.write(f"{name}\t{elapsed:.1f}\t{rc}\n")
    print(f"<== {name}: {elapsed:.1f} s{'' if rc == 0 else f', exit {rc}'}", flush=True)
    return rc


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
