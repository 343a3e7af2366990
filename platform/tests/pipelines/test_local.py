"""The in-process runner: the reference behaviour the engines must match."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orchlab.errors import SpecError
from orchlab.pipelines import ModelRegistry, PipelineFailed, PipelineResult, run_local

Spec = Callable[..., dict[str, Any]]


def test_reference_pipeline_runs_and_registers(tmp_path: Path, registry_dir: Path) -> None:
    result = run_local(
        "wine_training",
        {"model": "random_forest"},
        workdir=tmp_path / "run",
        registry_dir=registry_dir,
    )
    assert result.succeeded and result.engine == "local" and result.error is None
    assert [s.status for s in result.steps] == ["succeeded"] * 9
    assert result.metrics["evaluate"]["accuracy"] > 0.9
    assert result.metrics["monitor"]["max_psi"] < 0.25
    version = result.artifacts["model"]
    assert version["version"] == 1 and version["tags"]["algorithm"] == "random_forest"
    assert ModelRegistry(registry_dir).get("wine-classifier").tags["run_id"] == result.run_id
    saved = PipelineResult.model_validate(
        json.loads((tmp_path / "run" / "result.json").read_text())
    )
    assert saved == result


def test_results_are_deterministic(tmp_path: Path, registry_dir: Path) -> None:
    runs = [
        run_local("wine_training", workdir=tmp_path / str(i), registry_dir=registry_dir)
        for i in range(2)
    ]
    assert runs[0].metrics == runs[1].metrics
    assert runs[1].artifacts["model"]["version"] == 2


def test_failed_step_skips_what_depends_on_it(tmp_path: Path, registry_dir: Path) -> None:
    result = run_local("wine_training", {"drift": 1.0}, workdir=tmp_path, registry_dir=registry_dir)
    assert result.status == "failed"
    assert result.step("monitor").status == "failed"
    assert result.step("transform").status == "succeeded"  # same stage: it still ran
    assert result.step("register").status == "skipped"
    assert result.error is not None and result.error.startswith(
        "step 'monitor': ValidationFailed: data drift"
    )
    with pytest.raises(
        PipelineFailed, match=r"pipeline 'wine_training' failed on local: step 'monitor'"
    ):
        result.raise_for_status()


def test_transient_failures_are_retried(tmp_path: Path, flaky_spec: Spec) -> None:
    waits: list[float] = []
    result = run_local(flaky_spec(retries=2, succeed_on=3), workdir=tmp_path, sleep=waits.append)
    assert result.succeeded and result.step("call").attempts == 3
    assert waits == [0.1, 0.1]


def test_retries_run_out(tmp_path: Path, flaky_spec: Spec) -> None:
    result = run_local(flaky_spec(retries=1, succeed_on=5), workdir=tmp_path, sleep=lambda _: None)
    call = result.step("call")
    assert (call.status, call.attempts) == ("failed", 2)
    assert call.error == "TransientError: service unavailable on attempt 2"
    assert result.step("load").status == "skipped"


def test_permanent_failures_are_not_retried(tmp_path: Path, flaky_spec: Spec) -> None:
    result = run_local(
        flaky_spec(retries=3, succeed_on=2, permanent=True), workdir=tmp_path, sleep=lambda _: None
    )
    assert result.step("call").attempts == 1
    assert result.step("call").error == "ValueError: bad input on attempt 1"


def test_invalid_parameters_run_nothing(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"parameter 'seed' expects int"):
        run_local("wine_training", {"seed": "x"}, workdir=tmp_path)
    assert not tmp_path.joinpath("ingest").exists()
