"""Engines across the boundary: the notebook's workflows run on a worker in the learner's
process, the checks drive them through the engine.

A check writes::

    async with worker(nb, client, task_queue, workflows=[nb.Flow], activities=[fake]):
        result = await client.execute_workflow(nb.Flow.run, arg, id=..., task_queue=task_queue)

With ``nb`` a :class:`~labgrader.harness.proxy.NotebookProxy`, the worker runs in the learner's
process, connected to the same server as ``client``; the check's ``fake`` activities run here,
called back over the channel, on the check's event loop. With ``nb`` a plain module (a
learner checking their own work in their kernel), it is an ordinary worker in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Sequence
from typing import Any

from labgrader.harness.codec import typed_relay
from labgrader.harness.proxy import (
    HANDLE_ATTRIBUTE,
    MIRROR_KEY,
    NotebookProxy,
    RemoteObject,
    _MirrorMeta,
    _type_of,
)


def _stub(
    proxy: NotebookProxy, owner: str, name: str, params: list[Any], ret: Any, *, is_async: bool
) -> Any:
    def body(self: Any, *args: Any) -> Any:
        raise RuntimeError(f"{name} runs on the notebook's worker, not in the checks")

    async def abody(self: Any, *args: Any) -> Any:
        raise RuntimeError(f"{name} runs on the notebook's worker, not in the checks")

    fn: Any = abody if is_async else body
    # Temporal takes a method for the class's own when its module and qualified name say so.
    fn.__name__, fn.__qualname__, fn.__module__ = name, f"{owner}.{name}", "notebook"
    annotations = {p: _type_of(proxy, t) for p, t in params}
    returns = _type_of(proxy, ret)
    fn.__signature__ = inspect.Signature(
        [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
        + [
            inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=t)
            for p, t in annotations.items()
        ],
        return_annotation=returns,
    )
    fn.__annotations__ = {**annotations, "return": returns}
    return fn


def workflow_mirror(proxy: NotebookProxy, desc: dict[str, Any], namespace: dict[str, Any]) -> Any:
    """A workflow class here whose methods carry the notebook workflow's names and types.

    The Temporal client reads a workflow's, signal's, query's and update's name and types from
    it; calling its methods does nothing but say where the workflow really runs.
    """
    from temporalio import workflow

    body = dict(namespace)
    owner = str(desc["name"])
    run_name, run_params, run_ret = desc["run"]
    body[run_name] = workflow.run(_stub(proxy, owner, run_name, run_params, run_ret, is_async=True))
    for attr, (kind, name, params, ret) in desc["methods"].items():
        if kind == "query":
            body[attr] = workflow.query(name=name)(
                _stub(proxy, owner, attr, params, ret, is_async=False)
            )
        elif kind == "signal":
            body[attr] = workflow.signal(name=name)(
                _stub(proxy, owner, attr, params, ret, is_async=True)
            )
        else:
            body[attr] = workflow.update(name=name)(
                _stub(proxy, owner, attr, params, ret, is_async=True)
            )
    cls = _MirrorMeta(str(desc["name"]), (), body)
    cls.__module__ = "notebook"
    return workflow.defn(name=desc["workflow"], sandboxed=False)(cls)


@contextlib.asynccontextmanager
async def worker(
    nb: Any,
    client: Any,
    task_queue: str,
    workflows: Sequence[Any] = (),
    activities: Sequence[Any] = (),
    **options: Any,
) -> AsyncIterator[None]:
    """Run a worker for the notebook's workflows and activities while the block runs.

    Args:
        nb: The ``nb`` fixture.
        client: The checks' Temporal client; the worker connects to the same server and
            namespace.
        task_queue: The check's task queue.
        workflows: Workflow classes of the notebook (``nb.Flow``).
        activities: The notebook's activities and the check's own (fakes).
        **options: More :class:`temporalio.worker.Worker` options, plain data (an
            ``activity_executor`` is the learner's process's own when the worker runs there).

    A check's own workflow classes run on a worker here instead, and the notebook's
    activities among ``activities`` are called in its process from that worker.
    """
    # An explicit build id: left unset, the SDK hashes every loaded module to make one, which
    # costs about 2 s per worker in a process that has imported the notebook's libraries.
    if "deployment_config" not in options:  # a versioned worker names its own build
        options.setdefault("build_id", "labgrader-checks")
    theirs = any(_is_notebooks(w) for w in (*workflows, *activities))
    if isinstance(nb, NotebookProxy) and any(not _is_notebooks(w) for w in workflows):
        # The check's own workflows run here; the notebook's activities, called from here.
        activities = [_activity_here(nb, a) if _is_notebooks(a) else a for a in activities]
        theirs = False
    if not isinstance(nb, NotebookProxy) or not theirs:
        from temporalio.worker import Worker

        async with Worker(
            client,
            task_queue=task_queue,
            workflows=list(workflows),
            activities=list(activities),
            **options,
        ):
            yield
        return
    nb._nb_runner.loop = asyncio.get_running_loop()
    # The worker there runs the notebook's plain activities on threads of its own process.
    options.pop("activity_executor", None)
    config = client.service_client.config
    wid = await asyncio.to_thread(
        nb._nb_request,
        "worker_start",
        {
            "address": config.target_host,
            "namespace": client.namespace,
            "task_queue": task_queue,
            "workflows": list(workflows),
            "activities": list(activities),
            "options": options,
        },
    )
    try:
        yield
    finally:
        await asyncio.to_thread(nb._nb_request, "worker_stop", wid)


def _is_notebooks(item: Any) -> bool:
    """Whether a workflow class or activity is the notebook's (a mirror or a stand-in)."""
    if isinstance(item, type):
        return MIRROR_KEY in item.__dict__
    return isinstance(item, RemoteObject) or hasattr(item, HANDLE_ATTRIBUTE)


def _activity_here(nb: NotebookProxy, fn: Any) -> Any:
    """An activity of this process that calls one of the notebook's activities there."""
    from temporalio import activity

    remote = fn if isinstance(fn, RemoteObject) else getattr(fn, HANDLE_ATTRIBUTE)
    name, arg_types, ret_type = nb._nb_request("activity_info", remote)

    async def relay(*args: Any) -> Any:
        return await asyncio.to_thread(remote, *args)

    typed_relay(relay, arg_types, ret_type)
    return activity.defn(name=name)(relay)


async def replay(nb: Any, workflows: Sequence[Any], history: Any) -> None:
    """Replay a workflow history on the notebook's workflow classes, in its process.

    Raises:
        Exception: What :meth:`temporalio.worker.Replayer.replay_workflow` raised there (a
            nondeterminism error), rebuilt here.
    """
    if not isinstance(nb, NotebookProxy):
        from temporalio.worker import Replayer

        await Replayer(workflows=list(workflows)).replay_workflow(history)
        return
    payload = [list(workflows), history.workflow_id, history.to_json()]
    await asyncio.to_thread(nb._nb_request, "replay", payload)


__all__ = ["replay", "worker", "workflow_mirror"]
