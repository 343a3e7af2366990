"""Spec validation refuses with a SpecError that names the problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchlab.errors import SpecError
from orchlab.pipelines import PipelineSpec, list_examples, load_spec


def _spec(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "demo",
        "parameters": {
            "model": {"type": "str", "default": "linear", "choices": ["linear", "random_forest"]},
            "seed": {"type": "int", "default": 0},
        },
        "steps": [
            {"name": "ingest", "task": "ingest", "params": {"source": "wine"}},
            {
                "name": "train",
                "task": "train",
                "needs": ["ingest"],
                "params": {
                    "dataset": "${steps.ingest.dataset}",
                    "model": "${params.model}",
                    "seed": "${params.seed}",
                },
            },
            {
                "name": "evaluate",
                "task": "evaluate",
                "needs": ["train"],
                "params": {"model": "${steps.train.model}", "dataset": "${steps.ingest.dataset}"},
            },
        ],
    }
    base.update(changes)
    return base


def _with_step(index: int, **fields: Any) -> dict[str, Any]:
    data = _spec()
    data["steps"] = copy.deepcopy(data["steps"])
    data["steps"][index].update(fields)
    return data


def test_bundled_example_loads_by_name() -> None:
    assert "wine_training" in list_examples()
    spec = load_spec("wine_training")
    assert spec.name == "wine_training"
    assert [s.name for s in spec.steps][:2] == ["ingest", "validate"]
    assert load_spec("wine_training.yaml") == spec


def test_spec_loads_from_a_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(yaml.safe_dump(_spec()))
    assert load_spec(path).name == "demo"
    assert load_spec(str(path)).steps[1].needs == ["ingest"]


def test_cycle_is_named() -> None:
    data = _with_step(0, needs=["evaluate"])
    with pytest.raises(
        SpecError, match=r"dependency cycle between steps: .*ingest -> train -> evaluate"
    ):
        PipelineSpec.from_dict(data)


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(SpecError, match=r"cycle between steps: ingest -> ingest"):
        PipelineSpec.from_dict(_with_step(0, needs=["ingest"]))


def test_unknown_step_in_needs_is_named_with_a_hint() -> None:
    with pytest.raises(
        SpecError, match=r"step 'evaluate' needs unknown step 'trian' \(did you mean 'train'\?\)"
    ):
        PipelineSpec.from_dict(_with_step(2, needs=["trian"]))


def test_unknown_task_template_is_named() -> None:
    with pytest.raises(
        SpecError, match=r"step 'train': unknown task template 'fit'; known templates: .*train"
    ):
        PipelineSpec.from_dict(_with_step(1, task="fit"))


def test_bad_parameter_declarations() -> None:
    bad_default = _spec(parameters={"seed": {"type": "int", "default": "abc"}})
    with pytest.raises(SpecError, match=r"default of parameter 'seed' expects int, got 'abc'"):
        PipelineSpec.from_dict(bad_default)
    not_a_choice = _spec(parameters={"model": {"default": "svm", "choices": ["linear"]}})
    with pytest.raises(SpecError, match=r"parameter 'model' must be one of: linear"):
        PipelineSpec.from_dict(not_a_choice)
    bad_type = _spec(parameters={"seed": {"type": "integer"}})
    with pytest.raises(SpecError, match=r"parameter 'seed': type: Input should be 'str', 'int'"):
        PipelineSpec.from_dict(bad_type)


def test_undeclared_pipeline_parameter_is_named() -> None:
    data = _with_step(1, params={"dataset": "${steps.ingest.dataset}", "seed": "${params.sed}"})
    with pytest.raises(
        SpecError,
        match=r"parameter 'seed' references undeclared pipeline parameter 'sed' "
        r"\(did you mean 'seed'\?\)",
    ):
        PipelineSpec.from_dict(data)


def test_step_parameters_are_typed_against_the_task() -> None:
    data = _with_step(0, params={"source": "iris"})
    with pytest.raises(
        SpecError, match=r"step 'ingest': parameter 'source': Input should be 'wine'"
    ):
        PipelineSpec.from_dict(data)
    data = _with_step(0, params={"source": "wine", "colour": "red"})
    with pytest.raises(
        SpecError,
        match=r"step 'ingest': unknown parameter 'colour' for task 'ingest'; it takes: source",
    ):
        PipelineSpec.from_dict(data)


def test_artifact_inputs_are_checked() -> None:
    missing = _with_step(2, params={"model": "${steps.train.model}"})
    with pytest.raises(
        SpecError, match=r"step 'evaluate' \(task 'evaluate'\) is missing input\(s\): dataset"
    ):
        PipelineSpec.from_dict(missing)
    wrong_kind = _with_step(
        2, params={"model": "${steps.ingest.dataset}", "dataset": "${steps.ingest.dataset}"}
    )
    with pytest.raises(
        SpecError, match=r"input 'model' expects a model, but ingest.dataset is a dataset"
    ):
        PipelineSpec.from_dict(wrong_kind)
    no_output = _with_step(
        2, params={"model": "${steps.train.weights}", "dataset": "${steps.ingest.dataset}"}
    )
    with pytest.raises(
        SpecError, match=r"unknown output 'weights' of step 'train'; it produces: model"
    ):
        PipelineSpec.from_dict(no_output)


def test_input_from_a_step_that_is_not_needed() -> None:
    data = _with_step(2, needs=["ingest"])
    with pytest.raises(
        SpecError, match=r"step 'evaluate' uses \$\{steps.train.model\} but does not need 'train'"
    ):
        PipelineSpec.from_dict(data)


def test_structure_errors_name_the_field() -> None:
    with pytest.raises(
        SpecError, match=r"step 'train': retries: Input should be greater than or equal to 0"
    ):
        PipelineSpec.from_dict(_with_step(1, retries=-1))
    with pytest.raises(SpecError, match=r"duplicate step name 'train'"):
        PipelineSpec.from_dict(_with_step(2, name="train"))
    with pytest.raises(SpecError, match=r"invalid pipeline spec: steps: .*at least 1"):
        PipelineSpec.from_dict(_spec(steps=[]))


def test_yaml_and_lookup_errors() -> None:
    with pytest.raises(SpecError, match=r"<string> line 3: invalid YAML: expected .,. or .\]."):
        PipelineSpec.from_yaml("name: x\nsteps: [a\n")
    with pytest.raises(SpecError, match=r"must be a mapping, got list"):
        PipelineSpec.from_yaml("- a\n")
    with pytest.raises(SpecError, match=r"no spec file 'nope' .* bundled examples: wine_training"):
        load_spec("nope")


def test_a_json_spec_is_read_as_json_and_its_errors_say_json(tmp_path: Path) -> None:
    import json

    good = tmp_path / "demo.json"
    good.write_text(json.dumps(_spec()), encoding="utf-8")
    assert load_spec(good).name == "demo"
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "demo",\n  "steps": [}\n', encoding="utf-8")
    with pytest.raises(SpecError, match=r"bad\.json line 2 column 13: invalid JSON: Expecting"):
        load_spec(bad)
    # YAML-only syntax in a .json file is refused as JSON, never read as YAML.
    yamlish = tmp_path / "yamlish.json"
    yamlish.write_text("name: demo\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"yamlish\.json line 1 column 1: invalid JSON"):
        load_spec(yamlish)


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_an_empty_spec_says_empty(tmp_path: Path, text: str) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError, match=r"empty\.yaml: empty spec: a pipeline spec needs"):
        load_spec(path)


def test_mistyped_names_get_a_did_you_mean() -> None:
    with pytest.raises(SpecError, match=r"'wine_trainng'.*\(did you mean 'wine_training'\?\)"):
        load_spec("wine_trainng")
    with pytest.raises(SpecError, match=r"unknown task template 'trian' \(did you mean 'train'"):
        PipelineSpec.from_dict(_with_step(1, task="trian"))
    with pytest.raises(SpecError, match=r"unknown parameter 'sed' .*\(did you mean 'seed'\?\)"):
        PipelineSpec.from_dict(_with_step(1, params={**_spec()["steps"][1]["params"], "sed": 1}))
