"""Cost of a run from a rate card: hand-computed prices, Temporal actions, every attempt
paid for when priced from the trace, and one-line errors for a bad card."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchlab.errors import ConfigError
from orchlab.observability import capture_spans, load_rate_card, run_cost, span_records, trace_cost
from orchlab.pipelines import PipelineResult, StepResult, run_local

CARD = """\
currency: EUR
cpu_hour: 0.04
gb_hour: 0.005
temporal_action: 0.001
default: {cpus: 1, memory_gb: 2}
tasks:
  train: {cpus: 4, memory_gb: 16}
"""


@pytest.fixture
def card_file(tmp_path: Path) -> Path:
    path = tmp_path / "rates.yaml"
    path.write_text(CARD)
    return path


def _result(engine: Any) -> PipelineResult:
    return PipelineResult(
        pipeline="wine",
        version="1",
        engine=engine,
        run_id="wine-1",
        status="succeeded",
        params={},
        steps=[
            StepResult(name="load", task="ingest", stage=1, status="succeeded", attempts=1,
                       duration_seconds=360.0),
            StepResult(name="fit", task="train", stage=2, status="succeeded", attempts=3,
                       duration_seconds=1800.0),
        ],
    )  # fmt: skip


def test_a_local_run_is_priced_by_task_resources(card_file: Path) -> None:
    cost = run_cost(_result("local"), load_rate_card(card_file))
    load, fit = cost.steps
    assert load.cpu_seconds is None  # a result has wall time only
    # load: 0.1 h x (1 CPU x 0.04 + 2 GB x 0.005) = 0.005
    # fit: 0.5 h x (4 CPUs x 0.04 + 16 GB x 0.005) = 0.12
    assert load.compute == pytest.approx(0.005) and fit.compute == pytest.approx(0.12)
    assert (load.actions, fit.actions, cost.run_actions) == (0, 0, 0)
    assert cost.total == pytest.approx(0.125) and cost.currency == "EUR"
    assert cost.by_task() == {"ingest": pytest.approx(0.005), "train": pytest.approx(0.12)}
    assert cost.exceeds(0.12) and not cost.exceeds(0.13)


def test_temporal_runs_pay_one_action_per_attempt_and_one_per_run(card_file: Path) -> None:
    cost = run_cost(_result("temporal"), load_rate_card(card_file))
    load, fit = cost.steps
    assert (load.actions, fit.actions, cost.run_actions) == (1, 3, 1)
    assert fit.total == pytest.approx(0.12 + 3 * 0.001)
    assert cost.total == pytest.approx(0.125 + 5 * 0.001)


def test_the_trace_pays_for_failed_attempts_too(card_file: Path, tmp_path: Path) -> None:
    spec = {
        "name": "partner",
        "steps": [
            {"name": "call", "task": "call_partner", "retries": 2, "retry_delay_seconds": 0.1}
        ],
    }
    with capture_spans() as memory:
        result = run_local(
            spec, workdir=tmp_path / "run", registry_dir=tmp_path / "reg", sleep=lambda s: None
        )
    records = span_records(memory.get_finished_spans())
    attempts = [r for r in records if r.name == "step:call"]
    assert len(attempts) == 2
    (step,) = trace_cost(records, load_rate_card(card_file)).steps
    assert step.attempts == 2 and step.task == "call_partner"
    cpu = sum(r.attributes["orchlab.cpu_seconds"] for r in attempts)
    assert step.cpu_seconds == pytest.approx(cpu) and cpu > 0
    assert step.seconds == pytest.approx(sum(r.duration_seconds for r in attempts))
    assert step.seconds > result.step("call").duration_seconds  # the failed attempt counts


def test_trace_cost_needs_one_run() -> None:
    with pytest.raises(ValueError, match="expected the spans of one pipeline run, found 0"):
        trace_cost([], load_rate_card({"cpu_hour": 1}))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("cpu_hour: -1\n", r"rates\.yaml: cpu_hour: Input should be greater than or equal to 0"),
        ("gb_hour: 1\n", r"rates\.yaml: cpu_hour: Field required"),
        ("cpu_hour: 1\ntasks: {train: {gpus: 2}}\n", r"tasks\.train\.gpus: Extra inputs"),
        ("- 1\n", r"expected a mapping of prices, got list"),
        ("cpu_hour: [\n", r"rates\.yaml: not YAML"),
    ],
)
def test_a_bad_card_is_one_line(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "rates.yaml"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_rate_card(path)


def test_a_missing_card(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no rate card at"):
        load_rate_card(tmp_path / "absent.yaml")
