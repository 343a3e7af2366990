"""Checks for exercise ``partner-fallback``: ``price_with_fallback``.

Contract: the partner is called through the breaker; success updates ``last_good`` and
returns ``(price, "partner")``; a transient failure (``CircuitOpen`` included) falls back to
``last_good``, then ``static``, else re-raises; permanent and fatal failures are re-raised.
"""

import random

import pytest

from labgrader.checks import strictly_equal


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


@pytest.mark.check(exercise="partner-fallback", points=3)
def test_outage_is_served_from_fallbacks_and_the_breaker_spares_the_partner(nb):
    clock = Clock()
    breaker = nb.CircuitBreaker(failure_threshold=3, reset_timeout=15, clock=clock)
    last_good = {}
    reached = []

    def partner(sku):
        reached.append(clock.now)
        if 3 <= clock.now < 40:
            raise nb.HTTPError(503, "maintenance")
        return 10.5

    sources = []
    for t in range(60):
        clock.now = float(t)
        price, source = nb.price_with_fallback(
            "sku-1", partner=partner, breaker=breaker, last_good=last_good, static={"sku-1": 9.0}
        )
        sources.append(source)
        expected_price = 10.5
        assert strictly_equal(price, expected_price), (
            f"t={t}: expected 10.5 (partner or last good), got {price}"
        )
    assert strictly_equal(sources[:3], ["partner"] * 3) and strictly_equal(
        sources[3:40], ["last-good"] * 37
    ), f"t=0-2 from the partner, t=3-39 from the last good value, got {sources[:41]}"
    # Failures at t=3,4,5 open the breaker; trials at 20 and 35 fail; the trial at 50 succeeds.
    assert reached == [0, 1, 2, 3, 4, 5, 20, 35, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59], (
        f"the partner should be reached only while the breaker lets calls through "
        f"(t=0-5, trials at 20, 35 and 50, then every call); it was reached at {reached}. "
        f"Likely cause: the partner is called directly instead of through breaker.call"
    )


@pytest.mark.check(exercise="partner-fallback", points=3)
def test_static_then_raise_when_there_is_no_fallback(nb):
    breaker = nb.CircuitBreaker(failure_threshold=5, reset_timeout=15, clock=Clock())

    def down(sku):
        raise TimeoutError("partner timed out")

    got = nb.price_with_fallback(
        "sku-2", partner=down, breaker=breaker, last_good={}, static={"sku-2": 4.0}
    )
    assert strictly_equal(got, (4.0, "static")), (
        f"no last good value: expected (4.0, 'static'), got {got!r}"
    )
    with pytest.raises(TimeoutError):
        nb.price_with_fallback(
            "sku-3", partner=down, breaker=breaker, last_good={}, static={"sku-2": 4.0}
        )


@pytest.mark.check(exercise="partner-fallback", points=2, hidden=True)
def test_hidden_permanent_failures_are_not_hidden(nb):
    breaker = nb.CircuitBreaker(failure_threshold=3, reset_timeout=15, clock=Clock())

    def not_found(sku):
        raise nb.HTTPError(404, f"unknown sku {sku}")

    with pytest.raises(nb.HTTPError):
        nb.price_with_fallback(
            "sku-1",
            partner=not_found,
            breaker=breaker,
            last_good={"sku-1": 1.0},
            static={"sku-1": 2.0},
        )


@pytest.mark.check(exercise="partner-fallback", points=2, hidden=True)
def test_hidden_seeded_flaky_partner_updates_last_good(nb):
    clock = Clock()
    breaker = nb.CircuitBreaker(failure_threshold=4, reset_timeout=3, clock=clock)
    draws = random.Random(2024)
    last_good = {}
    prices = {"a": 1.0, "b": 2.0}
    for t in range(40):
        clock.now = float(t)
        sku = "a" if t % 3 else "b"
        ok = draws.random() > 0.5
        prices[sku] += 1

        def partner(s, ok=ok):
            if not ok:
                raise nb.HTTPError(503)
            return prices[s]

        price, source = nb.price_with_fallback(
            sku, partner=partner, breaker=breaker, last_good=last_good, static={"a": 0.5, "b": 0.7}
        )
        if strictly_equal(source, "partner"):
            assert strictly_equal(price, prices[sku]) and strictly_equal(
                last_good.get(sku), prices[sku]
            ), f"t={t}: a partner answer {prices[sku]} must be returned and stored in last_good"
        else:
            want = last_good.get(sku, {"a": 0.5, "b": 0.7}[sku])
            assert strictly_equal(price, want) and strictly_equal(
                source, ("last-good" if sku in last_good else "static")
            ), f"t={t}: fallback for {sku} should be {want}, got {(price, source)}"
