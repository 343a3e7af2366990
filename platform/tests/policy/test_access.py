"""Attribute-based access on a real Temporal server: a client interceptor that checks starts,
signals and cancels, a worker interceptor that drops unauthenticated signals, and
just-in-time elevation that expires on its own and is audited when used."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import Field
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from orchlab.policy import (
    AccessDenied,
    AccessGuard,
    AuditLog,
    InputRejected,
    Principal,
    SafePath,
    SignalGuardInterceptor,
    StrictInput,
    WorkflowRule,
    as_principal,
)


@dataclass
class TrainArgs:
    dataset: str
    epochs: int


@dataclass
class Note:
    text: str


class TrainSchema(StrictInput):
    dataset: SafePath
    epochs: int = Field(ge=1, le=100)


class NoteSchema(StrictInput):
    text: str = Field(max_length=200)


@workflow.defn(name="GuardedTrain", sandboxed=False)
class GuardedTrain:
    def __init__(self) -> None:
        self.notes: list[str] = []
        self.done = False

    @workflow.run
    async def run(self, args: TrainArgs) -> list[str]:
        await workflow.wait_condition(lambda: self.done)
        return self.notes

    @workflow.signal
    def note(self, note: Note) -> None:
        self.notes.append(note.text)

    @workflow.signal
    def finish(self, note: Note) -> None:
        self.done = True


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


ANN = Principal("ann", ("engineer",), "internal", "ml")
BOB = Principal("bob", ("engineer",), "internal", "web")
RULE = WorkflowRule(
    "GuardedTrain",
    sensitivity="internal",
    team="ml",
    input_schema=TrainSchema,
    signal_schemas={"note": NoteSchema, "finish": NoteSchema},
)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def guard(audit: AuditLog, clock: Clock) -> AccessGuard:
    return AccessGuard([RULE], audit=audit, clock=clock)


async def test_client_and_worker_interceptors_enforce_access(
    temporal_client: Client, task_queue: str, guard: AccessGuard, clock: Clock, audit: AuditLog
) -> None:
    ann = as_principal(temporal_client, guard, ANN)
    bob = as_principal(temporal_client, guard, BOB)
    wf_id = f"guarded-{uuid.uuid4().hex[:8]}"
    worker = Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[GuardedTrain],
        interceptors=[SignalGuardInterceptor(guard)],
        build_id="test-access",
    )
    async with worker:
        with pytest.raises(AccessDenied, match=r"needs role engineer in team ml"):
            await bob.start_workflow(
                GuardedTrain.run, TrainArgs("wine.csv", 3), id=wf_id, task_queue=task_queue
            )
        with pytest.raises(InputRejected, match=r"dataset: unsafe path '\.\./\.\./etc/passwd'"):
            await ann.start_workflow(
                GuardedTrain.run, TrainArgs("../../etc/passwd", 3), id=wf_id, task_queue=task_queue
            )
        handle = await ann.start_workflow(
            GuardedTrain.run, TrainArgs("data/wine.csv", 3), id=wf_id, task_queue=task_queue
        )
        await handle.signal(GuardedTrain.note, Note("from ann"))
        with pytest.raises(InputRejected, match=r"text: String should have at most 200"):
            await handle.signal(GuardedTrain.note, Note("x" * 300))
        # A plain client skips the client interceptor; the worker drops its signal.
        await temporal_client.get_workflow_handle(wf_id).signal("note", Note("sneaked in"))
        # Ann may not cancel ... until an operator elevation, which expires on its own.
        with pytest.raises(AccessDenied, match=r"needs role operator"):
            await ann.get_workflow_handle(wf_id).cancel()
        grant = guard.elevate(
            ANN, ["operator"], duration=timedelta(hours=1), reason="INC-42", granted_by="lead"
        )
        assert guard.decide(ANN, "cancel", "GuardedTrain").allowed
        clock.now += timedelta(hours=2)
        assert not guard.decide(ANN, "cancel", "GuardedTrain").allowed
        assert guard.active_elevations("ann") == []
        await asyncio.sleep(0.2)  # let the dropped signal reach the worker before finishing
        await handle.signal(GuardedTrain.finish, Note("done"))
        notes = await handle.result()
    assert notes == ["from ann"]
    actions = [(r.action, r.actor) for r in audit.records()]
    assert ("elevation.granted", "lead") in actions
    used = [r for r in audit.records() if r.action == "elevation.used"]
    assert len(used) == 1 and used[0].data["elevations"] == [grant.id]
    denied = [r for r in audit.records() if r.action == "access.decision" and not r.data["allowed"]]
    assert {r.actor for r in denied} == {"bob", "ann"}


def test_unknown_workflow_types_and_impersonation_are_refused(guard: AccessGuard) -> None:
    with pytest.raises(AccessDenied, match=r"no access rule for workflow type 'Other'"):
        guard.authorize(ANN, "start", "Other")
    approvals = AccessGuard(
        [
            WorkflowRule(
                "orchlab.Approval",
                signal_schemas={"decide": NoteSchema},
                signal_actions={"decide": "approve"},
                identity_field="text",
            )
        ]
    )
    carol = Principal("carol", ("approver",), "internal", "risk")
    with pytest.raises(AccessDenied, match=r"cannot send 'decide' as 'dave'"):
        approvals.check_signal(carol, "orchlab.Approval", "decide", [Note("dave")])
    assert approvals.check_signal(carol, "orchlab.Approval", "decide", [Note("carol")]).allowed
    with pytest.raises(InputRejected, match=r"signal 'other' of orchlab.Approval has no schema"):
        approvals.check_signal(carol, "orchlab.Approval", "other", [Note("carol")])


def test_elevation_limits(guard: AccessGuard) -> None:
    with pytest.raises(ValueError, match=r"at most 4:00:00"):
        guard.elevate(ANN, ["operator"], duration=timedelta(days=1), reason="x", granted_by="b")
    with pytest.raises(ValueError, match=r"cannot grant an elevation to themselves"):
        guard.elevate(ANN, ["operator"], duration=timedelta(hours=1), reason="x", granted_by="ann")
    with pytest.raises(ValueError, match=r"needs a reason"):
        guard.elevate(ANN, ["operator"], duration=timedelta(hours=1), reason=" ", granted_by="b")
