"""The observability views as matplotlib figures: a step waterfall, a latency histogram and
a burn-rate chart, for notebooks and for ``orchlab report``.

The figures are built on ``matplotlib.figure.Figure`` directly (no pyplot, no global
backend), so they render the same in a notebook, a thread or a headless process; a notebook
shows one as it is, :func:`figure_data` encodes one as PNG or SVG.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from orchlab.observability._alerts import SRE_WORKBOOK_RULES, burn_rate_series
from orchlab.observability._names import STEP_SPAN_PREFIX, Attr
from orchlab.observability._profile import critical_path
from orchlab.observability._records import SpanRecord
from orchlab.observability._runs import RunRecord
from orchlab.observability._slo import SLO, RunHistory

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_OK, _FAILED, _PATH = "#4c78a8", "#e45756", "#f58518"


def _figure(width: float, height: float) -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - the observability extra installs it
        from orchlab.errors import ConfigError

        raise ConfigError("figures need matplotlib: pip install 'orchlab[observability]'") from exc
    return Figure(figsize=(width, height), layout="constrained")


def waterfall_figure(spans: Iterable[SpanRecord]) -> Figure:
    """One run's step attempts as bars on a time axis (the critical path highlighted).

    Raises:
        ValueError: When the spans hold no run's root span, or several.
    """
    records = list(spans)
    path = critical_path(records)
    on_path = {(s.step, s.attempt) for s in path.steps}
    root_start = min(s.start_ns for s in records if s.parent_id is None)
    attempts = sorted(
        (s for s in records if s.name.startswith(STEP_SPAN_PREFIX)), key=lambda s: s.start_ns
    )
    figure = _figure(8, max(2.0, 0.4 * len(attempts) + 1.2))
    axes = figure.subplots()
    for row, span in enumerate(attempts):
        step = str(span.attributes.get(Attr.STEP, span.name))
        attempt = int(span.attributes.get(Attr.ATTEMPT, 1))
        colour = _FAILED if span.status == "ERROR" else _OK
        edge = _PATH if (step, attempt) in on_path else colour
        axes.barh(
            row,
            span.duration_seconds,
            left=(span.start_ns - root_start) / 1e9,
            color=colour,
            edgecolor=edge,
            linewidth=2.5,
        )
    labels = [
        f"{s.attributes.get(Attr.STEP, s.name)} #{s.attributes.get(Attr.ATTEMPT, 1)}"
        for s in attempts
    ]
    axes.set_yticks(range(len(attempts)), labels)
    axes.invert_yaxis()
    axes.set_xlabel("seconds since the run started")
    axes.set_title(
        f"run {path.run_id}: {path.total_seconds:.2f} s "
        f"(critical path outlined; red attempts failed)"
    )
    return figure


def latency_histogram(records: Sequence[RunRecord], *, bins: int = 20) -> Figure:
    """The runs' durations as a histogram, succeeded and failed stacked, with p50 and p95."""
    from orchlab.observability._alerts import quantile

    figure = _figure(8, 3.5)
    axes = figure.subplots()
    ok = [r.duration_seconds for r in records if r.succeeded]
    failed = [r.duration_seconds for r in records if not r.succeeded]
    axes.hist([ok, failed], bins=bins, stacked=True, color=[_OK, _FAILED],
              label=["succeeded", "failed"])  # fmt: skip
    durations = sorted(ok + failed)
    if durations:
        for q, style in ((0.5, "--"), (0.95, ":")):
            value = quantile(durations, q)
            axes.axvline(value, color="black", linestyle=style, label=f"p{q * 100:g} {value:.2f} s")
    axes.set_xlabel("run duration (seconds)")
    axes.set_ylabel("runs")
    axes.set_title(f"latency of {len(durations)} runs")
    axes.legend()
    return figure


def burn_rate_figure(
    records: Iterable[RunRecord],
    slo: SLO,
    *,
    windows: Sequence[timedelta] = (timedelta(hours=1), timedelta(hours=6)),
    points: int = 200,
) -> Figure:
    """The SLO's burn rate over the records' time span, per window, with the page and
    ticket rates drawn across."""
    history = RunHistory(records)
    figure = _figure(8, 3.5)
    axes = figure.subplots()
    if len(history):
        start, end = history.records[0].ended, history.records[-1].ended
        step = max((end - start) / points, timedelta(seconds=1))
        for window in windows:
            series = burn_rate_series(history, slo, window, start=start, end=end, step=step)
            times = [t for t, _ in series]
            axes.plot(times, [v for _, v in series], label=f"over {window}")  # type: ignore[arg-type]
    for rule in SRE_WORKBOOK_RULES:
        axes.axhline(rule.burn_rate, color="grey", linestyle=":", linewidth=1)
        axes.annotate(f"{rule.severity} {rule.burn_rate:g}x", (0, rule.burn_rate),
                      xycoords=("axes fraction", "data"), fontsize=8, color="grey")  # fmt: skip
    axes.set_ylabel("burn rate (x budget)")
    axes.set_title(f"SLO {slo.name}: {slo.objective:.2%} {slo.kind}")
    axes.legend(loc="upper right")
    figure.autofmt_xdate()
    return figure


def figure_data(figure: Figure, kind: Literal["png", "svg"] = "png") -> bytes:
    """The figure encoded as PNG or SVG."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=kind, dpi=96)
    return buffer.getvalue()


__all__ = ["burn_rate_figure", "figure_data", "latency_histogram", "waterfall_figure"]
