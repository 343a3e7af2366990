"""``orchlab run --trace``: the run's trace file covers every step, on Temporal too."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

# Registering two command modules keeps `app` a group (`orchlab run ...`).
import orchlab.cli.run
import orchlab.cli.services  # noqa: F401
from orchlab.cli import app
from orchlab.observability import read_trace

runner = CliRunner()


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHLAB_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("COLUMNS", "200")


def test_trace_goes_to_the_state_folder_by_default(tmp_path: Path) -> None:
    spec = tmp_path / "tiny.yaml"
    spec.write_text("name: tiny\nsteps:\n  - {name: load, task: ingest}\n")
    result = runner.invoke(app, ["run", str(spec), "--trace"])
    assert result.exit_code == 0, result.output
    (path,) = (tmp_path / "state" / "traces").glob("tiny-*.jsonl")
    records = read_trace(path)
    assert [r.name for r in records] == ["pipeline:tiny", "step:load"]
    assert f"trace: 2 spans in 1 trace(s), written to {path}" in result.output
    assert path.stem in result.output  # the run id names the file


def test_wine_training_on_temporal_writes_a_span_per_step(
    temporal_address: str, task_queue: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEMPORAL_ADDRESS", temporal_address)
    path = tmp_path / "wine.jsonl"
    result = runner.invoke(
        app,
        [
            "run",
            "wine_training",
            "-e",
            "temporal",
            "--task-queue",
            task_queue,
            "--trace-file",
            str(path),
        ],
    )
    assert result.exit_code == 0, result.output
    records = read_trace(path)
    assert len({r.trace_id for r in records}) == 1
    steps = {r.attributes["orchlab.step"] for r in records if r.name.startswith("step:")}
    assert steps == {
        "ingest", "ingest_batch", "validate", "transform", "monitor", "features", "train",
        "evaluate", "register",
    }  # fmt: skip
    activities = [r for r in records if r.name == "RunActivity:orchlab.run_step"]
    assert {r.attributes["temporalActivityID"] for r in activities} == steps
    assert "└─ StartWorkflow:orchlab-pipeline" in result.output
