"""Checks for exercise ``temporal-pipeline``: the Temporal workflow ``TrainPipeline``.

Contract: the same steps and results as the Prefect flow, as activities called with a
start-to-close timeout and a retry policy that retries other failures (at most 3 attempts)
but never retries ``ValidationFailed``; a model card is registered only when ``accuracy``
reaches ``min_accuracy``.
"""

import contextlib
import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from temporalio import activity
from temporalio.client import WorkflowFailureError
from temporalio.exceptions import ApplicationError

from labgrader import harness
from labgrader.checks import assert_equal


@contextlib.contextmanager
def _quiet():
    """Silence the engine's error logs (tracebacks) for a failure a check provokes on purpose."""
    loggers = [logging.getLogger(name) for name in ("temporalio.activity", "temporalio.workflow")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _plan(nb, **params):
    defaults = {"dataset": "wine", "test_size": 0.25, "seed": 0, "C": 1.0, "min_accuracy": 0.9}
    return nb.Plan(
        pipeline="wine-quality",
        version="0123456789ab",
        order=["ingest", "validate", "train", "register"],
        params=defaults | params,
    )


def _expected_metrics(nb, plan):
    p = plan.params
    split = nb.load_split(
        nb.DataConfig(dataset=p["dataset"], test_size=p["test_size"], seed=p["seed"])
    )
    return nb.train_evaluate(split, C=p["C"], seed=p["seed"])


async def _start(nb, client, task_queue, inp, activities=None, timeout=30):
    """Run the workflow on a worker of this check's own task queue; return the handle."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        async with harness.worker(
            nb,
            client,
            task_queue,
            workflows=[nb.TrainPipeline],
            activities=activities or nb.ACTIVITIES,
            activity_executor=pool,
            # A bug in the workflow code fails the run at once, instead of Temporal retrying
            # the workflow task until the execution timeout.
            workflow_failure_exception_types=[Exception],
            # An explicit build id: by default the SDK hashes the source of every loaded
            # module on the first worker of a process, which costs seconds.
            build_id="orchlab-lab01-checks",
        ):
            handle = await client.start_workflow(
                nb.TrainPipeline.run,
                inp,
                id=f"{task_queue}-{uuid.uuid4().hex[:8]}",
                task_queue=task_queue,
                execution_timeout=timedelta(seconds=timeout),
            )
            try:
                result = await handle.result()
            except WorkflowFailureError as exc:
                result = exc
    return handle, result


async def _activity_attempts(handle) -> dict[str, int]:
    """Activity type -> attempt number of its last start, from the workflow's history."""
    scheduled, attempts = {}, {}
    async for event in handle.fetch_history_events():
        if event.HasField("activity_task_scheduled_event_attributes"):
            name = event.activity_task_scheduled_event_attributes.activity_type.name
            scheduled[event.event_id] = name
            attempts.setdefault(name, 0)
        if event.HasField("activity_task_started_event_attributes"):
            started = event.activity_task_started_event_attributes
            attempts[scheduled[started.scheduled_event_id]] = started.attempt
    return attempts


@pytest.mark.check(exercise="temporal-pipeline", points=3)
async def test_workflow_matches_the_local_run(nb, temporal_client, task_queue, tmp_path):
    plan = _plan(nb)
    _, result = await _start(nb, temporal_client, task_queue, nb.PipelineInput(plan, str(tmp_path)))
    assert isinstance(result, nb.PipelineResult), (
        f"the workflow should return a PipelineResult, got {result!r}"
    )
    expected = _expected_metrics(nb, plan)
    assert_equal(
        result.metrics,
        expected,
        what="the workflow's metrics differ from train_evaluate on the same split",
        hint="Pass DataConfig and TrainInput built from plan.params.",
    )
    cards = list(tmp_path.glob("*.json"))
    assert result.model_card is not None and len(cards) == 1, (
        f"accuracy {expected['accuracy']} >= 0.9, so the register activity should write one "
        f"model card; model_card={result.model_card!r}, files={cards}"
    )


@pytest.mark.check(exercise="temporal-pipeline", points=2)
async def test_quality_gate_blocks_registration(nb, temporal_client, task_queue, tmp_path):
    inp = nb.PipelineInput(_plan(nb, min_accuracy=1.01), str(tmp_path))
    handle, result = await _start(nb, temporal_client, task_queue, inp)
    attempts = await _activity_attempts(handle)
    assert isinstance(result, nb.PipelineResult), f"the workflow failed: {result!r}"
    assert result.model_card is None and "register" not in attempts, (
        f"with min_accuracy=1.01 no accuracy is good enough: the register activity must not "
        f"run and model_card should be None; got {result.model_card!r}, activities {attempts}"
    )


@pytest.mark.check(exercise="temporal-pipeline", points=4)
async def test_validation_failure_is_not_retried_and_stops_the_pipeline(
    nb, temporal_client, task_queue, tmp_path
):
    inp = nb.PipelineInput(_plan(nb), str(tmp_path), dict(nb.WINE_RANGES, alcohol=(0.0, 12.0)))
    with _quiet():
        handle, result = await _start(nb, temporal_client, task_queue, inp, timeout=15)
    attempts = await _activity_attempts(handle)
    assert isinstance(result, WorkflowFailureError), (
        f"with alcohol limited to [0, 12] the workflow should fail, it returned {result!r}"
    )
    cause = result.cause
    while cause is not None and not isinstance(cause, ApplicationError):
        cause = cause.cause
    assert cause is not None and cause.type != "", f"expected an activity failure, got {result!r}"
    if cause.type != "ValidationFailed":
        raise AssertionError(
            f"expected the workflow to fail with the validate activity's ValidationFailed, got "
            f"{cause.type}: {cause.message} (activity attempts {attempts}). If it timed out, "
            f"the failure was retried until the 15 s limit: Temporal retries activities forever "
            f"by default; list 'ValidationFailed' in non_retryable_error_types"
        )
    assert attempts.get("validate") == 1, (
        f"validate ran {attempts.get('validate')} attempts; ValidationFailed fails the same "
        f"way every time, so RetryPolicy(non_retryable_error_types=['ValidationFailed']) must "
        f"stop it after the first"
    )
    assert "train" not in attempts and "register" not in attempts, (
        f"activities after a failed validation were scheduled: {attempts}"
    )
    assert not list(tmp_path.iterdir()), "a failed validation must register nothing"


@pytest.mark.check(exercise="temporal-pipeline", points=3)
async def test_transient_failure_is_retried(nb, temporal_time_skipping, task_queue, tmp_path):
    @activity.defn(name="ingest")
    def flaky_ingest(config: nb.DataConfig) -> nb.Split:
        if activity.info().attempt == 1:
            raise ConnectionError("feature store unreachable (injected on attempt 1)")
        return nb.load_split(config)

    activities = [a for a in nb.ACTIVITIES if a is not nb.ingest_activity] + [flaky_ingest]
    # Both runs on the time-skipping server: the retry back-off (a second or more with the
    # learner's policy) takes no real time, and an activity that runs holds the clock.
    client = temporal_time_skipping.client
    with _quiet():
        handle, result = await _start(
            nb, client, task_queue, nb.PipelineInput(_plan(nb), str(tmp_path)), activities
        )
    attempts = await _activity_attempts(handle)
    assert isinstance(result, nb.PipelineResult), (
        f"ingest failed once with a ConnectionError and should have been retried; the "
        f"workflow ended with {result!r} (activity attempts {attempts}). Allow up to 3 "
        f"attempts in the RetryPolicy."
    )
    assert attempts.get("ingest") == 2, f"expected ingest to succeed on attempt 2, got {attempts}"

    @activity.defn(name="ingest")
    def down_ingest(config: nb.DataConfig) -> nb.Split:
        raise ConnectionError(f"feature store unreachable (attempt {activity.info().attempt})")

    activities = [a for a in nb.ACTIVITIES if a is not nb.ingest_activity] + [down_ingest]
    with _quiet():
        handle, result = await _start(
            nb,
            client,
            f"{task_queue}-down",
            nb.PipelineInput(_plan(nb), str(tmp_path)),
            activities,
        )
    attempts = await _activity_attempts(handle)
    assert isinstance(result, WorkflowFailureError) and attempts.get("ingest") == 3, (
        f"an ingest that always fails is tried at most 3 times, then the workflow fails; got "
        f"{result!r} after activity attempts {attempts}. Set maximum_attempts=3 in the RetryPolicy"
    )


@pytest.mark.check(exercise="temporal-pipeline", points=3, hidden=True)
async def test_hidden_other_params_and_quality_gate(nb, temporal_client, task_queue, tmp_path):
    plan = _plan(nb, dataset="breast_cancer", seed=2, C=0.1, min_accuracy=1.01)
    inp = nb.PipelineInput(plan, str(tmp_path), {"mean radius": (5.0, 30.0)})
    handle, result = await _start(nb, temporal_client, task_queue, inp)
    expected = _expected_metrics(nb, plan)
    assert isinstance(result, nb.PipelineResult), f"the workflow failed: {result!r}"
    assert_equal(
        result.metrics,
        expected,
        what="with dataset=breast_cancer, seed=2, C=0.1, the workflow's metrics",
        hint="Read every parameter from plan.params.",
    )
    assert result.model_card is None and "register" not in await _activity_attempts(handle), (
        f"accuracy {expected['accuracy']} < min_accuracy 1.01: the register activity must not "
        f"run and model_card should be None, got {result.model_card!r}"
    )
