"""Prefect adapters on a real Prefect server: the policy gate task, and a flow run paused
for approval and resumed with the approver's input."""

from __future__ import annotations

import asyncio
from uuid import UUID

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.flow_runs import aresume_flow_run
from prefect.runtime import flow_run

from orchlab.policy import (
    ApprovalInput,
    ApprovalRejected,
    AuditLog,
    PolicyDenied,
    prefect_policy_gate,
    prefect_wait_for_approval,
)

RUNS: dict[str, str] = {}


@flow(name="gated-release", persist_result=False)
def gated_release(accuracy: float, audit_path: str) -> bool:
    decision = prefect_policy_gate(
        "promotion",
        {"source": "dev", "target": "staging", "metrics": {"accuracy": accuracy}},
        audit_path=audit_path,
        subject="wine v3",
    )
    return decision.allowed


@flow(name="approved-release", persist_result=False)
async def approved_release(tag: str, audit_path: str) -> str:
    RUNS[tag] = str(flow_run.get_id())
    answer = await prefect_wait_for_approval(
        "wine v3 -> prod",
        requested_by="ann",
        timeout_seconds=60,
        poll_interval_seconds=1,
        audit=AuditLog(audit_path),
    )
    return answer.approver


def test_prefect_gate_task(prefect_api_url: str, audit: AuditLog) -> None:
    assert gated_release(0.9, str(audit.path)) is True
    with pytest.raises(PolicyDenied, match=r"accuracy 0.2 is below the 0.8"):
        gated_release(0.2, str(audit.path))
    assert [r.data["allowed"] for r in audit.records()] == [True, False]


async def _resume_when_paused(tag: str, answer: ApprovalInput) -> None:
    async with get_client() as client:
        for _ in range(300):
            run_id = RUNS.get(tag)
            if run_id:
                state = (await client.read_flow_run(UUID(run_id))).state
                if state is not None and state.is_paused():
                    await aresume_flow_run(UUID(run_id), run_input=answer.model_dump())
                    return
            await asyncio.sleep(0.1)
    raise AssertionError("the flow run never paused")


async def test_prefect_pause_for_approval(prefect_api_url: str, audit: AuditLog) -> None:
    answer = ApprovalInput(approved=True, approver="carol", comment="ok")
    resumer = asyncio.create_task(_resume_when_paused("a", answer))
    assert await approved_release("a", str(audit.path)) == "carol"
    await resumer
    resumer = asyncio.create_task(
        _resume_when_paused("b", ApprovalInput(approved=True, approver="ann"))
    )
    with pytest.raises(ApprovalRejected, match=r"ann cannot approve their own request"):
        await approved_release("b", str(audit.path))
    await resumer
    assert [(r.action, r.actor) for r in audit.records()] == [
        ("approval.granted", "carol"),
        ("approval.rejected", "ann"),
    ]
