"""The task catalog: the templates a pipeline spec's steps may name, and how one step runs.

A :class:`TaskTemplate` wraps a plain task function for pipelines: its typed parameters
(a pydantic model, so a spec is checked before anything runs), the artifacts it consumes
and produces, and a step function that loads inputs from references, calls the task and
stores outputs. :func:`execute_step` is the one entry point every engine calls: a Prefect
task, a Temporal activity or the local runner. That is why results match across engines.

Teams add their own templates with :func:`register_task`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from orchlab.errors import SpecError, ValidationFailed, did_you_mean
from orchlab.observability._instrument import step_span
from orchlab.pipelines._artifacts import (
    Dataset,
    DatasetRef,
    Metrics,
    ModelRef,
    PredictionsRef,
    TrainedModel,
)
from orchlab.pipelines._data import Source, features, ingest, transform, validate
from orchlab.pipelines._model import Algorithm, evaluate, infer, train
from orchlab.pipelines._monitor import DEFAULT_THRESHOLD, monitor
from orchlab.pipelines._registry import ModelRegistry


@dataclass
class StepCall:
    """Everything one step needs to run; JSON-able, so it can cross an activity boundary."""

    run_id: str
    """The pipeline run this step belongs to."""
    step: str
    """The step's name in the spec."""
    task: str
    """The task template's name."""
    params: dict[str, Any]
    """The step's scalar parameters, with pipeline parameters already substituted."""
    inputs: dict[str, dict[str, Any]]
    """Upstream artifacts (their JSON references) by input name."""
    workdir: str
    """The run's artifact folder; every worker running the steps must see it."""
    registry_dir: str | None = None
    """The model registry folder; by default ``Settings().model_registry_dir``."""
    attempt: int = 1
    """Which attempt this is, from 1; set by the engine."""


@dataclass
class StepOutput:
    """What a step produced: JSON references to its artifacts."""

    step: str
    """The step's name."""
    outputs: dict[str, dict[str, Any]]
    """Artifact references by output name."""
    attempt: int = 1
    """The attempt that succeeded."""
    duration_seconds: float = 0.0
    """Wall time of that attempt."""


@dataclass(frozen=True)
class StepContext:
    """Where a running step is and may write."""

    run_id: str
    """The pipeline run's id."""
    step: str
    """The step's name."""
    workdir: Path
    """The run's artifact folder."""
    registry_dir: Path | None = None
    """The model registry folder, or None for the default."""
    attempt: int = 1
    """The current attempt, from 1."""

    @property
    def step_dir(self) -> Path:
        """This step's own folder for output files."""
        return self.workdir / self.step


class StepInputs:
    """Typed access to a step's upstream artifacts."""

    def __init__(self, raw: Mapping[str, Mapping[str, Any]]) -> None:
        self.raw = dict(raw)

    def __contains__(self, name: str) -> bool:
        return name in self.raw

    def dataset(self, name: str = "dataset") -> Dataset:
        """Load the data set passed as input ``name``."""
        return Dataset.load(DatasetRef.model_validate(self.raw[name]))

    def model(self, name: str = "model") -> TrainedModel:
        """Load the model passed as input ``name``."""
        return TrainedModel.load(ModelRef.model_validate(self.raw[name]))

    def metrics(self, name: str = "metrics") -> Metrics:
        """The metrics passed as input ``name``."""
        return Metrics.model_validate(self.raw[name])


StepFunction = Callable[[StepContext, Any, StepInputs], Mapping[str, Any]]
"""``(context, params, inputs) -> {output name: artifact}`` (pydantic models or dicts)."""


@dataclass(frozen=True)
class TaskTemplate:
    """A reusable task as pipelines see it."""

    name: str
    """The name specs use in a step's ``task``."""
    run: StepFunction
    """Runs one step: loads inputs, calls the task, stores outputs."""
    params: type[BaseModel]
    """The step's scalar parameters; unknown or mistyped ones are refused."""
    inputs: Mapping[str, str] = field(default_factory=dict)
    """Artifact inputs: name to artifact kind (``dataset``, ``model``, ``metrics``, ...)."""
    outputs: Mapping[str, str] = field(default_factory=dict)
    """Artifact outputs: name to artifact kind."""
    optional_inputs: frozenset[str] = frozenset()
    """Inputs a step may leave out."""
    description: str = ""
    """One line for plans and listings."""


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IngestParams(_Params):
    """Parameters of the ``ingest`` task; see :func:`orchlab.pipelines.ingest`."""

    source: Source = "wine"
    sample_fraction: float = Field(default=1.0, gt=0.0, le=1.0)
    shift: float = 0.0
    seed: int = 0


class ValidateParams(_Params):
    """Parameters of the ``validate`` task."""

    min_rows: int | None = Field(default=None, ge=0)


class TransformParams(_Params):
    """Parameters of the ``transform`` task."""

    drop_duplicates: bool = True
    impute: Literal["median", "mean", "none"] = "median"
    clip_quantile: float | None = Field(default=None, ge=0.0, lt=0.5)


class FeaturesParams(_Params):
    """Parameters of the ``features`` task."""

    drop_constant: bool = True
    log1p_skewed: float | None = None
    columns: list[str] | None = None


class TrainParams(_Params):
    """Parameters of the ``train`` task."""

    model: Algorithm = "linear"
    test_fraction: float = Field(default=0.25, gt=0.0, lt=1.0)
    seed: int = 0
    hyperparameters: dict[str, Any] = Field(default_factory=dict)


class NoParams(_Params):
    """For tasks without parameters."""


class RegisterParams(_Params):
    """Parameters of the ``register`` task."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    tags: dict[str, str] = Field(default_factory=dict)


class MonitorParams(_Params):
    """Parameters of the ``monitor`` task."""

    threshold: float = Field(default=DEFAULT_THRESHOLD, gt=0.0)
    bins: int = Field(default=10, ge=2, le=100)
    fail_on_drift: bool = False


def _ingest(ctx: StepContext, p: IngestParams, _: StepInputs) -> dict[str, Any]:
    ds = ingest(p.source, sample_fraction=p.sample_fraction, shift=p.shift, seed=p.seed)
    return {"dataset": ds.save(ctx.step_dir)}


def _validate(ctx: StepContext, p: ValidateParams, inputs: StepInputs) -> dict[str, Any]:
    report = validate(inputs.dataset(), min_rows=p.min_rows)
    # A passing data set travels on unchanged: downstream steps name this step's output.
    return {"dataset": inputs.raw["dataset"], "report": report}


def _transform(ctx: StepContext, p: TransformParams, inputs: StepInputs) -> dict[str, Any]:
    ds = transform(
        inputs.dataset(),
        drop_duplicates=p.drop_duplicates,
        impute=p.impute,
        clip_quantile=p.clip_quantile,
    )
    return {"dataset": ds.save(ctx.step_dir)}


def _features(ctx: StepContext, p: FeaturesParams, inputs: StepInputs) -> dict[str, Any]:
    ds = features(
        inputs.dataset(),
        drop_constant=p.drop_constant,
        log1p_skewed=p.log1p_skewed,
        columns=p.columns,
    )
    return {"dataset": ds.save(ctx.step_dir)}


def _train(ctx: StepContext, p: TrainParams, inputs: StepInputs) -> dict[str, Any]:
    model = train(
        inputs.dataset(),
        model=p.model,
        test_fraction=p.test_fraction,
        seed=p.seed,
        hyperparameters=p.hyperparameters,
    )
    return {"model": model.save(ctx.step_dir)}


def _evaluate(ctx: StepContext, p: NoParams, inputs: StepInputs) -> dict[str, Any]:
    return {"metrics": evaluate(inputs.model(), inputs.dataset())}


def _register(ctx: StepContext, p: RegisterParams, inputs: StepInputs) -> dict[str, Any]:
    metrics = inputs.metrics() if "metrics" in inputs else None
    tags = {"run_id": ctx.run_id, **p.tags}
    registry = ModelRegistry(ctx.registry_dir)
    return {"version": registry.register(inputs.model(), name=p.name, metrics=metrics, tags=tags)}


def _infer(ctx: StepContext, p: NoParams, inputs: StepInputs) -> dict[str, Any]:
    predictions = infer(inputs.model(), inputs.dataset())
    ctx.step_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.step_dir / "predictions.csv"
    from orchlab.pipelines._artifacts import atomic_write

    atomic_write(path, predictions.to_csv(index_label="row", lineterminator="\n").encode())
    return {"predictions": PredictionsRef(uri=str(path), rows=len(predictions))}


def _monitor(ctx: StepContext, p: MonitorParams, inputs: StepInputs) -> dict[str, Any]:
    report = monitor(
        inputs.dataset("reference"), inputs.dataset("current"), threshold=p.threshold, bins=p.bins
    )
    if p.fail_on_drift and report.drifted:
        worst = report.drifted_features[0]
        raise ValidationFailed(
            f"data drift: {len(report.drifted_features)} feature(s) exceed PSI "
            f"{p.threshold}; worst is {worst!r} at {report.scores[worst]:.3f}"
        )
    return {"report": report}


_BUILTIN = (
    TaskTemplate("ingest", _ingest, IngestParams, {}, {"dataset": "dataset"},
                 description="load a bundled scikit-learn data set"),
    TaskTemplate("validate", _validate, ValidateParams, {"dataset": "dataset"},
                 {"dataset": "dataset", "report": "validation"},
                 description="check the data set against its schema"),
    TaskTemplate("transform", _transform, TransformParams, {"dataset": "dataset"},
                 {"dataset": "dataset"}, description="drop duplicates, impute, clip"),
    TaskTemplate("features", _features, FeaturesParams, {"dataset": "dataset"},
                 {"dataset": "dataset"}, description="engineer features without labels"),
    TaskTemplate("train", _train, TrainParams, {"dataset": "dataset"}, {"model": "model"},
                 description="fit a model on a seeded training split"),
    TaskTemplate("evaluate", _evaluate, NoParams, {"model": "model", "dataset": "dataset"},
                 {"metrics": "metrics"}, description="score the model on held-out rows"),
    TaskTemplate("register", _register, RegisterParams, {"model": "model", "metrics": "metrics"},
                 {"version": "model_version"}, optional_inputs=frozenset({"metrics"}),
                 description="store the model as a new registry version"),
    TaskTemplate("infer", _infer, NoParams, {"model": "model", "dataset": "dataset"},
                 {"predictions": "predictions"}, description="predict with a trained model"),
    TaskTemplate("monitor", _monitor, MonitorParams,
                 {"reference": "dataset", "current": "dataset"}, {"report": "drift"},
                 description="score data drift (PSI) per feature"),
)  # fmt: skip

_CATALOG: dict[str, TaskTemplate] = {t.name: t for t in _BUILTIN}


def register_task(template: TaskTemplate, *, replace: bool = False) -> None:
    """Add a task template that specs can name.

    Register it in every process that runs steps (Prefect, Temporal workers), for example
    at import time of the module that defines it.

    Raises:
        ValueError: When the name is taken and ``replace`` is False.
    """
    if template.name in _CATALOG and not replace:
        raise ValueError(f"task template {template.name!r} is already registered")
    _CATALOG[template.name] = template


def get_task(name: str) -> TaskTemplate:
    """The task template called ``name``.

    Raises:
        SpecError: When no such template is registered; the message lists the known ones.
    """
    try:
        return _CATALOG[name]
    except KeyError:
        known = ", ".join(sorted(_CATALOG))
        raise SpecError(
            f"unknown task template {name!r}{did_you_mean(name, _CATALOG)}; known templates: "
            f"{known}"
        ) from None


def task_names() -> list[str]:
    """The registered task templates' names, sorted."""
    return sorted(_CATALOG)


def _to_json(value: Any) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        dumped: dict[str, Any] = value.model_dump(mode="json", by_alias=True)
        return dumped
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"a step output must be a pydantic model or a mapping, got {type(value)}")


def execute_step(call: StepCall) -> StepOutput:
    """Run one step of a pipeline: the function every engine calls.

    The attempt runs under its ``step:<name>`` span and is logged with the run's fields
    (:func:`orchlab.observability.step_span`); both cost nothing unless observability is
    configured.

    Args:
        call: The step, its bound parameters and its upstream artifact references.

    Returns:
        The step's artifact references.

    Raises:
        SpecError: When the task is unknown or its parameters do not validate.
        Exception: Whatever the task raises; engines classify it with
            :func:`orchlab.errors.classify` to decide on retries.
    """
    with step_span(call):
        return _execute(call)


def _execute(call: StepCall) -> StepOutput:
    template = get_task(call.task)
    try:
        params = template.params.model_validate(call.params)
    except ValueError as exc:
        raise SpecError(f"step {call.step!r}: invalid parameters: {exc}") from exc
    ctx = StepContext(
        run_id=call.run_id,
        step=call.step,
        workdir=Path(call.workdir),
        registry_dir=Path(call.registry_dir) if call.registry_dir else None,
        attempt=call.attempt,
    )
    started = time.perf_counter()
    produced = template.run(ctx, params, StepInputs(call.inputs))
    outputs = {name: _to_json(value) for name, value in produced.items()}
    absent = sorted(set(template.outputs) - set(outputs))
    if absent:
        raise SpecError(f"task {call.task!r} did not produce output(s): {', '.join(absent)}")
    return StepOutput(
        step=call.step,
        outputs=outputs,
        attempt=call.attempt,
        duration_seconds=time.perf_counter() - started,
    )


__all__ = [
    "FeaturesParams",
    "IngestParams",
    "MonitorParams",
    "NoParams",
    "RegisterParams",
    "StepCall",
    "StepContext",
    "StepFunction",
    "StepInputs",
    "StepOutput",
    "TaskTemplate",
    "TrainParams",
    "TransformParams",
    "ValidateParams",
    "execute_step",
    "get_task",
    "register_task",
    "task_names",
]
