"""Prefect adapters: a policy gate task and an approval step that pauses the flow run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from orchlab.policy._audit import AuditLog
from orchlab.policy._errors import ApprovalRejected
from orchlab.policy._gates import gate
from orchlab.policy._rego import Decision


@task(name="policy-gate", cache_policy=NO_CACHE, persist_result=False)
def prefect_policy_gate(
    policy: str,
    input: Mapping[str, Any],
    *,
    audit_path: str | None = None,
    actor: str = "prefect",
    subject: str = "",
    data: Mapping[str, Any] | None = None,
) -> Decision:
    """A Prefect task: evaluate a policy, audit it, and fail the task run on deny.

    Raises:
        PolicyDenied: On deny; Prefect marks the task (and, unless handled, the flow) failed.
    """
    return gate(
        policy,
        input,
        audit=AuditLog(audit_path) if audit_path else None,
        actor=actor,
        subject=subject,
        data=data,
        enforce=True,
    )


class ApprovalInput(BaseModel):
    """What an approver submits to resume a paused Prefect flow run."""

    model_config = ConfigDict(extra="forbid")

    approved: bool
    """Approve (True) or reject (False)."""
    approver: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._@-]+$")
    """The approver's identity."""
    comment: str = Field(default="", max_length=1000)
    """Why."""


async def prefect_wait_for_approval(
    subject: str,
    *,
    requested_by: str,
    timeout_seconds: int = 3600,
    poll_interval_seconds: int = 10,
    audit: AuditLog | None = None,
) -> ApprovalInput:
    """Pause the current Prefect flow run until someone submits an :class:`ApprovalInput`.

    Call from inside an async flow. The run shows as ``Paused`` in the UI with a form for
    the input; resume it there or with ``prefect.flow_runs.resume_flow_run(id, run_input=
    {...})``. The flow polls every ``poll_interval_seconds``. Self-approval (approver ==
    requested_by) counts as a rejection.

    Raises:
        ApprovalRejected: Rejected, self-approved, or timed out (Prefect fails the run on
            timeout before this returns).
    """
    from prefect.flow_runs import apause_flow_run

    answer = await apause_flow_run(
        wait_for_input=ApprovalInput,
        timeout=timeout_seconds,
        poll_interval=poll_interval_seconds,
    )
    ok = answer.approved and answer.approver != requested_by
    if audit is not None:
        audit.append(
            "approval.granted" if ok else "approval.rejected",
            actor=answer.approver,
            subject=subject,
            data={"requested_by": requested_by, "comment": answer.comment, "engine": "prefect"},
        )
    if not ok:
        reason = (
            f"{answer.approver} cannot approve their own request"
            if answer.approver == requested_by
            else f"rejected by {answer.approver}: {answer.comment or 'no comment'}"
        )
        raise ApprovalRejected("approval", [reason])
    return answer


__all__ = ["ApprovalInput", "prefect_policy_gate", "prefect_wait_for_approval"]
