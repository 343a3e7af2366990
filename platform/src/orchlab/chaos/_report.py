"""A resilience report from chaostoolkit journals: what was assumed, what was done, what held.

:func:`read_journal` turns one ``journal.json`` into an :class:`ExperimentSummary`; the
report (:func:`resilience_report`, ``orchlab chaos report``) renders any number of them as
Markdown and as HTML: per experiment its hypothesis, each probe's value before and after
the faults against its tolerance, each fault with its arguments, outcome and timing, the
deviations, the rollbacks, and the time from the first fault to the steady state checked
again. The verdict comes from the journal's own fields (``status``, ``deviated``,
``tolerance_met``), never from console text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from orchlab.errors import OrchlabError, first_line


class JournalError(OrchlabError, ValueError):
    """A file is not a chaostoolkit journal."""


FAULTS = frozenset(
    f"orchlab.chaos.actions:{name}"
    for name in (
        "kill_worker",
        "kill_worker_mid_activity",
        "restart_temporal_server",
        "stop_temporal_server",
        "inject_faults",
        "inject_latency",
        "partition",
        "fill_folder",
    )
)
"""The provider functions that inject a fault (the others set up, load or measure)."""


@dataclass(frozen=True)
class ProbeResult:
    """One steady-state probe at one moment."""

    name: str
    """The probe's name."""
    tolerance: Any
    """What it had to be."""
    value: Any
    """What it was."""
    met: bool
    """Whether the value was within the tolerance."""


@dataclass(frozen=True)
class ActivityResult:
    """One action or probe of the method, or a rollback."""

    name: str
    """The activity's name."""
    kind: str
    """``action`` or ``probe``."""
    func: str
    """``module:function`` for Python providers, else the provider type."""
    arguments: dict[str, Any]
    """Its arguments, as written in the experiment."""
    status: str
    """``succeeded`` or ``failed``."""
    started: datetime | None
    """When it started."""
    seconds: float
    """How long it took."""
    output: Any
    """What it returned."""
    error: str | None
    """The first line of its error, when it failed."""

    @property
    def fault(self) -> bool:
        """Whether this activity injected a fault."""
        return self.func in FAULTS


@dataclass(frozen=True)
class ExperimentSummary:
    """One journal, read for a report."""

    title: str
    """The experiment's title."""
    description: str
    """What it is about."""
    source: str
    """The journal's path."""
    status: str
    """chaostoolkit's status: ``completed``, ``failed``, ``aborted``, ``interrupted``."""
    deviated: bool
    """Whether the steady state was broken after the method."""
    hypothesis: str
    """The steady-state hypothesis' title."""
    before: list[ProbeResult]
    """The steady state before the method."""
    after: list[ProbeResult]
    """The steady state after the method (empty when the run never got there)."""
    method: list[ActivityResult]
    """The method's activities, faults included, in order."""
    rollbacks: list[ActivityResult]
    """The rollbacks, in order."""
    started: datetime | None
    """When the experiment started."""
    seconds: float
    """How long it ran."""
    recovery_seconds: float | None = None
    """From the first fault's start to the end of the after-check, when it was met."""
    tags: list[str] = field(default_factory=list)
    """The experiment's tags."""
    control: bool = False
    """A run with the mitigation switched off: it is expected to deviate (and proves the
    mitigation is what holds the steady state)."""

    @property
    def as_expected(self) -> bool:
        """Completed, and held (or, for a control run, deviated)."""
        return self.status == "completed" and self.deviated == self.control

    @property
    def verdict(self) -> str:
        """``held``, ``deviated`` or the status when the run did not complete."""
        if self.status != "completed":
            return self.status
        return "deviated" if self.deviated else "held"

    @property
    def faults(self) -> list[ActivityResult]:
        """The method's activities that injected a fault."""
        return [a for a in self.method if a.fault]

    @property
    def deviations(self) -> list[ProbeResult]:
        """The probes outside their tolerance after the method."""
        return [p for p in self.after if not p.met]


def _time(text: Any) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(str(text))
    except ValueError:
        return None


def _func(provider: dict[str, Any]) -> str:
    if provider.get("type") == "python":
        return f"{provider.get('module', '')}:{provider.get('func', '')}"
    return str(provider.get("type", "?"))


def _activity(run: dict[str, Any]) -> ActivityResult:
    activity = run.get("activity", {})
    provider = activity.get("provider", {})
    exception = run.get("exception")
    error = None
    if exception:
        error = first_line(str(exception[-1] if isinstance(exception, list) else exception))
    return ActivityResult(
        name=str(activity.get("name", "?")),
        kind=str(activity.get("type", "?")),
        func=_func(provider),
        arguments=dict(provider.get("arguments", {})),
        status=str(run.get("status", "?")),
        started=_time(run.get("start")),
        seconds=float(run.get("duration") or 0.0),
        output=run.get("output"),
        error=error,
    )


def _probes(state: dict[str, Any] | None) -> list[ProbeResult]:
    if not state:
        return []
    return [
        ProbeResult(
            name=str(p.get("activity", {}).get("name", "?")),
            tolerance=p.get("activity", {}).get("tolerance"),
            value=p.get("output"),
            met=bool(p.get("tolerance_met")),
        )
        for p in state.get("probes", [])
    ]


def read_journal(path: Path | str, *, control: bool = False) -> ExperimentSummary:
    """Read a chaostoolkit journal (``control``: a run without the mitigation).

    Raises:
        JournalError: When the file is missing, not JSON, or not a journal.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise JournalError(f"{path} is not JSON: {first_line(exc)}") from exc
    if not isinstance(raw, dict) or "experiment" not in raw or "status" not in raw:
        raise JournalError(f"{path} is not a chaostoolkit journal (no experiment or status)")
    experiment = raw["experiment"]
    states = raw.get("steady_states") or {}
    method = [_activity(r) for r in raw.get("run", [])]
    after = _probes(states.get("after"))
    faults = [a for a in method if a.fault and a.started is not None]
    recovery = None
    after_end = _time((states.get("after") or {}).get("probes", [{}])[-1].get("end"))
    if faults and after and all(p.met for p in after) and after_end and faults[0].started:
        recovery = (after_end - faults[0].started).total_seconds()
    return ExperimentSummary(
        title=str(experiment.get("title", path.stem)),
        description=str(experiment.get("description", "")),
        source=str(path),
        status=str(raw["status"]),
        deviated=bool(raw.get("deviated", False)),
        hypothesis=str(experiment.get("steady-state-hypothesis", {}).get("title", "")),
        before=_probes(states.get("before")),
        after=after,
        method=method,
        rollbacks=[_activity(r) for r in raw.get("rollbacks", [])],
        started=_time(raw.get("start")),
        seconds=float(raw.get("duration") or 0.0),
        recovery_seconds=recovery,
        tags=list(experiment.get("tags", [])),
        control=control,
    )


def _cell(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _probe_rows(summary: ExperimentSummary) -> list[str]:
    after = {p.name: p for p in summary.after}
    rows = ["| probe | tolerance | before | after |", "|---|---|---|---|"]
    for probe in summary.before:
        later = after.get(probe.name)
        before_text = f"{_cell(probe.value)} ({'ok' if probe.met else 'broken'})"
        after_text = (
            f"{_cell(later.value)} ({'ok' if later.met else '**broken**'})" if later else "-"
        )
        rows.append(f"| {probe.name} | {_cell(probe.tolerance)} | {before_text} | {after_text} |")
    return rows


def _activity_rows(activities: list[ActivityResult]) -> list[str]:
    rows = [
        "| activity | fault | call | arguments | outcome | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for a in activities:
        outcome = a.status if not a.error else f"{a.status}: {_cell(a.error, 60)}"
        rows.append(
            f"| {a.name} | {'yes' if a.fault else ''} | `{a.func}` | {_cell(a.arguments, 60)} "
            f"| {outcome} | {a.seconds:.2f} |"
        )
    return rows


def _title(summary: ExperimentSummary) -> str:
    return summary.title + (" (without mitigation)" if summary.control else "")


def to_markdown(summaries: list[ExperimentSummary]) -> str:
    """The report as Markdown."""
    held = sum(1 for s in summaries if s.verdict == "held")
    lines = [
        "# Resilience report",
        "",
        f"{len(summaries)} run(s): {held} held, "
        f"{sum(1 for s in summaries if s.verdict == 'deviated')} deviated, "
        f"{sum(1 for s in summaries if s.verdict not in ('held', 'deviated'))} did not complete; "
        f"{sum(1 for s in summaries if not s.as_expected)} not as expected. A run marked "
        "*without mitigation* switches the mitigation off and is expected to deviate: it shows "
        "what the mitigation is worth.",
        "",
        "| experiment | verdict | as expected | faults | recovery (s) | journal |",
        "|---|---|---|---|---|---|",
    ]
    for s in summaries:
        faults = ", ".join(a.name for a in s.faults) or "-"
        recovery = f"{s.recovery_seconds:.1f}" if s.recovery_seconds is not None else "-"
        lines.append(
            f"| {_title(s)} | **{s.verdict}** | {'yes' if s.as_expected else '**no**'} "
            f"| {faults} | {recovery} | `{s.source}` |"
        )
    for s in summaries:
        lines += [
            "",
            f"## {_title(s)}",
            "",
            f"**Verdict: {s.verdict}** (status `{s.status}`, deviated `{str(s.deviated).lower()}`"
            f", {s.seconds:.1f} s"
            + (f", started {s.started:%Y-%m-%d %H:%M:%S}" if s.started else "")
            + ").",
            "",
        ]
        if s.description:
            lines += [s.description, ""]
        lines += [f"### Hypothesis: {s.hypothesis}", "", *_probe_rows(s), ""]
        if s.deviations:
            broken = (
                f"{p.name} was {_cell(p.value)}, not {_cell(p.tolerance)}" for p in s.deviations
            )
            lines.append("Deviations: " + "; ".join(broken) + ".")
            lines.append("")
        lines += ["### Faults and method", "", *_activity_rows(s.method), ""]
        lines += ["### Rollbacks", ""]
        lines += [*_activity_rows(s.rollbacks), ""] if s.rollbacks else ["None ran.", ""]
    return "\n".join(lines) + "\n"


HTML_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Resilience report</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; }}
table {{ border-collapse: collapse; margin: 0.5rem 0 1rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }} code {{ font-size: 0.9em; }}
</style></head><body>
{body}
</body></html>
"""


def to_html(markdown: str) -> str:
    """The Markdown report as a standalone HTML page (markdown-it, tables on)."""
    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return HTML_PAGE.format(body=body)


def resilience_report(
    journals: list[Path | str],
    out_dir: Path | str,
    *,
    without_mitigation: list[Path | str] | None = None,
) -> tuple[Path, Path, list[ExperimentSummary]]:
    """Write ``resilience-report.md`` and ``resilience-report.html`` for ``journals``.

    Args:
        journals: Runs expected to hold their steady state.
        out_dir: Where the report goes.
        without_mitigation: Runs with the mitigation switched off, expected to deviate.

    Returns:
        The Markdown path, the HTML path and the summaries, in the journals' order.

    Raises:
        JournalError: When a file is not a journal (nothing is written).
    """
    from orchlab.files import write_atomic

    summaries = [read_journal(j) for j in journals]
    summaries += [read_journal(j, control=True) for j in without_mitigation or []]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    markdown = to_markdown(summaries)
    md_path, html_path = out / "resilience-report.md", out / "resilience-report.html"
    write_atomic(md_path, markdown)
    write_atomic(html_path, to_html(markdown))
    return md_path, html_path, summaries


__all__ = [
    "FAULTS",
    "ActivityResult",
    "ExperimentSummary",
    "JournalError",
    "ProbeResult",
    "read_journal",
    "resilience_report",
    "to_html",
    "to_markdown",
]
