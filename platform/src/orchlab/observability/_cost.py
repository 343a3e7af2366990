"""What a pipeline run costs: step wall time priced by a rate card.

A :class:`RateCard` (from YAML with :func:`load_rate_card`) prices compute per CPU-hour
and per GB-hour of memory, the resources each task template is given (a default for the
rest), and, on Temporal, each billable action. :func:`run_cost` prices a
:class:`~orchlab.pipelines.PipelineResult` (the successful attempt of each step);
:func:`trace_cost` prices a trace, where every attempt of a step has its span, so failed
attempts are paid for too. Example card::

    currency: EUR
    cpu_hour: 0.04
    gb_hour: 0.005
    temporal_action: 0.000025   # Temporal Cloud prices actions; 0 for a self-hosted server
    default: {cpus: 1, memory_gb: 2}
    tasks:
      train: {cpus: 4, memory_gb: 16}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from orchlab.errors import ConfigError
from orchlab.observability._names import STEP_SPAN_PREFIX, Attr

if TYPE_CHECKING:
    from orchlab.observability._records import SpanRecord
    from orchlab.pipelines._result import PipelineResult


class Resources(BaseModel):
    """What one attempt of a task holds while it runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpus: float = Field(default=1.0, gt=0)
    """CPUs (fractions allowed)."""
    memory_gb: float = Field(default=1.0, ge=0)
    """Memory in GB."""


class RateCard(BaseModel):
    """Prices, and the resources each task is billed for."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    currency: str = "USD"
    """The currency of every price."""
    cpu_hour: float = Field(ge=0)
    """The price of one CPU for one hour."""
    gb_hour: float = Field(default=0.0, ge=0)
    """The price of one GB of memory for one hour."""
    temporal_action: float = Field(default=0.0, ge=0)
    """The price of one Temporal action (runs on the ``temporal`` engine only)."""
    default: Resources = Resources()
    """The resources of a task the card does not list."""
    tasks: dict[str, Resources] = Field(default_factory=dict)
    """Resources per task template (``train``, ``evaluate``...)."""

    def resources(self, task: str) -> Resources:
        """The resources billed for ``task``."""
        return self.tasks.get(task, self.default)

    def compute(self, task: str, seconds: float) -> float:
        """The price of ``task`` running for ``seconds`` of wall time."""
        res = self.resources(task)
        return seconds / 3600 * (res.cpus * self.cpu_hour + res.memory_gb * self.gb_hour)


def load_rate_card(source: Path | str | Mapping[str, Any]) -> RateCard:
    """A rate card from a YAML file or a mapping.

    Raises:
        ConfigError: When the file is missing or not YAML, or a price or resource is
            invalid; the message names the field.
    """
    if isinstance(source, Mapping):
        data: Any = dict(source)
        where = "rate card"
    else:
        path = Path(source)
        where = str(path)
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"no rate card at {path}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of prices, got {type(data).__name__}")
    try:
        return RateCard.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "card"
        raise ConfigError(f"{where}: {field}: {first['msg']}") from None


@dataclass(frozen=True)
class StepCost:
    """What one step cost."""

    step: str
    """The step's name."""
    task: str
    """Its task template."""
    seconds: float
    """Wall seconds billed (every attempt counted, when priced from a trace)."""
    attempts: int
    """Attempts billed."""
    compute: float
    """CPU and memory, priced."""
    actions: int
    """Temporal actions billed (one per activity attempt; 0 off Temporal)."""
    total: float
    """``compute`` plus the actions' price."""
    cpu_seconds: float | None = None
    """CPU seconds the attempts used, when priced from a trace (the worker's measure, to
    compare with what the card bills: ``seconds`` x the task's CPUs)."""


@dataclass(frozen=True)
class RunCost:
    """What a pipeline run cost."""

    pipeline: str
    """The pipeline's name."""
    run_id: str
    """The run's id."""
    engine: str
    """Where it ran."""
    currency: str
    """The card's currency."""
    steps: tuple[StepCost, ...]
    """Each step's cost, in run order."""
    run_actions: int
    """Actions of the run itself (starting the workflow: 1 on Temporal)."""
    total: float
    """The whole run's price."""

    def by_task(self) -> dict[str, float]:
        """The total price per task template."""
        totals: dict[str, float] = {}
        for step in self.steps:
            totals[step.task] = totals.get(step.task, 0.0) + step.total
        return totals

    def exceeds(self, budget: float) -> bool:
        """Whether the run cost more than ``budget`` (in the card's currency)."""
        return self.total > budget


def _price(
    card: RateCard,
    pipeline: str,
    run_id: str,
    engine: str,
    steps: Iterable[tuple[str, str, float, int, float | None]],
) -> RunCost:
    on_temporal = engine == "temporal"
    costed = []
    for step, task, seconds, attempts, cpu in steps:
        compute = card.compute(task, seconds)
        actions = attempts if on_temporal else 0
        total = compute + actions * card.temporal_action
        costed.append(StepCost(step, task, seconds, attempts, compute, actions, total, cpu))
    run_actions = 1 if on_temporal else 0
    total = sum(s.total for s in costed) + run_actions * card.temporal_action
    return RunCost(pipeline, run_id, engine, card.currency, tuple(costed), run_actions, total)


def run_cost(result: PipelineResult, card: RateCard) -> RunCost:
    """Price a run from its result: each step's timed (successful) attempt; on Temporal one
    action to start the workflow and one per activity attempt.

    Steps that did not succeed have no timed attempt and cost their actions only; price
    the run's trace (:func:`trace_cost`) to pay for failed attempts too.
    """
    steps = [(s.name, s.task, s.duration_seconds, s.attempts, None) for s in result.steps]
    return _price(card, result.pipeline, result.run_id, result.engine, steps)


def trace_cost(records: Iterable[SpanRecord], card: RateCard) -> RunCost:
    """Price a run from its trace: every ``step:`` span (each attempt) at its wall time.

    Raises:
        ValueError: When the records hold no ``pipeline:`` root span, or several runs.
    """
    from orchlab.observability._records import run_root

    spans = list(records)
    root = run_root(spans)
    steps: dict[str, tuple[str, float, int, float]] = {}
    for span in spans:
        if not span.name.startswith(STEP_SPAN_PREFIX):
            continue
        name = str(span.attributes.get(Attr.STEP, span.name[len(STEP_SPAN_PREFIX) :]))
        task = str(span.attributes.get(Attr.TASK, ""))
        _, seconds, attempts, cpu = steps.get(name, (task, 0.0, 0, 0.0))
        used = float(span.attributes.get(Attr.CPU_SECONDS, 0.0))
        steps[name] = (task, seconds + span.duration_seconds, attempts + 1, cpu + used)
    return _price(
        card,
        str(root.attributes.get(Attr.PIPELINE, "")),
        str(root.attributes[Attr.RUN_ID]),
        str(root.attributes.get(Attr.ENGINE, "")),
        [(name, *values) for name, values in steps.items()],
    )


__all__ = [
    "RateCard",
    "Resources",
    "RunCost",
    "StepCost",
    "load_rate_card",
    "run_cost",
    "trace_cost",
]
