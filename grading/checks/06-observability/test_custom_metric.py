"""Checks for exercise ``custom-metric``: ``StepMetrics`` and ``read_metric``, on the
Prometheus text exposition (parsed here with prometheus-client's own parser).

Contract: a registry of its own with lab06_steps_total{step,status} (counter),
lab06_step_duration_seconds{step} (histogram, DURATION_BUCKETS) and
lab06_pending_activities{task_queue} (gauge, set); ValueError for an unknown status, a
negative duration or a negative count, recording nothing; read_metric returns the sample's
value as a float, KeyError when absent.
"""

import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from labgrader.checks import assert_close, assert_equal, assert_type


def _samples(nb, metrics):
    """Every sample of the exposition as {(name, sorted labels): value}, parsed here."""
    text = metrics.exposition()
    assert_type(text, bytes, what="StepMetrics().exposition()")
    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            if not s.name.endswith("_created"):
                out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))))


@pytest.mark.check(exercise="custom-metric", points=4)
def test_worked_example(nb):
    m = nb.StepMetrics()
    m.step_finished("train", "ok", 0.7)
    m.step_finished("train", "failed", 12.0)
    m.set_pending("gpu", 3)
    s = _samples(nb, m)
    got = {
        "ok": _value(s, "lab06_steps_total", step="train", status="ok"),
        "failed": _value(s, "lab06_steps_total", step="train", status="failed"),
        "le 1.0": _value(s, "lab06_step_duration_seconds_bucket", step="train", le="1.0"),
        "le 5.0": _value(s, "lab06_step_duration_seconds_bucket", step="train", le="5.0"),
        "le 30.0": _value(s, "lab06_step_duration_seconds_bucket", step="train", le="30.0"),
        "count": _value(s, "lab06_step_duration_seconds_count", step="train"),
        "sum": _value(s, "lab06_step_duration_seconds_sum", step="train"),
        "pending": _value(s, "lab06_pending_activities", task_queue="gpu"),
    }
    assert_close(
        got,
        {
            "ok": 1.0,
            "failed": 1.0,
            "le 1.0": 1.0,
            "le 5.0": 1.0,
            "le 30.0": 2.0,
            "count": 2.0,
            "sum": 12.7,
            "pending": 3.0,
        },
        what="the scraped samples after the worked example",
        hint="None means the sample is missing: check the metric names, labels and buckets",
    )
    text = m.exposition()
    value = nb.read_metric(text, "lab06_pending_activities", {"task_queue": "gpu"})
    assert_type(value, float, what="read_metric(..., 'lab06_pending_activities', ...)")
    assert_close(value, 3.0, what="read_metric of the gauge")


@pytest.mark.check(exercise="custom-metric", points=3)
def test_errors_record_nothing(nb):
    m = nb.StepMetrics()
    for status, seconds in (("done", 1.0), ("OK", 1.0), ("ok", -0.5)):
        with pytest.raises(ValueError):
            m.step_finished("train", status, seconds)
    with pytest.raises(ValueError):
        m.set_pending("gpu", -1)
    s = _samples(nb, m)
    recorded = {k: v for k, v in s.items() if v}
    assert_equal(
        recorded,
        {},
        what="non-zero samples after refused calls only",
        hint="validate status and seconds before touching any metric",
    )


@pytest.mark.check(exercise="custom-metric", points=3, hidden=True)
def test_hidden_registry_gauge_and_reader(nb):
    a, b = nb.StepMetrics(), nb.StepMetrics()
    a.set_pending("cpu", 5)
    a.set_pending("cpu", 2)
    a.step_finished("eval", "ok", 0.1)
    a.step_finished("eval", "ok", 30.0)
    a.step_finished("eval", "ok", 31.0)
    b.step_finished("eval", "ok", 0.2)
    s = _samples(nb, a)
    got = {
        "pending": _value(s, "lab06_pending_activities", task_queue="cpu"),
        "le 0.1": _value(s, "lab06_step_duration_seconds_bucket", step="eval", le="0.1"),
        "le 0.5": _value(s, "lab06_step_duration_seconds_bucket", step="eval", le="0.5"),
        "le 30.0": _value(s, "lab06_step_duration_seconds_bucket", step="eval", le="30.0"),
        "le +Inf": _value(s, "lab06_step_duration_seconds_bucket", step="eval", le="+Inf"),
        "ok": _value(s, "lab06_steps_total", step="eval", status="ok"),
    }
    assert_close(
        got,
        {"pending": 2.0, "le 0.1": 1.0, "le 0.5": 1.0, "le 30.0": 2.0, "le +Inf": 3.0, "ok": 3.0},
        what="a's samples (the gauge set twice, bounds inclusive; b's step not in a's registry)",
    )
    # read_metric on an exposition made here, with labels in another order and a near miss.
    registry = CollectorRegistry()
    c = Counter("jobs", "Jobs.", ["queue", "kind"], registry=registry)
    c.labels(queue="gpu", kind="train").inc(7)
    c.labels(queue="gpu", kind="eval").inc(2)
    Gauge("depth", "Depth.", registry=registry).set(4.5)
    Histogram("lat_seconds", "Latency.", buckets=(1.0,), registry=registry).observe(0.3)
    text = generate_latest(registry)
    got = [
        nb.read_metric(text, "jobs_total", {"kind": "eval", "queue": "gpu"}),
        nb.read_metric(text, "depth", {}),
        nb.read_metric(text, "lat_seconds_bucket", {"le": "1.0"}),
    ]
    assert_close(got, [2.0, 4.5, 1.0], what="read_metric on three samples")
    for name, labels in (
        ("jobs_total", {"queue": "gpu"}),
        ("jobs", {"queue": "gpu", "kind": "eval"}),
        ("missing", {}),
    ):
        with pytest.raises(KeyError):
            nb.read_metric(text, name, labels)
