"""A local, file-based model registry with numbered versions.

Layout, one folder per version, each complete before it becomes visible::

    <root>/<model name>/v0001/model.joblib
                             /model.json     the model reference (features, split, ...)
                             /version.json   the :class:`ModelVersion` record

A version is assembled in a hidden staging folder and renamed into place, so a reader
never sees half a version, and two writers racing for the same number cannot both win:
the loser's rename fails and it takes the next number.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from orchlab.config import get_settings
from orchlab.errors import ValidationFailed
from orchlab.pipelines._artifacts import (
    Metrics,
    ModelRef,
    ModelVersion,
    TrainedModel,
    write_json,
)

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_VERSION = re.compile(r"^v(\d+)$")
_MAX_RACES = 100


class ModelRegistry:
    """Register, list and load model versions under one folder.

    Args:
        root: The registry folder; by default ``Settings().model_registry_dir``.
    """

    def __init__(self, root: Path | str | None = None) -> None:
        chosen = Path(root) if root is not None else get_settings().model_registry_dir
        self.root = chosen.resolve()

    def __repr__(self) -> str:
        return f"ModelRegistry({str(self.root)!r})"

    @staticmethod
    def _check_name(name: str) -> str:
        if not _NAME.match(name):
            raise ValueError(
                f"invalid model name {name!r}: use letters, digits, '.', '_' and '-', "
                "starting with a letter or digit"
            )
        return name

    def _numbers(self, name: str) -> list[int]:
        folder = self.root / name
        if not folder.is_dir():
            return []
        found = (_VERSION.match(p.name) for p in folder.iterdir() if p.is_dir())
        return sorted(int(m.group(1)) for m in found if m)

    def models(self) -> list[str]:
        """The names of registered models, sorted."""
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self._numbers(p.name))

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of a model, oldest first."""
        folder = self.root / self._check_name(name)
        return [
            ModelVersion.model_validate_json((folder / f"v{n:04d}" / "version.json").read_text())
            for n in self._numbers(name)
        ]

    def get(self, name: str, version: int | None = None) -> ModelVersion:
        """One version's record; the latest when ``version`` is None.

        Raises:
            ValidationFailed: When the model or version is not registered.
        """
        numbers = self._numbers(self._check_name(name))
        if not numbers:
            raise ValidationFailed(f"model {name!r} is not registered in {self.root}")
        number = numbers[-1] if version is None else version
        if number not in numbers:
            raise ValidationFailed(
                f"model {name!r} has no version {number}; versions: {', '.join(map(str, numbers))}"
            )
        path = self.root / name / f"v{number:04d}" / "version.json"
        return ModelVersion.model_validate_json(path.read_text())

    def load(self, name: str, version: int | None = None) -> TrainedModel:
        """Load a registered model; the latest when ``version`` is None."""
        record = self.get(name, version)
        folder = Path(record.uri)
        ref = ModelRef.model_validate_json((folder / "model.json").read_text())
        return TrainedModel.load(ref.model_copy(update={"uri": str(folder / ref.uri)}))

    def register(
        self,
        model: TrainedModel,
        *,
        name: str,
        metrics: Metrics | None = None,
        tags: dict[str, str] | None = None,
    ) -> ModelVersion:
        """Store a model as the next version of ``name``.

        Args:
            model: The trained model.
            name: The registered model's name.
            metrics: Evaluation metrics to record with it.
            tags: Free-form labels (run date, environment, pipeline run id, ...).

        Returns:
            The new version's record.
        """
        folder = self.root / self._check_name(name)
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=folder, prefix=".staging-"))
        try:
            ref = model.save(staging)
            # Stored relative to the version folder, which is renamed into place below.
            write_json(
                staging / "model.json", ref.model_copy(update={"uri": "model.joblib"}).to_json()
            )
            for _ in range(_MAX_RACES):
                number = (self._numbers(name) or [0])[-1] + 1
                final = folder / f"v{number:04d}"
                record = ModelVersion(
                    name=name,
                    version=number,
                    uri=str(final),
                    created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                    algorithm=model.algorithm,
                    metrics=dict(metrics.values) if metrics else {},
                    tags=dict(tags or {}),
                )
                write_json(staging / "version.json", record.to_json())
                try:
                    # Atomic, and refused when another writer already holds this number
                    # (renaming onto a non-empty folder fails), so the loser takes the next.
                    os.rename(staging, final)
                except OSError as exc:
                    if final.exists() or exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
                        continue
                    raise
                return record
            raise ValidationFailed(  # pragma: no cover - needs 100 concurrent writers
                f"could not claim a version number for model {name!r} in {folder}"
            )
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def register(
    model: TrainedModel,
    metrics: Metrics | None = None,
    *,
    name: str,
    registry: ModelRegistry | Path | str | None = None,
    tags: dict[str, str] | None = None,
) -> ModelVersion:
    """Register a model as the next version of ``name``.

    Args:
        model: The trained model.
        metrics: Evaluation metrics to record with it.
        name: The registered model's name.
        registry: A registry or its folder; by default ``Settings().model_registry_dir``.
        tags: Free-form labels.

    Returns:
        The new version's record.
    """
    reg = registry if isinstance(registry, ModelRegistry) else ModelRegistry(registry)
    return reg.register(model, name=name, metrics=metrics, tags=tags)


__all__ = ["ModelRegistry", "register"]
