"""Model task templates: train, evaluate and infer.

Training holds out a seeded, stratified share of rows and records which ones, so that
:func:`evaluate` scores the model on rows it never saw, whichever engine runs the steps.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from orchlab.errors import ValidationFailed
from orchlab.pipelines._artifacts import Dataset, Metrics, TaskKind, TrainedModel

Algorithm = Literal["linear", "random_forest", "gradient_boosting"]
"""The model families :func:`train` offers, for classification and regression alike."""

ALGORITHMS: tuple[str, ...] = ("linear", "random_forest", "gradient_boosting")
"""The algorithm names :func:`train` accepts."""


def _estimator(algorithm: str, task: TaskKind, seed: int) -> Any:
    classify = task == "classification"
    if algorithm == "linear":
        return LogisticRegression(max_iter=2000) if classify else Ridge()
    if algorithm == "random_forest":
        cls = RandomForestClassifier if classify else RandomForestRegressor
        return cls(n_estimators=100, random_state=seed, n_jobs=1)
    if algorithm == "gradient_boosting":
        gb = GradientBoostingClassifier if classify else GradientBoostingRegressor
        return gb(random_state=seed)
    raise ValueError(f"unknown algorithm {algorithm!r}; choose one of: {', '.join(ALGORITHMS)}")


def train(
    dataset: Dataset,
    *,
    model: str = "linear",
    test_fraction: float = 0.25,
    seed: int = 0,
    hyperparameters: dict[str, Any] | None = None,
) -> TrainedModel:
    """Fit a model on a seeded training split; the rest is held out for :func:`evaluate`.

    The estimator is a scikit-learn pipeline of a standard scaler and the model, so
    the scaling learnt on training rows travels with the model to inference.

    Args:
        dataset: The feature data set.
        model: One of :data:`ALGORITHMS`.
        test_fraction: The share of rows held out, in (0, 1).
        seed: Seeds the split and the estimator: equal seeds give equal models.
        hyperparameters: Parameters of the model itself, for example ``{"C": 0.5}``.

    Returns:
        The fitted model, with the held-out rows recorded.

    Raises:
        ValueError: On an unknown algorithm or hyperparameter, or a bad ``test_fraction``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    estimator = _estimator(model, dataset.task, seed)
    params = dict(hyperparameters or {})
    valid = estimator.get_params()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"unknown hyperparameter(s) for {model!r} ({type(estimator).__name__}): "
            f"{', '.join(unknown)}"
        )
    estimator.set_params(**params)
    index = dataset.frame.index.to_numpy()
    stratify = dataset.target.to_numpy() if dataset.task == "classification" else None
    train_idx, test_idx = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=stratify
    )
    train_idx = np.sort(train_idx)
    pipeline = Pipeline([("scale", StandardScaler()), ("model", estimator)])
    pipeline.fit(dataset.frame.loc[train_idx], dataset.target.loc[train_idx])
    return TrainedModel(
        estimator=pipeline,
        algorithm=model,
        task=dataset.task,
        features=tuple(str(c) for c in dataset.frame.columns),
        seed=seed,
        test_fraction=test_fraction,
        test_index=tuple(int(i) for i in np.sort(test_idx)),
        hyperparameters=params,
        train_rows=len(train_idx),
    )


def _features_of(model: TrainedModel, dataset: Dataset) -> pd.DataFrame:
    missing = [c for c in model.features if c not in dataset.frame.columns]
    if missing:
        raise ValidationFailed(
            f"dataset {dataset.name!r} lacks the model's feature column(s): "
            f"{', '.join(map(repr, missing))}"
        )
    return dataset.frame[list(model.features)]


def evaluate(model: TrainedModel, dataset: Dataset) -> Metrics:
    """Score a model on the rows it held out during training.

    Classification reports ``accuracy``, ``balanced_accuracy`` and ``f1_macro``;
    regression reports ``r2``, ``rmse`` and ``mae``.

    Args:
        model: The trained model.
        dataset: The data set it was trained on (or one holding the same rows).

    Returns:
        The metrics on the held-out rows.

    Raises:
        ValidationFailed: When the data set lacks the model's features or held-out rows.
    """
    frame = _features_of(model, dataset)
    absent = [i for i in model.test_index if i not in frame.index]
    if absent:
        raise ValidationFailed(
            f"dataset {dataset.name!r} lacks {len(absent)} of the model's held-out rows "
            f"(first: {absent[0]}); evaluate on the data set the model was trained on"
        )
    rows = list(model.test_index)
    truth = dataset.target.loc[rows].to_numpy()
    predicted = model.estimator.predict(frame.loc[rows])
    values: dict[str, float]
    if model.task == "classification":
        values = {
            "accuracy": float(skm.accuracy_score(truth, predicted)),
            "balanced_accuracy": float(skm.balanced_accuracy_score(truth, predicted)),
            "f1_macro": float(skm.f1_score(truth, predicted, average="macro")),
        }
    else:
        values = {
            "r2": float(skm.r2_score(truth, predicted)),
            "rmse": float(np.sqrt(skm.mean_squared_error(truth, predicted))),
            "mae": float(skm.mean_absolute_error(truth, predicted)),
        }
    return Metrics(values=values, split="test", rows=len(rows))


def infer(model: TrainedModel, dataset: Dataset) -> pd.DataFrame:
    """Predict with a trained model.

    Args:
        model: The trained model.
        dataset: The rows to score; extra columns are ignored.

    Returns:
        A frame indexed like ``dataset`` with a ``prediction`` column and, for classifiers,
        a ``confidence`` column (the top class probability).

    Raises:
        ValidationFailed: When the data set lacks the model's features.
    """
    frame = _features_of(model, dataset)
    out = pd.DataFrame({"prediction": model.estimator.predict(frame)}, index=frame.index)
    if model.task == "classification" and hasattr(model.estimator, "predict_proba"):
        out["confidence"] = model.estimator.predict_proba(frame).max(axis=1)
    return out


__all__ = ["ALGORITHMS", "Algorithm", "evaluate", "infer", "train"]
