"""RetryPolicy: delays and jitter, running plain code without real waiting, and its
renderings for Temporal, Prefect (run on a real server) and tenacity."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import tenacity
from prefect import flow, task

from orchlab.errors import FailureClass, TransientError
from orchlab.reliability import FailureClassifier, Jitter, RetryEvent, RetryPolicy


class FakeTime:
    """A clock that only moves when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def flaky(failures: int, error: Callable[[int], Exception] = TransientError) -> Callable[[], str]:
    calls = {"n": 0}

    def fn() -> str:
        calls["n"] += 1
        if calls["n"] <= failures:
            raise error(calls["n"])  # type: ignore[call-arg]
        return f"ok after {calls['n']}"

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def test_exponential_delays_are_capped() -> None:
    policy = RetryPolicy(
        max_attempts=6, initial_interval=1, backoff=3, max_interval=20, jitter=Jitter.NONE
    )
    assert policy.delays() == [1, 3, 9, 20, 20]


@pytest.mark.parametrize(("jitter", "low"), [(Jitter.FULL, 0.0), (Jitter.EQUAL, 0.5)])
def test_jitter_stays_within_its_band_and_is_seeded(jitter: Jitter, low: float) -> None:
    policy = RetryPolicy(
        max_attempts=200, initial_interval=2, max_interval=2, jitter=jitter, seed=7
    )
    delays = policy.delays()
    assert all(low * 2 <= d <= 2 for d in delays)
    assert min(delays) < low * 2 + 0.1 and max(delays) > 1.9  # it really spreads
    assert (
        delays
        == RetryPolicy(
            max_attempts=200, initial_interval=2, max_interval=2, jitter=jitter, seed=7
        ).delays()
    )
    assert (
        delays
        != RetryPolicy(
            max_attempts=200, initial_interval=2, max_interval=2, jitter=jitter, seed=8
        ).delays()
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_attempts": 0}, "max_attempts must be at least 1, got 0"),
        ({"backoff": 0.5}, "backoff must be >= 1"),
        (
            {"initial_interval": 5, "max_interval": 1},
            r"max_interval \(1\) must be >= initial_interval",
        ),
        ({"deadline": 0}, "deadline must be > 0 seconds or None"),
    ],
)
def test_invalid_policies_are_rejected(options: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RetryPolicy(**options)  # type: ignore[arg-type]


def test_call_retries_transient_failures_with_the_policys_delays() -> None:
    fake = FakeTime()
    events: list[RetryEvent] = []
    policy = RetryPolicy(
        max_attempts=5, seed=3, clock=fake.clock, sleep=fake.sleep, on_retry=events.append
    )
    assert policy.call(flaky(3)) == "ok after 4"
    assert fake.sleeps == policy.delays()[:3]
    assert [e.attempt for e in events] == [1, 2, 3]
    assert events[1].elapsed == pytest.approx(fake.sleeps[0])


def test_permanent_failures_are_raised_at_once() -> None:
    fake = FakeTime()
    fn = flaky(1, lambda n: ValueError(f"bad input {n}"))
    with pytest.raises(ValueError, match="bad input 1"):
        RetryPolicy(sleep=fake.sleep).call(fn)
    assert fn.calls["n"] == 1 and fake.sleeps == []  # type: ignore[attr-defined]


def test_exhausted_attempts_reraise_the_last_failure_with_a_note() -> None:
    fake = FakeTime()
    with pytest.raises(TransientError, match=r"^3") as caught:
        RetryPolicy(max_attempts=3, sleep=fake.sleep, clock=fake.clock).call(flaky(10))
    assert "gave up after 3 attempts (max_attempts=3)" in caught.value.__notes__
    assert len(fake.sleeps) == 2


def test_deadline_stops_retrying_before_it_would_be_passed() -> None:
    fake = FakeTime()
    policy = RetryPolicy(
        max_attempts=50,
        initial_interval=1,
        jitter=Jitter.NONE,
        deadline=10,
        clock=fake.clock,
        sleep=fake.sleep,
    )
    with pytest.raises(TransientError) as caught:
        policy.call(flaky(100))
    assert fake.sleeps == [1, 2, 4]  # 7 s spent; the next 8 s delay would end after 10 s
    assert "would start after the 10 s deadline" in caught.value.__notes__[0]


async def test_acall_and_wrap_for_coroutines() -> None:
    fake = FakeTime()
    policy = RetryPolicy(
        max_attempts=3, seed=1, clock=fake.clock, sleep=fake.sleep, async_sleep=fake.async_sleep
    )
    sync = flaky(2)

    @policy.wrap
    async def fetch() -> str:
        return sync()

    assert await fetch() == "ok after 3"
    assert fake.sleeps == policy.delays()
    assert policy.wrap(flaky(1))() == "ok after 2"


def test_to_temporal_and_activity_options() -> None:
    classifier = FailureClassifier().with_rule(FailureClass.PERMANENT, types=(KeyError,))
    policy = RetryPolicy(
        max_attempts=4,
        initial_interval=0.5,
        backoff=3,
        max_interval=30,
        deadline=120,
        classifier=classifier,
    )
    rendered = policy.to_temporal()
    assert rendered.maximum_attempts == 4 and rendered.backoff_coefficient == 3
    assert rendered.initial_interval == timedelta(seconds=0.5)
    assert rendered.maximum_interval == timedelta(seconds=30)
    assert rendered.non_retryable_error_types == ["KeyError"]
    options = policy.temporal_activity_options(start_to_close=10, heartbeat=2)
    assert options["schedule_to_close_timeout"] == timedelta(seconds=120)
    assert options["start_to_close_timeout"] == timedelta(seconds=10)
    assert options["heartbeat_timeout"] == timedelta(seconds=2)
    with pytest.raises(ValueError, match="needs start_to_close= or a policy deadline"):
        RetryPolicy().temporal_activity_options()


def test_prefect_task_options() -> None:
    options = RetryPolicy(
        max_attempts=4, initial_interval=2, jitter=Jitter.EQUAL
    ).prefect_task_options()
    assert options["retries"] == 3
    assert options["retry_delay_seconds"] == [2, 4, 8]
    assert options["retry_jitter_factor"] == 0.5
    # Delays that reach the cap stop the list: Prefect repeats its last delay.
    capped = RetryPolicy(max_attempts=60, initial_interval=1, max_interval=5).prefect_task_options()
    assert capped["retries"] == 59 and capped["retry_delay_seconds"] == [1, 2, 4, 5]
    with pytest.raises(ValueError, match="at most 50 retry delays; this policy's delays grow"):
        RetryPolicy(max_attempts=60, backoff=1.01, max_interval=1e9).prefect_task_options()


def test_fixed_delay_policies() -> None:
    policy = RetryPolicy.fixed(retries=3, delay=2)
    assert (policy.max_attempts, policy.jitter, policy.delays()) == (4, Jitter.NONE, [2, 2, 2])
    assert policy.prefect_task_options()["retry_delay_seconds"] == [2]
    with pytest.raises(ValueError, match="retries must be >= 0, got -1"):
        RetryPolicy.fixed(retries=-1, delay=1)


def test_the_loop_is_tenacitys_and_one_retrying_serves_many_runs() -> None:
    fake = FakeTime()
    events: list[RetryEvent] = []
    policy = RetryPolicy(
        max_attempts=3,
        seed=4,
        deadline=100,
        clock=fake.clock,
        sleep=fake.sleep,
        on_retry=events.append,
    )
    retrying = policy.tenacity()
    assert isinstance(retrying, tenacity.Retrying)
    assert retrying(flaky(2)) == "ok after 3"
    first = list(fake.sleeps)
    assert retrying(flaky(2)) == "ok after 3"
    # Each run starts its own jitter sequence and its own deadline clock.
    assert first == policy.delays() and fake.sleeps == first * 2
    assert [e.attempt for e in events] == [1, 2, 1, 2]
    assert events[2].elapsed == 0
    attempts = 0
    with pytest.raises(TransientError) as caught:
        for attempt in retrying:
            with attempt:
                attempts += 1
                raise TransientError("still down")
    assert attempts == 3
    assert "gave up after 3 attempts (max_attempts=3)" in caught.value.__notes__


def test_interrupts_are_never_retried() -> None:
    fake = FakeTime()
    calls = []

    def interrupted() -> None:
        calls.append(1)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        RetryPolicy(sleep=fake.sleep).call(interrupted)
    assert calls == [1] and fake.sleeps == []


def test_prefect_retry_condition_honours_class_and_deadline() -> None:
    condition = RetryPolicy(deadline=60).prefect_task_options()["retry_condition_fn"]
    fresh = SimpleNamespace(start_time=datetime.now(UTC))
    old = SimpleNamespace(start_time=datetime.now(UTC) - timedelta(seconds=61))
    assert condition(None, fresh, SimpleNamespace(data=TimeoutError()))
    assert not condition(None, fresh, SimpleNamespace(data=ValueError()))
    assert not condition(None, old, SimpleNamespace(data=TimeoutError()))


def test_prefect_retries_only_transient_failures(prefect_api_url: str) -> None:
    attempts: list[str] = []
    options = RetryPolicy(max_attempts=3, initial_interval=0, max_interval=0).prefect_task_options()

    @task(**options)
    def call(kind: str) -> str:
        attempts.append(kind)
        if kind == "transient" and attempts.count(kind) < 3:
            raise TransientError("busy")
        if kind == "permanent":
            raise ValueError("bad request")
        return kind

    @flow
    def both() -> list[str]:
        ok = call("transient")
        failed = call("permanent", return_state=True)
        return [ok, failed.name]

    assert both() == ["transient", "Failed"]
    assert attempts == ["transient"] * 3 + ["permanent"]


def test_tenacity_rendering_uses_the_same_delays_and_classes() -> None:
    fake = FakeTime()
    policy = RetryPolicy(max_attempts=4, seed=5, sleep=fake.sleep)
    assert policy.tenacity()(flaky(3)) == "ok after 4"
    assert fake.sleeps == policy.delays()
    fn = flaky(1, lambda n: ValueError("bad"))
    with pytest.raises(ValueError):
        policy.tenacity()(fn)
    assert fn.calls["n"] == 1  # type: ignore[attr-defined]
