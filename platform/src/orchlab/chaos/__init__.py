"""Chaos engineering for pipelines: a chaostoolkit extension for Temporal and Prefect.

Experiments (JSON or YAML, run with ``chaos run``) call these modules as Python providers:

- :mod:`orchlab.chaos.probes`: steady state from the engines' own records: success rate and
  p95 duration of the last N runs, a workflow's status, server health, a task queue's
  pollers and backlog, a circuit breaker's state, the dead-letter queue's depth.
- :mod:`orchlab.chaos.actions`: faults and their rollbacks: SIGKILL a worker mid-activity
  and restart it, restart the Temporal dev server on its database, latency, jitter, a
  bandwidth cap, resets or a partition through a :class:`FaultProxy`, a state folder at
  its quota; and synthetic load (canary workflows, pipelines).
- :mod:`orchlab.chaos.controls`: record every activity into the trace and the audit log,
  and stop what the experiment started when it ends.
- :func:`resilience_report`: journals in, a Markdown and HTML report out
  (``orchlab chaos report``).

Faults only touch processes orchlab started for the experiment (named, recorded in
``<state dir>/chaos/owned.json``). See docs/platform/chaos.md.
"""

from typing import TYPE_CHECKING

from orchlab._lazy import lazy_exports

if TYPE_CHECKING:
    from orchlab.chaos._owned import ChaosError, NotOwned, OwnedProcess, chaos_dir
    from orchlab.chaos._proxy import FaultProxy, Faults, ProxyStats
    from orchlab.chaos._report import ExperimentSummary, read_journal, resilience_report
    from orchlab.chaos._runs import RunStats, percentile

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "ChaosError": "_owned",
        "NotOwned": "_owned",
        "OwnedProcess": "_owned",
        "chaos_dir": "_owned",
        "FaultProxy": "_proxy",
        "Faults": "_proxy",
        "ProxyStats": "_proxy",
        "ExperimentSummary": "_report",
        "read_journal": "_report",
        "resilience_report": "_report",
        "RunStats": "_runs",
        "percentile": "_runs",
    },
)

__all__ = [
    "ChaosError",
    "ExperimentSummary",
    "FaultProxy",
    "Faults",
    "NotOwned",
    "OwnedProcess",
    "ProxyStats",
    "RunStats",
    "chaos_dir",
    "percentile",
    "read_journal",
    "resilience_report",
]
