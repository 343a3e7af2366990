"""Run setup shared by the engine adapters, and the plain in-process runner.

:func:`run_local` needs no engine: it runs the plan stage by stage in this process, each
step under its :class:`orchlab.reliability.RetryPolicy` (run with tenacity), which retries
only what the :class:`orchlab.reliability.FailureClassifier` calls transient, as the engines
do. Use it in tests, notebooks and for dry comparisons.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchlab.config import get_settings
from orchlab.observability._instrument import observe_run
from orchlab.pipelines._plan import ExecutionPlan, PlannedStep, build_plan, resolve_inputs
from orchlab.pipelines._result import (
    Engine,
    PipelineOutcome,
    PipelineResult,
    StepFailure,
    assemble_result,
)
from orchlab.pipelines._spec import PipelineSpec, load_spec
from orchlab.pipelines._tasks import StepCall, StepOutput, execute_step
from orchlab.reliability._classify import DEFAULT_CLASSIFIER
from orchlab.reliability._retry import RetryPolicy

SpecSource = PipelineSpec | str | Path | Mapping[str, Any]
"""A spec, a path to a YAML spec, a bundled example's name, or a dict."""


@dataclass(frozen=True)
class RunSetup:
    """A run about to start: its plan, id and folders."""

    plan: ExecutionPlan
    """The execution plan."""
    run_id: str
    """The run's unique id."""
    workdir: Path
    """The run's artifact folder (absolute)."""
    registry_dir: Path | None
    """The model registry folder, or None for the default."""

    def call(self, step: PlannedStep, outputs: Mapping[str, StepOutput]) -> StepCall:
        """The call that runs ``step``, given the outputs of the steps before it."""
        return StepCall(
            run_id=self.run_id,
            step=step.name,
            task=step.task,
            params=step.params,
            inputs=resolve_inputs(step, outputs),
            workdir=str(self.workdir),
            registry_dir=str(self.registry_dir) if self.registry_dir else None,
        )

    def finish(self, outcome: PipelineOutcome, engine: Engine) -> PipelineResult:
        """Assemble the result and keep a copy as ``result.json`` in the run folder."""
        result = assemble_result(
            self.plan, outcome, engine=engine, run_id=self.run_id, workdir=str(self.workdir)
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "result.json").write_text(result.model_dump_json(indent=2) + "\n")
        return result


def new_run_id(pipeline: str) -> str:
    """A unique, sortable run id: ``<pipeline>-<UTC time>-<random>``."""
    return f"{pipeline}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def prepare_run(
    spec: SpecSource,
    params: Mapping[str, object] | None = None,
    *,
    workdir: Path | str | None = None,
    registry_dir: Path | str | None = None,
    run_id: str | None = None,
) -> RunSetup:
    """Load the spec, bind parameters, plan, and choose the run's id and folders.

    Args:
        spec: The spec or where to find it.
        params: Run parameters.
        workdir: The run's artifact folder; by default ``<state_dir>/runs/<run id>``.
        registry_dir: The model registry; by default ``Settings().model_registry_dir``.
        run_id: The run's id; generated when None.

    Raises:
        SpecError: When the spec or a parameter is invalid.
    """
    loaded = spec if isinstance(spec, PipelineSpec) else load_spec(spec)
    plan = build_plan(loaded, params)
    rid = run_id or new_run_id(loaded.name)
    folder = Path(workdir) if workdir is not None else get_settings().state_dir / "runs" / rid
    registry = Path(registry_dir).resolve() if registry_dir is not None else None
    return RunSetup(plan=plan, run_id=rid, workdir=folder.resolve(), registry_dir=registry)


def run_local(
    spec: SpecSource,
    params: Mapping[str, object] | None = None,
    *,
    workdir: Path | str | None = None,
    registry_dir: Path | str | None = None,
    run_id: str | None = None,
    sleep: Callable[[float], None] = time.sleep,
    seed: int | None = None,
) -> PipelineResult:
    """Run a pipeline in this process, stage by stage, without an engine.

    Each step runs under its :class:`orchlab.reliability.RetryPolicy` (its ``retry`` in the
    spec), which retries only what :data:`orchlab.reliability.DEFAULT_CLASSIFIER` calls
    transient, as the engines do.

    Args:
        spec: The spec, a path to one, or a bundled example's name.
        params: Run parameters (native values or text).
        workdir: The run's artifact folder.
        registry_dir: The model registry folder.
        run_id: The run's id.
        sleep: Waits between retries; inject a recorder in tests.
        seed: Seeds the policies' jitter, to make delays repeatable.

    Returns:
        The run's result; check ``status`` or call ``raise_for_status()``.

    Raises:
        SpecError: When the spec or a parameter is invalid (nothing has run).
    """
    setup = prepare_run(spec, params, workdir=workdir, registry_dir=registry_dir, run_id=run_id)
    outcome = PipelineOutcome()
    with observe_run(setup, "local") as observed:
        for stage in setup.plan.stages:
            for step in stage:
                policy = step.retry.policy(classifier=DEFAULT_CLASSIFIER, sleep=sleep, seed=seed)
                _run_step(setup, step, outcome, policy)
            if outcome.failures:
                break  # later stages depend on a failed step
        return observed.finish(setup.finish(outcome, "local"))


def _run_step(
    setup: RunSetup, step: PlannedStep, outcome: PipelineOutcome, policy: RetryPolicy
) -> None:
    call = setup.call(step, outcome.outputs)

    def attempt() -> StepOutput:
        call.attempt += 1
        return execute_step(call)

    call.attempt = 0
    try:
        outcome.outputs[step.name] = policy.call(attempt)
    except Exception as exc:
        details = policy.classifier.details(exc, attempt=call.attempt)
        outcome.failures[step.name] = StepFailure.from_details(step.name, details, call.attempt)


__all__ = ["RunSetup", "SpecSource", "new_run_id", "prepare_run", "run_local"]
