"""The circuit breaker: opening, fast failure, half-open probes, fallbacks and sharing."""

from __future__ import annotations

from collections.abc import Iterator

import pybreaker
import pytest

from orchlab.errors import TransientError
from orchlab.reliability import (
    BreakerState,
    CircuitBreaker,
    CircuitOpenError,
    breakers,
    forget_breakers,
    get_breaker,
)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Dependency:
    def __init__(self) -> None:
        self.healthy = False
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if not self.healthy:
            raise TransientError("feature store unavailable")
        return "features"


class Recorder(pybreaker.CircuitBreakerListener):
    def __init__(self) -> None:
        self.changes: list[str] = []

    def state_change(self, cb: object, old_state: object, new_state: object) -> None:
        self.changes.append(str(getattr(new_state, "name", new_state)))


@pytest.fixture(autouse=True)
def _fresh_registry() -> Iterator[None]:
    forget_breakers()
    yield
    forget_breakers()


def _trip(breaker: CircuitBreaker, dep: Dependency, times: int) -> None:
    for _ in range(times):
        with pytest.raises(TransientError, match="unavailable"):
            breaker.call(dep)


def test_opens_after_fail_max_and_then_fails_fast() -> None:
    clock, dep = Clock(), Dependency()
    breaker = CircuitBreaker("features", fail_max=3, reset_timeout=30, clock=clock)
    _trip(breaker, dep, 3)  # the tripping call raises its own error
    assert breaker.state is BreakerState.OPEN
    clock.now = 10
    with pytest.raises(CircuitOpenError, match=r"'features' is open .* in 20.0 s") as caught:
        breaker.call(dep)
    assert caught.value.retry_after == pytest.approx(20) and dep.calls == 3
    snap = breaker.snapshot()
    assert (snap.state, snap.fail_max, snap.retry_after) == (BreakerState.OPEN, 3, 20)


def test_half_open_probe_closes_on_success_and_reopens_on_failure() -> None:
    clock, dep = Clock(), Dependency()
    recorder = Recorder()
    breaker = CircuitBreaker("features", fail_max=2, reset_timeout=30, clock=clock)
    breaker.add_listener(recorder)
    _trip(breaker, dep, 2)
    clock.now = 31
    _trip(breaker, dep, 1)  # the probe fails: open again, for another 30 s
    assert breaker.state is BreakerState.OPEN and dep.calls == 3
    clock.now = 45
    with pytest.raises(CircuitOpenError):
        breaker.call(dep)
    clock.now = 62
    dep.healthy = True
    assert breaker.call(dep) == "features"
    assert breaker.state is BreakerState.CLOSED
    assert recorder.changes == ["open", "half-open", "open", "half-open", "closed"]


def test_permanent_failures_do_not_open_the_breaker() -> None:
    breaker = CircuitBreaker("api", fail_max=2)

    def bad_request() -> None:
        raise ValueError("schema mismatch")

    for _ in range(5):
        with pytest.raises(ValueError):
            breaker.call(bad_request)
    assert breaker.state is BreakerState.CLOSED


def test_fallback_serves_when_open_or_failing() -> None:
    clock, dep = Clock(), Dependency()
    breaker = CircuitBreaker("features", fail_max=2, reset_timeout=5, clock=clock)
    seen: list[str] = []

    def cached(error: BaseException) -> str:
        seen.append(type(error).__name__)
        return "cached features"

    assert breaker.call(dep, fallback=cached) == "cached features"
    assert breaker.call(dep, fallback=cached) == "cached features"
    assert breaker.call(dep, fallback=cached) == "cached features"
    assert seen == ["TransientError", "TransientError", "CircuitOpenError"]
    assert dep.calls == 2  # the open breaker spared the dependency


async def test_async_calls_and_decorator() -> None:
    clock = Clock()
    breaker = CircuitBreaker("model-api", fail_max=1, reset_timeout=5, clock=clock)
    state = {"up": False}

    @breaker.protect(fallback=lambda exc: "default score")
    async def score() -> str:
        if not state["up"]:
            raise ConnectionError("refused")
        return "score"

    assert await score() == "default score"
    assert breaker.state is BreakerState.OPEN
    state["up"] = True
    assert await score() == "default score"  # still open: not even tried
    clock.now = 6
    assert await score() == "score"
    assert breaker.state is BreakerState.CLOSED
    with pytest.raises(CircuitOpenError):
        breaker.force_open()
        await breaker.acall(score)
    breaker.reset()
    assert breaker.state is BreakerState.CLOSED


def test_get_breaker_is_shared_by_name() -> None:
    first = get_breaker("registry", fail_max=1)
    assert get_breaker("registry") is first
    _trip(first, Dependency(), 1)
    assert get_breaker("registry").state is BreakerState.OPEN
    assert [(s.name, s.state) for s in breakers()] == [("registry", BreakerState.OPEN)]


def test_invalid_settings() -> None:
    with pytest.raises(ValueError, match="fail_max must be at least 1"):
        CircuitBreaker("x", fail_max=0)
    with pytest.raises(ValueError, match="reset_timeout must be > 0"):
        CircuitBreaker("x", reset_timeout=0)
