"""The approval workflow on Temporal's time-skipping server: approve, reject, ignore
invalid approvers, escalate and time out, all recorded in the audit log."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from orchlab.policy import (
    ApprovalOutcome,
    ApprovalRequest,
    ApprovalSignal,
    ApprovalWorkflow,
    AuditLog,
    record_audit,
)


def _worker(env: WorkflowEnvironment, queue: str, executor: ThreadPoolExecutor) -> Worker:
    return Worker(
        env.client,
        task_queue=queue,
        workflows=[ApprovalWorkflow],
        activities=[record_audit],
        activity_executor=executor,
        build_id="test-approval",
    )


async def _start(
    env: WorkflowEnvironment, queue: str, request: ApprovalRequest
) -> WorkflowHandle[ApprovalWorkflow, ApprovalOutcome]:
    return await env.client.start_workflow(
        ApprovalWorkflow.run, request, id=f"approval-{uuid.uuid4().hex[:8]}", task_queue=queue
    )


async def test_approval_granted_by_a_listed_approver_after_invalid_signals(
    temporal_time_skipping: WorkflowEnvironment,
    task_queue: str,
    executor: ThreadPoolExecutor,
    audit: AuditLog,
) -> None:
    request = ApprovalRequest(
        subject="wine v3 -> prod",
        requested_by="ann",
        approvers=["carol"],
        audit_path=str(audit.path),
    )
    async with _worker(temporal_time_skipping, task_queue, executor):
        handle = await _start(temporal_time_skipping, task_queue, request)
        await handle.signal(ApprovalWorkflow.decide, ApprovalSignal("ann", True))
        await handle.signal(ApprovalWorkflow.decide, ApprovalSignal("mallory", True))
        await handle.signal(ApprovalWorkflow.decide, ApprovalSignal("carol", True, "looks good"))
        outcome = await handle.result()
    assert outcome.status == "approved" and outcome.approved
    assert outcome.approver == "carol" and outcome.comment == "looks good"
    reasons = [h.get("reason", "") for h in outcome.history]
    assert "four-eyes" in reasons[0]
    assert "mallory is not an approver here" in reasons[1]
    assert outcome.history[2]["accepted"] is True
    actions = [r.action for r in audit.records()]
    assert actions == ["approval.requested", "approval.granted"]
    assert audit.records()[-1].actor == "carol"


async def test_rejection_is_recorded(
    temporal_time_skipping: WorkflowEnvironment, task_queue: str, executor: ThreadPoolExecutor
) -> None:
    request = ApprovalRequest(subject="s", requested_by="ann", approvers=["carol"])
    async with _worker(temporal_time_skipping, task_queue, executor):
        handle = await _start(temporal_time_skipping, task_queue, request)
        await handle.signal(ApprovalWorkflow.decide, ApprovalSignal("carol", False, "too risky"))
        outcome = await handle.result()
    assert outcome.status == "rejected" and not outcome.approved
    assert outcome.comment == "too risky"


async def test_escalation_then_escalation_approver_decides(
    temporal_time_skipping: WorkflowEnvironment,
    task_queue: str,
    executor: ThreadPoolExecutor,
    audit: AuditLog,
) -> None:
    request = ApprovalRequest(
        subject="s",
        requested_by="ann",
        approvers=["carol"],
        escalation_approvers=["dave"],
        escalate_after_seconds=3600,
        timeout_seconds=86400,
        audit_path=str(audit.path),
    )
    async with _worker(temporal_time_skipping, task_queue, executor):
        handle = await _start(temporal_time_skipping, task_queue, request)
        # Before escalation dave is not an approver.
        await handle.signal(ApprovalWorkflow.decide, ApprovalSignal("dave", True))
        await temporal_time_skipping.sleep(2 * 3600)
        for _ in range(50):
            if (await handle.query(ApprovalWorkflow.status))["status"] == "escalated":
                break
            await asyncio.sleep(0.05)
        await handle.signal(ApprovalWorkflow.decide, ApprovalSignal("dave", True, "on call"))
        outcome = await handle.result()
    assert outcome.status == "approved" and outcome.approver == "dave"
    assert outcome.escalated
    assert outcome.history[0]["accepted"] is False
    assert outcome.waited_seconds >= 3600
    assert "approval.escalated" in [r.action for r in audit.records()]


async def test_timeout_without_a_decision(
    temporal_time_skipping: WorkflowEnvironment,
    task_queue: str,
    executor: ThreadPoolExecutor,
    audit: AuditLog,
) -> None:
    request = ApprovalRequest(
        subject="s",
        requested_by="ann",
        approvers=["carol"],
        escalate_after_seconds=600,
        timeout_seconds=7200,
        audit_path=str(audit.path),
    )
    async with _worker(temporal_time_skipping, task_queue, executor):
        outcome = await (await _start(temporal_time_skipping, task_queue, request)).result()
    assert outcome.status == "timed_out" and outcome.approver is None
    assert outcome.escalated and "no decision within 7200 s" in outcome.comment
    assert [r.action for r in audit.records()][-1] == "approval.timed_out"
    assert audit.verify().ok
