"""orchlab's metrics on a real ``/metrics`` endpoint, read at scrape time where they are
states (breakers, dead letters), and the Temporal SDK's own endpoint scraped for real."""

from __future__ import annotations

import socket
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from orchlab.errors import ConfigError
from orchlab.observability import PipelineMetrics, temporal_runtime
from orchlab.observability import _names as names
from orchlab.pipelines import run_local, run_temporal
from orchlab.reliability import DeadLetterQueue, forget_breakers, get_breaker
from orchlab.runtime import connect_temporal

ONE_STEP = {
    "name": "one",
    "steps": [{"name": "load", "task": "ingest", "params": {"source": "wine"}}],
}


def _scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def metrics() -> Iterator[PipelineMetrics]:
    installed = PipelineMetrics().install()
    yield installed
    installed.uninstall()


def test_a_failed_run_counts_failed_and_skipped_steps(
    metrics: PipelineMetrics, tmp_path: Path
) -> None:
    spec = {
        "name": "halts",
        "steps": [
            {"name": "load", "task": "ingest", "params": {"source": "wine"}},
            {"name": "check", "task": "validate", "needs": ["load"],
             "params": {"dataset": "${steps.load.dataset}", "min_rows": 10**6}},
            {"name": "clean", "task": "transform", "needs": ["check"],
             "params": {"dataset": "${steps.check.dataset}"}},
        ],
    }  # fmt: skip
    result = run_local(spec, workdir=tmp_path / "run", registry_dir=tmp_path / "registry")
    assert not result.succeeded
    base = {"pipeline": "halts", "engine": "local"}
    assert metrics.value("orchlab_pipeline_runs_total", {**base, "status": "failed"}) == 1
    assert metrics.value("orchlab_pipeline_runs_total", {**base, "status": "succeeded"}) is None
    for step, status in (("load", "succeeded"), ("check", "failed"), ("clean", "skipped")):
        assert (
            metrics.value("orchlab_step_results_total", {**base, "step": step, "status": status})
            == 1
        )
    # Only successful attempts are timed.
    assert (
        metrics.value(
            "orchlab_step_duration_seconds_count", {**base, "step": "load", "task": "ingest"}
        )
        == 1
    )
    assert (
        metrics.value(
            "orchlab_step_duration_seconds_count", {**base, "step": "check", "task": "validate"}
        )
        is None
    )


def test_an_uninstalled_registry_counts_nothing(tmp_path: Path) -> None:
    metrics = PipelineMetrics().install()
    metrics.uninstall()
    run_local(ONE_STEP, workdir=tmp_path / "run", registry_dir=tmp_path / "registry")
    labels = {"pipeline": "one", "engine": "local", "status": "succeeded"}
    assert metrics.value("orchlab_pipeline_runs_total", labels) is None


def test_the_endpoint_serves_runs_breakers_and_dead_letters(
    metrics: PipelineMetrics, tmp_path: Path
) -> None:
    queue = DeadLetterQueue(tmp_path / "dlq.sqlite")
    scraped_metrics = PipelineMetrics(dead_letters=queue).install()
    name = f"feature-store-{uuid.uuid4().hex[:6]}"
    breaker = get_breaker(name, fail_max=1)
    server = scraped_metrics.serve()
    try:
        assert server.url.startswith("http://127.0.0.1:") and server.url.endswith("/metrics")
        run_local(ONE_STEP, workdir=tmp_path / "run", registry_dir=tmp_path / "registry")
        queue.put("orders", TimeoutError("partner timed out"), payload={"order": 7})
        breaker.force_open()
        samples = _scrape(server.url)
    finally:
        server.close()
        scraped_metrics.uninstall()
        forget_breakers()

    def value(metric: str, **labels: str) -> float | None:
        return samples.get((metric, frozenset(labels.items())))

    assert (
        value("orchlab_pipeline_runs_total", pipeline="one", engine="local", status="succeeded")
        == 1
    )
    assert value(names.BREAKER_STATE, breaker=name, state="open") == 1
    assert value(names.BREAKER_STATE, breaker=name, state="closed") == 0
    assert value(names.BREAKER_STATE, breaker=name, state="half-open") == 0
    assert value(names.DEAD_LETTERS, status="dead") == 1
    assert value(names.DEAD_LETTERS, status="replayed") == 0


def test_the_endpoint_stays_on_loopback_unless_told() -> None:
    with pytest.raises(ConfigError, match=r"metrics endpoint on '0\.0\.0\.0' is not loopback"):
        PipelineMetrics().serve(host="0.0.0.0")
    with pytest.raises(ConfigError, match="not loopback"):
        temporal_runtime(prometheus="0.0.0.0:9464")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one of prometheus= or buffer="),
        ({"prometheus": "127.0.0.1"}, "'127.0.0.1' is not host:port"),
    ],
)
def test_temporal_runtime_checks_its_arguments(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        temporal_runtime(**kwargs)


async def test_temporal_sdk_metrics_are_scraped_from_its_endpoint(
    temporal_address: str, task_queue: str, tmp_path: Path
) -> None:
    address = f"127.0.0.1:{_free_port()}"
    client = await connect_temporal(
        address=temporal_address, runtime=temporal_runtime(prometheus=address)
    )
    result = await run_temporal(
        ONE_STEP,
        client=client,
        task_queue=task_queue,
        workdir=tmp_path / "run",
        registry_dir=tmp_path / "reg",
    )
    assert result.succeeded
    samples = _scrape(f"http://{address}/metrics")
    mine = {k: v for k, v in samples.items() if ("task_queue", task_queue) in k[1]}
    completed = [
        v for (name, _), v in mine.items() if name == names.TEMPORAL_WORKFLOW_COMPLETED + "_total"
    ]
    assert completed == [1.0]
    activity = ("activity_type", "orchlab.run_step")
    latency = [
        v for (name, labels), v in mine.items()
        if name == names.TEMPORAL_ACTIVITY_LATENCY + "_count" and activity in labels
    ]  # fmt: skip
    assert latency == [1.0]
