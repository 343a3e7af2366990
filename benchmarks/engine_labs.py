"""Where an engine lab's grading time goes: per-submission time, rate and slowest checks.

For each lab (default: every lab of the course), grades ``--submissions`` copies of its
solution notebook as one batch with ``grade_batch`` at each ``--jobs`` value, and prints:
the wall time, the rate (submissions per second), the median grader time per submission,
its ratio to the pure-Python lab 04 measured in the same run, and the five slowest checks
with their median time (from the per-check times every result records). Then, per exercise,
what a learner's check cell costs (the visible checks of one exercise, as
``labgrader check NOTEBOOK --exercise EX`` runs them).

Run: ``python benchmarks/engine_labs.py [--labs 01 03 04] [--submissions 6] [--jobs 1 2 4 8]``
(``make bench`` runs it with the defaults: the ``--jobs`` sweep 1, 2, 4, 8, from which
``labgrader grade``'s default is chosen, see docs/instructors/grading-time.md). Figures
depend on the machine: compare ratios measured in one run, not absolute seconds across
machines.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from labgrader.batch import grade_batch
from labgrader.course import find_course
from labgrader.grade import grade_notebook
from labgrader.report import slowest_checks

BASELINE = "04-policy-gates"
"""The pure-Python lab the engine labs are compared with."""


def batch_figures(lab: str, notebook: Path, submissions: int, jobs: int) -> dict[str, object]:
    """Grade ``submissions`` copies of ``notebook`` at ``jobs``; return the figures."""
    with tempfile.TemporaryDirectory(prefix="bench-engine-") as tmp:
        subs = Path(tmp) / "subs"
        subs.mkdir()
        for number in range(submissions):
            shutil.copy(notebook, subs / f"learner{number:03d}.ipynb")
        began = time.monotonic()
        report = grade_batch(lab=lab, submissions=[subs], out=Path(tmp) / "out", jobs=jobs)
        wall = time.monotonic() - began
    scores = {r.score for r in report.rows}
    return {
        "wall": wall,
        "rate": submissions / wall,
        "median": statistics.median(r.duration for r in report.rows),
        "slowest": slowest_checks(report.rows),
        "scores": scores,
    }


def check_cell_figures(lab: str, notebook: Path) -> list[tuple[str, float]]:
    """Seconds the visible checks of each exercise take, one exercise at a time."""
    result = grade_notebook(notebook, lab=lab, include_hidden=False)
    exercises = [e.exercise for e in result.exercises]
    out = []
    for exercise in exercises:
        began = time.monotonic()
        grade_notebook(notebook, lab=lab, include_hidden=False, exercise=exercise)
        out.append((exercise, time.monotonic() - began))
    return out


def kernel_check_figures(lab: str, notebook: Path) -> list[tuple[str, float]]:
    """Seconds ``labgrader.check("EX")`` takes in a learner's kernel, one exercise at a time.

    The notebook's definitions are executed in this process (as the kernel holds them), the
    engines are those ``make lab`` runs (found or started once), and one call of every check
    comes first, as in a kernel whose learner already checked something.
    """
    from labgrader.interactive import check
    from labgrader.notebook import ModuleLoader, build_submission, read_notebook, write_submission
    from labgrader.run import scan_checks
    from labgrader.services import service_env

    course = find_course()
    os.environ.update(service_env(scan_checks(course.checks_dir(lab)).services, start=True))
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as tmp:
        built = build_submission(read_notebook(notebook))
        module = ModuleLoader(write_submission(built, Path(tmp))).load()
        first = check(None, namespace=vars(module), lab=lab, display=False)
        out = []
        for exercise in dict.fromkeys(c.exercise for c in first.checks):
            began = time.monotonic()
            check(exercise, namespace=vars(module), lab=lab, display=False)
            out.append((exercise, time.monotonic() - began))
    return out


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labs", nargs="*", help="lab ids (default: every lab)")
    parser.add_argument("--submissions", type=int, default=6)
    parser.add_argument("--jobs", type=int, nargs="*", default=[1, 2, 4, 8])
    parser.add_argument("--no-check-cells", action="store_true", help="skip the per-exercise part")
    args = parser.parse_args()
    course = find_course()
    labs = [course.resolve(lab) for lab in args.labs] if args.labs else course.lab_ids()
    if BASELINE not in labs:
        labs.append(BASELINE)
    medians: dict[tuple[str, int], float] = {}
    print(f"{'lab':<26} {'jobs':>4} {'wall s':>7} {'per s':>6} {'median s':>9} {'vs 04':>6}")
    for lab in [BASELINE, *[lab for lab in labs if lab != BASELINE]]:
        notebook = course.solution_notebooks(lab)[0]
        for jobs in args.jobs:
            fig = batch_figures(lab, notebook, args.submissions, jobs)
            medians[lab, jobs] = float(fig["median"])  # type: ignore[arg-type]
            base = medians.get((BASELINE, jobs)) or 1.0
            print(
                f"{lab:<26} {jobs:>4} {fig['wall']:>7.1f} {fig['rate']:>6.2f} "
                f"{fig['median']:>9.2f} {medians[lab, jobs] / base:>6.1f}"
            )
            slow = ", ".join(f"{n.rpartition('::')[2]} {s:.2f}" for n, s in fig["slowest"])  # type: ignore[attr-defined]
            print(f"{'':<26} slowest checks (median s): {slow}")
    if args.no_check_cells:
        return
    print("\nlabgrader check NOTEBOOK --exercise EX (a fresh check run per exercise):")
    for lab in labs:
        notebook = course.solution_notebooks(lab)[0]
        cells = check_cell_figures(lab, notebook)
        shown = ", ".join(f"{e} {s:.1f}" for e, s in cells)
        print(f"  {lab}: {shown}")
    print("\nin the kernel, labgrader.check(EX) per exercise (the notebook's check cells):")
    for lab in labs:
        cells = kernel_check_figures(lab, course.solution_notebooks(lab)[0])
        shown = ", ".join(f"{e} {s:.1f}" for e, s in cells)
        print(f"  {lab}: {shown}")


if __name__ == "__main__":
    main()
