"""Policy gates: evaluate, audit, and stop the pipeline on deny, on any engine.

- :func:`gate` is the plain function every adapter calls.
- :func:`policy_gate_activity` is a Temporal activity (one dataclass in, one out).
- :func:`prefect_policy_gate` (in ``orchlab.policy``) is the Prefect task.
- :func:`register_gate_task` adds a ``policy_gate`` template to the pipeline catalog, so a
  spec can gate a step on upstream metrics::

      - name: gate
        task: policy_gate
        needs: [evaluate]
        params:
          metrics: ${steps.evaluate.metrics}
          policy: promotion
          input: {source: dev, target: staging, requested_by: ci}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError

from orchlab.policy._audit import AuditLog
from orchlab.policy._errors import PolicyDenied
from orchlab.policy._rego import Decision, Policy, canonical_json, load_policy


@lru_cache(maxsize=32)
def _cached(name: str, data_json: str) -> Policy:
    import json

    return load_policy(name, data=json.loads(data_json) or None)


def resolve_policy(policy: Policy | str | Path, data: Mapping[str, Any] | None = None) -> Policy:
    """A :class:`Policy` from an instance, a bundled name or a ``.rego`` path (cached)."""
    if isinstance(policy, Policy):
        return policy
    return _cached(str(policy), canonical_json(dict(data or {})))


def gate(
    policy: Policy | str | Path,
    input: Mapping[str, Any],
    *,
    audit: AuditLog | None = None,
    actor: str = "orchlab",
    subject: str = "",
    data: Mapping[str, Any] | None = None,
    enforce: bool = False,
) -> Decision:
    """Evaluate a policy on ``input`` and record the decision.

    Args:
        policy: A policy, a bundled policy's name, or a ``.rego`` path.
        input: What the policy judges.
        audit: Where to append a ``policy.decision`` record (recommended).
        actor: Who asked (user, service, workflow id).
        subject: What is judged (model version, workflow id).
        data: Base documents for a policy given by name or path.
        enforce: Raise :class:`PolicyDenied` on deny instead of returning the decision.

    Returns:
        The decision.
    """
    target = resolve_policy(policy, data)
    decision = target.evaluate(input)
    if audit is not None:
        audit.append("policy.decision", actor=actor, subject=subject, data=decision.to_dict())
    if enforce:
        decision.raise_if_denied()
    return decision


@dataclass
class GateRequest:
    """Input of :func:`policy_gate_activity`."""

    policy: str
    """A bundled policy's name or a ``.rego`` path the worker can read."""
    input: dict[str, Any]
    """What the policy judges."""
    data: dict[str, Any] = field(default_factory=dict)
    """Base documents for the policy."""
    audit_path: str | None = None
    """An audit log on the worker's file system, or None."""
    actor: str = ""
    """Who asked; defaults to the calling workflow's id."""
    subject: str = ""
    """What is judged."""
    enforce: bool = True
    """Fail the activity (non-retryable ``PolicyDenied``) on deny."""


@dataclass
class GateResult:
    """Output of :func:`policy_gate_activity`."""

    allowed: bool
    """The outcome."""
    reasons: list[str]
    """Why it denied."""
    policy: str
    """The policy's name."""
    input_digest: str
    """SHA-256 of the judged input."""


@activity.defn(name="orchlab.policy_gate")
def policy_gate_activity(request: GateRequest) -> GateResult:
    """A Temporal activity evaluating a policy gate (run it on a thread-pool worker).

    A deny with ``enforce`` raises a non-retryable ``ApplicationError`` of type
    ``PolicyDenied`` whose message lists the reasons: retrying cannot change a policy's mind.
    """
    actor = request.actor
    if not actor and activity.in_activity():
        actor = activity.info().workflow_id or "temporal"
    audit = AuditLog(request.audit_path) if request.audit_path else None
    decision = gate(
        request.policy,
        request.input,
        audit=audit,
        actor=actor or "temporal",
        subject=request.subject,
        data=request.data,
    )
    if request.enforce and not decision.allowed:
        raise ApplicationError(
            str(PolicyDenied(decision.policy, decision.reasons)),
            decision.to_dict(),
            type="PolicyDenied",
            non_retryable=True,
        )
    return GateResult(
        decision.allowed, list(decision.reasons), decision.policy, decision.input_digest
    )


class GateParams(BaseModel):
    """Parameters of the ``policy_gate`` pipeline task."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: str = Field(min_length=1)
    """A bundled policy's name or a ``.rego`` path."""
    input: dict[str, Any] = Field(default_factory=dict)
    """Fixed input fields; upstream metrics arrive as ``input.metrics``."""
    data: dict[str, Any] = Field(default_factory=dict)
    """Base documents for the policy."""
    audit_path: str | None = None
    """An audit log to append the decision to."""


def register_gate_task() -> None:
    """Add the ``policy_gate`` task template to the pipeline catalog (idempotent).

    Call it at import time in every process that runs pipeline steps.
    """
    from orchlab.pipelines import StepContext, StepInputs, TaskTemplate, register_task

    def run(ctx: StepContext, params: GateParams, inputs: StepInputs) -> Mapping[str, Any]:
        document = dict(params.input)
        if "metrics" in inputs:
            document["metrics"] = dict(inputs.metrics().values)
        decision = gate(
            params.policy,
            document,
            audit=AuditLog(params.audit_path) if params.audit_path else None,
            actor=f"pipeline:{ctx.run_id}",
            subject=ctx.step,
            data=params.data,
            enforce=True,
        )
        return {"decision": decision.to_dict()}

    register_task(
        TaskTemplate(
            "policy_gate",
            run,
            GateParams,
            {"metrics": "metrics"},
            {"decision": "decision"},
            optional_inputs=frozenset({"metrics"}),
            description="stop the pipeline unless a Rego policy allows",
        ),
        replace=True,
    )


__all__ = [
    "GateParams",
    "GateRequest",
    "GateResult",
    "gate",
    "policy_gate_activity",
    "register_gate_task",
    "resolve_policy",
]
