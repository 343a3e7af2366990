"""Checks for exercise ``dashboard-panel``: ``latency_panel(metric, title, panel_id,
thresholds, quantiles)``, compared whole with the Grafana panel the contract spells out.

Contract: the exact dict (id, type timeseries, title, the Prometheus datasource, one target per
quantile with refId A, B, ... and legend p<q*100:g>, unit s, thresholds green/None then orange
... red, overrides [], gridPos); ValueError for a bad metric name, panel_id < 1, empty or not
strictly increasing thresholds, no quantiles, or a quantile outside (0, 1).
"""

import pytest

from labgrader.checks import assert_equal, assert_type


def expected(metric, title, panel_id, thresholds, quantiles=(0.5, 0.95, 0.99)):
    steps = [{"color": "green", "value": None}]
    steps += [{"color": "orange", "value": t} for t in thresholds[:-1]]
    steps += [{"color": "red", "value": thresholds[-1]}]
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
        "targets": [
            {
                "refId": "ABCDEFGH"[i],
                "expr": f"histogram_quantile({q}, sum by (le) (rate({metric}_bucket[5m])))",
                "legendFormat": f"p{q * 100:g}",
            }
            for i, q in enumerate(quantiles)
        ],
        "fieldConfig": {
            "defaults": {"unit": "s", "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
    }


@pytest.mark.check(exercise="dashboard-panel", points=5)
def test_worked_example(nb):
    got = nb.latency_panel("lab06_step_duration_seconds", "Step latency", 2, [5.0, 30.0])
    assert_type(got, dict, what="latency_panel(...)")
    assert_equal(
        got,
        expected("lab06_step_duration_seconds", "Step latency", 2, [5.0, 30.0]),
        what="latency_panel('lab06_step_duration_seconds', 'Step latency', 2, [5.0, 30.0])",
    )
    with pytest.raises(ValueError):
        nb.latency_panel("step duration", "x", 1, [1.0])


@pytest.mark.check(exercise="dashboard-panel", points=5, hidden=True)
def test_hidden_other_inputs_and_errors(nb):
    got = nb.latency_panel("orchlab:run_seconds", "Runs", 7, [60.0], (0.9, 0.999))
    assert_equal(
        got,
        expected("orchlab:run_seconds", "Runs", 7, [60.0], (0.9, 0.999)),
        what="latency_panel('orchlab:run_seconds', 'Runs', 7, [60.0], (0.9, 0.999))",
        hint="a single threshold is red; 0.999 is legend 'p99.9'",
    )
    three = nb.latency_panel("_x", "T", 1, [1, 2, 3], [0.5])
    assert_equal(
        three,
        expected("_x", "T", 1, [1, 2, 3], [0.5]),
        what="latency_panel('_x', 'T', 1, [1, 2, 3], [0.5])",
    )
    for args in (
        ("9lives", "x", 1, [1.0]),
        ("ok name", "x", 1, [1.0]),
        ("a-b", "x", 1, [1.0]),
        ("m", "x", 0, [1.0]),
        ("m", "x", 1, []),
        ("m", "x", 1, [2.0, 1.0]),
        ("m", "x", 1, [1.0, 1.0]),
        ("m", "x", 1, [1.0], []),
        ("m", "x", 1, [1.0], [0.5, 1.0]),
        ("m", "x", 1, [1.0], [0.0]),
    ):
        with pytest.raises(ValueError):
            nb.latency_panel(*args)
