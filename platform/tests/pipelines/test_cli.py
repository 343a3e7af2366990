"""``orchlab run``: dry runs, runs on each engine, and one-line errors with exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import orchlab.cli.run
import orchlab.cli.services  # noqa: F401
from orchlab.cli import app

runner = CliRunner()


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")


def test_dry_run_prints_the_plan_and_runs_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "wine_training", "--dry-run", "-p", "model=random_forest"])
    assert result.exit_code == 0, result.output
    assert "wine_training v1: 9 steps in 7 stages" in result.output
    assert "model=random_forest" in result.output
    for column in ("stage", "step", "task", "needs", "retries"):
        assert column in result.output
    assert "validate, ingest_batch" in result.output and "2 x 1s" in result.output
    assert not (tmp_path / "state" / "runs").exists()


def test_dry_run_of_a_spec_file(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text("name: tiny\nsteps:\n  - {name: load, task: ingest}\n")
    result = runner.invoke(app, ["run", str(spec), "--dry-run"])
    assert result.exit_code == 0 and "tiny v1: 1 steps in 1 stages" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "model=svm"], "error: parameter 'model' must be one of"),
        (["-p", "model"], "error: --param expects key=value, got 'model'"),
        (["-p", "colour=red"], "error: unknown parameter(s) for pipeline 'wine_training': colour"),
    ],
)
def test_bad_parameters_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["run", "wine_training", *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_spec_exits_2(tmp_path: Path) -> None:
    spec = tmp_path / "cyclic.yaml"
    spec.write_text(
        "name: cyclic\nsteps:\n"
        "  - {name: a, task: ingest, needs: [b]}\n"
        "  - {name: b, task: ingest, needs: [a]}\n"
    )
    result = runner.invoke(app, ["run", str(spec), "--dry-run"])
    assert result.exit_code == 2
    assert "error: dependency cycle between steps: " in result.output
    missing = runner.invoke(app, ["run", "no_such_pipeline"])
    assert missing.exit_code == 2 and "bundled examples: wine_training" in missing.output


def test_local_run_succeeds(tmp_path: Path) -> None:
    result = runner.invoke(app, ["run", "wine_training", "--workdir", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    assert "on local: succeeded" in result.output and "accuracy=" in result.output
    assert (tmp_path / "run" / "result.json").is_file()


def test_failed_run_exits_1_with_one_line() -> None:
    result = runner.invoke(app, ["run", "wine_training", "-p", "drift=1.5"])
    assert result.exit_code == 1
    assert (
        "error: pipeline 'wine_training' failed: step 'monitor': ValidationFailed: data drift"
        in result.output
    )
    assert "Traceback" not in result.output


def test_missing_engine_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TEMPORAL_ADDRESS", raising=False)
    result = runner.invoke(app, ["run", "wine_training", "--engine", "temporal"])
    assert result.exit_code == 1
    assert "error: no Temporal" in result.output


def test_prefect_run(prefect_api_url: str) -> None:
    result = runner.invoke(app, ["run", "wine_training", "--engine", "prefect"])
    assert result.exit_code == 0, result.output
    assert "on prefect: succeeded" in result.output


def test_temporal_run(
    temporal_address: str, task_queue: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_address)
    result = runner.invoke(
        app, ["run", "wine_training", "-e", "temporal", "--task-queue", task_queue]
    )
    assert result.exit_code == 0, result.output
    assert "on temporal: succeeded" in result.output
