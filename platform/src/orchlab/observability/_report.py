"""An HTML report of the last runs: what ``orchlab report`` writes.

:func:`build_report` takes traces (``orchlab run --trace`` files) and run records (a
:class:`~orchlab.observability.RunRecorder` file, or the engines' records), keeps the last
N runs, and renders one self-contained HTML page: the runs and their SLI and error budget,
the latest traced run's step waterfall and critical path, a latency histogram and the
burn rate over time, the figures embedded as PNG or SVG (no file beside it, no network).
"""

from __future__ import annotations

import base64
import html
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from orchlab.observability._figures import (
    burn_rate_figure,
    figure_data,
    latency_histogram,
    waterfall_figure,
)
from orchlab.observability._names import Attr
from orchlab.observability._profile import CriticalPath, critical_path
from orchlab.observability._records import SpanRecord
from orchlab.observability._runs import RunRecord, records_from_spans
from orchlab.observability._slo import SLO, ErrorBudget, error_budget

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DEFAULT_SLO = SLO("pipelines_success", objective=0.99)
"""The report's SLO unless one is given: 99 % of runs succeed."""

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 60em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3em 0.8em; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.failed { color: #c62828; } .succeeded { color: #2e7d32; }
figure { margin: 1.5em 0; } img, svg { max-width: 100%; height: auto; }
"""


@dataclass(frozen=True)
class Report:
    """A rendered report and what it was computed from."""

    html: str
    """The page."""
    runs: tuple[RunRecord, ...]
    """The runs it covers, by end time."""
    budget: ErrorBudget
    """The SLO over those runs, measured at the last run's end."""
    path: CriticalPath | None
    """The latest traced run's critical path (None without a trace)."""


def _latest_trace(spans: list[SpanRecord], runs: tuple[RunRecord, ...]) -> list[SpanRecord]:
    by_trace: dict[str, list[SpanRecord]] = defaultdict(list)
    for span in spans:
        by_trace[span.trace_id].append(span)
    wanted = {r.run_id for r in runs}
    traced = []
    for trace_spans in by_trace.values():
        roots = [s for s in trace_spans if s.parent_id is None and Attr.RUN_ID in s.attributes]
        if len(roots) == 1 and roots[0].attributes[Attr.RUN_ID] in wanted:
            traced.append((roots[0].end_ns, trace_spans))
    return max(traced, key=lambda t: t[0])[1] if traced else []


def _image(data: bytes, kind: str, alt: str) -> str:
    if kind == "svg":
        return data.decode("utf-8").split("?>", 1)[-1]  # inline, without the XML prolog
    encoded = base64.b64encode(data).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def _figure_html(figure: Figure, kind: str, caption: str) -> str:
    image = _image(figure_data(figure, "svg" if kind == "svg" else "png"), kind, caption)
    return f"<figure>{image}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _runs_table(runs: Iterable[RunRecord]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(r.ended.isoformat(timespec='seconds'))}</td>"
        f"<td>{html.escape(r.pipeline)}</td><td>{html.escape(r.engine)}</td>"
        f"<td>{html.escape(r.run_id)}</td><td class='{r.status}'>{r.status}</td>"
        f"<td class='num'>{r.duration_seconds:.3f}</td></tr>"
        for r in reversed(list(runs))
    )
    head = "<tr><th>ended</th><th>pipeline</th><th>engine</th><th>run</th><th>status</th>"
    return f"<table>{head}<th>seconds</th></tr>{rows}</table>"


def _path_table(path: CriticalPath) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(s.step)}</td><td class='num'>{s.attempt}</td>"
        f"<td class='num'>{s.wait_seconds:.3f}</td><td class='num'>{s.seconds:.3f}</td></tr>"
        for s in path.steps
    )
    return (
        f"<p>The run took {path.total_seconds:.3f} s: steps on its critical path ran "
        f"{path.busy_seconds:.3f} s, the engine's scheduling and hand-offs took "
        f"{path.waiting_seconds:.3f} s.</p><table><tr><th>step</th><th>attempt</th>"
        f"<th>waited (s)</th><th>ran (s)</th></tr>{rows}</table>"
    )


def build_report(
    *,
    spans: Iterable[SpanRecord] = (),
    records: Iterable[RunRecord] = (),
    slo: SLO = DEFAULT_SLO,
    last: int = 50,
    image: Literal["png", "svg"] = "png",
    title: str = "orchlab runs",
) -> Report:
    """Render the report of the last ``last`` runs.

    Args:
        spans: Traces (the runs' root spans become run records too).
        records: Run records; a run found in both is counted once.
        slo: The SLO whose SLI, budget and burn rate are shown.
        last: How many of the most recent runs to cover.
        image: Embed the figures as ``png`` or inline ``svg``.
        title: The page's title.

    Raises:
        ValueError: When there are no runs to report or ``last`` is below 1.
    """
    if last < 1:
        raise ValueError(f"last must be at least 1, got {last}")
    span_list = list(spans)
    unique: dict[tuple[str, str], RunRecord] = {}
    for record in [*records, *records_from_spans(span_list)]:
        unique.setdefault((record.engine, record.run_id), record)
    if not unique:
        raise ValueError("no runs to report: give a trace with pipeline runs or run records")
    runs = tuple(sorted(unique.values(), key=lambda r: r.ended)[-last:])
    budget = error_budget(runs, slo, now=runs[-1].ended)
    trace = _latest_trace(span_list, runs)
    path = critical_path(trace) if trace else None
    failed = sum(not r.succeeded for r in runs)
    sli = f"{budget.sli:.2%}" if budget.sli is not None else "n/a"
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(runs)} runs from {runs[0].started.isoformat(timespec='seconds')} to "
        f"{runs[-1].ended.isoformat(timespec='seconds')}: {len(runs) - failed} succeeded, "
        f"{failed} failed.</p>",
        f"<p>SLO <b>{html.escape(slo.name)}</b> ({slo.objective:.2%} {slo.kind}"
        f"{f' within {slo.latency_seconds:g} s' if slo.latency_seconds else ''}): SLI {sli} "
        f"over {budget.total} runs in its window; {budget.consumed:.0%} of the error budget "
        f"consumed, {budget.remaining:.0%} remaining.</p>",
    ]
    if trace and path is not None:
        parts += [
            "<h2>Latest traced run</h2>",
            _figure_html(waterfall_figure(trace), image, "step waterfall"),
            _path_table(path),
        ]
    parts += [
        "<h2>Latency</h2>",
        _figure_html(latency_histogram(runs), image, "latency histogram"),
        "<h2>Burn rate</h2>",
        _figure_html(burn_rate_figure(runs, slo), image, "burn rate over time"),
        "<h2>Runs</h2>",
        _runs_table(runs),
    ]
    page = (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        + "\n".join(parts)
        + f"<p><small>generated {datetime.now().astimezone().isoformat(timespec='seconds')}"
        "</small></p></body></html>"
    )
    return Report(page, runs, budget, path)


__all__ = ["DEFAULT_SLO", "Report", "build_report"]
