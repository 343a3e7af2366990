"""What isolating one check run costs: a fork that enters the batch's sandbox, against a bare fork.

Each sample forks this (warm) process, as the pre-warmed server does for a check run; the
child enters the sandbox a batch gives its runs (``default_sandbox`` for this course: no
engines, so no relay), then exits; the parent measures from the fork to the child's end.
The same with a bare fork (the child exits at once) gives the floor. As root, the child also
becomes a user of its own, as a run does; otherwise it gets the user and PID namespaces an
ordinary user's runs get. Prints the median and the 90th percentile in milliseconds.

Run: ``python benchmarks/sandbox_setup.py [--runs 200]``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from labgrader.sandbox import UID_BASE, Sandbox, default_sandbox, enter_sandbox

ROOT = Path(__file__).resolve().parents[1]


def sample(child: Callable[[], None]) -> float:
    """Seconds from a fork to the end of a child that runs ``child`` then exits."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            child()
        except BaseException:  # any failure is reported by the exit code
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("a sandboxed child failed: run one by hand to see why")
    return elapsed


def measure(runs: int, child: Callable[[], None]) -> list[float]:
    """``runs`` samples, in milliseconds."""
    return [sample(child) * 1000 for _ in range(runs)]


def report(name: str, samples: list[float]) -> None:
    ordered = sorted(samples)
    p90 = ordered[int(len(ordered) * 0.9) - 1]
    print(f"{name:<28} median {statistics.median(samples):7.2f} ms   p90 {p90:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="samples per variant")
    args = parser.parse_args()
    box: Sandbox = default_sandbox(ROOT)
    if os.getuid() == 0:
        box = dataclasses.replace(box, uid=UID_BASE + 7999)
    with tempfile.TemporaryDirectory(prefix="labgrader-bench-") as tmp:
        work = Path(tmp)
        for name in ("submission.py", "pytest.ini", "results.jsonl"):
            (work / name).write_text("x = 1\n", encoding="utf-8")

        def sandboxed() -> None:
            os.chdir(work)
            gaps = enter_sandbox(box, work=work, pid_namespace=True)
            if gaps:
                raise RuntimeError(gaps)

        bare = measure(args.runs, lambda: None)
        boxed = measure(args.runs, sandboxed)
    print(f"{args.runs} runs each, {'root' if os.getuid() == 0 else 'an ordinary user'}")
    report("bare fork", bare)
    report("fork + enter_sandbox", boxed)
    extra = statistics.median(boxed) - statistics.median(bare)
    print(f"the sandbox costs {extra:.2f} ms per run (median)")


if __name__ == "__main__":
    main()
