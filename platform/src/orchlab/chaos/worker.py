"""A Temporal worker to hurt: ``python -m orchlab.chaos.worker --task-queue Q``.

It runs the canary workflow (:mod:`orchlab.chaos._canary`) and, with ``--pipelines``, the
pipeline workflow and its step activity (:func:`orchlab.pipelines.create_worker`'s), with
the ``lookup`` task registered so a pipeline spec can call a dependency through a proxy.
``--address`` points it at a Temporal frontend (a :class:`~orchlab.chaos.FaultProxy` in a
partition experiment); ``--metrics-port`` serves its circuit breakers on ``/metrics``.
The chaos actions start it as a process of its own, so they can SIGKILL it mid-activity.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from orchlab.chaos._canary import CanaryWorkflow, canary_lookup


def register_lookup_task() -> None:
    """Register the ``lookup`` pipeline task: one guarded call of a dependency (its URL,
    timeout, breaker and fallback are the step's parameters)."""
    from pydantic import BaseModel, ConfigDict, Field

    from orchlab.chaos._canary import LookupInput, guarded_fetch
    from orchlab.pipelines import TaskTemplate, get_task, register_task

    class LookupParams(BaseModel):
        """Parameters of the ``lookup`` task."""

        model_config = ConfigDict(extra="forbid", frozen=True)
        url: str
        timeout: float = Field(default=10.0, gt=0)
        breaker: str | None = None
        fallback: bool = False
        hold: float = Field(default=0.0, ge=0)

    def run(ctx: Any, p: LookupParams, _: Any) -> dict[str, Any]:
        reply = guarded_fetch(LookupInput(**p.model_dump()))
        return {"reply": {"source": reply.source, "status": reply.status}}

    with contextlib.suppress(Exception):
        get_task("lookup")
        return
    register_task(
        TaskTemplate(
            "lookup", run, LookupParams, description="call a dependency (timeout, breaker)"
        )
    )


async def serve(args: argparse.Namespace) -> None:
    """Run the worker until SIGTERM or SIGINT."""
    from temporalio.worker import Worker

    from orchlab.runtime import connect_temporal

    client = await connect_temporal(address=args.address)
    workflows: list[Any] = [CanaryWorkflow]
    activities: list[Any] = [canary_lookup]
    if args.pipelines:
        register_lookup_task()
        from orchlab.pipelines._temporal import run_step_activity
        from orchlab.pipelines._temporal_workflow import PipelineWorkflow

        workflows.append(PipelineWorkflow)
        activities.append(run_step_activity)
    if args.metrics_port is not None:
        from orchlab.observability import PipelineMetrics

        PipelineMetrics().serve(args.metrics_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="chaos-activity") as pool:
        worker = Worker(
            client,
            task_queue=args.task_queue,
            workflows=workflows,
            activities=activities,
            activity_executor=pool,
            max_concurrent_activities=8,
            build_id="orchlab-chaos-worker",  # else the SDK hashes every loaded module
        )
        async with worker:
            print(f"worker polling {args.task_queue}", flush=True)
            await stop.wait()


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the worker."""
    parser = argparse.ArgumentParser(prog="orchlab.chaos.worker", description=__doc__)
    parser.add_argument("--task-queue", required=True)
    parser.add_argument("--address", default=None, help="Temporal frontend (host:port)")
    parser.add_argument("--pipelines", action="store_true", help="also run pipeline workflows")
    parser.add_argument("--metrics-port", type=int, default=None)
    asyncio.run(serve(parser.parse_args(argv)))


if __name__ == "__main__":  # pragma: no cover - a process of its own
    main(sys.argv[1:])
