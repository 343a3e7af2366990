"""Workflows and activities for the reliability tests (sandboxed, like production code)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from orchlab.errors import TransientError
    from orchlab.reliability import (
        FailureClass,
        FailureClassifier,
        Heartbeat,
        PipelineControl,
        RetryPolicy,
        Saga,
        continue_as_new_due,
        get_breaker,
        resume_point,
    )

CALLS: list[str] = []
"""Activity calls made in this process, in order (tests clear it)."""

CLASSIFIER = FailureClassifier().with_rule(FailureClass.PERMANENT, types=(KeyError,))
FAST = RetryPolicy(max_attempts=4, initial_interval=1.0, max_interval=10.0, classifier=CLASSIFIER)
OPTIONS = FAST.temporal_activity_options(start_to_close=10)


@dataclass
class FlakyInput:
    name: str
    fail_times: int = 0
    error: str = "transient"


@activity.defn
@CLASSIFIER.temporal_activity
async def flaky(inp: FlakyInput) -> int:
    """Fails ``fail_times`` times with the named error, then returns its attempt number."""
    CALLS.append(inp.name)
    attempt = activity.info().attempt
    if attempt <= inp.fail_times:
        if inp.error == "transient":
            raise TransientError(f"{inp.name}: service unavailable (attempt {attempt})")
        if inp.error == "key":
            raise KeyError(inp.name)
        raise ValueError(f"{inp.name}: bad input")
    return attempt


@activity.defn
async def plain_key_error(name: str) -> None:
    """Raises KeyError without the classifier decorator: only the retry policy stops it."""
    CALLS.append(name)
    raise KeyError(name)


@workflow.defn
class RetryWorkflow:
    @workflow.run
    async def run(self, inp: FlakyInput) -> int:
        return await workflow.execute_activity(flaky, inp, **OPTIONS)


@workflow.defn
class NonRetryableTypeWorkflow:
    @workflow.run
    async def run(self, name: str) -> None:
        await workflow.execute_activity(plain_key_error, name, **OPTIONS)


@dataclass
class SagaInput:
    fail_step: str
    broken_compensations: list[str] = field(default_factory=list)


@activity.defn
async def saga_step(name: str, fail_step: str) -> str:
    CALLS.append(f"do:{name}")
    if name == fail_step:
        raise ValueError(f"{name} refused")
    return name


@activity.defn
async def undo_step(name: str, broken: list[str]) -> None:
    CALLS.append(f"undo:{name}")
    if name in broken:
        raise ValueError(f"cannot undo {name}")


NO_RETRY = {
    "start_to_close_timeout": timedelta(seconds=10),
    "retry_policy": RetryPolicy(max_attempts=1).to_temporal(),
}


@workflow.defn
class BookingSaga:
    @workflow.run
    async def run(self, inp: SagaInput) -> list[str]:
        async with Saga("booking") as saga:
            for step in ("car", "hotel", "flight"):
                await workflow.execute_activity(saga_step, args=[step, inp.fail_step], **NO_RETRY)
                saga.add_activity(undo_step, step, inp.broken_compensations, **NO_RETRY)
        return saga.compensated


@activity.defn
async def count_items(total: int) -> list[int]:
    """Processes items 0..total-1, heartbeating progress; the first attempt dies at 3."""
    start = resume_point(0)
    done: list[int] = []
    async with Heartbeat(interval=0.1) as hb:
        for i in range(start, total):
            if activity.info().attempt == 1 and i == 3:
                raise TransientError("worker lost at item 3")
            done.append(i)
            hb.progress(i + 1)
    CALLS.append(f"attempt {activity.info().attempt} from {start}")
    return done


@workflow.defn
class HeartbeatWorkflow:
    @workflow.run
    async def run(self, total: int) -> list[int]:
        return await workflow.execute_activity(
            count_items,
            total,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(max_attempts=3, initial_interval=0.1).to_temporal(),
        )


@workflow.defn
class ControlledPipeline(PipelineControl):
    @workflow.init
    def __init__(self, steps: list[str]) -> None:
        super().__init__()

    @workflow.run
    async def run(self, steps: list[str]) -> list[str]:
        ran = []
        for step in steps:
            if await self.step_gate(step):
                await workflow.sleep(timedelta(seconds=10))
                ran.append(step)
                self.step_done(step)
        return ran


@workflow.defn
class LongRunner:
    @workflow.run
    async def run(self, remaining: int, runs: int = 1) -> dict[str, int]:
        while remaining > 0:
            await workflow.sleep(timedelta(seconds=1))
            remaining -= 1
            if remaining and continue_as_new_due(max_history_events=12):
                workflow.continue_as_new(args=[remaining, runs + 1])
        return {"runs": runs}


BREAKER_STATE = {"up": False}


def _call_dependency(caller: str) -> str:
    CALLS.append(caller)
    if not BREAKER_STATE["up"]:
        raise ConnectionError("feature store refused the connection")
    return "fresh"


@activity.defn
async def features_for_training(_: int) -> str:
    breaker = get_breaker("feature-store", fail_max=2, reset_timeout=60)
    return breaker.call(_call_dependency, "train", fallback=lambda exc: "cached")


@activity.defn
async def features_for_scoring(_: int) -> str:
    breaker = get_breaker("feature-store", fail_max=2, reset_timeout=60)
    return breaker.call(_call_dependency, "score", fallback=lambda exc: "cached")


@workflow.defn
class SharedBreakerWorkflow:
    @workflow.run
    async def run(self) -> list[str]:
        options = {"start_to_close_timeout": timedelta(seconds=10)}
        return [
            await workflow.execute_activity(features_for_training, 1, **options),
            await workflow.execute_activity(features_for_scoring, 2, **options),
            await workflow.execute_activity(features_for_scoring, 3, **options),
            await workflow.execute_activity(features_for_training, 4, **options),
        ]


@workflow.defn(name="Versioned")
class VersionedV1:
    @workflow.run
    async def run(self) -> int:
        return await workflow.execute_activity(flaky, FlakyInput("train"), **OPTIONS)


@workflow.defn(name="Versioned")
class VersionedUnsafe:
    """Adds an audit step in front: open executions recorded by v1 cannot replay it."""

    @workflow.run
    async def run(self) -> int:
        await workflow.execute_activity(flaky, FlakyInput("audit"), **OPTIONS)
        return await workflow.execute_activity(flaky, FlakyInput("train"), **OPTIONS)


@workflow.defn(name="Versioned")
class VersionedPatched:
    """The same change behind workflow.patched: old histories keep the old path."""

    @workflow.run
    async def run(self) -> int:
        if workflow.patched("audit-before-train"):
            await workflow.execute_activity(flaky, FlakyInput("audit"), **OPTIONS)
        return await workflow.execute_activity(flaky, FlakyInput("train"), **OPTIONS)
