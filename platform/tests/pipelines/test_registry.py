"""The file-based model registry: numbered versions, metadata, atomic writes."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from orchlab.errors import ValidationFailed
from orchlab.pipelines import Dataset, Metrics, ModelRegistry, TrainedModel, infer, register, train


@pytest.fixture(scope="module")
def model(wine: Dataset) -> TrainedModel:
    return train(wine, seed=2)


def test_versions_increase(model: TrainedModel, registry_dir: Path) -> None:
    registry = ModelRegistry(registry_dir)
    metrics = Metrics(values={"accuracy": 0.97})
    first = registry.register(model, name="wine", metrics=metrics, tags={"env": "dev"})
    second = register(model, name="wine", registry=registry_dir)
    assert (first.version, second.version) == (1, 2)
    assert [v.version for v in registry.versions("wine")] == [1, 2]
    assert registry.get("wine").version == 2
    assert registry.get("wine", 1).metrics == {"accuracy": 0.97}
    assert registry.models() == ["wine"]


def test_metadata_is_stored_as_json(model: TrainedModel, registry_dir: Path) -> None:
    version = register(model, name="wine", registry=registry_dir, tags={"date": "2026-01-31"})
    folder = Path(version.uri)
    assert folder == registry_dir.resolve() / "wine" / "v0001"
    record = json.loads((folder / "version.json").read_text())
    assert record["tags"] == {"date": "2026-01-31"} and record["algorithm"] == "linear"
    assert json.loads((folder / "model.json").read_text())["features"] == list(model.features)
    assert not [p for p in (registry_dir / "wine").iterdir() if p.name.startswith(".")]


def test_load_returns_the_same_model(
    model: TrainedModel, wine: Dataset, registry_dir: Path
) -> None:
    registry = ModelRegistry(registry_dir)
    registry.register(model, name="wine")
    loaded = registry.load("wine")
    assert loaded.test_index == model.test_index
    assert infer(loaded, wine).equals(infer(model, wine))


def test_concurrent_registrations_get_distinct_versions(
    model: TrainedModel, registry_dir: Path
) -> None:
    registry = ModelRegistry(registry_dir)
    with ThreadPoolExecutor(max_workers=4) as pool:
        versions = list(pool.map(lambda _: registry.register(model, name="wine").version, range(8)))
    assert sorted(versions) == list(range(1, 9))


def test_unknown_model_or_version_and_bad_names(model: TrainedModel, registry_dir: Path) -> None:
    registry = ModelRegistry(registry_dir)
    with pytest.raises(ValidationFailed, match=r"model 'wine' is not registered"):
        registry.get("wine")
    registry.register(model, name="wine")
    with pytest.raises(ValidationFailed, match=r"model 'wine' has no version 5; versions: 1"):
        registry.get("wine", 5)
    with pytest.raises(ValueError, match=r"invalid model name '../escape'"):
        registry.register(model, name="../escape")


def test_default_root_comes_from_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ORCHLAB_STATE_DIR", str(tmp_path / "state"))
    assert ModelRegistry().root == (tmp_path / "state" / "registry").resolve()
