"""Checks for exercise ``prefect-retries``: ``prefect_retry_options(policy)``.

Contract: ``retries = max_attempts - 1``; ``retry_delay_seconds`` = the waits of
``backoff_delays`` without jitter; ``retry_condition_fn(task, task_run, state)`` returns True
only for a transient failure. Checked on the Prefect server with a real flow.
"""

import contextlib
import logging
import random

import pytest
from prefect import flow, task

from labgrader.checks import strictly_close, strictly_equal


@contextlib.contextmanager
def _quiet():
    loggers = [logging.getLogger(n) for n in ("prefect.flow_runs", "prefect.task_runs")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _run(nb, policy, failures):
    """Run a one-task flow whose task raises ``failures`` in order, then returns 42."""
    calls = []

    def lookup() -> int:
        calls.append(1)
        if len(calls) <= len(failures):
            raise failures[len(calls) - 1]
        return 42

    options = nb.prefect_retry_options(policy)

    @flow(name="lab02-check-retries")
    def one_task() -> int:
        return task(lookup, **options)()

    with _quiet():
        state = one_task(return_state=True)
    return state, len(calls)


def _no_jitter(nb, policy):
    return nb.backoff_delays(
        nb.Backoff(policy.initial, policy.multiplier, policy.maximum, policy.max_attempts, "none"),
        random.Random(0),
    )


@pytest.mark.check(exercise="prefect-retries", points=3)
def test_options_carry_the_policy(nb):
    policy = nb.Backoff(initial=0.5, multiplier=3, maximum=2, max_attempts=4)
    options = nb.prefect_retry_options(policy)
    assert isinstance(options, dict), f"expected a dict of task options, got {options!r}"
    assert strictly_equal(options.get("retries"), 3), (
        f"max_attempts=4 is 3 retries; got retries={options.get('retries')!r}"
    )
    delays = options.get("retry_delay_seconds")
    assert strictly_close(delays, [0.5, 1.5, 2.0]), (
        f"expected retry_delay_seconds [0.5, 1.5, 2.0] (no jitter, capped at 2), got {delays!r}"
    )
    assert callable(options.get("retry_condition_fn")), "expected a callable retry_condition_fn"


@pytest.mark.check(exercise="prefect-retries", points=3)
def test_transient_failures_are_retried_on_prefect(nb, prefect_api_url):
    policy = nb.Backoff(initial=0.01, multiplier=2, maximum=0.05, max_attempts=4)
    state, calls = _run(nb, policy, [nb.HTTPError(503), ConnectionError("drop")])
    assert state.is_completed(), (
        f"two transient failures then success within 4 attempts: the flow should complete, "
        f"it ended {state.name}: {state.message} after {calls} calls"
    )
    assert calls == 3, f"expected 3 calls of the task, got {calls}"


@pytest.mark.check(exercise="prefect-retries", points=2, hidden=True)
def test_hidden_permanent_failure_is_not_retried_on_prefect(nb, prefect_api_url):
    policy = nb.Backoff(initial=0.01, multiplier=2, maximum=0.05, max_attempts=4)
    state, calls = _run(nb, policy, [nb.HTTPError(422, "bad row")] * 4)
    assert state.is_failed() and calls == 1, (
        f"HTTP 422 is permanent: the task should fail after 1 call, the flow ended "
        f"{state.name} after {calls} calls. Likely cause: retry_condition_fn returns True for "
        f"every failure; classify state.result(raise_on_failure=False)"
    )


@pytest.mark.check(exercise="prefect-retries", points=2, hidden=True)
def test_hidden_other_policy_and_exhaustion(nb, prefect_api_url):
    policy = nb.Backoff(initial=1.5, multiplier=2, maximum=100, max_attempts=3)
    options = nb.prefect_retry_options(policy)
    expected = _no_jitter(nb, policy)
    assert strictly_equal(options.get("retries"), 2) and strictly_close(
        options.get("retry_delay_seconds"), expected
    ), (
        f"{policy}: expected retries=2, retry_delay_seconds={expected}, got "
        f"{options.get('retries')!r}, {options.get('retry_delay_seconds')!r}"
    )
    fast = nb.Backoff(initial=0.01, multiplier=1, maximum=0.01, max_attempts=2)
    state, calls = _run(nb, fast, [TimeoutError("t")] * 5)
    assert state.is_failed() and calls == 2, (
        f"max_attempts=2 with transient failures: expected a failed flow after 2 calls, got "
        f"{state.name} after {calls} calls"
    )
