"""Grading throughput: labgrader's batch grading against otter-grader on the same answers.

Builds a pure-Python lab in a temporary course (three exercises in the style of lab 01:
an execution order with an alphabetical tie-break, ``key=value`` parameter overrides and
an inclusive range check; eight checks, three of them hidden), then 200 submissions: correct,
wrong (plausible mistakes), broken (syntax errors, exceptions, not JSON) and hostile (an
endless loop, ``sys.exit``, ``os._exit``). Lab 01 itself is not used: its engine exercises
run real Temporal and Prefect workflows for 15 s or more per submission, which measures
the engines, not the grader.

labgrader grades all 200 with ``grade_batch`` (2 jobs). otter-grader (``otter run``, no
Docker; one process per submission, as it is designed) grades the same answers, as
otter-format tests, on a sample (``--otter-sample``, 2 at a time; otter has no time limit,
so hostile submissions are left out of its sample). Prints median seconds per submission,
throughput, peak memory (the grader and all its children) and the ratio.

Run: ``python benchmarks/grading_throughput.py [--submissions 200] [--otter-sample 20]``
(``make bench`` installs otter-grader first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from labgrader.batch import grade_batch
from labgrader.limits import Limits

LAB = "90-bench"

SETUP = "import heapq\n"
ANSWERS = {
    "dag-order": """
        def execution_order(deps):
            needs = {s: set(u) for s, u in deps.items()}
            waiting = {s: len(u) for s, u in needs.items()}
            ready = [s for s, n in waiting.items() if n == 0]
            heapq.heapify(ready)
            order = []
            while ready:
                step = heapq.heappop(ready)
                order.append(step)
                for other, ups in needs.items():
                    if step in ups:
                        waiting[other] -= 1
                        if waiting[other] == 0:
                            heapq.heappush(ready, other)
            if len(order) != len(needs):
                raise ValueError("dependency cycle")
            return order
        """,
    "resolve-params": """
        def resolve_params(defaults, overrides):
            params = dict(defaults)
            for item in overrides:
                key, sep, raw = item.partition("=")
                if not sep or key not in defaults:
                    raise ValueError(f"bad override {item!r}")
                kind = type(defaults[key])
                params[key] = raw.lower() in ("true", "1", "yes") if kind is bool else kind(raw)
            return params
        """,
    "in-range": """
        def in_range(values, low, high):
            return all(low <= v <= high for v in values)
        """,
}
WRONG = {
    "dag-order": ("return order", "return sorted(order)"),
    "resolve-params": (
        'raw.lower() in ("true", "1", "yes") if kind is bool else kind(raw)',
        "kind(raw)",
    ),
    "in-range": ("low <= v <= high", "low <= v < high"),
}
CHECKS = """
import pytest


@pytest.mark.check(exercise="dag-order", points=3)
def test_diamond(nb):
    deps = {"b": ["a"], "c": ["a"], "d": ["b", "c"], "a": []}
    assert nb.execution_order(deps) == ["a", "b", "c", "d"]


@pytest.mark.check(exercise="dag-order", points=2)
def test_cycle(nb):
    with pytest.raises(ValueError):
        nb.execution_order({"a": ["b"], "b": ["a"]})


@pytest.mark.check(exercise="dag-order", points=2, hidden=True)
def test_tie_break(nb):
    assert nb.execution_order({"z": [], "y": [], "x": ["z"]}) == ["y", "z", "x"]


@pytest.mark.check(exercise="resolve-params", points=3)
def test_types(nb):
    got = nb.resolve_params({"n": 1, "f": False, "s": "x"}, ["n=3", "f=false", "s=y"])
    assert got == {"n": 3, "f": False, "s": "y"}


@pytest.mark.check(exercise="resolve-params", points=2, hidden=True)
def test_unknown(nb):
    with pytest.raises(ValueError):
        nb.resolve_params({"n": 1}, ["m=2"])


@pytest.mark.check(exercise="in-range", points=2)
def test_inside(nb):
    assert nb.in_range([1, 2, 3], 0, 5)


@pytest.mark.check(exercise="in-range", points=2, hidden=True)
def test_bounds(nb):
    assert nb.in_range([0, 5], 0, 5)


@pytest.mark.check(exercise="in-range", points=1)
def test_outside(nb):
    assert not nb.in_range([6], 0, 5)
"""

# The same checks as otter (OK-format) tests: one file per exercise.
OTTER_TESTS = {
    "dag_order": [
        (
            ">>> execution_order({'b': ['a'], 'c': ['a'], 'd': ['b', 'c'], 'a': []})",
            "['a', 'b', 'c', 'd']",
            False,
        ),
        (
            ">>> try:\n...     execution_order({'a': ['b'], 'b': ['a']}); print('no')\n"
            "... except ValueError:\n...     print('ok')",
            "ok",
            False,
        ),
        (">>> execution_order({'z': [], 'y': [], 'x': ['z']})", "['y', 'z', 'x']", True),
    ],
    "resolve_params": [
        (
            ">>> resolve_params({'n': 1, 'f': False, 's': 'x'}, ['n=3', 'f=false', 's=y']) == "
            "{'n': 3, 'f': False, 's': 'y'}",
            "True",
            False,
        ),
        (
            ">>> try:\n...     resolve_params({'n': 1}, ['m=2']); print('no')\n"
            "... except ValueError:\n...     print('ok')",
            "ok",
            True,
        ),
    ],
    "in_range": [
        (">>> in_range([1, 2, 3], 0, 5)", "True", False),
        (">>> in_range([0, 5], 0, 5)", "True", True),
        (">>> in_range([6], 0, 5)", "False", False),
    ],
}
HOSTILE = {
    "loop": "while True:\n    pass\n",
    "exit": "import sys\nsys.exit(0)\n",
    "os-exit": "import os\nos._exit(0)\n",
}


def cell(source: str, exercise: str | None = None) -> dict[str, object]:
    """A code cell (nbformat 4) holding ``source``."""
    return {
        "cell_type": "code",
        "execution_count": None,
        "id": f"c{random.randrange(10**9)}",
        "metadata": {"exercise": exercise} if exercise else {},
        "outputs": [],
        "source": source,
    }


def notebook(cells: list[dict[str, object]]) -> str:
    """A notebook document's JSON text."""
    return json.dumps(
        {
            "cells": cells,
            "metadata": {
                "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
            },
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


def make_submissions(folder: Path, count: int, seed: int = 7) -> dict[str, str]:
    """Write ``count`` submissions; return each learner's kind."""
    rng = random.Random(seed)
    kinds: dict[str, str] = {}
    for i in range(count):
        learner = f"learner{i:03d}"
        roll = rng.random()
        answers = {k: textwrap.dedent(v) for k, v in ANSWERS.items()}
        kind = "correct"
        if roll < 0.25:
            kind = "wrong"
            ex = rng.choice(sorted(WRONG))
            answers[ex] = answers[ex].replace(*WRONG[ex])
        elif roll < 0.35:
            kind = "broken"
            ex = rng.choice(sorted(answers))
            answers[ex] = answers[ex].replace("):", ")", 1)  # a syntax error
        elif roll < 0.40:
            kind = "broken-json"
        elif roll < 0.43:
            kind = "hostile"
        cells = [cell(SETUP)] + [cell(src, ex) for ex, src in answers.items()]
        if kind == "hostile":
            cells.append(cell(HOSTILE[rng.choice(sorted(HOSTILE))]))
        text = notebook(cells) if kind != "broken-json" else '{"cells": [ oops'
        (folder / f"{learner}.ipynb").write_text(text, encoding="utf-8")
        kinds[learner] = kind
    return kinds


def make_course(root: Path) -> None:
    """A course with the benchmark lab: solution notebook and checks."""
    sol = root / "solutions" / LAB
    sol.mkdir(parents=True)
    cells = [cell(SETUP)] + [cell(textwrap.dedent(v), k) for k, v in ANSWERS.items()]
    (sol / f"{LAB}.ipynb").write_text(notebook(cells), encoding="utf-8")
    checks = root / "grading" / "checks" / LAB
    checks.mkdir(parents=True)
    (checks / "test_bench.py").write_text(CHECKS, encoding="utf-8")


def make_otter_autograder(root: Path) -> Path:
    """Write otter's OK-format tests and build its autograder zip with ``otter generate``."""
    tests = root / "tests"
    tests.mkdir(parents=True)
    for name, cases in OTTER_TESTS.items():
        suite = [{"code": code, "hidden": hidden, "locked": False} for code, _, hidden in cases]
        for case, (_, want, _) in zip(suite, cases, strict=True):
            case["code"] = f"{case['code']}\n{want}"
        spec = {
            "name": name,
            "points": 1.0 * len(cases),
            "suites": [
                {"cases": suite, "scored": True, "setup": "", "teardown": "", "type": "doctest"}
            ],
        }
        (tests / f"{name}.py").write_text(f"OK_FORMAT = True\ntest = {spec!r}\n", encoding="utf-8")
    otter = Path(sys.executable).with_name("otter")
    subprocess.run(
        [str(otter), "generate", "-t", str(tests), "-o", str(root / "autograder.zip")],
        cwd=root,
        check=True,
        capture_output=True,
    )
    return root / "autograder.zip"


class PeakMemory:
    """Samples the RSS of this process and all its children; keeps the peak (MiB)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total / 2**20)
            self._stop.wait(0.2)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_labgrader(course: Path, subs: Path, out: Path, jobs: int) -> dict[str, float]:
    """Grade every submission with labgrader; return the figures."""
    old = Path.cwd()
    os.chdir(course)
    try:
        with PeakMemory() as mem:
            started = time.perf_counter()
            report = grade_batch(
                lab=LAB,
                submissions=[subs],
                out=out,
                jobs=jobs,
                timeout=10,
                limits=Limits(memory_mb=1024, cpu_seconds=30, processes=32),
            )
            wall = time.perf_counter() - started
    finally:
        os.chdir(old)
    durations = [r.duration for r in report.rows if r.duration]
    print(f"labgrader: {len(report.rows)} rows, {report.counts()}")
    return {
        "wall": wall,
        "count": len(report.rows),
        "median": statistics.median(durations),
        "throughput": len(report.rows) / wall,
        "peak_mb": mem.peak,
    }


def run_otter(autograder: Path, notebooks: list[Path], out: Path, jobs: int) -> dict[str, float]:
    """Grade a sample with ``otter run``, one process per submission, ``jobs`` at a time."""
    otter = Path(sys.executable).with_name("otter")
    times: list[float] = []

    def one(path: Path) -> None:
        target = out / path.stem
        target.mkdir(parents=True)
        started = time.perf_counter()
        subprocess.run(
            [str(otter), "run", "-a", str(autograder), "-o", str(target), "--no-logo", str(path)],
            capture_output=True,
            timeout=120,
            check=False,
        )
        times.append(time.perf_counter() - started)

    with PeakMemory() as mem:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            list(pool.map(one, notebooks))
        wall = time.perf_counter() - started
    graded = sum((out / p.stem / "results.json").exists() for p in notebooks)
    print(f"otter-grader: {len(notebooks)} run, {graded} with a results.json")
    return {
        "wall": wall,
        "count": len(notebooks),
        "median": statistics.median(times),
        "throughput": len(notebooks) / wall,
        "peak_mb": mem.peak,
    }


def main() -> None:
    """Run both graders and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--otter-sample", type=int, default=20)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--engine-labs",
        nargs="*",
        default=["01", "02", "03"],
        metavar="LAB",
        help="engine labs graded beside the pure-Python case (their solutions; none: skip)",
    )
    parser.add_argument("--engine-submissions", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as tmp:
        root = Path(tmp)
        course = root / "course"
        make_course(course)
        subs = root / "subs"
        subs.mkdir()
        kinds = make_submissions(subs, args.submissions)
        print(
            f"{args.submissions} submissions: "
            + ", ".join(f"{k} {list(kinds.values()).count(k)}" for k in sorted(set(kinds.values())))
        )
        ours = run_labgrader(course, subs, root / "graded", args.jobs)
        theirs: dict[str, float] | None = None
        if shutil.which("otter", path=str(Path(sys.executable).parent)):
            autograder = make_otter_autograder(root / "otter")
            sample = [
                subs / f"{name}.ipynb" for name, kind in sorted(kinds.items()) if kind != "hostile"
            ][: args.otter_sample]
            theirs = run_otter(autograder, sample, root / "otter-out", args.jobs)
        else:
            print("otter-grader is not installed (make bench installs it): no comparison")
    print()
    print(
        f"{'grader':<14}{'graded':>8}{'wall s':>9}{'median s/sub':>14}{'subs/s':>9}{'peak MiB':>10}"
    )
    for name, fig in (("labgrader", ours), ("otter-grader", theirs)):
        if fig:
            print(
                f"{name:<14}{fig['count']:>8.0f}{fig['wall']:>9.1f}{fig['median']:>14.2f}"
                f"{fig['throughput']:>9.2f}{fig['peak_mb']:>10.0f}"
            )
    if theirs:
        ratio = ours["throughput"] / theirs["throughput"]
        print(f"\nthroughput ratio labgrader / otter-grader: {ratio:.1f}x (target: at least 5x)")
    if args.engine_labs:
        engine_labs(args.engine_labs, args.engine_submissions, args.jobs)


def engine_labs(labs: list[str], submissions: int, jobs: int) -> None:
    """The engine labs' case: copies of each solution graded as one batch (see
    ``benchmarks/engine_labs.py``): the rate, the median per submission, the slowest checks."""
    from engine_labs import batch_figures

    from labgrader.course import find_course

    course = find_course()
    print(f"\nengine labs ({submissions} copies of the solution, --jobs {jobs}):")
    print(f"{'lab':<26}{'subs/s':>8}{'median s/sub':>14}  slowest checks (median s)")
    for lab in labs:
        lab_id = course.resolve(lab)
        fig = batch_figures(lab_id, course.solution_notebooks(lab_id)[0], submissions, jobs)
        slow = ", ".join(f"{n.rpartition('::')[2]} {t:.2f}" for n, t in fig["slowest"][:3])  # type: ignore[index]
        print(f"{lab_id:<26}{fig['rate']:>8.2f}{fig['median']:>14.2f}  {slow}")


if __name__ == "__main__":
    main()
