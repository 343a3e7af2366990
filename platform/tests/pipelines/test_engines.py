"""The same pipeline on Prefect and Temporal gives the same results as in-process.

Runs against a real Prefect server and a real Temporal dev server, started once per
session by the ``orchlab.testing`` fixtures (or given by PREFECT_API_URL / TEMPORAL_ADDRESS).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from orchlab.pipelines import PipelineResult, run_local, run_prefect, run_temporal

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
    handle = temporal_client.get_workflow_handle(f"wine_training/{result.run_id}")
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
