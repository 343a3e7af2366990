"""Model promotion dev -> staging -> prod through policy gates and approvals, on Temporal.

:class:`PromotionWorkflow` walks the targets in order. Before each one it asks for a human
approval when the target needs one (a child :class:`~orchlab.policy.ApprovalWorkflow`,
id ``<promotion id>.approval.<target>``), then runs the ``promotion`` policy gate as an
activity with the metrics, drift and approval. A deny stops the promotion where it is and
names the reasons; an allow records ``promotion.promoted``. Every decision is audited.

:func:`promote_local` does the same in-process (no approvals workflow: pass them in), for
notebooks and tests; :func:`promotion_worker` builds a worker for both workflows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

with workflow.unsafe.imports_passed_through():
    from orchlab.policy import (
        ApprovalRequest,
        ApprovalWorkflow,
        AuditEntry,
        AuditLog,
        GateRequest,
        gate,
        policy_gate_activity,
        record_audit,
    )


@dataclass
class PromotionRequest:
    """What to promote, where, and under which rules."""

    model: str
    """The registered model's name."""
    version: str
    """The version to promote."""
    metrics: dict[str, float]
    """Its evaluation metrics (the policy reads ``accuracy``)."""
    requested_by: str
    """Who asks; may not approve."""
    source: str = "dev"
    """Where the version runs now."""
    targets: list[str] = field(default_factory=lambda: ["staging", "prod"])
    """Environments to promote through, in order."""
    approval_required: list[str] = field(default_factory=lambda: ["prod"])
    """Targets that need a human approval first."""
    approvers: list[str] = field(default_factory=list)
    """Who may approve."""
    escalation_approvers: list[str] = field(default_factory=list)
    """Who may approve after escalation."""
    escalate_after_seconds: float | None = None
    """Escalate an approval nobody answered by then."""
    approval_timeout_seconds: float = 24 * 3600
    """Give up on an approval after this long."""
    drift: dict[str, float] = field(default_factory=dict)
    """Drift figures for the policy (``psi_max``)."""
    policy: str = "promotion"
    """The gate's policy: a bundled name or a ``.rego`` path on the workers."""
    policy_data: dict[str, Any] = field(default_factory=dict)
    """Base documents for the policy (``{"config": {"promotion_thresholds": ...}}``)."""
    audit_path: str | None = None
    """The audit log on the workers' file system."""


@dataclass
class PromotionStep:
    """One target's outcome."""

    target: str
    """The environment."""
    allowed: bool
    """Whether the gate allowed it."""
    reasons: list[str]
    """Why not."""
    approver: str | None = None
    """Who approved, when an approval was needed."""


@dataclass
class PromotionResult:
    """Where the version ended up."""

    model: str
    """The model."""
    version: str
    """The version."""
    status: Literal["promoted", "blocked"]
    """``promoted`` through every target, or ``blocked`` at one."""
    reached: str
    """The last environment the version reached."""
    steps: list[PromotionStep]
    """Each target tried, in order."""

    @property
    def reasons(self) -> list[str]:
        """The blocking reasons (empty when promoted)."""
        return [r for s in self.steps if not s.allowed for r in s.reasons]


def _gate_input(
    request: PromotionRequest, source: str, target: str, approval: Mapping[str, Any] | None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "model": {"name": request.model, "version": request.version},
        "source": source,
        "target": target,
        "metrics": dict(request.metrics),
        "requested_by": request.requested_by,
    }
    if request.drift:
        doc["drift"] = dict(request.drift)
    if approval is not None:
        doc["approval"] = dict(approval)
    return doc


@workflow.defn(name="orchlab.Promotion")
class PromotionWorkflow:
    """Promote one model version through environments; see the module docs."""

    def __init__(self) -> None:
        self._stage = ""
        self._waiting_for: str | None = None

    @workflow.run
    async def run(self, request: PromotionRequest) -> PromotionResult:
        """Walk the targets; stop at the first deny."""
        current = request.source
        steps: list[PromotionStep] = []
        for target in request.targets:
            self._stage = target
            approval: dict[str, Any] | None = None
            if target in request.approval_required:
                approval = await self._approval(request, target)
            result = await workflow.execute_activity(
                policy_gate_activity,
                GateRequest(
                    policy=request.policy,
                    input=_gate_input(request, current, target, approval),
                    data=request.policy_data,
                    audit_path=request.audit_path,
                    actor=request.requested_by,
                    subject=f"{request.model} v{request.version} -> {target}",
                    enforce=False,
                ),
                start_to_close_timeout=timedelta(seconds=30),
            )
            approver = approval.get("approver") if approval else None
            steps.append(PromotionStep(target, result.allowed, result.reasons, approver))
            if not result.allowed:
                return PromotionResult(request.model, request.version, "blocked", current, steps)
            await self._audit(request, "promotion.promoted", target)
            current = target
        self._stage = "done"
        return PromotionResult(request.model, request.version, "promoted", current, steps)

    async def _approval(self, request: PromotionRequest, target: str) -> dict[str, Any]:
        child_id = f"{workflow.info().workflow_id}.approval.{target}"
        self._waiting_for = child_id
        outcome = await workflow.execute_child_workflow(
            ApprovalWorkflow.run,
            ApprovalRequest(
                subject=f"{request.model} v{request.version} -> {target}",
                requested_by=request.requested_by,
                approvers=list(request.approvers),
                escalation_approvers=list(request.escalation_approvers),
                escalate_after_seconds=request.escalate_after_seconds,
                timeout_seconds=request.approval_timeout_seconds,
                audit_path=request.audit_path,
                details={"metrics": request.metrics, "target": target},
            ),
            id=child_id,
        )
        self._waiting_for = None
        return {
            "approved": outcome.status == "approved",
            "approver": outcome.approver or "",
            "status": outcome.status,
        }

    async def _audit(self, request: PromotionRequest, action: str, target: str) -> None:
        if not request.audit_path:
            return
        await workflow.execute_activity(
            record_audit,
            AuditEntry(
                request.audit_path,
                action,
                request.requested_by,
                f"{request.model} v{request.version}",
                {"target": target},
            ),
            start_to_close_timeout=timedelta(seconds=30),
        )

    @workflow.query(name="status")
    def status(self) -> dict[str, Any]:
        """The target being worked on and the approval workflow waited for, if any."""
        return {"stage": self._stage, "waiting_for_approval": self._waiting_for}


def promote_local(
    request: PromotionRequest,
    *,
    approvals: Mapping[str, Mapping[str, Any]] | None = None,
    audit: AuditLog | None = None,
) -> PromotionResult:
    """The same walk in-process: approvals are given as ``{target: {approved, approver}}``."""
    given = dict(approvals or {})
    current = request.source
    steps: list[PromotionStep] = []
    for target in request.targets:
        approval = dict(given[target]) if target in given else None
        decision = gate(
            request.policy,
            _gate_input(request, current, target, approval),
            audit=audit,
            actor=request.requested_by,
            subject=f"{request.model} v{request.version} -> {target}",
            data=request.policy_data,
        )
        approver = str(approval.get("approver")) if approval else None
        steps.append(PromotionStep(target, decision.allowed, list(decision.reasons), approver))
        if not decision.allowed:
            return PromotionResult(request.model, request.version, "blocked", current, steps)
        if audit is not None:
            audit.append(
                "promotion.promoted",
                actor=request.requested_by,
                subject=f"{request.model} v{request.version}",
                data={"target": target},
            )
        current = target
    return PromotionResult(request.model, request.version, "promoted", current, steps)


def promotion_worker(
    client: Client,
    task_queue: str,
    *,
    activity_executor: Executor,
    build_id: str = "orchlab-deploy",
    workflows: Sequence[type] = (),
    activities: Sequence[Any] = (),
) -> Worker:
    """A worker for promotions and approvals (plus any extra workflows and activities).

    Args:
        client: A connected client (with an encryption codec, if payloads are encrypted).
        task_queue: The queue.
        activity_executor: Runs the synchronous gate and audit activities.
        build_id: The worker's build id (explicit: the default hashes every module).
        workflows: More workflows to host.
        activities: More activities to host.
    """
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[PromotionWorkflow, ApprovalWorkflow, *workflows],
        activities=[policy_gate_activity, record_audit, *activities],
        activity_executor=activity_executor,
        build_id=build_id,
    )


__all__ = [
    "PromotionRequest",
    "PromotionResult",
    "PromotionStep",
    "PromotionWorkflow",
    "promote_local",
    "promotion_worker",
]
