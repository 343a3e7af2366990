"""Checks for exercise ``prefect-pipeline``: the Prefect flow ``train_flow``.

Contract: ingest the configured data set, validate it against ``ranges``, train and evaluate
with the plan's ``C`` and ``seed``, and register a model card only when ``accuracy`` reaches
``min_accuracy``; return a ``PipelineResult``. Bad data stops the flow with
``ValidationFailed`` before training, and nothing is registered.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import pytest

from labgrader.checks import assert_equal, assert_type
from orchlab.errors import ValidationFailed


@contextlib.contextmanager
def _quiet():
    """Silence the engine's error logs (tracebacks) for a failure a check provokes on purpose."""
    loggers = [logging.getLogger(name) for name in ("prefect.flow_runs", "prefect.task_runs")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _plan(nb, **params):
    defaults = {"dataset": "wine", "test_size": 0.25, "seed": 0, "C": 1.0, "min_accuracy": 0.9}
    return nb.Plan(
        pipeline="wine-quality",
        version="0123456789ab",
        order=["ingest", "validate", "train", "register"],
        params=defaults | params,
    )


def _expected_metrics(nb, plan):
    p = plan.params
    split = nb.load_split(
        nb.DataConfig(dataset=p["dataset"], test_size=p["test_size"], seed=p["seed"])
    )
    return nb.train_evaluate(split, C=p["C"], seed=p["seed"])


def _run(nb, plan, registry: Path, ranges=None):
    kwargs = {} if ranges is None else {"ranges": ranges}
    state = nb.train_flow(plan, str(registry), return_state=True, **kwargs)
    return state, state.result(raise_on_failure=False)


@pytest.mark.check(exercise="prefect-pipeline", points=4)
def test_flow_trains_evaluates_and_registers(nb, prefect_api_url, tmp_path):
    plan = _plan(nb)
    state, result = _run(nb, plan, tmp_path)
    assert state.is_completed(), f"the flow ended {state.name}: {result!r}"
    assert_type(result, nb.PipelineResult, what="the flow's result")
    expected = _expected_metrics(nb, plan)
    assert_equal(
        result.metrics,
        expected,
        what="the metrics differ from train_evaluate on the same split",
        hint="Build DataConfig from plan.params and pass C and seed from plan.params.",
    )
    cards = list(tmp_path.glob("*.json"))
    assert result.model_card is not None and len(cards) == 1, (
        f"accuracy {expected['accuracy']} >= min_accuracy 0.9, so one model card should be "
        f"registered in the registry folder; model_card={result.model_card!r}, files={cards}"
    )
    assert_type(result.model_card, str, what="model_card")
    assert Path(result.model_card).resolve() == cards[0].resolve(), (
        f"model_card should be the registered file's path, got {result.model_card!r}"
    )


@pytest.mark.check(exercise="prefect-pipeline", points=2)
def test_quality_gate_blocks_registration(nb, prefect_api_url, tmp_path):
    plan = _plan(nb, min_accuracy=1.01)
    state, result = _run(nb, plan, tmp_path)
    assert state.is_completed(), f"the flow ended {state.name}: {result!r}"
    assert result.model_card is None and not list(tmp_path.iterdir()), (
        f"with min_accuracy=1.01 no accuracy is good enough: nothing should be registered and "
        f"model_card should be None, got {result.model_card!r} and files "
        f"{sorted(p.name for p in tmp_path.iterdir())}; compare with plan.params['min_accuracy']"
    )


@pytest.mark.check(exercise="prefect-pipeline", points=5)
def test_bad_data_stops_the_flow_before_training(nb, prefect_api_url, tmp_path):
    strict = dict(nb.WINE_RANGES, alcohol=(0.0, 12.0))
    with _quiet():
        state, result = _run(nb, _plan(nb), tmp_path, ranges=strict)
    assert state.is_failed(), (
        f"with alcohol limited to [0, 12] the wine data is invalid and the flow should fail; "
        f"it ended {state.name} with {result!r}. Pass `ranges` to the validate task."
    )
    assert isinstance(result, ValidationFailed), (
        f"the flow should fail with the ValidationFailed from validation, got {result!r}"
    )
    assert not list(tmp_path.iterdir()), (
        f"a flow that failed validation registered {sorted(p.name for p in tmp_path.iterdir())}; "
        f"bad data must never reach the registry"
    )


@pytest.mark.check(exercise="prefect-pipeline", points=4, hidden=True)
def test_hidden_other_params_and_quality_gate(nb, prefect_api_url, tmp_path):
    plan = _plan(nb, dataset="breast_cancer", seed=2, C=0.1, min_accuracy=1.01)
    ranges = {"mean radius": (5.0, 30.0)}
    state, result = _run(nb, plan, tmp_path, ranges=ranges)
    assert state.is_completed(), f"the flow ended {state.name}: {result!r}"
    expected = _expected_metrics(nb, plan)
    assert_type(result, nb.PipelineResult, what="the flow's result")
    assert_equal(
        result.metrics,
        expected,
        what="with dataset=breast_cancer, seed=2, C=0.1, the metrics",
        hint="Read every parameter from plan.params.",
    )
    assert result.model_card is None and not list(tmp_path.iterdir()), (
        f"accuracy {expected['accuracy']} < min_accuracy 1.01: nothing should be registered "
        f"and model_card should be None, got {result.model_card!r}"
    )
