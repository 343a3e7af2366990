"""Checks for exercise ``circuit-breaker``: ``CircuitBreaker``.

Contract: closed until ``failure_threshold`` consecutive counted failures (a success resets
the count; a permanent failure neither counts nor resets); open: ``CircuitOpen`` without
calling; half-open once ``reset_timeout`` has passed on ``clock()``: one trial call closes it
on success or reopens it from now on failure.
"""

import pytest

from labgrader.checks import strictly_equal


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


class Partner:
    """Counts calls; raises ``error`` while ``up`` is False."""

    def __init__(self, error):
        self.error = error
        self.up = True
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if not self.up:
            raise self.error
        return "ok"


def _call(breaker, fn):
    try:
        return breaker.call(fn)
    except Exception as exc:
        return exc


@pytest.mark.check(exercise="circuit-breaker", points=4)
def test_opens_after_consecutive_failures_and_fails_fast(nb):
    clock = Clock()
    breaker = nb.CircuitBreaker(failure_threshold=3, reset_timeout=30, clock=clock)
    partner = Partner(nb.HTTPError(503))
    partner.up = False
    for i in range(1, 3):
        got = _call(breaker, partner)
        assert isinstance(got, nb.HTTPError) and strictly_equal(breaker.state, "closed"), (
            f"after {i} failure(s) of 3 the breaker should stay closed and re-raise the "
            f"HTTPError, got {got!r}, state {breaker.state!r}"
        )
    _call(breaker, partner)
    assert strictly_equal(breaker.state, "open"), (
        f"3 consecutive failures should open it, state {breaker.state!r}"
    )
    clock.now = 29.9
    got = _call(breaker, partner)
    assert isinstance(got, nb.CircuitOpen) and partner.calls == 3, (
        f"while open (29.9 s of 30) a call must raise CircuitOpen without calling the partner: "
        f"got {got!r}, partner calls {partner.calls} (expected 3)"
    )


@pytest.mark.check(exercise="circuit-breaker", points=3)
def test_a_success_resets_the_count(nb):
    breaker = nb.CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=Clock())
    partner = Partner(TimeoutError("slow"))
    for up in (False, True, False, True, False):
        partner.up = up
        _call(breaker, partner)
    assert strictly_equal(breaker.state, "closed"), (
        f"failures separated by successes are not consecutive: with threshold 2 the breaker "
        f"should stay closed, state {breaker.state!r}. Likely cause: the count is not reset "
        f"on success"
    )


@pytest.mark.check(exercise="circuit-breaker", points=4)
def test_half_open_trial_closes_or_reopens(nb):
    clock = Clock()
    breaker = nb.CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=clock)
    partner = Partner(nb.HTTPError(502))
    partner.up = False
    _call(breaker, partner)
    _call(breaker, partner)
    clock.now = 10.0
    assert strictly_equal(breaker.state, "half-open"), (
        f"10 s after opening it should be half-open, got {breaker.state!r}"
    )
    got = _call(breaker, partner)
    assert isinstance(got, nb.HTTPError) and partner.calls == 3, (
        f"the half-open trial should reach the partner and re-raise its failure: {got!r}, "
        f"calls {partner.calls}"
    )
    clock.now = 15.0
    assert strictly_equal(breaker.state, "open"), (
        f"a failed trial at t=10 reopens the breaker for a full 10 s; at t=15 it should be open, "
        f"got {breaker.state!r}. Likely cause: the opening time was not reset on the failed trial"
    )
    got = _call(breaker, partner)
    assert isinstance(got, nb.CircuitOpen) and partner.calls == 3, (
        f"expected CircuitOpen at t=15, got {got!r}"
    )
    clock.now = 20.0
    partner.up = True
    assert strictly_equal(_call(breaker, partner), "ok") and strictly_equal(
        breaker.state, "closed"
    ), f"a successful trial at t=20 should close it, state {breaker.state!r}"


@pytest.mark.check(exercise="circuit-breaker", points=2, hidden=True)
def test_hidden_permanent_failures_do_not_open_it(nb):
    breaker = nb.CircuitBreaker(failure_threshold=2, reset_timeout=10, clock=Clock())
    partner = Partner(nb.HTTPError(404, "no such sku"))
    partner.up = False
    results = [_call(breaker, partner) for _ in range(4)]
    assert all(isinstance(r, nb.HTTPError) for r in results) and strictly_equal(
        breaker.state, "closed"
    ), (
        f"404 is the caller's fault (permanent): it is re-raised but must not open the breaker; "
        f"after 4 of them the state is {breaker.state!r}, results {results}"
    )


@pytest.mark.check(exercise="circuit-breaker", points=2, hidden=True)
def test_hidden_threshold_one_and_closed_count_after_trial(nb):
    clock = Clock()
    breaker = nb.CircuitBreaker(failure_threshold=1, reset_timeout=5, clock=clock)
    partner = Partner(ConnectionError("refused"))
    partner.up = False
    _call(breaker, partner)
    assert strictly_equal(breaker.state, "open"), (
        f"threshold 1: one failure opens it, state {breaker.state!r}"
    )
    clock.now = 5
    partner.up = True
    _call(breaker, partner)
    assert strictly_equal(breaker.state, "closed"), (
        f"the trial succeeded: closed, got {breaker.state!r}"
    )
    big = nb.CircuitBreaker(failure_threshold=3, reset_timeout=5, clock=clock)
    partner.up = False
    _call(big, partner)
    _call(big, partner)
    assert strictly_equal(big.state, "closed"), (
        f"2 failures of threshold 3 must not open it, got {big.state!r}"
    )
