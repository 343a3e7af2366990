"""Execution plans: a checked spec with bound parameters, ordered into stages.

Stage 1 holds the steps that need nothing; stage N the steps whose latest dependency is in
stage N - 1. Steps of one stage are independent and may run concurrently; within a stage
they keep the spec's order, so a plan is deterministic. A plan is plain dataclasses of
JSON-able values: it is what a Temporal workflow receives and interprets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from orchlab.errors import SpecError, did_you_mean
from orchlab.pipelines._retry import NO_RETRY, StepRetry
from orchlab.pipelines._spec import (
    PipelineSpec,
    Scalar,
    artifact_reference,
    check_step_params,
    substitute,
)
from orchlab.pipelines._tasks import StepOutput, get_task


@dataclass
class PlannedStep:
    """One step, ready to run."""

    name: str
    """The step's name."""
    task: str
    """The task template."""
    stage: int
    """The stage it runs in, from 1."""
    needs: list[str] = field(default_factory=list)
    """The steps it waits for."""
    params: dict[str, Any] = field(default_factory=dict)
    """Scalar parameters, validated, with pipeline parameters substituted."""
    inputs: dict[str, str] = field(default_factory=dict)
    """Artifact inputs: input name to ``"step.output"``."""
    retry: StepRetry = NO_RETRY
    """How transient failures are retried; every runner renders it through
    :meth:`StepRetry.policy`."""
    timeout_seconds: float | None = None
    """The longest one attempt may run, if limited."""

    @property
    def retries(self) -> int:
        """Retries after the first attempt (``retry.max_attempts - 1``)."""
        return self.retry.retries

    @property
    def retry_delay_seconds(self) -> float:
        """The delay before the first retry (all of them for a fixed-delay policy); see
        :meth:`StepRetry.describe` for the whole policy in words."""
        return self.retry.initial_interval

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PlannedStep:
        """Rebuild a step from its JSON form (``dataclasses.asdict``)."""
        fields = dict(data)
        fields["retry"] = StepRetry.from_dict(fields.get("retry", NO_RETRY))
        return cls(**fields)


@dataclass
class ExecutionPlan:
    """A pipeline ready to run: bound parameters and steps in stages."""

    pipeline: str
    """The pipeline's name."""
    version: str
    """The spec's version."""
    params: dict[str, Any]
    """The bound pipeline parameters."""
    stages: list[list[PlannedStep]]
    """Steps by stage; each stage's steps are independent of each other."""
    artifacts: dict[str, str] = field(default_factory=dict)
    """Published artifacts: name to ``"step.output"``."""

    @property
    def steps(self) -> list[PlannedStep]:
        """All steps in execution order."""
        return [step for stage in self.stages for step in stage]

    def to_dict(self) -> dict[str, Any]:
        """The plan as plain JSON-able data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExecutionPlan:
        """Rebuild a plan from :meth:`to_dict` output."""
        stages = [[PlannedStep.from_dict(step) for step in stage] for stage in data["stages"]]
        return cls(
            pipeline=data["pipeline"],
            version=data["version"],
            params=dict(data["params"]),
            stages=stages,
            artifacts=dict(data.get("artifacts", {})),
        )


def bind_params(
    spec: PipelineSpec, values: Mapping[str, object] | None = None
) -> dict[str, Scalar]:
    """Check run parameters against the spec and fill in defaults.

    Args:
        spec: The pipeline spec.
        values: Given values, native or text (``"42"``, ``"true"``, ``"2026-01-31"``).

    Returns:
        Every declared parameter's typed value (dates as ISO strings).

    Raises:
        SpecError: On an unknown parameter, a wrong type, a value not in the choices, or a
            required parameter left out; the message names the parameter.
    """
    given = dict(values or {})
    unknown = sorted(set(given) - set(spec.parameters))
    if unknown:
        known = ", ".join(spec.parameters) or "none"
        raise SpecError(
            f"unknown parameter(s) for pipeline {spec.name!r}: {', '.join(unknown)}"
            f"{did_you_mean(unknown[0], spec.parameters)}; it takes: {known}"
        )
    bound: dict[str, Scalar] = {}
    for name, pspec in spec.parameters.items():
        if name in given:
            bound[name] = pspec.coerce(name, given[name])
        elif pspec.required:
            raise SpecError(f"parameter {name!r} is required by pipeline {spec.name!r}")
        else:
            bound[name] = pspec.coerce(name, pspec.default)
    return bound


def stage_numbers(spec: PipelineSpec) -> dict[str, int]:
    """The stage of every step: 1 + the latest stage among the steps it needs."""
    stage: dict[str, int] = {}
    remaining = list(spec.steps)
    while remaining:
        ready = [s for s in remaining if all(d in stage for d in s.needs)]
        if not ready:  # pragma: no cover - check_spec refuses cycles first
            raise SpecError("dependency cycle between steps")
        for s in ready:
            stage[s.name] = 1 + max((stage[d] for d in s.needs), default=0)
        remaining = [s for s in remaining if s.name not in stage]
    return stage


def build_plan(spec: PipelineSpec, params: Mapping[str, object] | None = None) -> ExecutionPlan:
    """Bind parameters and order the steps into stages.

    Args:
        spec: A checked spec.
        params: Run parameters; defaults fill the rest.

    Returns:
        The execution plan.

    Raises:
        SpecError: When a parameter is invalid, or a step's parameters are invalid once the
            pipeline parameters are substituted.
    """
    bound = bind_params(spec, params)
    numbers = stage_numbers(spec)
    stages: list[list[PlannedStep]] = [[] for _ in range(max(numbers.values()))]
    for step in spec.steps:
        template = get_task(step.task)
        inputs: dict[str, str] = {}
        scalars: dict[str, Any] = {}
        for key, value in step.params.items():
            target = artifact_reference(value) if key in template.inputs else None
            if target is not None:
                inputs[key] = f"{target[0]}.{target[1]}"
            else:
                scalars[key] = value
        resolved = substitute(scalars, bound)
        check_step_params(step, template.params, resolved)
        validated = template.params.model_validate(resolved).model_dump(mode="json")
        planned = PlannedStep(
            name=step.name,
            task=step.task,
            stage=numbers[step.name],
            needs=list(step.needs),
            params=validated,
            inputs=inputs,
            retry=step.retry_policy,
            timeout_seconds=step.timeout_seconds,
        )
        stages[planned.stage - 1].append(planned)
    artifacts = {}
    for label, ref in spec.artifacts.items():
        target = artifact_reference(ref)
        if target is not None:
            artifacts[label] = f"{target[0]}.{target[1]}"
    return ExecutionPlan(
        pipeline=spec.name, version=spec.version, params=dict(bound), stages=stages,
        artifacts=artifacts,
    )  # fmt: skip


def resolve_inputs(
    step: PlannedStep, outputs: Mapping[str, StepOutput]
) -> dict[str, dict[str, Any]]:
    """The artifact references a step's inputs point at, from upstream outputs.

    Pure and deterministic: Temporal workflows call it too.
    """
    resolved: dict[str, dict[str, Any]] = {}
    for key, ref in step.inputs.items():
        upstream, output = ref.split(".", 1)
        resolved[key] = outputs[upstream].outputs[output]
    return resolved


__all__ = [
    "ExecutionPlan",
    "PlannedStep",
    "bind_params",
    "build_plan",
    "resolve_inputs",
    "stage_numbers",
]
