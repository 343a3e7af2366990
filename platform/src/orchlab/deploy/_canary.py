"""Canary releases: stepped traffic to a new version, rolled back on its own on a breach.

:func:`run_canary` moves traffic to the candidate in steps (5, 25, 50, 100 % by default).
At each step it reads the candidate's metric from a :class:`MetricSource` (an error rate,
a latency, an accuracy) and compares it with the threshold; on the first breach it sends
all traffic back to the stable version. The :class:`CanaryResult` carries the whole
timeline (traffic and metric per step) so a notebook can plot it, and every step is
audited. :class:`ScriptedMetrics` is a deterministic source for tests and labs.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal, Protocol

from orchlab.policy import AuditLog

DEFAULT_STEPS = (5, 25, 50, 100)
"""Traffic percentages of a canary, in order."""


class MetricSource(Protocol):
    """Reads the candidate's metric while it takes ``traffic`` percent of requests."""

    def __call__(self, version: str, traffic: int, step: int) -> float:
        """The metric at ``step`` (0-based)."""
        ...


@dataclass
class ScriptedMetrics:
    """A deterministic metric source: one value per step, or a function of traffic.

    Args:
        values: The metric at step 0, 1, 2...; the last value repeats.
        by_version: Per-version scripts, overriding ``values``.
        noise: Standard deviation of seeded Gaussian noise added to each value.
        seed: Seeds the noise.
    """

    values: Sequence[float] = (0.01,)
    by_version: Mapping[str, Sequence[float]] = field(default_factory=dict)
    noise: float = 0.0
    seed: int = 0

    def __call__(self, version: str, traffic: int, step: int) -> float:
        script = self.by_version.get(version, self.values)
        if not script:
            raise ValueError(f"no metric values scripted for {version}")
        value = float(script[min(step, len(script) - 1)])
        if self.noise:
            value += random.Random(f"{self.seed}:{version}:{step}").gauss(0.0, self.noise)
        return value


@dataclass(frozen=True)
class CanaryPoint:
    """One step of the timeline."""

    step: int
    """0-based step index."""
    traffic: int
    """Percent of requests on the candidate during this step (0 after a rollback)."""
    metric: float | None
    """The candidate's metric at this step (None for the rollback point)."""
    breached: bool
    """True when the metric crossed the threshold."""


@dataclass(frozen=True)
class CanaryResult:
    """How a canary ended, and its timeline."""

    stable: str
    """The version that served before."""
    candidate: str
    """The version under test."""
    status: Literal["promoted", "rolled_back"]
    """``promoted`` (100 % on the candidate) or ``rolled_back`` (0 %)."""
    timeline: tuple[CanaryPoint, ...]
    """Traffic and metric per step; a rollback adds a final point at 0 %."""
    threshold: float
    """The limit the metric was held to."""
    reason: str = ""
    """Why it rolled back."""

    @property
    def final_traffic(self) -> int:
        """The candidate's share at the end."""
        return self.timeline[-1].traffic if self.timeline else 0

    def to_records(self) -> list[dict[str, Any]]:
        """The timeline as rows (``pandas.DataFrame(result.to_records())`` to plot)."""
        return [
            {"step": p.step, "traffic": p.traffic, "metric": p.metric, "breached": p.breached}
            for p in self.timeline
        ]


def run_canary(
    stable: str,
    candidate: str,
    metrics: MetricSource | Callable[[str, int, int], float],
    *,
    threshold: float,
    steps: Sequence[int] = DEFAULT_STEPS,
    higher_is_worse: bool = True,
    set_traffic: Callable[[int], None] | None = None,
    audit: AuditLog | None = None,
    actor: str = "orchlab",
) -> CanaryResult:
    """Shift traffic to ``candidate`` step by step; roll back at the first breach.

    Args:
        stable: The current version.
        candidate: The new version.
        metrics: Reads the candidate's metric at each step.
        threshold: The limit; breached when the metric is above it (or below it, with
            ``higher_is_worse=False``, e.g. for accuracy).
        steps: Increasing traffic percentages ending at 100.
        higher_is_worse: Direction of the metric.
        set_traffic: Applies a split (percent on the candidate) to the real router.
        audit: Where each step and the outcome are recorded.
        actor: Who runs the canary.

    Raises:
        ValueError: Steps not strictly increasing within 1..100 or not ending at 100.
    """
    plan = list(steps)
    if not plan or plan[-1] != 100 or any(not 0 < s <= 100 for s in plan):
        raise ValueError(f"canary steps must be percentages in 1..100 ending at 100, got {plan}")
    if any(b <= a for a, b in pairwise(plan)):
        raise ValueError(f"canary steps must increase, got {plan}")
    subject = f"{stable}->{candidate}"
    timeline: list[CanaryPoint] = []

    def record(action: str, data: dict[str, Any]) -> None:
        if audit is not None:
            audit.append(action, actor=actor, subject=subject, data=data)

    for index, traffic in enumerate(plan):
        if set_traffic is not None:
            set_traffic(traffic)
        value = float(metrics(candidate, traffic, index))
        breached = value > threshold if higher_is_worse else value < threshold
        timeline.append(CanaryPoint(index, traffic, value, breached))
        record(
            "canary.step",
            {
                "step": index,
                "traffic": traffic,
                "metric": value,
                "threshold": threshold,
                "breached": breached,
            },
        )
        if breached:
            if set_traffic is not None:
                set_traffic(0)
            side = "above" if higher_is_worse else "below"
            reason = f"metric {value:.4g} {side} threshold {threshold:.4g} at {traffic}% traffic"
            timeline.append(CanaryPoint(index + 1, 0, None, False))
            record("canary.rolled_back", {"reason": reason, "traffic": 0})
            return CanaryResult(
                stable, candidate, "rolled_back", tuple(timeline), threshold, reason
            )
    record("canary.promoted", {"traffic": 100})
    return CanaryResult(stable, candidate, "promoted", tuple(timeline), threshold)


__all__ = [
    "DEFAULT_STEPS",
    "CanaryPoint",
    "CanaryResult",
    "MetricSource",
    "ScriptedMetrics",
    "run_canary",
]
