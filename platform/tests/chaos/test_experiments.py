"""Real ``chaos run`` of the experiments in chaos/ against the shared Temporal dev server:
the dependency-latency experiment holds with its mitigation and deviates without it, and a
worker SIGKILLed mid-activity loses no run. The three run at once (each its own task queue
and state folder); then the journals, the audit log, the trace and the report are checked.
Verdicts come from the journals and the engine's records, never from console text."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from temporalio.client import Client

from orchlab.chaos import _owned, resilience_report
from orchlab.policy import verify_log
from orchlab.runtime import venv_binary

ROOT = Path(__file__).resolve().parents[3]
CHAOS = ROOT / "chaos"


@dataclass
class Run:
    """One finished ``chaos run``."""

    journal: dict[str, Any]
    journal_path: Path
    chaos_dir: Path
    task_queue: str
    exit_code: int


RUNS = {
    "latency": ("dependency-latency.json", []),
    "latency-off": (
        "dependency-latency.json",
        ["--var-file", str(CHAOS / "vars" / "no-mitigation.json")],
    ),
    "worker-kill": ("worker-kill.json", []),
}


@pytest.fixture(scope="module")
def runs(temporal_address: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    base = tmp_path_factory.mktemp("chaos")
    started = {}
    for name, (experiment, extra) in RUNS.items():
        chaos_dir = base / name
        task_queue = f"chaos-{name}-{uuid.uuid4().hex[:8]}"
        env = {
            **os.environ,
            "TEMPORAL_ADDRESS": temporal_address,
            "ORCHLAB_CHAOS_DIR": str(chaos_dir),
            "ORCHLAB_CHAOS_TASK_QUEUE": task_queue,
        }
        argv = [
            str(venv_binary("chaos")), "--no-version-check", "--log-file",
            str(base / f"{name}.log"), "run", str(CHAOS / experiment),
            "--journal-path", str(base / f"{name}.json"), *extra,
        ]  # fmt: skip
        proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
        started[name] = (proc, chaos_dir, task_queue)
    finished = {}
    for name, (proc, chaos_dir, task_queue) in started.items():
        code = proc.wait(timeout=300)
        path = base / f"{name}.json"
        assert path.exists(), (base / f"{name}.log").read_text()
        journal = json.loads(path.read_text())
        finished[name] = Run(journal, path, chaos_dir, task_queue, code)
    return finished


def _after(run: Run) -> dict[str, Any]:
    return {p["activity"]["name"]: p for p in run.journal["steady_states"]["after"]["probes"]}


def _activity(run: Run, name: str) -> dict[str, Any]:
    return next(r for r in run.journal["run"] if r["activity"]["name"] == name)


def _assert_cleaned_up(run: Run) -> None:
    assert [r["status"] for r in run.journal["rollbacks"]] == ["succeeded"] * len(
        run.journal["experiment"]["rollbacks"]
    )
    assert _owned.owned(run.chaos_dir) == {}  # every worker, proxy and server stopped


def test_latency_with_mitigation_holds(runs: dict[str, Run]) -> None:
    run = runs["latency"]
    assert (run.journal["status"], run.journal["deviated"], run.exit_code) == (
        "completed", False, 0
    )  # fmt: skip
    after = _after(run)
    assert all(p["tolerance_met"] for p in after.values())
    assert after["canaries-succeed"]["output"] == 1.0
    load = _activity(run, "canary-load")
    assert load["output"] == {"COMPLETED": 3}
    _assert_cleaned_up(run)


def test_latency_without_mitigation_deviates(runs: dict[str, Run]) -> None:
    run = runs["latency-off"]
    assert (run.journal["status"], run.journal["deviated"], run.exit_code) == (
        "completed", True, 1
    )  # fmt: skip
    after = _after(run)
    assert after["canaries-succeed"]["tolerance_met"] is True  # slow, but not failing
    p95 = after["canary-p95-under-objective"]
    assert p95["tolerance_met"] is False
    assert p95["output"] >= 6.0  # every call waited for the 6 s the proxy added
    _assert_cleaned_up(run)


async def test_a_worker_killed_mid_activity_loses_no_run(
    runs: dict[str, Run], temporal_client: Client
) -> None:
    run = runs["worker-kill"]
    assert (run.journal["status"], run.journal["deviated"]) == ("completed", False)
    assert _after(run)["no-run-lost"]["output"] == 0
    kill = _activity(run, "kill-worker-mid-activity")
    assert kill["status"] == "succeeded"
    assert kill["output"]["killed"] != kill["output"]["restarted"]
    # The engine's record: the run completed, answered by a second attempt of the activity
    # (the first died with the worker).
    handle = temporal_client.get_workflow_handle(f"{run.task_queue}-held")
    result = await handle.result()
    assert result["source"] == "dependency"
    assert result["attempt"] == 2
    _assert_cleaned_up(run)


def test_the_control_audits_every_fault_and_traces_the_experiment(
    runs: dict[str, Run],
) -> None:
    run = runs["latency"]
    audit = run.chaos_dir / "audit.jsonl"
    assert verify_log(audit).ok
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    faults = [r["subject"] for r in records if r["action"] == "chaos.fault"]
    actions = [a["name"] for a in run.journal["experiment"]["method"]]
    rollbacks = [a["name"] for a in run.journal["experiment"]["rollbacks"]]
    assert faults == actions + rollbacks
    slow = next(r for r in records if r["subject"] == "slow-dependency")
    assert slow["data"]["func"] == "inject_latency"
    spans = [json.loads(line) for line in (run.chaos_dir / "trace.jsonl").read_text().splitlines()]
    by_name = {s["name"]: s for s in spans}
    experiment = by_name[f"chaos:{run.journal['experiment']['title']}"]
    assert experiment["attributes"]["chaos.deviated"] is False
    fault = by_name["chaos.action:slow-dependency"]
    assert fault["parent_id"] == experiment["context"]["span_id"]
    assert fault["attributes"]["chaos.status"] == "succeeded"


def test_the_report_shows_what_held_and_what_the_mitigation_is_worth(
    runs: dict[str, Run], tmp_path: Path
) -> None:
    held = [runs["latency"].journal_path, runs["worker-kill"].journal_path]
    md_path, html_path, summaries = resilience_report(
        held, tmp_path, without_mitigation=[runs["latency-off"].journal_path]
    )
    assert [(s.verdict, s.as_expected) for s in summaries] == [
        ("held", True), ("held", True), ("deviated", True)
    ]  # fmt: skip
    assert [a.name for a in summaries[0].faults] == ["slow-dependency"]
    assert [a.name for a in summaries[1].faults] == ["kill-worker-mid-activity"]
    assert summaries[1].recovery_seconds is not None and summaries[1].recovery_seconds > 0
    assert [p.name for p in summaries[2].deviations] == ["canary-p95-under-objective"]
    markdown = md_path.read_text()
    assert "slows down (without mitigation)\n\n**Verdict: deviated**" in markdown
    assert "Deviations: canary-p95-under-objective was" in markdown
    assert "<table>" in html_path.read_text()

    from typer.testing import CliRunner

    from orchlab.cli import _register, app

    _register()
    off = str(runs["latency-off"].journal_path)
    out = ["--out", str(tmp_path / "cli")]
    as_meant = CliRunner().invoke(
        app, ["chaos", "report", *map(str, held), "--without-mitigation", off, *out]
    )
    assert as_meant.exit_code == 0, as_meant.output
    listed_as_held = CliRunner().invoke(app, ["chaos", "report", *map(str, held), off, *out])
    assert listed_as_held.exit_code == 1  # a deviated run that was meant to hold
    assert (tmp_path / "cli" / "resilience-report.html").exists()
