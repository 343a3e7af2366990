"""Attribute-based access to Temporal workflows, with just-in-time elevation and audit.

An :class:`AccessGuard` answers "may this :class:`Principal` start, signal, cancel,
terminate or approve that workflow?" with the ``access`` Rego policy over the principal's
attributes (roles, clearance, team) and the workflow's (:class:`WorkflowRule`: data
sensitivity, owning team, input and signal schemas). Unknown workflow types are refused
(fail closed). Every decision is audited.

Just-in-time :class:`Elevation` adds roles to a principal until it expires on its own (the
guard's clock is injectable); a decision that is allowed only thanks to an elevation is
audited as ``elevation.used``.

Enforcement on Temporal:

- :class:`AccessInterceptor` (client): validates start and signal payloads against the
  rule's schemas, checks access before the call reaches the server, and attaches the
  principal as the ``orchlab-principal`` header. :func:`as_principal` returns a client
  acting for one principal.
- :class:`SignalGuardInterceptor` (worker): re-checks each incoming signal's schema and
  the principal header inside the worker and drops (with a warning) signals that fail, so
  a client without the interceptor cannot slip a signal in.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import temporalio.client
import temporalio.converter
import temporalio.worker
from pydantic import BaseModel
from temporalio import workflow
from temporalio.api.common.v1 import Payload

from orchlab.policy._audit import AuditLog
from orchlab.policy._errors import AccessDenied, InputRejected
from orchlab.policy._rego import Decision, Policy, load_policy
from orchlab.policy._schema import DEFAULT_MAX_BYTES, validate_input

Action = Literal["start", "signal", "cancel", "approve", "terminate"]
"""What a principal wants to do to a workflow."""

HEADER = "orchlab-principal"
"""The Temporal header carrying the calling principal."""
_EXTERN = "orchlab_signal_check"


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Principal:
    """A caller and the attributes policies judge."""

    id: str
    """A stable user or service id."""
    roles: tuple[str, ...] = ()
    """Roles such as ``engineer``, ``operator``, ``approver``."""
    clearance: str = "internal"
    """Highest data sensitivity the caller may touch: public, internal, confidential,
    restricted."""
    team: str = ""
    """The caller's team."""

    def to_dict(self) -> dict[str, Any]:
        """The policy's view of the principal."""
        return {
            "id": self.id,
            "roles": list(self.roles),
            "clearance": self.clearance,
            "team": self.team,
        }


@dataclass(frozen=True)
class Elevation:
    """Extra roles for one principal until ``expires_at``."""

    id: str
    """Unique id, quoted in audit records."""
    principal: str
    """Whose rights are raised."""
    roles: tuple[str, ...]
    """The roles granted."""
    reason: str
    """Why (a ticket, an incident)."""
    granted_by: str
    """Who granted it; never the principal."""
    expires_at: datetime
    """When it stops counting, on its own."""

    def active(self, now: datetime) -> bool:
        """True until it expires."""
        return now < self.expires_at


@dataclass(frozen=True)
class WorkflowRule:
    """What the guard knows about one workflow type."""

    workflow_type: str
    """The Temporal workflow type name."""
    sensitivity: str = "internal"
    """The data it handles: public, internal, confidential, restricted."""
    team: str = ""
    """The owning team."""
    input_schema: type[BaseModel] | None = None
    """Schema of the (single) start argument; None skips validation."""
    signal_schemas: Mapping[str, type[BaseModel]] = field(default_factory=dict)
    """Schema of each signal's (single) argument; unlisted signals are refused."""
    signal_actions: Mapping[str, Action] = field(default_factory=dict)
    """Signals that count as another action, e.g. ``{"decide": "approve"}``."""
    identity_field: str = "approver"
    """For ``approve`` signals: the payload field that must equal the caller's id."""
    max_bytes: int = DEFAULT_MAX_BYTES
    """The largest accepted start or signal payload."""


def _as_json(arg: Any) -> Any:
    if isinstance(arg, BaseModel):
        return arg.model_dump(mode="json")
    converter = temporalio.converter.default().payload_converter
    payload = converter.to_payloads([arg])[0]
    return temporalio.converter.default().payload_converter.from_payloads([payload])[0]


class AccessGuard:
    """Decides and audits who may do what to which workflow.

    Args:
        rules: One rule per workflow type the guard lets through.
        policy: The access policy (default: the bundled ``access`` policy).
        audit: Where every decision and elevation is recorded.
        clock: Returns now (UTC); inject one to test expiry.
        max_elevation: The longest elevation :meth:`elevate` grants.
    """

    def __init__(
        self,
        rules: Iterable[WorkflowRule],
        *,
        policy: Policy | str = "access",
        audit: AuditLog | None = None,
        clock: Callable[[], datetime] = _utcnow,
        max_elevation: timedelta = timedelta(hours=4),
    ) -> None:
        self.rules = {r.workflow_type: r for r in rules}
        self.policy = policy if isinstance(policy, Policy) else load_policy(policy)
        self.audit = audit
        self.clock = clock
        self.max_elevation = max_elevation
        self._elevations: list[Elevation] = []

    def rule(self, workflow_type: str) -> WorkflowRule:
        """The rule for a workflow type.

        Raises:
            AccessDenied: No rule: unknown workflows are refused.
        """
        try:
            return self.rules[workflow_type]
        except KeyError:
            raise AccessDenied(
                self.policy.name,
                [f"no access rule for workflow type {workflow_type!r}: it is refused"],
            ) from None

    def elevate(
        self,
        principal: Principal,
        roles: Sequence[str],
        *,
        duration: timedelta,
        reason: str,
        granted_by: str,
    ) -> Elevation:
        """Grant extra roles for a bounded time (audited as ``elevation.granted``).

        Raises:
            ValueError: A non-positive or too long duration, no reason, or self-granting.
        """
        if duration <= timedelta(0) or duration > self.max_elevation:
            raise ValueError(
                f"elevation must last more than 0 s and at most {self.max_elevation}; "
                f"got {duration}"
            )
        if not reason.strip():
            raise ValueError("an elevation needs a reason (a ticket or an incident)")
        if granted_by == principal.id:
            raise ValueError(f"{principal.id} cannot grant an elevation to themselves")
        grant = Elevation(
            id=uuid.uuid4().hex[:12],
            principal=principal.id,
            roles=tuple(roles),
            reason=reason,
            granted_by=granted_by,
            expires_at=self.clock() + duration,
        )
        self._elevations.append(grant)
        self._record(
            "elevation.granted",
            granted_by,
            principal.id,
            {
                "elevation": grant.id,
                "roles": list(grant.roles),
                "reason": reason,
                "expires_at": grant.expires_at.isoformat(),
            },
        )
        return grant

    def active_elevations(self, principal_id: str) -> list[Elevation]:
        """The principal's elevations that have not expired yet."""
        now = self.clock()
        return [e for e in self._elevations if e.principal == principal_id and e.active(now)]

    def effective(self, principal: Principal) -> tuple[Principal, list[Elevation]]:
        """The principal with the roles of its active elevations added."""
        grants = self.active_elevations(principal.id)
        roles = tuple(dict.fromkeys([*principal.roles, *(r for g in grants for r in g.roles)]))
        return Principal(principal.id, roles, principal.clearance, principal.team), grants

    def decide(
        self, principal: Principal, action: Action, workflow_type: str, *, workflow_id: str = ""
    ) -> Decision:
        """Judge and audit one request; never raises (an unknown type is denied)."""
        subject = workflow_id or workflow_type
        try:
            rule = self.rule(workflow_type)
        except AccessDenied as exc:
            decision = Decision(self.policy.name, False, exc.reasons)
            self._record(
                "access.decision",
                principal.id,
                subject,
                {"action": action, "workflow_type": workflow_type, **decision.to_dict()},
            )
            return decision
        resource = {
            "workflow_type": workflow_type,
            "sensitivity": rule.sensitivity,
            "team": rule.team,
        }
        effective, grants = self.effective(principal)
        doc = {"principal": effective.to_dict(), "action": action, "resource": resource}
        decision = self.policy.evaluate(doc)
        self._record(
            "access.decision",
            principal.id,
            subject,
            {"action": action, "workflow_type": workflow_type, **decision.to_dict()},
        )
        if decision.allowed and grants:
            base = {**doc, "principal": principal.to_dict()}
            if not self.policy.evaluate(base).allowed:
                self._record(
                    "elevation.used",
                    principal.id,
                    subject,
                    {
                        "action": action,
                        "elevations": [g.id for g in grants],
                        "granted_by": sorted({g.granted_by for g in grants}),
                    },
                )
        return decision

    def authorize(
        self, principal: Principal, action: Action, workflow_type: str, *, workflow_id: str = ""
    ) -> Decision:
        """Like :meth:`decide`, but raise on deny.

        Raises:
            AccessDenied: With the policy's reasons.
        """
        decision = self.decide(principal, action, workflow_type, workflow_id=workflow_id)
        if not decision.allowed:
            raise AccessDenied(decision.policy, decision.reasons)
        return decision

    def validate_start(self, workflow_type: str, args: Sequence[Any]) -> None:
        """Check a start's arguments against the rule's input schema.

        Raises:
            InputRejected: Naming the bad fields.
            AccessDenied: Unknown workflow type.
        """
        rule = self.rule(workflow_type)
        if rule.input_schema is None:
            return
        if len(args) != 1:
            raise InputRejected(
                f"{workflow_type} takes one input argument ({rule.input_schema.__name__}), "
                f"got {len(args)}"
            )
        validate_input(
            rule.input_schema,
            _as_json(args[0]),
            max_bytes=rule.max_bytes,
            what=f"input of {workflow_type}",
        )

    def validate_signal(self, workflow_type: str, signal: str, args: Sequence[Any]) -> None:
        """Check a signal's argument against its schema; unlisted signals are refused.

        Raises:
            InputRejected: Unknown signal, wrong arity, or bad fields (named).
        """
        rule = self.rule(workflow_type)
        schema = rule.signal_schemas.get(signal)
        if schema is None:
            known = ", ".join(sorted(rule.signal_schemas)) or "none"
            raise InputRejected(
                f"signal {signal!r} of {workflow_type} has no schema and is refused; "
                f"accepted signals: {known}"
            )
        if len(args) != 1:
            raise InputRejected(f"signal {signal!r} takes one argument, got {len(args)}")
        validate_input(
            schema,
            _as_json(args[0]),
            max_bytes=rule.max_bytes,
            what=f"signal {signal!r} of {workflow_type}",
        )

    def check_signal(
        self,
        principal: Principal,
        workflow_type: str,
        signal: str,
        args: Sequence[Any],
        *,
        workflow_id: str = "",
    ) -> Decision:
        """Validate and authorize one signal (schema, identity field, policy).

        Raises:
            InputRejected: A bad payload.
            AccessDenied: The caller may not send it, or impersonates another approver.
        """
        self.validate_signal(workflow_type, signal, args)
        rule = self.rule(workflow_type)
        action: Action = rule.signal_actions.get(signal, "signal")
        if action == "approve":
            claimed = _as_json(args[0]).get(rule.identity_field)
            if claimed != principal.id:
                reason = (
                    f"{principal.id} cannot send {signal!r} as {claimed!r}: "
                    f"{rule.identity_field} must be the caller's own id"
                )
                self._record(
                    "access.decision",
                    principal.id,
                    workflow_id or workflow_type,
                    {"action": action, "allowed": False, "reasons": [reason]},
                )
                raise AccessDenied(self.policy.name, [reason])
        return self.authorize(principal, action, workflow_type, workflow_id=workflow_id)

    def _record(self, action: str, actor: str, subject: str, data: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.append(action, actor=actor, subject=subject, data=data)


def _header(principal: Principal) -> Payload:
    converter = temporalio.converter.default().payload_converter
    return converter.to_payloads([principal.to_dict()])[0]


class _ClientOutbound(temporalio.client.OutboundInterceptor):
    def __init__(
        self, next: temporalio.client.OutboundInterceptor, guard: AccessGuard, who: Principal
    ) -> None:
        super().__init__(next)
        self.guard = guard
        self.who = who

    async def _type_of(self, workflow_id: str, run_id: str | None) -> str:
        described = await self.next.describe_workflow(
            temporalio.client.DescribeWorkflowInput(workflow_id, run_id, {}, None)
        )
        return described.workflow_type

    async def start_workflow(
        self, input: temporalio.client.StartWorkflowInput
    ) -> temporalio.client.WorkflowHandle[Any, Any]:
        self.guard.validate_start(input.workflow, input.args)
        self.guard.authorize(self.who, "start", input.workflow, workflow_id=input.id)
        input.headers = {**input.headers, HEADER: _header(self.who)}
        return await self.next.start_workflow(input)

    async def signal_workflow(self, input: temporalio.client.SignalWorkflowInput) -> None:
        kind = await self._type_of(input.id, input.run_id)
        self.guard.check_signal(self.who, kind, input.signal, input.args, workflow_id=input.id)
        input.headers = {**input.headers, HEADER: _header(self.who)}
        await self.next.signal_workflow(input)

    async def cancel_workflow(self, input: temporalio.client.CancelWorkflowInput) -> None:
        kind = await self._type_of(input.id, input.run_id)
        self.guard.authorize(self.who, "cancel", kind, workflow_id=input.id)
        await self.next.cancel_workflow(input)

    async def terminate_workflow(self, input: temporalio.client.TerminateWorkflowInput) -> None:
        kind = await self._type_of(input.id, input.run_id)
        self.guard.authorize(self.who, "terminate", kind, workflow_id=input.id)
        await self.next.terminate_workflow(input)


class AccessInterceptor(temporalio.client.Interceptor):
    """A Temporal client interceptor enforcing an :class:`AccessGuard` for one principal.

    Raises (from the intercepted call) :class:`AccessDenied` or :class:`InputRejected`
    before anything reaches the server.
    """

    def __init__(self, guard: AccessGuard, principal: Principal) -> None:
        self.guard = guard
        self.principal = principal

    def intercept_client(
        self, next: temporalio.client.OutboundInterceptor
    ) -> temporalio.client.OutboundInterceptor:
        return _ClientOutbound(next, self.guard, self.principal)


def as_principal(
    client: temporalio.client.Client, guard: AccessGuard, principal: Principal
) -> temporalio.client.Client:
    """A client sharing ``client``'s connection that acts as ``principal`` under ``guard``."""
    config = client.config()
    config["interceptors"] = [*config["interceptors"], AccessInterceptor(guard, principal)]
    return temporalio.client.Client(**config)


class SignalGuardInterceptor(temporalio.worker.Interceptor):
    """A worker interceptor that drops signals failing the guard's schema or policy.

    The check runs outside the workflow sandbox (as an extern function) and depends only on
    the signal, its ``orchlab-principal`` header and the policy, so replays decide the
    same. Elevations are not considered here (they are time-bound: the client interceptor
    judges them); a dropped signal is logged with its reason.
    """

    def __init__(self, guard: AccessGuard) -> None:
        self.guard = guard

    def _check(
        self, workflow_type: str, signal: str, args: Sequence[Any], header: Mapping[str, Any] | None
    ) -> str | None:
        if header is None:
            return f"signal {signal!r} has no {HEADER} header: sent without the access interceptor"
        try:
            who = Principal(
                id=str(header.get("id", "")),
                roles=tuple(header.get("roles", ())),
                clearance=str(header.get("clearance", "public")),
                team=str(header.get("team", "")),
            )
            guard = AccessGuard(self.guard.rules.values(), policy=self.guard.policy)
            guard.check_signal(who, workflow_type, signal, args)
        except (AccessDenied, InputRejected) as exc:
            return str(exc)
        return None

    def workflow_interceptor_class(
        self, input: temporalio.worker.WorkflowInterceptorClassInput
    ) -> type[temporalio.worker.WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[_EXTERN] = self._check
        return _SignalInbound


class _SignalInbound(temporalio.worker.WorkflowInboundInterceptor):
    async def handle_signal(self, input: temporalio.worker.HandleSignalInput) -> None:
        raw = input.headers.get(HEADER)
        header = None
        if raw is not None:
            header = temporalio.converter.default().payload_converter.from_payloads([raw])[0]
        check = workflow.extern_functions()[_EXTERN]
        problem = check(workflow.info().workflow_type, input.signal, list(input.args), header)
        if problem is not None:
            workflow.logger.warning("signal %r dropped: %s", input.signal, problem)
            return
        await super().handle_signal(input)


__all__ = [
    "HEADER",
    "AccessGuard",
    "AccessInterceptor",
    "Action",
    "Elevation",
    "Principal",
    "SignalGuardInterceptor",
    "WorkflowRule",
    "as_principal",
]
