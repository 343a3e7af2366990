"""Deployment strategies for ML models: promotion, blue/green, canary, config drift.

Promotion
    :class:`PromotionWorkflow` (Temporal) promotes a model version dev -> staging -> prod
    through the ``promotion`` policy gate and human approvals (escalation, timeout);
    :func:`promote_local` does the same in-process; :func:`promotion_worker` hosts it.
Blue/green
    :class:`BlueGreen`: deploy to the idle slot, :meth:`~BlueGreen.switch` all traffic,
    :meth:`~BlueGreen.rollback` instantly to the version still warm in the other slot.
Canary
    :func:`run_canary` steps traffic (5, 25, 50, 100 %) and rolls back on its own when the
    metric breaches its threshold; the :class:`CanaryResult` timeline is ready to plot.
    :class:`ScriptedMetrics` is a deterministic metric source.
Environments
    :class:`EnvironmentConfig` for dev, test and prod (:func:`load_environment`);
    :func:`diff_configs` and :func:`check_drift` name the keys that differ.

Every decision (gate, approval, switch, rollback, canary step, drift check) is written to an
:class:`orchlab.policy.AuditLog` when one is given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchlab._lazy import lazy_exports

if TYPE_CHECKING:
    from orchlab.deploy._bluegreen import BlueGreen, BlueGreenState, Slot
    from orchlab.deploy._canary import (
        DEFAULT_STEPS,
        CanaryPoint,
        CanaryResult,
        MetricSource,
        ScriptedMetrics,
        run_canary,
    )
    from orchlab.deploy._environments import (
        ENVIRONMENTS,
        ConfigDrift,
        DriftReport,
        EnvironmentConfig,
        check_drift,
        diff_configs,
        flatten,
        load_environment,
    )
    from orchlab.deploy._promotion import (
        PromotionRequest,
        PromotionResult,
        PromotionStep,
        PromotionWorkflow,
        promote_local,
        promotion_worker,
    )

_MODULES: dict[str, tuple[str, ...]] = {
    "_bluegreen": ("BlueGreen", "BlueGreenState", "Slot"),
    "_canary": (
        "DEFAULT_STEPS", "CanaryPoint", "CanaryResult", "MetricSource", "ScriptedMetrics",
        "run_canary",
    ),
    "_environments": (
        "ENVIRONMENTS", "ConfigDrift", "DriftReport", "EnvironmentConfig", "check_drift",
        "diff_configs", "flatten", "load_environment",
    ),
    "_promotion": (
        "PromotionRequest", "PromotionResult", "PromotionStep", "PromotionWorkflow",
        "promote_local", "promotion_worker",
    ),
}  # fmt: skip
_EXPORTS = {name: module for module, names in _MODULES.items() for name in names}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


__all__ = [
    "DEFAULT_STEPS",
    "ENVIRONMENTS",
    "BlueGreen",
    "BlueGreenState",
    "CanaryPoint",
    "CanaryResult",
    "ConfigDrift",
    "DriftReport",
    "EnvironmentConfig",
    "MetricSource",
    "PromotionRequest",
    "PromotionResult",
    "PromotionStep",
    "PromotionWorkflow",
    "ScriptedMetrics",
    "Slot",
    "check_drift",
    "diff_configs",
    "flatten",
    "load_environment",
    "promote_local",
    "promotion_worker",
    "run_canary",
]
