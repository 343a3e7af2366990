"""Wall-time overhead of tracing and metrics on a pipeline run, per engine.

Runs ``wine_training`` (9 steps) in one process, alternating two modes round by round:
**off** (no exporter attached: the instrumentation's spans are dropped by the sampler) and
**on** (every span written to a JSONL trace file, as ``orchlab run --trace`` does, plus
orchlab's Prometheus pipeline metrics installed). Prints the median run time of each mode,
their ratio, the median of each round's own on/off ratio (the two runs of a round are
neighbours in time, so a busy machine's drift cancels) and the added time per step.
It also prints this process's CPU seconds per run (all its threads: the engines' workers
run here), which other load on the machine does not inflate the way it inflates wall time.
Target: under 5 % added wall time per run.

Engines: in-process, a Temporal dev server and a Prefect server, started here unless
TEMPORAL_ADDRESS / PREFECT_API_URL name running ones.

Run: ``python benchmarks/observability_overhead.py [--rounds R] [--engines local,prefect]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from orchlab.logs import quiet_engine_logs
from orchlab.observability import PipelineMetrics, trace_to_file
from orchlab.pipelines import PipelineResult, run_local, run_prefect, run_temporal
from orchlab.runtime.services import PrefectServer, TemporalDevServer
from orchlab.runtime.stack import connect_temporal, use_prefect

SPEC = "wine_training"
PARAMS = {"model": "linear", "seed": "3"}
STEPS = 9


@contextmanager
def engines(names: list[str], tmp: Path) -> Iterator[dict[str, Any]]:
    """Addresses of the engines asked for: configured ones, else started for this run."""
    found: dict[str, Any] = {}
    with ExitStack() as stack:
        if "temporal" in names:
            address = os.environ.get("TEMPORAL_ADDRESS")
            if not address:
                address = stack.enter_context(TemporalDevServer(tmp / "temporal")).address
            found["temporal"] = address
        if "prefect" in names:
            url = os.environ.get("PREFECT_API_URL")
            if not url:
                url = stack.enter_context(PrefectServer(tmp / "prefect", ui=False)).api_url
            use_prefect(url)
            found["prefect"] = url
        yield found


def runner(engine: str, where: dict[str, Any], tmp: Path) -> Callable[[int], PipelineResult]:
    """A function running the pipeline once on ``engine`` (the argument numbers the run)."""
    options = lambda n: {"workdir": tmp / f"{engine}-{n}", "registry_dir": tmp / "registry"}  # noqa: E731
    if engine == "local":
        return lambda n: run_local(SPEC, PARAMS, **options(n))
    if engine == "prefect":
        return lambda n: run_prefect(SPEC, PARAMS, api_url=where["prefect"], **options(n))
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(connect_temporal(address=where["temporal"]))

    def on_temporal(n: int) -> PipelineResult:
        return loop.run_until_complete(
            run_temporal(SPEC, PARAMS, client=client, task_queue=f"bench-{n}", **options(n))
        )

    return on_temporal


def timed(run: Callable[[int], PipelineResult], n: int, traced: Path | None) -> tuple[float, float]:
    """Wall and CPU seconds of one run; tracing and metrics on when ``traced`` names a file."""
    with ExitStack() as stack:
        if traced is not None:
            stack.enter_context(trace_to_file(traced))
            metrics = PipelineMetrics().install()
            stack.callback(metrics.uninstall)
        start, cpu = time.perf_counter(), time.process_time()
        result = run(n)
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    if not result.succeeded:
        raise SystemExit(f"run {n} failed: {result.error}")
    return seconds, cpu_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="runs per mode (the median is shown)")
    parser.add_argument("--engines", default="local,temporal,prefect", help="comma-separated")
    args = parser.parse_args()
    names = [e.strip() for e in args.engines.split(",") if e.strip()]
    rows = []
    cpu_rows = []
    with tempfile.TemporaryDirectory() as folder, quiet_engine_logs():
        tmp = Path(folder)
        with engines(names, tmp) as where:
            for engine in names:
                run = runner(engine, where, tmp)
                timed(run, 0, None)  # warm up: imports, the first connection, caches
                off: list[float] = []
                on: list[float] = []
                cpu: dict[bool, list[float]] = {False: [], True: []}
                for r in range(args.rounds):
                    # Alternate which mode goes first, so drift on a busy machine hits both.
                    order = (False, True) if r % 2 == 0 else (True, False)
                    for traced in order:
                        n = 2 * r + 1 + int(traced)
                        seconds, cpu_seconds = timed(
                            run, n, tmp / f"{engine}-{n}.jsonl" if traced else None
                        )
                        (on if traced else off).append(seconds)
                        cpu[traced].append(cpu_seconds)
                paired = statistics.median(b / a for a, b in zip(off, on, strict=True))
                rows.append((engine, statistics.median(off), statistics.median(on), paired))
                cpu_rows.append(
                    (engine, statistics.median(cpu[False]), statistics.median(cpu[True]))
                )
    print(f"{SPEC} ({STEPS} steps), median of {args.rounds} runs per mode, one process")
    print(
        f"{'engine':<9} {'off s':>8} {'on s':>8} {'on/off':>7} {'paired':>7} {'added ms/step':>14}"
    )
    for engine, off_s, on_s, paired in rows:
        ratio = on_s / off_s
        per_step = (on_s - off_s) / STEPS * 1000
        print(
            f"{engine:<9} {off_s:>8.3f} {on_s:>8.3f} {ratio:>7.3f} {paired:>7.3f} {per_step:>14.2f}"
        )
    print(f"\n{'engine':<9} {'off cpu s':>10} {'on cpu s':>9} {'on/off':>7}  (this process)")
    for engine, off_cpu, on_cpu in cpu_rows:
        print(f"{engine:<9} {off_cpu:>10.3f} {on_cpu:>9.3f} {on_cpu / off_cpu:>7.3f}")
    print()
    for engine, _, _, paired in rows:
        added = (paired - 1) * 100
        verdict = "meets" if added < 5 else "MISSES"
        print(f"{engine}: {added:+.1f} % wall time, tracing and metrics on ({verdict} < 5 %)")


if __name__ == "__main__":
    main()
