"""The result of a pipeline run, the same on every engine.

Engines collect a :class:`PipelineOutcome` (successful step outputs and failures) and
:func:`assemble_result` turns it into a :class:`PipelineResult`, so that a test can assert
``run_local(...).metrics == run_prefect(...).metrics == (await run_temporal(...)).metrics``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field

from orchlab.errors import FailureClass, OrchlabError
from orchlab.pipelines._plan import ExecutionPlan
from orchlab.pipelines._tasks import StepOutput
from orchlab.reliability._failure import FailureDetails

StepStatus = Literal["succeeded", "failed", "skipped"]
"""``skipped``: not run because an earlier stage failed."""

Engine = Literal["local", "prefect", "temporal"]
"""The engines a pipeline runs on."""


@dataclass
class StepFailure:
    """A step that failed for good (after its retries)."""

    step: str
    """The step's name."""
    error: str
    """``ErrorType: message`` of the last attempt."""
    attempts: int = 1
    """How many attempts were made."""
    failure_class: FailureClass | None = None
    """How the classifier saw the last failure (None when the engine itself stopped the
    step, by a timeout or a crash, without the step raising)."""

    @classmethod
    def from_details(cls, step: str, details: FailureDetails, attempts: int) -> StepFailure:
        """The failure of ``step`` as the one failure schema describes it."""
        return cls(step, details.text, details.attempt or attempts, details.failure_class)


@dataclass
class PipelineOutcome:
    """What an engine collected while running a plan."""

    outputs: dict[str, StepOutput] = field(default_factory=dict)
    """Outputs of the steps that succeeded."""
    failures: dict[str, StepFailure] = field(default_factory=dict)
    """The steps that failed."""
    engine_run_id: str = ""
    """The engine's own id of the run (a Prefect flow run's id), when the engine knows it."""

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PipelineOutcome:
        """Rebuild an outcome from its JSON form (as it arrives in a failure's details)."""
        return cls(
            outputs={k: StepOutput(**v) for k, v in data.get("outputs", {}).items()},
            failures={k: _failure_of(v) for k, v in data.get("failures", {}).items()},
            engine_run_id=str(data.get("engine_run_id", "")),
        )


def _failure_of(data: Mapping[str, Any]) -> StepFailure:
    fields = dict(data)
    if fields.get("failure_class") is not None:
        fields["failure_class"] = FailureClass(fields["failure_class"])
    return StepFailure(**fields)


def error_text(exc: BaseException) -> str:
    """``ErrorType: first line of the message``: what a person needs, no traceback."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class StepResult(BaseModel):
    """How one step went."""

    name: str
    """The step's name."""
    task: str
    """The task template."""
    stage: int
    """The stage it ran in."""
    status: StepStatus
    """succeeded, failed or skipped."""
    attempts: int = 0
    """Attempts made (0 when skipped)."""
    duration_seconds: float = 0.0
    """Wall time of the successful attempt."""
    outputs: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Artifact references by output name."""
    error: str | None = None
    """Why it failed."""
    failure_class: FailureClass | None = None
    """How the last failure was classified: transient failures were retried per the
    step's policy, permanent and fatal ones were not."""


class PipelineResult(BaseModel):
    """How a pipeline run went, whichever engine ran it."""

    pipeline: str
    """The pipeline's name."""
    version: str
    """The spec's version."""
    engine: Engine
    """The engine that ran it."""
    run_id: str
    """The run's id (also the Prefect flow run name and part of the Temporal workflow id)."""
    status: Literal["succeeded", "failed"]
    """The overall status."""
    params: dict[str, Any]
    """The bound pipeline parameters."""
    steps: list[StepResult]
    """Every planned step, in execution order."""
    artifacts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """The spec's published artifacts that were produced."""
    workdir: str = ""
    """Where the run's artifacts are."""
    engine_run_id: str = ""
    """The engine's own id of the run: the Temporal workflow id, the Prefect flow run id
    (empty on the local runner). :func:`orchlab.runtime.run_link` makes a UI link of it."""
    error: str | None = None
    """The first failure, as ``step 'name': ErrorType: message``."""

    @property
    def succeeded(self) -> bool:
        """Whether every step succeeded."""
        return self.status == "succeeded"

    def step(self, name: str) -> StepResult:
        """The result of the step called ``name``.

        Raises:
            KeyError: When the plan has no such step.
        """
        for step in self.steps:
            if step.name == name:
                return step
        raise KeyError(name)

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        """Metrics by step: evaluation metrics, and ``max_psi`` of drift reports."""
        found: dict[str, dict[str, float]] = {}
        for step in self.steps:
            for output in step.outputs.values():
                if output.get("kind") == "metrics":
                    found.setdefault(step.name, {}).update(output["values"])
                elif output.get("kind") == "drift":
                    found.setdefault(step.name, {})["max_psi"] = output["max_score"]
        return found

    def raise_for_status(self) -> PipelineResult:
        """Return self when the run succeeded.

        Raises:
            PipelineFailed: When it failed; the message names the failed step and error.
        """
        if not self.succeeded:
            raise PipelineFailed(self)
        return self


class PipelineFailed(OrchlabError, RuntimeError):
    """A pipeline run failed; ``result`` says which step and why."""

    def __init__(self, result: PipelineResult) -> None:
        super().__init__(f"pipeline {result.pipeline!r} failed on {result.engine}: {result.error}")
        self.result = result


def assemble_result(
    plan: ExecutionPlan,
    outcome: PipelineOutcome,
    *,
    engine: Engine,
    run_id: str,
    workdir: str,
) -> PipelineResult:
    """Turn what an engine collected into a :class:`PipelineResult`."""
    steps: list[StepResult] = []
    first_error: str | None = None
    for planned in plan.steps:
        base = StepResult(
            name=planned.name, task=planned.task, stage=planned.stage, status="skipped"
        )
        if planned.name in outcome.outputs:
            out = outcome.outputs[planned.name]
            update = {
                "status": "succeeded",
                "attempts": out.attempt,
                "duration_seconds": out.duration_seconds,
                "outputs": out.outputs,
            }
            steps.append(base.model_copy(update=update))
        elif planned.name in outcome.failures:
            failure = outcome.failures[planned.name]
            first_error = first_error or f"step {planned.name!r}: {failure.error}"
            update = {
                "status": "failed",
                "attempts": failure.attempts,
                "error": failure.error,
                "failure_class": failure.failure_class,
            }
            steps.append(base.model_copy(update=update))
        else:
            steps.append(base)
    artifacts: dict[str, dict[str, Any]] = {}
    for label, ref in plan.artifacts.items():
        step, output = ref.split(".", 1)
        if step in outcome.outputs and output in outcome.outputs[step].outputs:
            artifacts[label] = outcome.outputs[step].outputs[output]
    failed = bool(outcome.failures) or any(s.status != "succeeded" for s in steps)
    return PipelineResult(
        pipeline=plan.pipeline,
        version=plan.version,
        engine=engine,
        run_id=run_id,
        status="failed" if failed else "succeeded",
        params=plan.params,
        steps=steps,
        artifacts=artifacts,
        workdir=workdir,
        error=first_error or ("steps were skipped" if failed else None),
        engine_run_id=outcome.engine_run_id,
    )


__all__ = [
    "Engine",
    "PipelineFailed",
    "PipelineOutcome",
    "PipelineResult",
    "StepFailure",
    "StepResult",
    "StepStatus",
    "assemble_result",
    "error_text",
]
