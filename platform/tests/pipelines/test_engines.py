"""The same pipeline on Prefect and Temporal gives the same results as in-process.

Runs against a real Prefect server and a real Temporal dev server, started once per
session by the ``orchlab.testing`` fixtures (or given by PREFECT_API_URL / TEMPORAL_ADDRESS).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterName,
    TaskRunFilter,
    TaskRunFilterName,
)
from prefect.client.schemas.sorting import TaskRunSort
from prefect.settings import PREFECT_API_URL, temporary_settings
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy as TemporalRetryPolicy

from orchlab.errors import FailureClass
from orchlab.pipelines import PipelineResult, run_local, run_prefect, run_temporal
from orchlab.pipelines._retry import StepRetry
from orchlab.reliability import failure_details

Spec = Callable[..., dict[str, Any]]
PARAMS = {"model": "gradient_boosting", "seed": "3", "date": "2026-01-31"}


@pytest.fixture(scope="module")
def local_result(tmp_path_factory: pytest.TempPathFactory) -> PipelineResult:
    tmp = tmp_path_factory.mktemp("local")
    return run_local("wine_training", PARAMS, workdir=tmp / "run", registry_dir=tmp / "registry")


def _comparable(result: PipelineResult) -> list[tuple[str, str, int]]:
    return [(s.name, s.status, s.attempts) for s in result.steps]


def test_prefect_matches_local(
    prefect_api_url: str, local_result: PipelineResult, tmp_path: Path, registry_dir: Path
) -> None:
    result = run_prefect(
        "wine_training",
        PARAMS,
        api_url=prefect_api_url,
        workdir=tmp_path,
        registry_dir=registry_dir,
    )
    assert result.engine == "prefect" and result.succeeded, result.error
    assert result.metrics == local_result.metrics
    assert _comparable(result) == _comparable(local_result)
    assert result.artifacts["metrics"] == local_result.artifacts["metrics"]
    # The engine's own id of the run: the flow run the Prefect UI links to.
    with temporary_settings({PREFECT_API_URL: prefect_api_url}):

        async def flow_run_name() -> str:
            async with get_client() as client:
                return (await client.read_flow_run(result.engine_run_id)).name

        assert asyncio.run(flow_run_name()) == result.run_id
    assert local_result.engine_run_id == ""


async def test_temporal_matches_local(
    temporal_client: Client,
    task_queue: str,
    local_result: PipelineResult,
    tmp_path: Path,
    registry_dir: Path,
) -> None:
    result = await run_temporal(
        "wine_training",
        PARAMS,
        client=temporal_client,
        task_queue=task_queue,
        workdir=tmp_path,
        registry_dir=registry_dir,
    )
    assert result.engine == "temporal" and result.succeeded, result.error
    assert result.metrics == local_result.metrics
    assert _comparable(result) == _comparable(local_result)
    assert result.engine_run_id == f"wine_training/{result.run_id}"
    handle = temporal_client.get_workflow_handle(result.engine_run_id)
    assert (await handle.describe()).status is not None


def test_prefect_reports_a_failed_step(
    prefect_api_url: str, tmp_path: Path, registry_dir: Path
) -> None:
    result = run_prefect(
        "wine_training",
        {"drift": 1.0},
        api_url=prefect_api_url,
        workdir=tmp_path,
        registry_dir=registry_dir,
    )
    local = run_local(
        "wine_training", {"drift": 1.0}, workdir=tmp_path / "local", registry_dir=registry_dir
    )
    assert result.status == "failed" and result.error == local.error
    assert _comparable(result) == _comparable(local)


async def test_temporal_reports_a_failed_step(
    temporal_client: Client, task_queue: str, tmp_path: Path, registry_dir: Path
) -> None:
    result = await run_temporal(
        "wine_training",
        {"drift": 1.0},
        client=temporal_client,
        task_queue=task_queue,
        workdir=tmp_path,
        registry_dir=registry_dir,
    )
    local = run_local(
        "wine_training", {"drift": 1.0}, workdir=tmp_path / "local", registry_dir=registry_dir
    )
    assert result.status == "failed" and result.error == local.error
    assert _comparable(result) == _comparable(local)


def test_prefect_retries_transient_failures_only(
    prefect_api_url: str, tmp_path: Path, flaky_spec: Spec
) -> None:
    ok = run_prefect(
        flaky_spec(retries=2, succeed_on=2), api_url=prefect_api_url, workdir=tmp_path / "a"
    )
    assert ok.succeeded and ok.step("call").attempts == 2
    assert ok.metrics["call"] == {"attempt": 2.0}
    permanent = run_prefect(
        flaky_spec(retries=2, succeed_on=2, permanent=True),
        api_url=prefect_api_url,
        workdir=tmp_path / "b",
    )
    assert permanent.step("call").attempts == 1
    assert permanent.step("call").error == "ValueError: bad input on attempt 1"


async def test_temporal_retries_transient_failures_only(
    temporal_client: Client, task_queue: str, tmp_path: Path, flaky_spec: Spec
) -> None:
    ok = await run_temporal(
        flaky_spec(retries=2, succeed_on=2),
        client=temporal_client,
        task_queue=task_queue,
        workdir=tmp_path / "a",
    )
    assert ok.succeeded and ok.step("call").attempts == 2
    permanent = await run_temporal(
        flaky_spec(retries=2, succeed_on=2, permanent=True),
        client=temporal_client,
        task_queue=task_queue,
        workdir=tmp_path / "b",
    )
    assert permanent.step("call").attempts == 1
    assert permanent.step("call").error == "ValueError: bad input on attempt 1"
    exhausted = await run_temporal(
        flaky_spec(retries=1, succeed_on=9),
        client=temporal_client,
        task_queue=task_queue,
        workdir=tmp_path / "c",
    )
    assert (exhausted.step("call").attempts, exhausted.step("load").status) == (2, "skipped")


# A step wrapped with the reliability helpers (conftest's `classified` template): its
# team classifier calls a locked database transient and a partner's TimeoutError permanent,
# the opposite of the default classifier, so only a runner that keeps the classification
# the step's ApplicationError carries retries the right one.
WRAPPED_RETRY = {
    "max_attempts": 3,
    "initial_interval": 0.05,
    "backoff": 2,
    "max_interval": 0.1,
    "jitter": "none",
    "deadline": 60,
}
WRAPPED_CASES = [
    # (error, succeed_on): status, attempts, failure class, error
    (("locked", 3), ("succeeded", 3, None, None)),
    (
        ("locked", 9),
        ("failed", 3, FailureClass.TRANSIENT, "OperationalError: database is locked on attempt 3"),
    ),
    (
        ("timeout", 9),
        ("failed", 1, FailureClass.PERMANENT, "TimeoutError: partner gave up on attempt 1"),
    ),
]


def _wrapped(one_step_spec: Spec, error: str, succeed_on: int) -> dict[str, Any]:
    params = {"error": error, "succeed_on": succeed_on}
    return one_step_spec("classified", params, retry=WRAPPED_RETRY)


def _outcome(result: PipelineResult) -> tuple[str, int, FailureClass | None, str | None]:
    step = result.step("call")
    return step.status, step.attempts, step.failure_class, step.error


def _check_wrapped(results: list[PipelineResult], tmp_path: Path, one_step_spec: Spec) -> None:
    for result, ((error, succeed_on), expected) in zip(results, WRAPPED_CASES, strict=True):
        assert _outcome(result) == expected, (error, succeed_on)
        local = run_local(
            _wrapped(one_step_spec, error, succeed_on),
            workdir=tmp_path / f"local-{error}-{succeed_on}",
            sleep=lambda _: None,
        )
        assert _outcome(local) == expected
        assert _comparable(result) == _comparable(local)
    assert results[0].metrics["call"] == {"attempt": 3.0}
    assert results[1].step("load").status == "skipped"


def _prefect_task_policy(api_url: str, run_id: str) -> Any:
    # The retry settings Prefect recorded for the step's task run (written asynchronously).
    filters = {
        "flow_run_filter": FlowRunFilter(name=FlowRunFilterName(any_=[run_id])),
        "task_run_filter": TaskRunFilter(name=TaskRunFilterName(any_=["call"])),
        "sort": TaskRunSort.EXPECTED_START_TIME_DESC,
        "limit": 1,
    }
    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        for _ in range(100):
            runs = client.read_task_runs(**filters)
            if runs:
                return runs[0].empirical_policy
            time.sleep(0.1)
    raise AssertionError(f"no task run 'call' recorded for flow run {run_id}")


def test_prefect_runs_a_step_wrapped_with_the_reliability_helpers(
    prefect_api_url: str, tmp_path: Path, one_step_spec: Spec
) -> None:
    results = [
        run_prefect(
            _wrapped(one_step_spec, error, succeed_on),
            api_url=prefect_api_url,
            workdir=tmp_path / f"{error}-{succeed_on}",
        )
        for (error, succeed_on), _ in WRAPPED_CASES
    ]
    _check_wrapped(results, tmp_path, one_step_spec)
    # What Prefect ran is the policy's rendering.
    rendered = StepRetry(**WRAPPED_RETRY).policy().prefect_task_options()  # type: ignore[arg-type]
    recorded = _prefect_task_policy(prefect_api_url, results[1].run_id)
    assert recorded.retries == rendered["retries"] == 2
    assert recorded.retry_delay == rendered["retry_delay_seconds"] == [0.05, 0.1]
    assert recorded.retry_jitter_factor is None


async def test_temporal_runs_a_step_wrapped_with_the_reliability_helpers(
    temporal_client: Client, task_queue: str, tmp_path: Path, one_step_spec: Spec
) -> None:
    results = [
        await run_temporal(
            _wrapped(one_step_spec, error, succeed_on),
            client=temporal_client,
            task_queue=task_queue,
            workdir=tmp_path / f"{error}-{succeed_on}",
        )
        for (error, succeed_on), _ in WRAPPED_CASES
    ]
    _check_wrapped(results, tmp_path, one_step_spec)
    # What the server scheduled is the policy's rendering, deadline included.
    policy = StepRetry(**WRAPPED_RETRY).policy()  # type: ignore[arg-type]
    handle = temporal_client.get_workflow_handle(f"retrying/{results[1].run_id}")
    scheduled = [
        event.activity_task_scheduled_event_attributes
        async for event in handle.fetch_history_events()
        if event.HasField("activity_task_scheduled_event_attributes")
    ]
    call = next(attrs for attrs in scheduled if attrs.activity_id == "call")
    assert TemporalRetryPolicy.from_proto(call.retry_policy) == policy.to_temporal()
    assert call.schedule_to_close_timeout.ToTimedelta() == timedelta(seconds=60)
    # The workflow's own failure follows the one schema too.
    with pytest.raises(WorkflowFailureError) as caught:
        await handle.result()
    details = failure_details(caught.value)
    assert details is not None and details.failure_class is FailureClass.TRANSIENT
    assert (details.text, details.attempt, details.rule) == (
        "OperationalError: database is locked on attempt 3",
        3,
        "step 'call'",
    )
