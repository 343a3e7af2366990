"""train, evaluate and infer: seeded, honest about held-out rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchlab.errors import ValidationFailed
from orchlab.pipelines import Dataset, TrainedModel, evaluate, infer, ingest, train


def test_train_and_evaluate_a_classifier(wine: Dataset) -> None:
    model = train(wine, model="linear", seed=1)
    assert model.train_rows + len(model.test_index) == wine.n_rows
    metrics = evaluate(model, wine)
    assert set(metrics.values) == {"accuracy", "balanced_accuracy", "f1_macro"}
    assert metrics.values["accuracy"] > 0.9 and metrics.rows == len(model.test_index)


def test_training_is_deterministic_given_a_seed(wine: Dataset) -> None:
    first = evaluate(train(wine, model="random_forest", seed=5), wine)
    second = evaluate(train(wine, model="random_forest", seed=5), wine)
    assert first == second


def test_regression_metrics() -> None:
    diabetes = ingest("diabetes")
    metrics = evaluate(train(diabetes, model="linear"), diabetes)
    assert set(metrics.values) == {"r2", "rmse", "mae"}
    assert 0.3 < metrics.values["r2"] < 0.7


def test_train_refuses_unknown_algorithm_and_hyperparameter(wine: Dataset) -> None:
    with pytest.raises(ValueError, match=r"unknown algorithm 'xgboost'"):
        train(wine, model="xgboost")
    with pytest.raises(ValueError, match=r"unknown hyperparameter\(s\) for 'linear'.*: depth"):
        train(wine, hyperparameters={"depth": 3})


def test_hyperparameters_reach_the_estimator(wine: Dataset) -> None:
    model = train(wine, model="random_forest", hyperparameters={"n_estimators": 7})
    assert model.estimator.named_steps["model"].n_estimators == 7


def test_evaluate_refuses_data_without_the_held_out_rows(wine: Dataset) -> None:
    model = train(wine)
    other = wine.replace(wine.frame.drop(index=list(model.test_index[:3])))
    with pytest.raises(ValidationFailed, match=r"lacks 3 of the model's held-out rows"):
        evaluate(model, other)
    with pytest.raises(ValidationFailed, match=r"lacks the model's feature column\(s\): 'hue'"):
        evaluate(model, wine.replace(wine.frame.drop(columns=["hue"])))


def test_infer_predicts_with_confidence(wine: Dataset, tmp_path: Path) -> None:
    model = TrainedModel.load(train(wine).save(tmp_path))  # through files, as steps do
    predictions = infer(model, wine)
    assert list(predictions.columns) == ["prediction", "confidence"]
    assert predictions.index.equals(wine.frame.index)
    assert ((predictions["prediction"] == wine.target).mean()) > 0.9
