"""Per-call overhead of orchlab's reliability wrappers on the success path.

Compares, in one run and one process: a bare function call; tenacity's ``@retry`` and
``Retrying``; orchlab's ``RetryPolicy.call`` and ``RetryPolicy.wrap``; its circuit breaker
against pybreaker's own; and the idempotency ledger (a SQLite claim and complete per call).
Prints the median microseconds per call over several rounds and the ratios that matter.
Target: orchlab's retry wrapper under 2x tenacity's overhead.

Run: ``python benchmarks/reliability_overhead.py [--calls N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pybreaker
import tenacity

from orchlab.reliability import CircuitBreaker, IdempotencyLedger, RetryPolicy, idempotency_key


def work(x: int) -> int:
    """The guarded call: trivial, so the wrapper's cost dominates."""
    return x + 1


def per_call_us(fn: Callable[[int], object], calls: int, rounds: int) -> float:
    """Median over rounds of the mean microseconds per call."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(calls):
            fn(i)
        samples.append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=7, help="rounds (the median is shown)")
    args = parser.parse_args()
    calls, rounds = args.calls, args.rounds

    policy = RetryPolicy(max_attempts=5, initial_interval=0.1, deadline=30)
    tenacity_decorated = tenacity.retry(
        stop=tenacity.stop_after_attempt(5),
        wait=tenacity.wait_random_exponential(multiplier=0.1, max=60),
        reraise=True,
    )(work)
    tenacity_retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(5),
        wait=tenacity.wait_random_exponential(multiplier=0.1, max=60),
        reraise=True,
    )
    policy_wrapped = policy.wrap(work)
    breaker = CircuitBreaker("bench", fail_max=5, reset_timeout=30)
    raw_breaker = pybreaker.CircuitBreaker(fail_max=5, reset_timeout=30)

    results: dict[str, float] = {}
    results["bare function"] = per_call_us(work, calls, rounds)
    results["tenacity @retry"] = per_call_us(tenacity_decorated, calls, rounds)
    results["tenacity Retrying()"] = per_call_us(
        lambda x: tenacity_retrying(work, x), calls, rounds
    )
    results["orchlab RetryPolicy.call"] = per_call_us(lambda x: policy.call(work, x), calls, rounds)
    results["orchlab RetryPolicy.wrap"] = per_call_us(policy_wrapped, calls, rounds)
    results["pybreaker call"] = per_call_us(lambda x: raw_breaker.call(work, x), calls, rounds)
    results["orchlab CircuitBreaker.call"] = per_call_us(
        lambda x: breaker.call(work, x), calls, rounds
    )

    with tempfile.TemporaryDirectory() as tmp:
        ledger = IdempotencyLedger(Path(tmp) / "ledger.sqlite")
        counter = iter(range(10**9))
        ledger_calls = max(1, calls // 10)  # each call writes SQLite: fewer calls suffice
        results["orchlab ledger.run (new key)"] = per_call_us(
            lambda x: ledger.run(f"k{next(counter)}", work, x), ledger_calls, rounds
        )
        results["orchlab ledger.run (done key)"] = per_call_us(
            lambda x: ledger.run("k0", work, x), ledger_calls, rounds
        )
        results["idempotency_key(dict)"] = per_call_us(
            lambda x: idempotency_key({"order": x, "day": "2026-01-31"}, namespace="charge"),
            calls,
            rounds,
        )
        ledger.close()

    bare = results["bare function"]
    width = max(map(len, results))
    print(f"success-path cost per call, median of {rounds} rounds ({calls} calls each)")
    print(f"{'wrapper':<{width}}  {'us/call':>9}  {'overhead us':>11}")
    for name, us in results.items():
        print(f"{name:<{width}}  {us:>9.3f}  {us - bare:>11.3f}")

    def overhead(name: str) -> float:
        return results[name] - bare

    tenacity_overhead = overhead("tenacity @retry")
    print()
    for name in ("orchlab RetryPolicy.call", "orchlab RetryPolicy.wrap"):
        ratio = overhead(name) / tenacity_overhead
        verdict = "meets" if ratio < 2 else "MISSES"
        print(f"{name} / tenacity @retry overhead: {ratio:.2f}x ({verdict} the < 2x target)")
    print(
        f"orchlab CircuitBreaker.call / pybreaker overhead: "
        f"{overhead('orchlab CircuitBreaker.call') / overhead('pybreaker call'):.2f}x"
    )
    print(
        f"ledger.run with a new key: {results['orchlab ledger.run (new key)']:.0f} us "
        "(two SQLite write transactions, WAL, synchronous=NORMAL)"
    )


if __name__ == "__main__":
    main()
