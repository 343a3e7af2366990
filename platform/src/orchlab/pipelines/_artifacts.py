"""Artifacts that pipeline steps produce and consume.

In memory a step works on rich objects: a :class:`Dataset` (a pandas frame, its target and
its schema) or a :class:`TrainedModel` (a fitted scikit-learn estimator and what it was
trained on). Between steps only small JSON-able references travel: :class:`DatasetRef`,
:class:`ModelRef`, :class:`Metrics`, ... On Temporal these cross activity boundaries and land
in the workflow's event history, so they carry a file location and a summary, never the data
itself (the claim-check pattern). Every file a step writes is written atomically.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import joblib  # type: ignore[import-untyped]
import pandas as pd
from pandas.api import types as ptypes
from pydantic import BaseModel, ConfigDict, Field

TaskKind = Literal["classification", "regression"]
"""What a data set's target is: class labels or a continuous value."""

ColumnType = Literal["float", "int", "bool", "str"]
"""The logical type of a column, as a schema states it."""

_INDEX = "row"


class ColumnSchema(BaseModel):
    """What one feature column must look like."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    """The column name."""
    dtype: ColumnType = "float"
    """The logical type. ``float`` accepts any numeric column, ``int`` only integers."""
    nullable: bool = False
    """Whether missing values are allowed."""
    minimum: float | None = None
    """The smallest allowed value, if bounded below."""
    maximum: float | None = None
    """The largest allowed value, if bounded above."""


class Schema(BaseModel):
    """The contract a data set must meet between pipeline steps."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    columns: tuple[ColumnSchema, ...]
    """The feature columns, in order."""
    target: str = "target"
    """The name of the target (label) column."""
    min_rows: int = Field(default=1, ge=0)
    """The fewest rows a valid data set may have."""

    @property
    def names(self) -> list[str]:
        """The feature column names, in order."""
        return [c.name for c in self.columns]

    @classmethod
    def infer(cls, frame: pd.DataFrame, *, target: str = "target") -> Schema:
        """Describe a frame's columns as they are (types and nullability, no ranges).

        Args:
            frame: The feature frame to describe.
            target: The target column's name.

        Returns:
            A schema that ``frame`` satisfies.
        """
        columns = []
        for name in frame.columns:
            series = frame[name]
            dtype: ColumnType
            if ptypes.is_bool_dtype(series):
                dtype = "bool"
            elif ptypes.is_integer_dtype(series):
                dtype = "int"
            elif ptypes.is_numeric_dtype(series):
                dtype = "float"
            else:
                dtype = "str"
            columns.append(
                ColumnSchema(name=str(name), dtype=dtype, nullable=bool(series.isna().any()))
            )
        return cls(columns=tuple(columns), target=target)


@dataclass(frozen=True, eq=False)
class Dataset:
    """A tabular data set in memory: features, target and the schema they must meet.

    Raises:
        ValueError: When the frame and the target differ in length or index.
    """

    name: str
    """Where the data came from (a source name such as ``wine``)."""
    frame: pd.DataFrame
    """The feature columns; the index identifies rows across steps."""
    target: pd.Series
    """The target, aligned with ``frame`` on the index."""
    task: TaskKind
    """Whether the target holds class labels or continuous values."""
    schema: Schema
    """The contract ``frame`` must meet; checked by :func:`orchlab.pipelines.validate`."""

    def __post_init__(self) -> None:
        if len(self.frame) != len(self.target):
            raise ValueError(
                f"dataset {self.name!r}: frame has {len(self.frame)} rows but the target has "
                f"{len(self.target)}"
            )
        if not self.frame.index.equals(self.target.index):
            raise ValueError(f"dataset {self.name!r}: frame and target indexes differ")

    @property
    def n_rows(self) -> int:
        """The number of rows."""
        return len(self.frame)

    def replace(self, frame: pd.DataFrame, *, schema: Schema | None = None) -> Dataset:
        """Return a copy with a new feature frame; the target is re-aligned to its index.

        Args:
            frame: The new features (a subset of the current rows, in any order).
            schema: The new schema; by default the current one.
        """
        return Dataset(
            name=self.name,
            frame=frame,
            target=self.target.loc[frame.index],
            task=self.task,
            schema=schema or self.schema,
        )

    def to_csv_bytes(self) -> bytes:
        """Serialise features and target to CSV (the on-disk and fingerprint format)."""
        table = self.frame.assign(**{self.schema.target: self.target})
        text: str = table.to_csv(index=True, index_label=_INDEX, lineterminator="\n")
        return text.encode()

    def fingerprint(self) -> str:
        """A short content hash: equal data gives an equal fingerprint on every engine."""
        return hashlib.sha256(self.to_csv_bytes()).hexdigest()[:16]

    def save(self, directory: Path) -> DatasetRef:
        """Write the data set under ``directory`` and return a reference to it.

        Args:
            directory: A folder; created if needed.
        """
        directory.mkdir(parents=True, exist_ok=True)
        data = self.to_csv_bytes()
        atomic_write(directory / "data.csv", data)
        ref = DatasetRef(
            uri=str(directory / "data.csv"),
            name=self.name,
            task=self.task,
            rows=self.n_rows,
            columns=[str(c) for c in self.frame.columns],
            fingerprint=hashlib.sha256(data).hexdigest()[:16],
            schema=self.schema,
        )
        return ref

    @classmethod
    def load(cls, ref: DatasetRef) -> Dataset:
        """Read a data set written by :meth:`save`."""
        table = pd.read_csv(ref.uri, index_col=_INDEX, float_precision="round_trip")
        target = table.pop(ref.schema_.target)
        return cls(name=ref.name, frame=table, target=target, task=ref.task, schema=ref.schema_)


class _Ref(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def to_json(self) -> dict[str, Any]:
        """The JSON-able form that travels between steps."""
        return self.model_dump(mode="json", by_alias=True)


class DatasetRef(_Ref):
    """A data set stored as CSV, passed between steps by reference."""

    kind: Literal["dataset"] = "dataset"
    uri: str
    """Where the CSV file is."""
    name: str
    """The data set's source name."""
    task: TaskKind
    """Classification or regression."""
    rows: int
    """The number of rows."""
    columns: list[str]
    """The feature column names."""
    fingerprint: str
    """A content hash of the stored file."""
    schema_: Schema = Field(alias="schema")
    """The schema the data set carries."""


class ModelRef(_Ref):
    """A trained model stored with joblib, passed between steps by reference."""

    kind: Literal["model"] = "model"
    uri: str
    """Where the joblib file is."""
    algorithm: str
    """The algorithm name (``linear``, ``random_forest``, ``gradient_boosting``)."""
    task: TaskKind
    """Classification or regression."""
    features: list[str]
    """The feature columns the model expects, in order."""
    seed: int
    """The random seed used for the split and the estimator."""
    test_fraction: float
    """The share of rows held out for evaluation."""
    test_index: list[int]
    """The held-out rows (dataset index labels), for an honest evaluation."""
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    """Estimator parameters set on top of the defaults."""
    train_rows: int = 0
    """How many rows the model was fitted on."""


class Metrics(_Ref):
    """Evaluation metrics of a model on a data split."""

    kind: Literal["metrics"] = "metrics"
    values: dict[str, float]
    """Metric name to value, for example ``accuracy`` or ``rmse``."""
    split: str = "test"
    """Which rows were scored."""
    rows: int = 0
    """How many rows were scored."""


class ValidationReport(_Ref):
    """What :func:`orchlab.pipelines.validate` checked on a data set that passed."""

    kind: Literal["validation"] = "validation"
    dataset: str
    """The data set's name."""
    rows: int
    """The number of rows checked."""
    checks: list[str]
    """The checks that ran, in order."""


class ModelVersion(_Ref):
    """One registered version of a model in the file-based registry."""

    kind: Literal["model_version"] = "model_version"
    name: str
    """The registered model's name."""
    version: int
    """The version number: 1, 2, 3, ... in registration order."""
    uri: str
    """The version's folder."""
    created_at: str
    """When it was registered (UTC, ISO 8601)."""
    algorithm: str
    """The algorithm of the model."""
    metrics: dict[str, float] = Field(default_factory=dict)
    """The metrics recorded with it."""
    tags: dict[str, str] = Field(default_factory=dict)
    """Free-form labels, for example the run date or environment."""


class DriftReport(_Ref):
    """Per-feature data drift between a reference and a current data set."""

    kind: Literal["drift"] = "drift"
    method: str = "psi"
    """The score: population stability index."""
    threshold: float
    """A feature drifts when its score exceeds this."""
    scores: dict[str, float]
    """Feature name to drift score."""
    drifted_features: list[str]
    """Features whose score exceeds the threshold, worst first."""
    max_score: float
    """The largest score."""

    @property
    def drifted(self) -> bool:
        """Whether any feature drifted."""
        return bool(self.drifted_features)


class PredictionsRef(_Ref):
    """Model predictions stored as CSV."""

    kind: Literal["predictions"] = "predictions"
    uri: str
    """Where the CSV file is."""
    rows: int
    """How many rows were scored."""


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A fitted estimator and what it was trained on."""

    estimator: Any
    """The fitted scikit-learn estimator (a pipeline of scaler and model)."""
    algorithm: str
    """The algorithm name."""
    task: TaskKind
    """Classification or regression."""
    features: tuple[str, ...]
    """The feature columns, in the order the estimator expects."""
    seed: int
    """The random seed used."""
    test_fraction: float
    """The held-out share of rows."""
    test_index: tuple[int, ...]
    """The held-out rows' index labels."""
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    """Estimator parameters set on top of the defaults."""
    train_rows: int = 0
    """How many rows the model was fitted on."""

    def save(self, directory: Path) -> ModelRef:
        """Write the model under ``directory`` and return a reference to it."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "model.joblib"
        with atomic_path(path) as tmp:
            joblib.dump(self.estimator, tmp)
        return ModelRef(
            uri=str(path),
            algorithm=self.algorithm,
            task=self.task,
            features=list(self.features),
            seed=self.seed,
            test_fraction=self.test_fraction,
            test_index=list(self.test_index),
            hyperparameters=dict(self.hyperparameters),
            train_rows=self.train_rows,
        )

    @classmethod
    def load(cls, ref: ModelRef) -> TrainedModel:
        """Read a model written by :meth:`save`. Only load files you trust (pickle)."""
        return cls(
            estimator=joblib.load(ref.uri),
            algorithm=ref.algorithm,
            task=ref.task,
            features=tuple(ref.features),
            seed=ref.seed,
            test_fraction=ref.test_fraction,
            test_index=tuple(ref.test_index),
            hyperparameters=dict(ref.hyperparameters),
            train_rows=ref.train_rows,
        )


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only on success.

    Readers never see a half-written file: the final rename is atomic on one file system.
    """
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temporary file, fsync, rename)."""
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_json(path: Path, payload: Any) -> None:
    """Write ``payload`` as indented, key-sorted JSON, atomically."""
    atomic_write(path, (json.dumps(payload, indent=2, sort_keys=True) + "\n").encode())


__all__ = [
    "ColumnSchema",
    "ColumnType",
    "Dataset",
    "DatasetRef",
    "DriftReport",
    "Metrics",
    "ModelRef",
    "ModelVersion",
    "PredictionsRef",
    "Schema",
    "TaskKind",
    "TrainedModel",
    "ValidationReport",
    "atomic_path",
    "atomic_write",
    "write_json",
]
