"""Checks for exercise ``canary``: ``canary_rollout(metric, threshold, *, steps, set_traffic)``.

Contract: steps strictly increasing in 1..100 ending at 100, else ValueError before any traffic
change; per step: set_traffic(p), one metric(p) read, (p, value) recorded; above the threshold:
set_traffic(0), (0, value) recorded, stop, rolled_back/0; else promoted/100.
"""

import pytest

from labgrader.checks import strictly_equal


class Scripted:
    """A metric source scripted by traffic share, recording every read."""

    def __init__(self, values):
        self.values = values
        self.reads = []

    def __call__(self, percent):
        self.reads.append(percent)
        return self.values[percent]


def _run(nb, values, threshold, steps=None):
    metric, splits = Scripted(values), []
    kwargs = {} if steps is None else {"steps": steps}
    run = nb.canary_rollout(metric, threshold, set_traffic=splits.append, **kwargs)
    return run, splits, metric.reads


def _assert_run(run, splits, reads, status, final, timeline, expected_splits, context):
    got = (run.status, run.final_traffic, run.timeline, splits, reads)
    want = (status, final, timeline, expected_splits, [p for p, _ in timeline if p != 0])
    assert strictly_equal(got, want), (
        f"{context}: expected (status, final_traffic, timeline, set_traffic calls, metric reads) "
        f"= {want}, got {got}. Likely cause: traffic not sent back to 0 on a breach, steps taken "
        f"after the breach, the metric read more than once per step, or '>=' instead of '>'"
    )


@pytest.mark.check(exercise="canary", points=4)
def test_rolls_back_at_the_first_breach(nb):
    values = {5: 0.010, 25: 0.012, 50: 0.061, 100: 0.07}
    run, splits, reads = _run(nb, values, 0.03)
    timeline = [(5, 0.010), (25, 0.012), (50, 0.061), (0, 0.061)]
    _assert_run(run, splits, reads, "rolled_back", 0, timeline, [5, 25, 50, 0], "worked example")


@pytest.mark.check(exercise="canary", points=4)
def test_healthy_canary_is_promoted(nb):
    values = {5: 0.008, 25: 0.009, 50: 0.008, 100: 0.009}
    run, splits, reads = _run(nb, values, 0.03)
    timeline = [(5, 0.008), (25, 0.009), (50, 0.008), (100, 0.009)]
    _assert_run(run, splits, reads, "promoted", 100, timeline, [5, 25, 50, 100], "healthy")


@pytest.mark.check(exercise="canary", points=4, hidden=True)
def test_hidden_other_steps_and_equal_threshold(nb):
    values = {1: 200.0, 10: 250.0, 100: 250.0}
    run, splits, reads = _run(nb, values, 250.0, steps=(1, 10, 100))
    timeline = [(1, 200.0), (10, 250.0), (100, 250.0)]
    _assert_run(run, splits, reads, "promoted", 100, timeline, [1, 10, 100], "equal is not above")
    run, splits, reads = _run(nb, {5: 0.5, 100: 0.0}, 0.1, steps=[5, 100])
    _assert_run(run, splits, reads, "rolled_back", 0, [(5, 0.5), (0, 0.5)], [5, 0], "first step")
    run, splits, reads = _run(nb, {100: 0.2}, 0.1, steps=[100])
    _assert_run(run, splits, reads, "rolled_back", 0, [(100, 0.2), (0, 0.2)], [100, 0], "last step")


@pytest.mark.check(exercise="canary", points=3, hidden=True)
def test_hidden_invalid_steps_touch_nothing(nb):
    for steps in ([5, 25, 50], [25, 5, 100], [5, 5, 100], [0, 50, 100], [50, 150], []):
        splits = []
        with pytest.raises(ValueError):
            nb.canary_rollout(lambda p: 0.0, 1.0, steps=steps, set_traffic=splits.append)
        assert strictly_equal(splits, []), (
            f"steps {steps}: ValueError must come before any traffic change"
        )
