"""Checkpoints: a rerun of a pipeline resumes from its last good step.

* Prefect: :func:`prefect_checkpoint_options` makes a task persist its result to a folder
  and cache it by its inputs (and source), with the cache keys on disk too. When a flow's
  process dies and the flow is run again with the same parameters, every task that already
  finished loads its stored result (state ``Cached``) and only the rest runs.
* Plain Python: :class:`Checkpointer` records each step's result in an
  :class:`~orchlab.reliability.IdempotencyLedger` under ``<run key>/<step>``.
* Temporal needs neither: completed activities' results live in the workflow's event
  history, and a new worker replays the history and continues after the last completed
  activity. Only an activity interrupted mid-way runs again (see ``resume_point``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from orchlab.reliability._idempotency import IdempotencyLedger


def prefect_checkpoint_options(
    storage: Path | str,
    *,
    include_source: bool = True,
    expiration: timedelta | None = None,
    block_name: str | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``@task`` / ``Task.with_options`` that checkpoint a task.

    Prefect needs result storage registered on its server, so this saves (or updates) a
    ``LocalFileSystem`` block for ``storage``: call it where ``PREFECT_API_URL`` reaches the
    server the flow runs against.

    Args:
        storage: A folder every process of the pipeline can reach (a shared volume; across
            machines, save a remote storage block and pass its slug to ``@task`` instead).
        include_source: Also key on the task's source, so editing a task reruns it.
        expiration: How long a checkpoint stays valid; None keeps it.
        block_name: The storage block's name; derived from the folder by default.

    Returns:
        ``persist_result``, ``result_storage`` (the block's slug), ``cache_policy`` and
        ``cache_expiration``.
    """
    from prefect.cache_policies import INPUTS, TASK_SOURCE
    from prefect.filesystems import LocalFileSystem

    root = Path(storage).resolve()
    name = block_name or "orchlab-ckpt-" + hashlib.sha256(str(root).encode()).hexdigest()[:12]
    LocalFileSystem(basepath=str(root / "results")).save(name, overwrite=True)
    policy = INPUTS + TASK_SOURCE if include_source else INPUTS
    return {
        "persist_result": True,
        "result_storage": f"local-file-system/{name}",
        "cache_policy": policy.configure(key_storage=root / "keys"),
        "cache_expiration": expiration,
    }


class Checkpointer:
    """Run a plain-Python pipeline's steps once per run key, resuming after a crash.

    ``ckpt = Checkpointer(ledger, run_key)``; ``ckpt.step("train", train, data)`` runs
    ``train`` the first time and returns its stored (JSON) result on every rerun with the
    same run key.
    """

    def __init__(self, ledger: IdempotencyLedger, run_key: str) -> None:
        if not run_key or "/" in run_key:
            raise ValueError(f"run_key must be non-empty and contain no '/', got {run_key!r}")
        self.ledger = ledger
        self.run_key = run_key

    def step(self, name: str, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """Run step ``name`` unless this run already completed it."""
        return self.ledger.run(f"{self.run_key}/{name}", fn, *args, **kwargs)

    def completed(self) -> list[str]:
        """Steps this run has completed, in completion order."""
        prefix = f"{self.run_key}/"
        done = [e for e in self.ledger.entries(prefix) if e.state == "done"]
        done.sort(key=lambda e: e.completed_at or 0.0)
        return [e.key[len(prefix) :] for e in done]


__all__ = ["Checkpointer", "prefect_checkpoint_options"]
