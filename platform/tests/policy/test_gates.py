"""Policy gates as a function, a pipeline step, a Temporal activity and a Prefect task."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.exceptions import ActivityError, ApplicationError
from temporalio.worker import Worker

from orchlab.pipelines import (
    Metrics,
    StepContext,
    StepInputs,
    TaskTemplate,
    register_task,
    run_local,
)
from orchlab.policy import (
    AuditLog,
    GateRequest,
    GateResult,
    PolicyDenied,
    gate,
    policy_gate_activity,
    register_gate_task,
)

STAGING = {"source": "dev", "target": "staging", "requested_by": "ci"}


class FixedParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    accuracy: float


def _fixed(ctx: StepContext, p: FixedParams, inputs: StepInputs) -> Mapping[str, Any]:
    return {"metrics": Metrics(values={"accuracy": p.accuracy})}


register_task(
    TaskTemplate("fixed_metrics", _fixed, FixedParams, {}, {"metrics": "metrics"}), replace=True
)
register_gate_task()


def test_gate_records_every_decision(audit: AuditLog) -> None:
    ok = gate(
        "promotion",
        {**STAGING, "metrics": {"accuracy": 0.9}},
        audit=audit,
        actor="ci",
        subject="wine v1",
    )
    assert ok.allowed
    with pytest.raises(PolicyDenied, match=r"accuracy 0.5 is below the 0.8"):
        gate("promotion", {**STAGING, "metrics": {"accuracy": 0.5}}, audit=audit, enforce=True)
    records = audit.records()
    assert [r.data["allowed"] for r in records] == [True, False]
    assert records[0].subject == "wine v1" and records[0].data["input_digest"] == ok.input_digest


def _spec(accuracy: float, audit_path: Path) -> dict[str, Any]:
    return {
        "name": "gated",
        "steps": [
            {"name": "score", "task": "fixed_metrics", "params": {"accuracy": accuracy}},
            {
                "name": "gate",
                "task": "policy_gate",
                "needs": ["score"],
                "params": {
                    "metrics": "${steps.score.metrics}",
                    "policy": "promotion",
                    "input": STAGING,
                    "audit_path": str(audit_path),
                },
            },
        ],
    }


def test_pipeline_step_gate(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    passed = run_local(_spec(0.95, log), workdir=tmp_path / "a", registry_dir=tmp_path / "r")
    assert passed.succeeded, passed.error
    blocked = run_local(_spec(0.5, log), workdir=tmp_path / "b", registry_dir=tmp_path / "r")
    assert not blocked.succeeded
    assert "accuracy 0.5 is below the 0.8 required for staging" in (blocked.error or "")
    assert [r.actor.startswith("pipeline:") for r in AuditLog(log).records()] == [True, True]


@workflow.defn(sandboxed=False)
class Gated:
    @workflow.run
    async def run(self, request: GateRequest) -> GateResult:
        return await workflow.execute_activity(
            policy_gate_activity, request, start_to_close_timeout=timedelta(seconds=10)
        )


async def test_temporal_activity_gate(
    temporal_client: Client, task_queue: str, executor: ThreadPoolExecutor, audit: AuditLog
) -> None:
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[Gated],
        activities=[policy_gate_activity],
        activity_executor=executor,
        build_id="test-gates",
    ):
        good = GateRequest(
            "promotion", {**STAGING, "metrics": {"accuracy": 0.9}}, audit_path=str(audit.path)
        )
        result = await temporal_client.execute_workflow(
            Gated.run, good, id=f"gate-{uuid.uuid4().hex[:8]}", task_queue=task_queue
        )
        assert result.allowed and result.reasons == []
        bad = GateRequest("promotion", {**STAGING, "metrics": {"accuracy": 0.1}})
        with pytest.raises(WorkflowFailureError) as info:
            await temporal_client.execute_workflow(
                Gated.run, bad, id=f"gate-{uuid.uuid4().hex[:8]}", task_queue=task_queue
            )
    cause = info.value.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, ApplicationError)
    assert cause.cause.type == "PolicyDenied" and cause.cause.non_retryable
    assert "accuracy 0.1 is below the 0.8" in cause.cause.message
    assert audit.records()[0].actor.startswith("gate-")
