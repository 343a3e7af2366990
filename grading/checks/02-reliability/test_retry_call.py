"""Checks for exercise ``retry-call``: ``retry_call(fn, policy, *, sleep, rng)``.

Contract: up to ``max_attempts`` calls; transient failures are retried after
``sleep(wait)`` with the waits of ``backoff_delays(policy, rng)`` in order; permanent and
fatal failures are re-raised at once; the last attempt's failure is re-raised with no sleep
after it; always the original exception object.
"""

import random

import pytest

from labgrader.checks import strictly_close, strictly_equal


class Scripted:
    """A dependency that raises the given exceptions in order, then returns ``value``."""

    def __init__(self, failures, value="ok"):
        self.failures = list(failures)
        self.value = value
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.calls <= len(self.failures):
            raise self.failures[self.calls - 1]
        return self.value


def _run(nb, fn, policy, seed):
    waits = []
    try:
        result = nb.retry_call(fn, policy, sleep=waits.append, rng=random.Random(seed))
    except Exception as exc:
        result = exc
    return result, waits


def _waits(nb, policy, seed):
    return nb.backoff_delays(policy, random.Random(seed))


@pytest.mark.check(exercise="retry-call", points=3)
def test_transient_failures_are_retried_with_the_backoff_waits(nb):
    policy = nb.Backoff(initial=1, multiplier=2, maximum=30, max_attempts=4, jitter="full")
    fn = Scripted([ConnectionError("drop 1"), nb.HTTPError(503, "busy")], value=1.08)
    result, waits = _run(nb, fn, policy, seed=7)
    assert strictly_equal(result, 1.08), (
        f"expected 1.08 after two transient failures, got {result!r}"
    )
    assert fn.calls == 3, f"expected 3 calls (2 failures, then success), got {fn.calls}"
    expected = _waits(nb, policy, 7)[:2]
    assert strictly_close(waits, expected), (
        f"expected the sleeps {expected} (the first two waits of backoff_delays(policy, "
        f"random.Random(7))), got {waits}. Likely cause: a wait drawn from another rng, or "
        f"waits recomputed per attempt from a fresh rng"
    )


@pytest.mark.check(exercise="retry-call", points=3)
def test_permanent_failure_is_raised_at_once(nb):
    error = nb.HTTPError(400, "unknown currency")
    fn = Scripted([error, error, error])
    result, waits = _run(nb, fn, nb.Backoff(max_attempts=4), seed=1)
    assert result is error, f"expected the original HTTPError(400) to be re-raised, got {result!r}"
    assert fn.calls == 1 and waits == [], (
        f"a permanent failure must not be retried: expected 1 call and no sleep, got "
        f"{fn.calls} calls and sleeps {waits}"
    )


@pytest.mark.check(exercise="retry-call", points=2)
def test_gives_up_after_max_attempts_without_a_last_wait(nb):
    policy = nb.Backoff(initial=0.5, multiplier=2, maximum=30, max_attempts=3, jitter="none")
    failures = [TimeoutError(f"timeout {i}") for i in range(1, 6)]
    fn = Scripted(failures)
    result, waits = _run(nb, fn, policy, seed=0)
    assert fn.calls == 3, f"max_attempts=3: expected 3 calls, got {fn.calls}"
    assert result is failures[2], (
        f"expected the third attempt's own TimeoutError('timeout 3') re-raised, got {result!r}"
    )
    assert strictly_close(waits, [0.5, 1.0]), (
        f"expected sleeps [0.5, 1.0] (between the 3 attempts, none after the last), got {waits}"
    )


@pytest.mark.check(exercise="retry-call", points=1, hidden=True)
def test_hidden_fatal_is_not_retried_and_single_attempt(nb):
    error = nb.HTTPError(401, "token revoked")
    fn = Scripted([error])
    result, waits = _run(nb, fn, nb.Backoff(max_attempts=5), seed=2)
    assert result is error and fn.calls == 1 and waits == [], (
        f"HTTP 401 is fatal: expected it re-raised after 1 call with no sleep, got {result!r} "
        f"after {fn.calls} calls, sleeps {waits}"
    )
    fn = Scripted([ConnectionError("drop")])
    result, waits = _run(nb, fn, nb.Backoff(max_attempts=1), seed=2)
    assert isinstance(result, ConnectionError) and fn.calls == 1 and waits == [], (
        f"max_attempts=1 means no retry: got {result!r} after {fn.calls} calls, sleeps {waits}"
    )


@pytest.mark.check(exercise="retry-call", points=1, hidden=True)
def test_hidden_seeded_flaky_dependency_with_equal_jitter(nb):
    policy = nb.Backoff(initial=0.2, multiplier=3, maximum=2, max_attempts=6, jitter="equal")
    draws = random.Random(20240501)
    calls = []

    def flaky():
        calls.append(1)
        if draws.random() < 0.7:
            raise nb.HTTPError(503, f"busy on call {len(calls)}")
        return "rates"

    result, waits = _run(nb, flaky, policy, seed=99)
    expected = _waits(nb, policy, 99)[: len(calls) - 1]
    assert strictly_equal(result, "rates"), (
        f"the seeded dependency succeeds on call {len(calls)}, got {result!r}"
    )
    assert strictly_close(waits, expected), f"expected sleeps {expected}, got {waits}"
    fn, waits = Scripted([ConnectionError("drop")]), []
    policy = nb.Backoff(initial=0.5, max_attempts=3, jitter="full")
    try:
        result = nb.retry_call(fn, policy, sleep=waits.append)
    except Exception as exc:
        result = exc
    assert strictly_equal(result, "ok") and fn.calls == 2, (
        f"without rng (an unseeded random.Random()) a transient failure is still retried: "
        f"expected 'ok' after 2 calls, got {result!r} after {fn.calls} calls"
    )
    assert len(waits) == 1 and type(waits[0]) is float and 0 <= waits[0] <= 0.5, (
        f"full jitter from an unseeded rng: one sleep in [0, 0.5], got {waits}"
    )
