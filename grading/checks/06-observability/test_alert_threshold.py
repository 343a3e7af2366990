"""Checks for exercise ``alert-threshold``: ``threshold_alerts(runs, max_p95_s,
max_failure_rate, min_runs)``.

Contract: finished runs only; fewer than min_runs gives []; 'duration' when the nearest-rank
p95 (index ceil(0.95 n) - 1 of the sorted durations, failed runs included) > max_p95_s;
'failure-rate' when failed/finished > max_failure_rate; in that order; ValueError for a
max_failure_rate outside [0, 1] or min_runs < 1.
"""

import pytest

from labgrader.checks import assert_equal, assert_type


def _alerts(nb, *args, **kwargs):
    got = nb.threshold_alerts(*args, **kwargs)
    assert_type(got, list, what="threshold_alerts(...)")
    return got


@pytest.mark.check(exercise="alert-threshold", points=5)
def test_worked_example(nb):
    R = nb.RunRecord
    runs = [R(f"r{i}", "completed", 0.0, 60.0 * (i + 1)) for i in range(20)]
    assert_equal(
        _alerts(nb, runs, 1200, 0.1),
        [],
        what="threshold_alerts(1..20 min, 1200 s, 0.1)",
        hint="the nearest-rank p95 of 20 durations is the 19th, 1140 s",
    )
    assert_equal(
        _alerts(nb, runs, 1100, 0.1), ["duration"], what="threshold_alerts(1..20 min, 1100 s, 0.1)"
    )
    flaky = runs[:17] + [R(f"f{i}", "failed", 0.0, 5.0) for i in range(3)]
    assert_equal(
        _alerts(nb, flaky, 1200, 0.1),
        ["failure-rate"],
        what="threshold_alerts(3 of 20 failed, max 0.1)",
    )
    assert_equal(
        _alerts(nb, flaky[:5], 1200, 0.0),
        [],
        what="threshold_alerts(5 runs, min_runs 20)",
        hint="fewer finished runs than min_runs: not enough data, no alert",
    )


@pytest.mark.check(exercise="alert-threshold", points=5, hidden=True)
def test_hidden_edges(nb):
    R = nb.RunRecord
    # 10 finished runs: p95 index ceil(9.5) - 1 = 9, the slowest; the failed run's 500 s counts.
    runs = [R(f"r{i}", "completed", 0.0, 10.0 * (i + 1)) for i in range(9)] + [
        R("f", "failed", 100.0, 600.0),
        R("live", "running", 0.0),
        R("live2", "running", 0.0),
    ]
    assert_equal(
        _alerts(nb, runs, 500, 0.1, min_runs=10),
        [],
        what="threshold_alerts(p95 exactly 500 s, failure rate exactly 0.1)",
        hint="both thresholds are 'greater than': equal does not fire",
    )
    assert_equal(
        _alerts(nb, runs, 499.5, 0.09, min_runs=10),
        ["duration", "failure-rate"],
        what="threshold_alerts(both over)",
        hint="the order is duration, then failure-rate",
    )
    assert_equal(
        _alerts(nb, runs, 10, 0.0, min_runs=11),
        [],
        what="threshold_alerts(10 finished of 12 runs, min_runs 11)",
        hint="running runs are not finished: they do not count towards min_runs",
    )
    one = [R("x", "failed", 0.0, 3.0)]
    assert_equal(
        _alerts(nb, one, 2.0, 0.5, min_runs=1),
        ["duration", "failure-rate"],
        what="threshold_alerts(one failed run, min_runs 1)",
    )
    for bad in ({"max_failure_rate": 1.5}, {"max_failure_rate": -0.01}, {"min_runs": 0}):
        kwargs = {"max_p95_s": 10.0, "max_failure_rate": 0.1, "min_runs": 5, **bad}
        with pytest.raises(ValueError):
            nb.threshold_alerts(runs, **kwargs)
