"""PromQL expressions over orchlab's metric names, shared by alert rules and dashboards.

Every expression reads the metrics :class:`~orchlab.observability.PipelineMetrics` exposes
(``orchlab_pipeline_runs_total``, ``orchlab_pipeline_run_duration_seconds_*``...), so what
an alert or a panel shows is what the runners counted, on every engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta

from prometheus_client.utils import floatToGoString

from orchlab.errors import ConfigError
from orchlab.observability import _names as names
from orchlab.observability._metrics import RUN_BUCKETS

RUNS_TOTAL = f"{names.PIPELINE_RUNS}_total"
"""The run counter as Prometheus stores it."""
RUN_DURATION_BUCKET = f"{names.PIPELINE_DURATION}_bucket"
RUN_DURATION_COUNT = f"{names.PIPELINE_DURATION}_count"

_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def duration(window: timedelta | str) -> str:
    """A window in PromQL's form (``timedelta(hours=6)`` is ``6h``); text passes through
    (``$__rate_interval``).

    Raises:
        ValueError: When the window is not a positive whole number of seconds.
    """
    if isinstance(window, str):
        return window
    seconds = window.total_seconds()
    if seconds <= 0 or seconds != int(seconds):
        raise ValueError(f"a PromQL window must be whole positive seconds, got {window}")
    for unit, size in _UNITS:
        if int(seconds) % size == 0:
            return f"{int(seconds) // size}{unit}"
    raise AssertionError("unreachable: seconds divide by 1")  # pragma: no cover


def selector(metric: str, labels: Mapping[str, str | None]) -> str:
    """``metric{k="v",...}`` with the labels whose value is not None."""
    shown = ",".join(f'{k}="{v}"' for k, v in labels.items() if v is not None)
    return f"{metric}{{{shown}}}" if shown else metric


def failure_ratio(
    window: timedelta | str, *, pipeline: str | None = None, engine: str | None = None
) -> str:
    """The share of runs that failed over ``window``."""
    w = duration(window)
    scope = {"pipeline": pipeline, "engine": engine}
    failed = selector(RUNS_TOTAL, {**scope, "status": "failed"})
    return f"(sum(rate({failed}[{w}])) / sum(rate({selector(RUNS_TOTAL, scope)}[{w}])))"


def bucket_label(seconds: float) -> str:
    """The ``le`` label of the run-duration bucket at ``seconds``, as prometheus-client
    writes it (``10.0``).

    Raises:
        ConfigError: When ``seconds`` is not one of the run histogram's bucket bounds (a
            latency threshold can only be read off a bucket's upper bound).
    """
    if seconds not in RUN_BUCKETS:
        bounds = ", ".join(f"{b:g}" for b in RUN_BUCKETS)
        raise ConfigError(
            f"latency threshold {seconds:g} s is not a run-duration bucket bound ({bounds})"
        )
    return str(floatToGoString(seconds))  # type: ignore[no-untyped-call]


def slow_ratio(
    window: timedelta | str,
    seconds: float,
    *,
    pipeline: str | None = None,
    engine: str | None = None,
) -> str:
    """The share of runs that took longer than ``seconds`` over ``window`` (from the run
    duration histogram: ``seconds`` must be a bucket bound)."""
    w = duration(window)
    scope = {"pipeline": pipeline, "engine": engine}
    fast = selector(RUN_DURATION_BUCKET, {**scope, "le": bucket_label(seconds)})
    every = selector(RUN_DURATION_COUNT, scope)
    return f"(1 - sum(rate({fast}[{w}])) / sum(rate({every}[{w}])))"


def run_duration_quantile(
    quantile: float,
    window: timedelta | str,
    *,
    pipeline: str | None = None,
    engine: str | None = None,
    by: str = "",
) -> str:
    """The ``quantile`` of run durations over ``window`` (Prometheus interpolates inside
    the histogram's buckets), per ``by`` labels when given."""
    scope = {"pipeline": pipeline, "engine": engine}
    labels = ", ".join(["le", *(b.strip() for b in by.split(",") if b.strip())])
    bucket = selector(RUN_DURATION_BUCKET, scope)
    return (
        f"histogram_quantile({quantile:g}, sum by ({labels}) (rate({bucket}[{duration(window)}])))"
    )


__all__ = [
    "RUNS_TOTAL",
    "RUN_DURATION_BUCKET",
    "RUN_DURATION_COUNT",
    "bucket_label",
    "duration",
    "failure_ratio",
    "run_duration_quantile",
    "selector",
    "slow_ratio",
]
