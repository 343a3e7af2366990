"""Promotion dev -> staging -> prod on Temporal (time-skipping): gates, a prod approval sent
as a signal to the child approval workflow, blocking, and the audit trail."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from orchlab.deploy import (
    PromotionRequest,
    PromotionResult,
    PromotionWorkflow,
    promote_local,
    promotion_worker,
)
from orchlab.policy import ApprovalSignal, ApprovalWorkflow, AuditLog


@pytest.fixture(scope="module")
def executor() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        yield pool


def _request(audit: Path, accuracy: float = 0.95, **extra: Any) -> PromotionRequest:
    return PromotionRequest(
        model="wine",
        version="7",
        metrics={"accuracy": accuracy},
        requested_by="ann",
        approvers=["carol"],
        audit_path=str(audit),
        **extra,
    )


async def _approval_started(handle: WorkflowHandle[Any, Any]) -> str:
    for _ in range(200):
        waiting = (await handle.query(PromotionWorkflow.status))["waiting_for_approval"]
        if waiting:
            return str(waiting)
        await asyncio.sleep(0.05)
    raise AssertionError("the promotion never asked for an approval")


async def test_promotion_through_staging_and_approved_prod(
    temporal_time_skipping: WorkflowEnvironment,
    task_queue: str,
    executor: ThreadPoolExecutor,
    tmp_path: Path,
) -> None:
    log = tmp_path / "audit.jsonl"
    client = temporal_time_skipping.client
    async with promotion_worker(client, task_queue, activity_executor=executor):
        handle = await client.start_workflow(
            PromotionWorkflow.run,
            _request(log),
            id=f"promote-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        child = await _approval_started(handle)
        assert child == f"{handle.id}.approval.prod"
        await client.get_workflow_handle(child).signal(
            ApprovalWorkflow.decide, ApprovalSignal("carol", True, "metrics fine")
        )
        result: PromotionResult = await handle.result()
    assert result.status == "promoted" and result.reached == "prod"
    assert [(s.target, s.allowed, s.approver) for s in result.steps] == [
        ("staging", True, None),
        ("prod", True, "carol"),
    ]
    actions = [r.action for r in AuditLog(log).records()]
    assert actions == [
        "policy.decision",
        "promotion.promoted",
        "approval.requested",
        "approval.granted",
        "policy.decision",
        "promotion.promoted",
    ]


async def test_rejected_approval_blocks_prod(
    temporal_time_skipping: WorkflowEnvironment,
    task_queue: str,
    executor: ThreadPoolExecutor,
    tmp_path: Path,
) -> None:
    client = temporal_time_skipping.client
    async with promotion_worker(client, task_queue, activity_executor=executor):
        handle = await client.start_workflow(
            PromotionWorkflow.run,
            _request(tmp_path / "a.jsonl"),
            id=f"promote-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
        child = await _approval_started(handle)
        await client.get_workflow_handle(child).signal(
            ApprovalWorkflow.decide, ApprovalSignal("carol", False, "not yet")
        )
        result = await handle.result()
    assert result.status == "blocked" and result.reached == "staging"
    assert "promotion to prod needs an approval" in result.reasons


async def test_low_accuracy_stops_at_dev_without_asking_anyone(
    temporal_time_skipping: WorkflowEnvironment,
    task_queue: str,
    executor: ThreadPoolExecutor,
    tmp_path: Path,
) -> None:
    client = temporal_time_skipping.client
    async with promotion_worker(client, task_queue, activity_executor=executor):
        result = await client.execute_workflow(
            PromotionWorkflow.run,
            _request(tmp_path / "a.jsonl", accuracy=0.6),
            id=f"promote-{uuid.uuid4().hex[:8]}",
            task_queue=task_queue,
        )
    assert result.status == "blocked" and result.reached == "dev"
    assert result.reasons == ["accuracy 0.6 is below the 0.8 required for staging"]


def test_promote_local(tmp_path: Path) -> None:
    audit = AuditLog(tmp_path / "a.jsonl")
    request = _request(audit.path, accuracy=0.92)
    blocked = promote_local(request, audit=audit)
    assert blocked.status == "blocked" and blocked.reached == "staging"
    approvals = {"prod": {"approved": True, "approver": "carol"}}
    done = promote_local(request, approvals=approvals, audit=audit)
    assert done.status == "promoted" and done.steps[-1].approver == "carol"
    strict = _request(
        audit.path, accuracy=0.92, policy_data={"config": {"promotion_thresholds": {"prod": 0.95}}}
    )
    assert promote_local(strict, approvals=approvals).reasons == [
        "accuracy 0.92 is below the 0.95 required for prod"
    ]
    assert audit.verify().ok
