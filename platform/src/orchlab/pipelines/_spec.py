"""The declarative pipeline spec: parameters, steps, dependencies, retries, artifacts.

A spec is data (YAML or a dict), checked in full before anything runs. Every refusal is a
:class:`orchlab.errors.SpecError` whose message names the problem: the steps of a cycle, the
unknown step a ``needs`` names, the unknown task template, the parameter of the wrong type.

Step parameters may reference pipeline parameters and upstream artifacts::

    params:
      model: ${params.model}                 # a pipeline parameter, keeps its type
      tags: {date: "run of ${params.date}"}  # embedded in text: formatted as a string
      dataset: ${steps.features.dataset}     # an artifact input: output of an upstream step

A step's ``retry`` block is a :class:`orchlab.reliability.RetryPolicy` in data form
(:class:`StepRetry`: attempts, backoff, jitter, maximum interval, deadline); the older
fixed-delay fields ``retries`` and ``retry_delay_seconds`` are still accepted and mean a
fixed delay without jitter. Failures are retried only when the one
:class:`orchlab.reliability.FailureClassifier` calls them transient, on every runner.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from orchlab.errors import SpecError, did_you_mean
from orchlab.pipelines._retry import NO_RETRY, StepRetry
from orchlab.pipelines._schedule_spec import ScheduleSpec
from orchlab.pipelines._tasks import get_task

ParamType = Literal["str", "int", "float", "bool", "date"]
"""The types a pipeline parameter may have; ``date`` values are ISO strings (YYYY-MM-DD)."""

Scalar = str | int | float | bool
"""A bound parameter value (dates are bound as ISO strings)."""

_NAME = r"^[A-Za-z_][A-Za-z0-9_-]*$"
REFERENCE = re.compile(r"\$\{\s*([A-Za-z_]\w*)\.([A-Za-z_][\w-]*)(?:\.([A-Za-z_]\w*))?\s*\}")
"""``${params.NAME}`` or ``${steps.STEP.OUTPUT}``."""
_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


class ParamSpec(BaseModel):
    """A typed pipeline parameter."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: ParamType = "str"
    """The value type: str, int, float, bool or date."""
    default: Any = None
    """The value when none is given; no default makes the parameter required. A date
    parameter may default to ``today``."""
    choices: list[Any] | None = None
    """The allowed values, if restricted."""
    description: str = ""
    """What the parameter means."""

    @property
    def required(self) -> bool:
        """Whether a value must be given (there is no default)."""
        return self.default is None

    def coerce(self, name: str, value: object) -> Scalar:
        """Convert ``value`` (a native value, or text from a command line) to this type.

        Raises:
            SpecError: When the value has the wrong type or is not one of the choices.
        """
        converted = _convert(self.type, value)
        if converted is None:
            raise SpecError(f"parameter {name!r} expects {self.type}, got {value!r}")
        if self.choices is not None:
            allowed = [_convert(self.type, c) for c in self.choices]
            if converted not in allowed:
                listed = ", ".join(str(c) for c in self.choices)
                raise SpecError(f"parameter {name!r} must be one of: {listed} (got {value!r})")
        return converted


def _convert(kind: str, value: object) -> Scalar | None:
    # Returns None when the value does not fit the type.
    text = value.strip() if isinstance(value, str) else None
    try:
        if kind == "str":
            return value if isinstance(value, str) else None
        if kind == "bool":
            if isinstance(value, bool):
                return value
            low = (text or "").lower()
            return True if low in _TRUE else False if low in _FALSE else None
        if kind == "int":
            if isinstance(value, bool):
                return None
            if isinstance(value, int):
                return value
            return int(text) if text is not None else None
        if kind == "float":
            if isinstance(value, bool):
                return None
            if isinstance(value, int | float):
                return float(value)
            return float(text) if text is not None else None
        if kind == "date":
            if isinstance(value, date):
                return value.isoformat()
            if text == "today":
                return date.today().isoformat()
            return date.fromisoformat(text).isoformat() if text is not None else None
    except ValueError:
        return None
    return None  # pragma: no cover - ParamType is a closed set


class StepSpec(BaseModel):
    """One step: a task template, its dependencies, parameters and retry policy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    """The step's unique name."""
    task: str
    """The task template to run (see :func:`orchlab.pipelines.task_names`)."""
    needs: list[str] = Field(default_factory=list)
    """Steps that must succeed before this one starts."""
    params: dict[str, Any] = Field(default_factory=dict)
    """The task's parameters and artifact inputs; may hold ``${...}`` references."""
    retry: StepRetry | None = None
    """How transient failures are retried: attempts, backoff, jitter, maximum interval,
    deadline (see :class:`StepRetry`); by default a step runs once. Read the effective
    policy from :attr:`retry_policy`."""
    retries: int | None = Field(default=None, ge=0, le=100)
    """Older fixed-delay form: how many times to retry a transient failure. Means
    ``retry: {max_attempts: retries + 1, initial_interval: retry_delay_seconds, backoff: 1,
    jitter: none}``; not together with ``retry``."""
    retry_delay_seconds: float | None = Field(default=None, ge=0.0)
    """Older fixed-delay form: the wait between attempts (with ``retries`` only)."""
    timeout_seconds: float | None = Field(default=None, gt=0.0)
    """The longest one attempt may run. Temporal enforces it (600 s when unset); Prefect
    only when set, and cannot interrupt a step blocked in a worker thread."""
    description: str = ""
    """What the step is for."""

    @model_validator(mode="after")
    def _check_retry(self) -> StepSpec:
        where = f"step {self.name!r}"
        legacy = self.retries is not None or self.retry_delay_seconds is not None
        if self.retry is not None and legacy:
            raise SpecError(
                f"{where}: give either retry or the older retries/retry_delay_seconds, not both"
            )
        if self.retry_delay_seconds and not self.retries:
            raise SpecError(
                f"{where}: retry_delay_seconds={self.retry_delay_seconds:g} has no effect "
                "without retries; set retries (or use retry: {max_attempts: ...})"
            )
        try:
            self.retry_policy.check()
        except ValueError as exc:
            raise SpecError(f"{where}: retry: {exc}") from None
        return self

    @property
    def retry_policy(self) -> StepRetry:
        """The step's effective retry policy, whichever form the spec used."""
        if self.retry is not None:
            return self.retry
        if self.retries:
            return StepRetry.fixed(retries=self.retries, delay=self.retry_delay_seconds or 0.0)
        return NO_RETRY


class PipelineSpec(BaseModel):
    """A pipeline: parameters, steps and published artifacts.

    Build one with :func:`load_spec` or :meth:`from_dict` to get a :class:`SpecError`
    (rather than pydantic's ``ValidationError``) when it is invalid.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=_NAME)
    """The pipeline's name."""
    version: str = "1"
    """The spec's version, recorded with every run."""
    description: str = ""
    """What the pipeline does."""
    parameters: dict[str, ParamSpec] = Field(default_factory=dict)
    """Typed run parameters, referenced in steps as ``${params.NAME}``."""
    steps: list[StepSpec] = Field(min_length=1)
    """The steps, in any order; ``needs`` sets the order of execution."""
    artifacts: dict[str, str] = Field(default_factory=dict)
    """Outputs the pipeline publishes: a name to ``${steps.STEP.OUTPUT}``."""
    schedule: ScheduleSpec | None = None
    """When the pipeline runs on its own (Temporal Schedules, Prefect deployment schedules)."""

    @model_validator(mode="after")
    def _check(self) -> PipelineSpec:
        check_spec(self)
        return self

    def step(self, name: str) -> StepSpec:
        """The step called ``name``.

        Raises:
            KeyError: When there is none.
        """
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineSpec:
        """Build and check a spec from plain data.

        Raises:
            SpecError: When the spec is invalid; the message names the problem.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _spec_error(exc, data) from None

    @classmethod
    def from_yaml(cls, text: str, *, origin: str = "<string>") -> PipelineSpec:
        """Build and check a spec from YAML text.

        Raises:
            SpecError: When the YAML is malformed or the spec invalid.
        """
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" line {mark.line + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc)
            raise SpecError(f"{origin}{where}: invalid YAML: {problem}") from None
        return cls._from_document(data, origin)

    @classmethod
    def from_json(cls, text: str, *, origin: str = "<string>") -> PipelineSpec:
        """Build and check a spec from JSON text (a ``.json`` spec is read as JSON only).

        Raises:
            SpecError: When the JSON is malformed (naming the line and column) or the spec
                invalid.
        """
        try:
            data = json.loads(text) if text.strip() else None
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"{origin} line {exc.lineno} column {exc.colno}: invalid JSON: {exc.msg}"
            ) from None
        return cls._from_document(data, origin)

    @classmethod
    def _from_document(cls, data: object, origin: str) -> PipelineSpec:
        if data is None:
            raise SpecError(
                f"{origin}: empty spec: a pipeline spec needs at least name, version and steps"
            )
        if not isinstance(data, Mapping):
            raise SpecError(
                f"{origin}: a pipeline spec must be a mapping, got {type(data).__name__}"
            )
        return cls.from_dict(data)


def _spec_error(exc: ValidationError, data: Mapping[str, Any]) -> SpecError:
    first = exc.errors()[0]
    original = (first.get("ctx") or {}).get("error")
    if isinstance(original, SpecError):
        return original
    loc = list(first["loc"])
    where = ".".join(str(p) for p in loc) or "spec"
    steps = data.get("steps")
    if len(loc) >= 2 and loc[0] == "steps" and isinstance(loc[1], int) and isinstance(steps, list):
        raw = steps[loc[1]] if loc[1] < len(steps) else None
        label = raw.get("name") if isinstance(raw, Mapping) else None
        rest = ".".join(str(p) for p in loc[2:]) or "definition"
        where = f"step {label!r}: {rest}" if label else f"steps[{loc[1]}]: {rest}"
    elif len(loc) >= 2 and loc[0] == "parameters":
        rest = ".".join(str(p) for p in loc[2:]) or "definition"
        where = f"parameter {loc[1]!r}: {rest}"
    return SpecError(f"invalid pipeline spec: {where}: {first['msg']}")


def references(value: Any) -> list[tuple[str, str, str | None]]:
    """Every ``${scope.name[.field]}`` reference inside a (nested) parameter value."""
    if isinstance(value, str):
        return [(m.group(1), m.group(2), m.group(3)) for m in REFERENCE.finditer(value)]
    if isinstance(value, Mapping):
        return [r for v in value.values() for r in references(v)]
    if isinstance(value, list):
        return [r for v in value for r in references(v)]
    return []


def substitute(value: Any, params: Mapping[str, Scalar]) -> Any:
    """Replace ``${params.NAME}`` references in a (nested) value.

    A string that is exactly one reference becomes the parameter's typed value; references
    embedded in longer text are formatted into it.
    """
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value.strip())
        if whole and whole.group(1) == "params":
            return params[whole.group(2)]

        def text(m: re.Match[str]) -> str:
            return str(params[m.group(2)]) if m.group(1) == "params" else m.group(0)

        return REFERENCE.sub(text, value)
    if isinstance(value, Mapping):
        return {k: substitute(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute(v, params) for v in value]
    return value


def artifact_reference(value: Any) -> tuple[str, str] | None:
    """``(step, output)`` when ``value`` is exactly ``${steps.STEP.OUTPUT}``, else None."""
    if not isinstance(value, str):
        return None
    m = REFERENCE.fullmatch(value.strip())
    if m and m.group(1) == "steps" and m.group(3):
        return m.group(2), m.group(3)
    return None


def _find_cycle(spec: PipelineSpec) -> list[str] | None:
    graph = {s.name: s.needs for s in spec.steps}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for dep in graph[node]:
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for step in spec.steps:
        if step.name not in state:
            cycle = visit(step.name)
            if cycle:
                # Reported in execution order: a -> b means a runs before b.
                return list(reversed(cycle))
    return None


def ancestors(spec: PipelineSpec, name: str) -> set[str]:
    """Every step ``name`` depends on, directly or through others."""
    graph = {s.name: s.needs for s in spec.steps}
    seen: set[str] = set()
    todo = list(graph[name])
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo.extend(graph.get(dep, []))
    return seen


def check_spec(spec: PipelineSpec) -> None:
    """Check a spec's structure: names, tasks, dependencies, references, parameters.

    Raises:
        SpecError: On the first problem found; the message names it.
    """
    names = [s.name for s in spec.steps]
    for name in names:
        if names.count(name) > 1:
            raise SpecError(f"duplicate step name {name!r}")
    for pname, pspec in spec.parameters.items():
        _check_param(pname, pspec)
    for step in spec.steps:
        try:
            get_task(step.task)
        except SpecError as exc:
            raise SpecError(f"step {step.name!r}: {exc}") from None
        for dep in step.needs:
            if dep not in names:
                raise SpecError(
                    f"step {step.name!r} needs unknown step {dep!r}{did_you_mean(dep, names)}"
                )
    cycle = _find_cycle(spec)
    if cycle:
        raise SpecError(f"dependency cycle between steps: {' -> '.join(cycle)}")
    for step in spec.steps:
        _check_step(spec, step)
    for label, ref in spec.artifacts.items():
        target = artifact_reference(ref)
        if target is None:
            raise SpecError(f"artifact {label!r} must be ${{steps.STEP.OUTPUT}}, got {ref!r}")
        _check_output(spec, f"artifact {label!r}", *target)
    if spec.schedule is not None:
        _check_schedule(spec, spec.schedule)


def _check_schedule(spec: PipelineSpec, schedule: ScheduleSpec) -> None:
    known = list(spec.parameters)
    for name in [*schedule.params, *([schedule.date_param] if schedule.date_param else [])]:
        if name not in spec.parameters:
            raise SpecError(
                f"schedule: unknown parameter {name!r}{did_you_mean(name, known)}; "
                f"parameters: {', '.join(known) or 'none'}"
            )
    if schedule.date_param and spec.parameters[schedule.date_param].type != "date":
        raise SpecError(
            f"schedule: date_param {schedule.date_param!r} must be a date parameter, not "
            f"{spec.parameters[schedule.date_param].type}"
        )


def _check_param(name: str, pspec: ParamSpec) -> None:
    if not re.match(_NAME, name):
        raise SpecError(f"invalid parameter name {name!r}: use letters, digits, '_' and '-'")
    for choice in pspec.choices or []:
        if _convert(pspec.type, choice) is None:
            raise SpecError(f"parameter {name!r}: choice {choice!r} is not a {pspec.type}")
    if pspec.default is not None:
        try:
            pspec.coerce(name, pspec.default)
        except SpecError as exc:
            raise SpecError(f"default of {exc}") from None


def _check_output(spec: PipelineSpec, user: str, step: str, output: str) -> str:
    names = [s.name for s in spec.steps]
    if step not in names:
        raise SpecError(f"{user} references unknown step {step!r}{did_you_mean(step, names)}")
    outputs = get_task(spec.step(step).task).outputs
    if output not in outputs:
        raise SpecError(
            f"{user} references unknown output {output!r} of step {step!r}; "
            f"it produces: {', '.join(outputs) or 'nothing'}"
        )
    return outputs[output]


def _check_step(spec: PipelineSpec, step: StepSpec) -> None:
    template = get_task(step.task)
    where = f"step {step.name!r}"
    upstream = ancestors(spec, step.name)
    scalars: dict[str, Any] = {}
    for key, value in step.params.items():
        if key in template.inputs:
            target = artifact_reference(value)
            if target is None:
                raise SpecError(
                    f"{where}: input {key!r} must reference an upstream output as "
                    f"${{steps.STEP.OUTPUT}}, got {value!r}"
                )
            kind = _check_output(spec, f"{where} input {key!r}", *target)
            if target[0] not in upstream:
                raise SpecError(
                    f"{where} uses ${{steps.{target[0]}.{target[1]}}} but does not need "
                    f"{target[0]!r}; add it to needs"
                )
            if kind != template.inputs[key]:
                raise SpecError(
                    f"{where}: input {key!r} expects a {template.inputs[key]}, but "
                    f"{target[0]}.{target[1]} is a {kind}"
                )
            continue
        for scope, name, _ in references(value):
            if scope == "steps":
                raise SpecError(
                    f"{where}: parameter {key!r} cannot reference a step output; task "
                    f"{step.task!r} takes artifacts only as: "
                    f"{', '.join(template.inputs) or 'nothing'}"
                )
            if scope != "params":
                raise SpecError(f"{where}: parameter {key!r}: unknown reference scope {scope!r}")
            if name not in spec.parameters:
                known = list(spec.parameters)
                raise SpecError(
                    f"{where}: parameter {key!r} references undeclared pipeline parameter "
                    f"{name!r}{did_you_mean(name, known)}"
                )
        scalars[key] = value
    missing = [
        i for i in template.inputs if i not in step.params and i not in template.optional_inputs
    ]
    if missing:
        raise SpecError(
            f"{where} (task {step.task!r}) is missing input(s): {', '.join(missing)}; "
            "pass each as params.INPUT: ${steps.STEP.OUTPUT}"
        )
    defaults = {n: p.coerce(n, p.default) for n, p in spec.parameters.items() if not p.required}
    used = {n for v in scalars.values() for s, n, _ in references(v) if s == "params"}
    if used <= set(defaults):
        # Every referenced parameter has a default: check the step's parameters now.
        check_step_params(step, template.params, substitute(scalars, defaults))


def check_step_params(step: StepSpec, model: type[BaseModel], values: Mapping[str, Any]) -> None:
    """Validate a step's scalar parameters against its task's parameter model.

    Raises:
        SpecError: Naming the step and the parameter.
    """
    try:
        model.model_validate(values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "params"
        if first["type"] == "extra_forbidden":
            known = ", ".join(model.model_fields) or "none"
            raise SpecError(
                f"step {step.name!r}: unknown parameter {field!r} for task {step.task!r}"
                f"{did_you_mean(field, model.model_fields)}; it takes: {known}"
            ) from None
        raise SpecError(f"step {step.name!r}: parameter {field!r}: {first['msg']}") from None


_EXAMPLES = "examples"


def list_examples() -> list[str]:
    """The names of the example specs bundled with orchlab."""
    folder = resources.files("orchlab.pipelines").joinpath(_EXAMPLES)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_spec(source: str | Path | Mapping[str, Any]) -> PipelineSpec:
    """Load and check a pipeline spec.

    Args:
        source: A dict, a path to a YAML file, or the name of a bundled example
            (see :func:`list_examples`), such as ``wine_training``.

    Returns:
        The checked spec.

    Raises:
        SpecError: When the spec cannot be found, parsed or validated.
    """
    if isinstance(source, Mapping):
        return PipelineSpec.from_dict(source)
    path = Path(source)
    if path.is_file():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError(f"cannot read spec {str(path)!r}: {exc}") from None
        read = PipelineSpec.from_json if path.suffix.lower() == ".json" else PipelineSpec.from_yaml
        return read(text, origin=str(path))
    name = str(source).removesuffix(".yaml")
    if name in list_examples():
        resource = resources.files("orchlab.pipelines").joinpath(_EXAMPLES, f"{name}.yaml")
        return PipelineSpec.from_yaml(resource.read_text(encoding="utf-8"), origin=name)
    raise SpecError(
        f"no spec file {str(source)!r} and no bundled example of that name"
        f"{did_you_mean(name, list_examples())}; bundled examples: {', '.join(list_examples())}"
    )


__all__ = [
    "REFERENCE",
    "ParamSpec",
    "ParamType",
    "PipelineSpec",
    "Scalar",
    "StepSpec",
    "ancestors",
    "artifact_reference",
    "check_spec",
    "check_step_params",
    "list_examples",
    "load_spec",
    "references",
    "substitute",
]
