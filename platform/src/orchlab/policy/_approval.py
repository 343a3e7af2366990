"""Human approval as a Temporal workflow: wait for a signal, escalate, time out, record.

:class:`ApprovalWorkflow` waits for a ``decide`` signal (:class:`ApprovalSignal`, carrying
the approver's identity). Only listed approvers count, never the requester (four-eyes);
invalid signals are kept in the history with the reason they were ignored. If nobody
decides within ``escalate_after_seconds`` the request escalates: the escalation approvers
may then decide too. At ``timeout_seconds`` it ends as ``timed_out``. Every step is written
to the audit log by an activity (workflows do no I/O), and the result is an
:class:`ApprovalOutcome`. Query ``status`` at any time.

Run the activity :func:`record_audit` on a worker next to the workflow; use
:func:`approval_worker` for both.
"""

# No `from __future__ import annotations`: the result dataclass is decoded inside the
# workflow sandbox, where string annotations cannot be resolved.
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from orchlab.policy._audit import AuditLog

Status = Literal["pending", "escalated", "approved", "rejected", "timed_out"]


@dataclass
class ApprovalRequest:
    """What needs approving, by whom, and how long to wait."""

    subject: str
    """What is being approved, e.g. ``wine-classifier v7 -> prod``."""
    requested_by: str
    """Who asked; may not approve their own request."""
    approvers: list[str]
    """Who may decide from the start."""
    escalation_approvers: list[str] = field(default_factory=list)
    """Who may also decide once the request escalates."""
    escalate_after_seconds: float | None = None
    """Escalate when nobody decided by then; None never escalates."""
    timeout_seconds: float = 24 * 3600
    """End as ``timed_out`` when nobody decided by then."""
    audit_path: str | None = None
    """An audit log on the workers' file system, or None."""
    details: dict[str, Any] = field(default_factory=dict)
    """Context shown to approvers (metrics, diff, ticket)."""


@dataclass
class ApprovalSignal:
    """An approver's answer, sent as the ``decide`` signal."""

    approver: str
    """The approver's identity (checked against the principal by the access interceptor)."""
    approved: bool
    """True to approve, False to reject."""
    comment: str = ""
    """Why."""


@dataclass
class ApprovalOutcome:
    """The recorded decision."""

    subject: str
    """What was decided."""
    # A plain str: type hints of results are resolved inside the workflow sandbox.
    status: str
    """``approved``, ``rejected`` or ``timed_out``."""
    approver: str | None
    """Who decided (None on timeout)."""
    comment: str
    """The approver's comment, or why it timed out."""
    escalated: bool
    """True when the request had escalated before the decision."""
    waited_seconds: float
    """Workflow time from request to decision."""
    history: list[dict[str, Any]]
    """Every signal received, with ``accepted`` and (when ignored) ``reason``."""

    @property
    def approved(self) -> bool:
        """True only for an approval."""
        return self.status == "approved"


@dataclass
class AuditEntry:
    """Input of :func:`record_audit`."""

    path: str
    """The audit log."""
    action: str
    """The record's action."""
    actor: str
    """Who."""
    subject: str
    """What."""
    data: dict[str, Any] = field(default_factory=dict)
    """Details."""


@activity.defn(name="orchlab.record_audit")
def record_audit(entry: AuditEntry) -> int:
    """Append one audit record (an activity, so workflows can audit); returns its ``seq``."""
    return (
        AuditLog(entry.path)
        .append(entry.action, actor=entry.actor, subject=entry.subject, data=entry.data)
        .seq
    )


@workflow.defn(name="orchlab.Approval")
class ApprovalWorkflow:
    """Wait for an approval signal, with escalation and a timeout."""

    @workflow.init
    def __init__(self, request: ApprovalRequest) -> None:
        # Set from the start input, so a signal delivered with the start is judged too.
        self._request: ApprovalRequest | None = request
        self._status: Status = "pending"
        self._approver: str | None = None
        self._comment = ""
        self._history: list[dict[str, Any]] = []
        self._escalated = False

    @workflow.run
    async def run(self, request: ApprovalRequest) -> ApprovalOutcome:
        """Wait for a decision; see the module docs."""
        started = workflow.now()
        await self._audit(
            "approval.requested",
            request.requested_by,
            {
                "approvers": request.approvers,
                "details": request.details,
            },
        )
        total = request.timeout_seconds
        first = min(request.escalate_after_seconds or total, total)
        if not await self._wait(first) and first < total:
            self._status = "escalated"
            self._escalated = True
            await self._audit(
                "approval.escalated",
                "orchlab",
                {
                    "after_seconds": first,
                    "escalation_approvers": request.escalation_approvers,
                },
            )
            await self._wait(total - first)
        escalated = self._escalated
        if self._status in ("pending", "escalated"):
            self._status = "timed_out"
            self._comment = f"no decision within {total:g} s"
        outcome = ApprovalOutcome(
            subject=request.subject,
            status="approved"
            if self._status == "approved"
            else ("rejected" if self._status == "rejected" else "timed_out"),
            approver=self._approver,
            comment=self._comment,
            escalated=escalated,
            waited_seconds=(workflow.now() - started).total_seconds(),
            history=list(self._history),
        )
        action = {"approved": "approval.granted", "rejected": "approval.rejected"}
        await self._audit(
            action.get(self._status, "approval.timed_out"),
            self._approver or "orchlab",
            {"status": self._status, "comment": self._comment, "escalated": escalated},
        )
        return outcome

    async def _wait(self, seconds: float) -> bool:
        try:
            await workflow.wait_condition(
                lambda: self._status in ("approved", "rejected"),
                timeout=timedelta(seconds=max(seconds, 0.001)),
            )
            return True
        except TimeoutError:
            return False

    async def _audit(self, action: str, actor: str, data: dict[str, Any]) -> None:
        request = self._request
        if request is None or not request.audit_path:
            return
        await workflow.execute_activity(
            record_audit,
            AuditEntry(request.audit_path, action, actor, request.subject, data),
            start_to_close_timeout=timedelta(seconds=30),
        )

    @workflow.signal(name="decide")
    def decide(self, signal: ApprovalSignal) -> None:
        """An approver's answer; ignored (and recorded why) unless it may decide."""
        request = self._request
        entry: dict[str, Any] = {
            "approver": signal.approver,
            "approved": signal.approved,
            "comment": signal.comment,
            "at": workflow.now().isoformat(),
            "escalated": self._status == "escalated",
        }
        reason = self._reject_reason(request, signal)
        entry["accepted"] = reason is None
        if reason is not None:
            entry["reason"] = reason
        else:
            self._status = "approved" if signal.approved else "rejected"
            self._approver = signal.approver
            self._comment = signal.comment
        self._history.append(entry)

    def _reject_reason(self, request: ApprovalRequest | None, signal: ApprovalSignal) -> str | None:
        if request is None:
            return "the request has not started yet"
        if self._status not in ("pending", "escalated"):
            return f"already {self._status}"
        if signal.approver == request.requested_by:
            return f"{signal.approver} requested this and cannot approve it (four-eyes rule)"
        allowed = list(request.approvers)
        if self._status == "escalated":
            allowed += request.escalation_approvers
        if signal.approver not in allowed:
            return f"{signal.approver} is not an approver here; approvers: {', '.join(allowed)}"
        return None

    @workflow.query(name="status")
    def status(self) -> dict[str, Any]:
        """The current status, approver and history."""
        return {"status": self._status, "approver": self._approver, "history": self._history}


__all__ = [
    "ApprovalOutcome",
    "ApprovalRequest",
    "ApprovalSignal",
    "ApprovalWorkflow",
    "AuditEntry",
    "record_audit",
]
