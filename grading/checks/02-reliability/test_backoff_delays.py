"""Checks for exercise ``backoff-delays``: ``backoff_delays(policy, rng)``.

Contract: ``max_attempts - 1`` waits; the wait before attempt ``n + 1`` is capped at
``min(maximum, initial * multiplier ** (n - 1))``; no jitter: the cap, no draw; full jitter:
``rng.uniform(0, cap)``; equal jitter: ``cap / 2 + rng.uniform(0, cap / 2)``; one draw per wait.
"""

import random

import pytest

from labgrader.checks import assert_type, strictly_close


def _expected(nb, policy, seed):
    rng = random.Random(seed)
    out = []
    for n in range(1, policy.max_attempts):
        cap = min(policy.maximum, policy.initial * policy.multiplier ** (n - 1))
        if policy.jitter == "full":
            out.append(rng.uniform(0, cap))
        elif policy.jitter == "equal":
            out.append(cap / 2 + rng.uniform(0, cap / 2))
        else:
            out.append(cap)
    return out


def _assert_delays(nb, policy, seed):
    expected = _expected(nb, policy, seed)
    rng = random.Random(seed)
    before = rng.getstate()
    got = nb.backoff_delays(policy, rng)
    if policy.jitter == "none":
        assert rng.getstate() == before, (
            f"{policy}: without jitter the waits are the caps and rng is not used, but it was "
            f"drawn from"
        )
    assert_type(got, list, what=f"backoff_delays({policy}, ...)")
    assert len(got) == len(expected), (
        f"{policy}: expected {len(expected)} waits (max_attempts - 1), got {len(got)}: {got}"
    )
    for n, (want, have) in enumerate(zip(expected, got, strict=True), start=1):
        cap = min(policy.maximum, policy.initial * policy.multiplier ** (n - 1))
        assert strictly_close(have, want), (
            f"{policy}, random.Random({seed}): expected waits {expected}, got {got}; wait {n} "
            f"(before attempt {n + 1}) has the cap {cap}. Likely cause: the exponent (the first "
            f"wait is `initial`), the cap applied after the jitter, or not exactly one "
            f"rng.uniform draw per wait"
        )


@pytest.mark.check(exercise="backoff-delays", points=3)
def test_no_jitter_is_capped_exponential(nb):
    _assert_delays(
        nb, nb.Backoff(initial=1, multiplier=2, maximum=5, max_attempts=5, jitter="none"), 0
    )


@pytest.mark.check(exercise="backoff-delays", points=3)
def test_full_jitter_is_seeded_and_inside_the_cap(nb):
    _assert_delays(
        nb, nb.Backoff(initial=1, multiplier=2, maximum=5, max_attempts=5, jitter="full"), 0
    )


@pytest.mark.check(exercise="backoff-delays", points=2, hidden=True)
def test_hidden_equal_jitter_and_other_policies(nb):
    _assert_delays(
        nb, nb.Backoff(initial=0.2, multiplier=3, maximum=4, max_attempts=6, jitter="equal"), 11
    )
    _assert_delays(
        nb, nb.Backoff(initial=0.5, multiplier=1.5, maximum=60, max_attempts=7, jitter="full"), 3
    )


@pytest.mark.check(exercise="backoff-delays", points=2, hidden=True)
def test_hidden_single_attempt_and_constant_waits(nb):
    _assert_delays(nb, nb.Backoff(max_attempts=1, jitter="full"), 5)
    _assert_delays(
        nb, nb.Backoff(initial=2, multiplier=1, maximum=10, max_attempts=4, jitter="none"), 5
    )
