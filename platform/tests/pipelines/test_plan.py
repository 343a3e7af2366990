"""Execution plans: deterministic stages and typed parameter binding."""

from __future__ import annotations

from datetime import date

import pytest

from orchlab.errors import SpecError
from orchlab.pipelines import ExecutionPlan, bind_params, build_plan, load_spec


def test_bundled_plan_stages_are_topological_and_stable() -> None:
    plan = build_plan(load_spec("wine_training"))
    stages = [[s.name for s in stage] for stage in plan.stages]
    assert stages == [
        ["ingest", "ingest_batch"],
        ["validate"],
        ["transform", "monitor"],
        ["features"],
        ["train"],
        ["evaluate"],
        ["register"],
    ]
    seen: set[str] = set()
    for step in plan.steps:
        assert set(step.needs) <= seen
        seen.add(step.name)
    assert build_plan(load_spec("wine_training")).to_dict() == plan.to_dict()


def test_plan_binds_parameters_into_steps() -> None:
    plan = build_plan(
        load_spec("wine_training"), {"model": "random_forest", "seed": "11", "date": "2026-01-31"}
    )
    train = next(s for s in plan.steps if s.name == "train")
    assert train.params["model"] == "random_forest" and train.params["seed"] == 11
    assert train.inputs == {"dataset": "features.dataset"}
    register = next(s for s in plan.steps if s.name == "register")
    assert register.params["tags"]["date"] == "2026-01-31"
    assert plan.artifacts["model"] == "register.version"


def test_plan_round_trips_as_plain_data() -> None:
    plan = build_plan(load_spec("wine_training"))
    assert ExecutionPlan.from_dict(plan.to_dict()) == plan


def test_bind_params_coerces_text_and_fills_defaults() -> None:
    spec = load_spec("wine_training")
    bound = bind_params(spec, {"seed": "3", "drift": "0.5"})
    assert bound["seed"] == 3 and bound["drift"] == 0.5 and bound["model"] == "linear"
    assert bound["date"] == date.today().isoformat()


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"seed": "three"}, "parameter 'seed' expects int, got 'three'"),
        (
            {"model": "svm"},
            "parameter 'model' must be one of: linear, random_forest, gradient_boosting",
        ),
        ({"date": "31/01/2026"}, "parameter 'date' expects date, got '31/01/2026'"),
        (
            {"colour": "red"},
            "unknown parameter\\(s\\) for pipeline 'wine_training': colour; it takes: date",
        ),
    ],
)
def test_bind_params_names_the_bad_parameter(given: dict[str, str], message: str) -> None:
    with pytest.raises(SpecError, match=message):
        bind_params(load_spec("wine_training"), given)


def test_required_parameter_and_bool_coercion() -> None:
    from orchlab.pipelines import PipelineSpec

    spec = PipelineSpec.from_dict(
        {
            "name": "req",
            "parameters": {
                "source": {"choices": ["wine", "digits"]},
                "dedupe": {"type": "bool", "default": True},
            },
            "steps": [
                {"name": "load", "task": "ingest", "params": {"source": "${params.source}"}},
                {
                    "name": "clean",
                    "task": "transform",
                    "needs": ["load"],
                    "params": {
                        "dataset": "${steps.load.dataset}",
                        "drop_duplicates": "${params.dedupe}",
                    },
                },
            ],
        }
    )
    with pytest.raises(SpecError, match=r"parameter 'source' is required by pipeline 'req'"):
        build_plan(spec)
    plan = build_plan(spec, {"source": "digits", "dedupe": "no"})
    assert plan.steps[0].params["source"] == "digits"
    assert plan.steps[1].params["drop_duplicates"] is False
