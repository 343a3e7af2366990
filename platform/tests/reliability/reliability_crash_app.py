"""A small pipeline app that the crash-recovery tests run in real, killable processes.

``python -m reliability_crash_app temporal-worker --address A --task-queue Q`` runs a
Temporal worker until killed; ``python -m reliability_crash_app prefect-run --work W --keys
a,b,c`` runs a checkpointed Prefect flow once. In both, each step applies one side effect
through an :class:`~orchlab.reliability.IdempotencyLedger`, writing it in the ledger's own
transaction, and a step named in ``<work>/hold-<key>`` stops mid-way (after announcing
itself in ``<work>/started-<key>``) until its process is killed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity, workflow

with workflow.unsafe.imports_passed_through():
    from orchlab.reliability import ClaimStatus, IdempotencyConflict, IdempotencyLedger

LEASE_SECONDS = 1.0
EFFECTS = "CREATE TABLE IF NOT EXISTS effects (key TEXT NOT NULL, value TEXT NOT NULL)"


def ledger_for(work: Path) -> IdempotencyLedger:
    return IdempotencyLedger(work / "ledger.sqlite", lease_seconds=LEASE_SECONDS)


def read_effects(work: Path) -> list[tuple[str, str]]:
    """Every side effect applied, in order (duplicates would show here)."""
    with sqlite3.connect(work / "ledger.sqlite") as conn:
        conn.execute(EFFECTS)
        return list(conn.execute("SELECT key, value FROM effects ORDER BY rowid"))


def _hold_if_asked(work: Path, key: str, beat: Any = None) -> None:
    if (work / f"hold-{key}").exists():
        (work / f"started-{key}").write_text("started")
        while True:  # until this process is killed
            if beat is not None:
                beat()
            time.sleep(0.05)


def apply_effect(work: Path, key: str, beat: Any = None) -> str:
    """One step: claim the key, (maybe hold), then apply its effect exactly once."""
    with (work / "executions.log").open("a") as log:
        log.write(f"{key}\n")
    ledger = ledger_for(work)
    claim = ledger.claim(key)
    if claim.status is ClaimStatus.DONE:
        return str(claim.result)
    if claim.status is ClaimStatus.BUSY:
        raise IdempotencyConflict(f"{key} is held by a live claimant")
    _hold_if_asked(work, key, beat)
    value = f"applied-{key}"

    def effect(conn: sqlite3.Connection) -> None:
        conn.execute(EFFECTS)
        conn.execute("INSERT INTO effects (key, value) VALUES (?, ?)", (key, value))

    ledger.complete(claim, value, effect=effect)
    return value


# -- Temporal ---------------------------------------------------------------------------------


@dataclass
class StepInput:
    work: str
    key: str


@dataclass
class PipelineInput:
    work: str
    keys: list[str]


@activity.defn
def effect_activity(inp: StepInput) -> str:
    return apply_effect(Path(inp.work), inp.key, beat=activity.heartbeat)


@workflow.defn
class CrashPipeline:
    @workflow.run
    async def run(self, inp: PipelineInput) -> list[str]:
        from temporalio.common import RetryPolicy

        results = []
        for key in inp.keys:
            results.append(
                await workflow.execute_activity(
                    effect_activity,
                    StepInput(inp.work, key),
                    start_to_close_timeout=timedelta(seconds=60),
                    heartbeat_timeout=timedelta(seconds=2),
                    retry_policy=RetryPolicy(
                        initial_interval=timedelta(milliseconds=200), maximum_attempts=20
                    ),
                )
            )
        return results


async def run_worker(address: str, task_queue: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from temporalio.client import Client
    from temporalio.worker import Worker

    client = await Client.connect(address)
    with ThreadPoolExecutor(max_workers=4) as pool:
        worker = Worker(
            client,
            task_queue=task_queue,
            workflows=[CrashPipeline],
            activities=[effect_activity],
            activity_executor=pool,
            build_id="reliability-crash-app",
        )
        print("worker ready", flush=True)
        await worker.run()


# -- Prefect ----------------------------------------------------------------------------------


def run_prefect(work: Path, keys: list[str]) -> dict[str, str]:
    """Run the checkpointed flow once; return each step's final state name."""
    from prefect import flow, task

    from orchlab.reliability import prefect_checkpoint_options

    @task(**prefect_checkpoint_options(work / "checkpoints"))
    def step(work_dir: str, key: str) -> str:
        return apply_effect(Path(work_dir), key)

    @flow(name="crash-pipeline")
    def pipeline(work_dir: str, keys: list[str]) -> dict[str, str]:
        states = {}
        for key in keys:
            state = step(work_dir, key, return_state=True)
            state.result()  # a failed step fails the flow
            states[key] = state.name
        return states

    return pipeline(str(work), keys)


def main() -> None:
    parser = argparse.ArgumentParser(prog="reliability_crash_app")
    sub = parser.add_subparsers(dest="command", required=True)
    worker = sub.add_parser("temporal-worker")
    worker.add_argument("--address", required=True)
    worker.add_argument("--task-queue", required=True)
    prefect = sub.add_parser("prefect-run")
    prefect.add_argument("--work", required=True, type=Path)
    prefect.add_argument("--keys", required=True)
    args = parser.parse_args()
    if args.command == "temporal-worker":
        asyncio.run(run_worker(args.address, args.task_queue))
    else:
        states = run_prefect(args.work, args.keys.split(","))
        print("RESULT " + json.dumps(states), flush=True)


if __name__ == "__main__":
    main()
