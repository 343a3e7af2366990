"""A step's retry policy: the spec's retry block and the older fixed-delay fields, carried
by the plan, rendered the same for the local runner, Prefect and Temporal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from orchlab.errors import FailureClass, SpecError
from orchlab.pipelines import ExecutionPlan, PipelineSpec, build_plan, run_local
from orchlab.pipelines._retry import NO_RETRY, StepRetry
from orchlab.reliability import Jitter, RetryPolicy

BACKOFF = {
    "max_attempts": 5,
    "initial_interval": 0.5,
    "backoff": 2,
    "max_interval": 1.5,
    "jitter": "none",
    "deadline": 30,
}


Spec = Callable[..., dict[str, Any]]


@pytest.fixture
def spec_of(one_step_spec: Spec) -> Callable[..., PipelineSpec]:
    """A one-step spec whose step ``call`` fails transiently every time."""
    return lambda **step: PipelineSpec.from_dict(one_step_spec("flaky", {"succeed_on": 9}, **step))


def test_the_older_fixed_delay_fields_still_parse_as_a_fixed_policy(
    spec_of: Callable[..., PipelineSpec],
) -> None:
    step = spec_of(retries=2, retry_delay_seconds=1.5).step("call")
    assert step.retry_policy == StepRetry.fixed(retries=2, delay=1.5)
    policy = step.retry_policy.policy()
    assert (policy.max_attempts, policy.backoff, policy.jitter) == (3, 1.0, Jitter.NONE)
    assert policy.delays() == [1.5, 1.5]
    planned = build_plan(spec_of(retries=2, retry_delay_seconds=1.5)).steps[0]
    assert (planned.retries, planned.retry_delay_seconds) == (2, 1.5)
    assert spec_of(retries=3).step("call").retry_policy.policy().delays() == [0, 0, 0]


def test_a_step_without_retry_settings_runs_once(spec_of: Callable[..., PipelineSpec]) -> None:
    assert spec_of().step("call").retry_policy == NO_RETRY
    assert NO_RETRY.policy().max_attempts == 1 and NO_RETRY.describe() == "no retry"


def test_the_retry_block_is_a_reliability_policy(spec_of: Callable[..., PipelineSpec]) -> None:
    retry = spec_of(retry=BACKOFF).step("call").retry_policy
    assert retry.policy() == RetryPolicy(
        max_attempts=5,
        initial_interval=0.5,
        backoff=2,
        max_interval=1.5,
        jitter=Jitter.NONE,
        deadline=30,
    )
    assert retry.describe() == "5 attempts, 0.5s x2 up to 1.5s, deadline 30s"
    defaults = spec_of(retry={"max_attempts": 4}).step("call").retry_policy.policy()
    assert defaults == RetryPolicy(max_attempts=4)  # RetryPolicy's own defaults


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (
            {"retry": {"max_attempts": 3}, "retries": 2},
            "step 'call': give either retry or the older retries/retry_delay_seconds, not both",
        ),
        (
            {"retry_delay_seconds": 2},
            "step 'call': retry_delay_seconds=2 has no effect without retries",
        ),
        ({"retries": -1}, "step 'call': retries: Input should be greater than or equal to 0"),
        (
            {"retry": {"max_attempts": 0}},
            "step 'call': retry: max_attempts must be at least 1, got 0",
        ),
        (
            {"retry": {"initial_interval": 5, "max_interval": 1}},
            r"step 'call': retry: max_interval \(1.0\) must be >= initial_interval \(5.0\)",
        ),
        ({"retry": {"backoff": 0.5}}, "step 'call': retry: backoff must be >= 1"),
        ({"retry": {"deadline": 0}}, "step 'call': retry: deadline must be > 0 seconds"),
        (
            {"retry": {"jitter": "loud"}},
            "step 'call': retry.jitter: Input should be 'none', 'full' or 'equal'",
        ),
        ({"retry": {"attempts": 3}}, "step 'call': retry.attempts: Unexpected keyword"),
        (
            {"retry": {"max_attempts": 60, "backoff": 1.01, "max_interval": 1e9}},
            "step 'call': retry: Prefect accepts at most 50 retry delays",
        ),
    ],
)
def test_invalid_retry_settings_are_refused_with_the_field(
    spec_of: Callable[..., PipelineSpec], step: dict[str, Any], message: str
) -> None:
    with pytest.raises(SpecError, match=message):
        spec_of(**step)


def test_the_plan_carries_the_policy_through_its_json_form(
    spec_of: Callable[..., PipelineSpec],
) -> None:
    plan = build_plan(spec_of(retry=BACKOFF))
    again = ExecutionPlan.from_dict(plan.to_dict())
    assert again == plan and again.steps[0].retry == StepRetry(**BACKOFF)  # type: ignore[arg-type]


def test_the_policy_renders_the_same_on_the_three_runners(
    tmp_path: Path, one_step_spec: Spec
) -> None:
    retry = StepRetry(**BACKOFF)  # type: ignore[arg-type]
    expected = [0.5, 1.0, 1.5, 1.5]
    # Local: the delays it really sleeps, failing every attempt.
    slept: list[float] = []
    result = run_local(
        one_step_spec("flaky", {"succeed_on": 9}, retry=BACKOFF),
        workdir=tmp_path,
        sleep=slept.append,
    )
    assert slept == expected and result.step("call").attempts == 5
    assert result.step("call").failure_class is FailureClass.TRANSIENT
    # Prefect: the same attempts, and the same delays (it repeats a list's last one).
    prefect = retry.policy().prefect_task_options()
    delays = prefect["retry_delay_seconds"]
    assert prefect["retries"] == 4 and prefect["retry_jitter_factor"] is None
    assert [delays[min(n, len(delays) - 1)] for n in range(4)] == expected
    # Temporal: the server's backoff, initial * backoff ** n capped, gives the same delays.
    options = retry.policy().temporal_activity_options(start_to_close=10)
    temporal = options["retry_policy"]
    assert temporal.maximum_attempts == 5
    assert [
        min(
            temporal.initial_interval.total_seconds() * temporal.backoff_coefficient**n,
            temporal.maximum_interval.total_seconds(),
        )
        for n in range(4)
    ] == expected
    assert options["schedule_to_close_timeout"] == timedelta(seconds=30)


def test_zero_delays_render_for_temporal_as_its_shortest_interval() -> None:
    # Temporal's server reads a zero interval as unset (1 s): 0 must not become 1 s.
    rendered = StepRetry.fixed(retries=2, delay=0).policy().to_temporal()
    assert rendered.initial_interval == rendered.maximum_interval == timedelta(milliseconds=1)
