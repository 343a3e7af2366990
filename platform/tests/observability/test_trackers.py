"""Run tracking: a real local run recorded by MLflow (read back with MLflow's client) and by
W&B in offline mode (read back from the run's transaction log, as W&B's sync reads it)."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from orchlab.observability import MlflowTracker, Tracker, WandbTracker, track_result
from orchlab.pipelines import PipelineResult, run_local

SPEC: dict[str, Any] = {
    "name": "tracked",
    "parameters": {"seed": {"type": "int", "default": 3}},
    "steps": [
        {"name": "ingest", "task": "ingest", "params": {"source": "wine"}},
        {
            "name": "train",
            "task": "train",
            "needs": ["ingest"],
            "params": {"dataset": "${steps.ingest.dataset}", "seed": "${params.seed}"},
        },
        {
            "name": "evaluate",
            "task": "evaluate",
            "needs": ["train"],
            "params": {"model": "${steps.train.model}", "dataset": "${steps.ingest.dataset}"},
        },
        {
            "name": "register",
            "task": "register",
            "needs": ["evaluate"],
            "params": {
                "model": "${steps.train.model}",
                "metrics": "${steps.evaluate.metrics}",
                "name": "tracked-model",
            },
        },
    ],
    "artifacts": {"model": "${steps.register.version}"},
}


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> PipelineResult:
    tmp = tmp_path_factory.mktemp("tracked")
    done = run_local(SPEC, workdir=tmp / "run", registry_dir=tmp / "registry")
    assert done.succeeded, done.error
    return done


def test_trackers_satisfy_the_protocol() -> None:
    assert issubclass(MlflowTracker, Tracker) and issubclass(WandbTracker, Tracker)


@pytest.fixture(scope="module")
def mlflow_tracker(tmp_path_factory: pytest.TempPathFactory) -> MlflowTracker:
    """One store for the module: creating its tables is most of MLflow's time."""
    tmp = tmp_path_factory.mktemp("mlflow")
    return MlflowTracker(f"sqlite:///{tmp / 'mlflow.db'}", artifact_location=(tmp / "art").as_uri())


def test_mlflow_records_params_metrics_status_and_the_model(
    result: PipelineResult, mlflow_tracker: MlflowTracker
) -> None:
    tracker = mlflow_tracker
    run_id = track_result(tracker, result)

    from mlflow.tracking import MlflowClient

    run = MlflowClient(tracking_uri=tracker.tracking_uri).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.info.run_name == result.run_id
    assert run.data.params == {"seed": "3"}
    accuracy = result.metrics["evaluate"]["accuracy"]
    assert run.data.metrics["evaluate/accuracy"] == pytest.approx(accuracy)
    assert run.data.metrics["steps_failed"] == 0
    assert run.data.tags["orchlab.pipeline"] == "tracked"
    version = Path(result.artifacts["model"]["uri"]).name
    files = {a.path for a in tracker.client.list_artifacts(run_id, version)}
    assert f"{version}/model.joblib" in files and f"{version}/version.json" in files


def test_mlflow_marks_a_failed_run_failed(
    result: PipelineResult, mlflow_tracker: MlflowTracker
) -> None:
    failed = result.model_copy(update={"status": "failed", "artifacts": {}})
    tracker = mlflow_tracker
    run_id = track_result(tracker, failed)
    assert tracker.client.get_run(run_id).info.status == "FAILED"


def _wandb_records(path: Path) -> list[Any]:
    """The records of a W&B transaction log (LevelDB log format: a 7-byte header, then
    32 KiB blocks of chunks with a checksum, a length and a type)."""
    from wandb.proto.wandb_internal_pb2 import Record

    data = path.read_bytes()
    assert data[:4] == b":W&B", "not a W&B transaction log"
    records, pending, offset, block = [], b"", 7, 32768
    while offset + 7 <= len(data):
        room = block - offset % block
        if room < 7:  # a block's tail too short for a chunk header is padding
            offset += room
            continue
        length, kind = struct.unpack("<HB", data[offset + 4 : offset + 7])
        chunk = data[offset + 7 : offset + 7 + length]
        offset += 7 + length
        if kind == 0 and length == 0:
            continue
        pending += chunk
        if kind in (1, 4):  # FULL or LAST
            record = Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def test_wandb_offline_writes_the_run_without_an_account(
    result: PipelineResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("WANDB_MODE", "offline")
    tracker = WandbTracker(project="orchlab-tests", dir=tmp_path)
    run_id = track_result(tracker, result)

    assert tracker.run_dir is not None and tracker.run_dir.name.startswith("offline-run-")
    records = _wandb_records(tracker.run_dir / f"run-{run_id}.wandb")
    kinds = [r.WhichOneof("record_type") for r in records]
    run = next(r.run for r in records if r.HasField("run"))
    assert run.run_id == run_id and run.display_name == result.run_id
    config = {
        item.key: item.value_json
        for r in records
        for item in [*r.config.update, *r.run.config.update]
    }
    assert config["seed"] == "3"
    history = {
        item.key or "/".join(item.nested_key): item.value_json
        for r in records
        if r.HasField("history")
        for item in r.history.item
    }
    accuracy = result.metrics["evaluate"]["accuracy"]
    assert float(history["evaluate/accuracy"]) == pytest.approx(accuracy)
    assert "artifact" in kinds
    exit_record = next(r.exit for r in records if r.HasField("exit"))
    assert exit_record.exit_code == 0
