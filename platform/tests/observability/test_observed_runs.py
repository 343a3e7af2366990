"""A pipeline run on a real Temporal dev server and a real Prefect server, observed: one
trace with a span per step attempt (parents right), metrics with the right labels, log
lines carrying the trace and no secret.

Each engine runs the ``partner`` spec once per module (its first step fails transiently,
then succeeds on its retry) with every signal captured, and the tests read what was
recorded.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from temporalio.runtime import MetricBuffer

from orchlab.observability import (
    MetricSample,
    PipelineMetrics,
    SpanRecord,
    ancestors,
    buffered_metrics,
    capture_spans,
    configure_logging,
    select,
    span_records,
    temporal_runtime,
)
from orchlab.observability import _names as names
from orchlab.pipelines import PipelineResult, run_prefect, run_temporal
from orchlab.policy import MASK
from orchlab.runtime import connect_temporal

STEPS = {"call": 2, "load": 1, "check": 1}
"""The partner spec's steps and the attempts each takes."""


@dataclass
class Observed:
    """Everything one observed run left behind."""

    result: PipelineResult
    spans: list[SpanRecord]
    metrics: PipelineMetrics
    lines: list[dict[str, Any]]
    log_text: str
    temporal: list[MetricSample] = field(default_factory=list)

    def named(self, name: str) -> list[SpanRecord]:
        return [s for s in self.spans if s.name == name]

    def steps(self, step: str) -> list[SpanRecord]:
        found = self.named(names.step_span_name(step))
        return sorted(found, key=lambda s: s.attributes[names.Attr.ATTEMPT])

    @property
    def root(self) -> SpanRecord:
        (root,) = [s for s in self.spans if s.parent_id is None]
        return root


@contextmanager
def observing() -> Iterator[tuple[PipelineMetrics, io.StringIO, Any]]:
    metrics = PipelineMetrics().install()
    stream = io.StringIO()
    try:
        with (
            configure_logging(renderer="json", stream=stream, logger="orchlab"),
            capture_spans() as exporter,
        ):
            yield metrics, stream, exporter
    finally:
        metrics.uninstall()


def _observed(
    result: PipelineResult, metrics: PipelineMetrics, stream: io.StringIO, exporter: Any
) -> Observed:
    text = stream.getvalue()
    return Observed(
        result=result,
        spans=span_records(exporter.get_finished_spans()),
        metrics=metrics,
        lines=[json.loads(line) for line in text.splitlines()],
        log_text=text,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def temporal_run(
    temporal_address: str, partner_spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Observed:
    buffer = MetricBuffer(100_000)
    client = await connect_temporal(
        address=temporal_address, runtime=temporal_runtime(buffer=buffer)
    )
    tmp = tmp_path_factory.mktemp("temporal-run")
    with observing() as (metrics, stream, exporter):
        result = await run_temporal(
            partner_spec,
            client=client,  # without the tracing interceptor: run_temporal adds it
            task_queue=f"observed-{uuid.uuid4().hex[:8]}",
            workdir=tmp / "run",
            registry_dir=tmp / "registry",
        )
    observed = _observed(result, metrics, stream, exporter)
    observed.temporal = buffered_metrics(buffer)
    return observed


@pytest.fixture(scope="module")
def prefect_run(
    prefect_api_url: str, partner_spec: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Observed:
    tmp = tmp_path_factory.mktemp("prefect-run")
    with observing() as (metrics, stream, exporter):
        result = run_prefect(
            partner_spec,
            api_url=prefect_api_url,
            workdir=tmp / "run",
            registry_dir=tmp / "registry",
        )
    return _observed(result, metrics, stream, exporter)


@pytest.fixture(scope="module", params=["temporal", "prefect"])
def run(request: pytest.FixtureRequest) -> Observed:
    observed: Observed = request.getfixturevalue(f"{request.param}_run")
    assert observed.result.succeeded, observed.result.error
    assert {s.name: s.attempts for s in observed.result.steps} == STEPS
    return observed


# --- traces -----------------------------------------------------------------------------


def test_one_trace_under_one_root_span(run: Observed) -> None:
    assert len({s.trace_id for s in run.spans}) == 1
    root = run.root
    assert root.name == "pipeline:partner"
    assert root.status == "OK"
    assert root.attributes[names.Attr.RUN_ID] == run.result.run_id
    assert root.attributes[names.Attr.ENGINE] == run.result.engine
    assert root.attributes[names.Attr.STATUS] == "succeeded"
    # Every span lies within the run (children never outlive their root).
    assert all(root.start_ns <= s.start_ns and s.end_ns <= root.end_ns for s in run.spans)


def test_a_span_per_step_attempt_with_its_outcome(run: Observed) -> None:
    assert {step: len(run.steps(step)) for step in STEPS} == STEPS
    first, second = run.steps("call")
    assert first.attributes[names.Attr.ATTEMPT] == 1 and second.attributes[names.Attr.ATTEMPT] == 2
    assert first.status == "ERROR" and "exception" in first.events
    assert first.attributes[names.Attr.FAILURE_CLASS] == "transient"
    assert second.status == "OK" and second.attributes[names.Attr.STATUS] == "succeeded"
    for step in STEPS:
        for span in run.steps(step):
            assert span.attributes[names.Attr.RUN_ID] == run.result.run_id
            assert span.attributes[names.Attr.STEP] == step
            assert span.attributes[names.Attr.CPU_SECONDS] > 0  # the worker thread's own
    # Steps run in order: call before load before check.
    assert run.steps("call")[-1].end_ns <= run.steps("load")[0].start_ns
    assert run.steps("load")[0].end_ns <= run.steps("check")[0].start_ns


def test_temporal_step_spans_hang_under_the_workflow_and_activity_spans(
    temporal_run: Observed,
) -> None:
    for step in STEPS:
        for span in temporal_run.steps(step):
            chain = ancestors(span, temporal_run.spans)
            assert [a.name for a in chain] == [
                "RunActivity:orchlab.run_step",
                "StartActivity:orchlab.run_step",
                "StartWorkflow:orchlab-pipeline",
                "pipeline:partner",
            ]
            activity = chain[0]
            assert activity.attributes["temporalActivityID"] == step
            assert activity.start_ns <= span.start_ns and span.end_ns <= activity.end_ns
    # A retry is a new activity execution of the same scheduled activity.
    first, second = (ancestors(s, temporal_run.spans) for s in temporal_run.steps("call"))
    assert first[0].span_id != second[0].span_id and first[1] == second[1]
    workflow = temporal_run.named("RunWorkflow:orchlab-pipeline")
    assert (
        len(workflow) == 1
        and workflow[0].parent_id == temporal_run.named("StartWorkflow:orchlab-pipeline")[0].span_id
    )


def test_prefect_step_spans_hang_under_its_task_and_flow_run_spans(prefect_run: Observed) -> None:
    (flow,) = [s for s in prefect_run.spans if s.attributes.get("prefect.run.type") == "flow"]
    assert flow.parent_id == prefect_run.root.span_id
    assert flow.name == prefect_run.result.run_id  # the flow run's name
    tasks = {s.name: s for s in prefect_run.spans if s.attributes.get("prefect.run.type") == "task"}
    assert set(tasks) == set(STEPS)
    for step, task in tasks.items():
        assert task.parent_id == flow.span_id
        for span in prefect_run.steps(step):
            assert span.parent_id == task.span_id  # retries stay in one task run
            assert task.start_ns <= span.start_ns and span.end_ns <= task.end_ns
    # Prefect records the task run's state changes as span events.
    assert {"Running", "Retrying", "Completed"} <= set(tasks["call"].events)


# --- metrics ------------------------------------------------------------------------------


def test_pipeline_metrics_carry_pipeline_engine_step_and_status(run: Observed) -> None:
    engine = run.result.engine
    m = run.metrics
    run_labels = {"pipeline": "partner", "engine": engine, "status": "succeeded"}
    assert m.value("orchlab_pipeline_runs_total", run_labels) == 1
    assert m.value("orchlab_pipeline_runs_total", {**run_labels, "status": "failed"}) is None
    assert m.value("orchlab_pipeline_run_duration_seconds_count", run_labels) == 1
    assert (
        m.value(
            "orchlab_step_retries_total", {"pipeline": "partner", "step": "call", "engine": engine}
        )
        == 1
    )
    assert (
        m.value(
            "orchlab_step_retries_total", {"pipeline": "partner", "step": "load", "engine": engine}
        )
        is None
    )
    for step, task in (("call", "call_partner"), ("load", "ingest"), ("check", "validate")):
        labels = {"pipeline": "partner", "step": step, "task": task, "engine": engine}
        assert m.value("orchlab_step_duration_seconds_count", labels) == 1
        seconds = m.value("orchlab_step_duration_seconds_sum", labels)
        assert seconds == run.result.step(step).duration_seconds
        status = {"pipeline": "partner", "step": step, "engine": engine, "status": "succeeded"}
        assert m.value("orchlab_step_results_total", status) == 1


def test_temporal_sdk_metrics_from_the_runtime_buffer(temporal_run: Observed) -> None:
    samples = temporal_run.temporal
    activity = {"activity_type": "orchlab.run_step", "workflow_type": "orchlab-pipeline"}
    # One execution per attempt: 2 of call, 1 each of load and check; one of them failed.
    assert len(select(samples, names.TEMPORAL_ACTIVITY_LATENCY, **activity)) == sum(STEPS.values())
    assert sum(s.value for s in select(samples, names.TEMPORAL_ACTIVITY_FAILED, **activity)) == 1
    completed = select(samples, names.TEMPORAL_WORKFLOW_COMPLETED, workflow_type="orchlab-pipeline")
    assert [s.value for s in completed] == [1.0]
    assert all(s.kind == "histogram" for s in select(samples, names.TEMPORAL_ACTIVITY_LATENCY))


# --- logs ---------------------------------------------------------------------------------


def test_log_lines_carry_the_trace_and_run_and_no_secret(
    run: Observed, partner_secret: str
) -> None:
    assert partner_secret not in run.log_text
    trace_id = run.root.trace_id
    ours = [line for line in run.lines if line["logger"] == "orchlab.pipelines"]
    assert ours and all(line["trace_id"] == trace_id for line in ours)
    assert all(line["run_id"] == run.result.run_id for line in ours)
    assert {"pipeline run started", "pipeline run succeeded"} <= {line["event"] for line in ours}
    # The careless step's lines: masked, and tied to the span of their attempt.
    partner = [line for line in run.lines if line["logger"] == "orchlab.tests.partner"]
    assert [line["event"] for line in partner] == [f"calling partner with token {MASK}"] * 2
    assert [line["span_id"] for line in partner] == [s.span_id for s in run.steps("call")]
    failed = [line for line in ours if line.get("attempt") == 1 and line.get("step") == "call"]
    assert failed[0]["failure_class"] == "transient"
    assert failed[0]["span_id"] == run.steps("call")[0].span_id
