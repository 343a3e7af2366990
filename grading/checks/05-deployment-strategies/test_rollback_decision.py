"""Checks for exercise ``rollback-decision``: ``rollback_decision(baseline, samples, *,
max_ratio=1.5, window=3)``.

Contract: fewer than ``window`` samples: wait; the mean of the last ``window`` samples above
``baseline * max_ratio``: rollback; else continue (equal continues).
"""

import pytest

from labgrader.checks import strictly_equal


def _expect(nb, expected, baseline, samples, **kwargs):
    got = nb.rollback_decision(baseline, samples, **kwargs)
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    window = kwargs.get("window", 3)
    assert strictly_equal(got, expected), (
        f"rollback_decision({baseline}, {samples}{', ' if args else ''}{args}): expected "
        f"{expected!r}, got {got!r}. The last {window} samples are "
        f"{list(samples[-window:])}. Likely cause: averaging all samples instead of the window, "
        f"the max instead of the mean, or '>=' instead of '>'"
    )


@pytest.mark.check(exercise="rollback-decision", points=3)
def test_worked_example(nb):
    _expect(nb, "wait", 0.01, [0.011, 0.04])
    _expect(nb, "continue", 0.01, [0.011, 0.010, 0.012, 0.013])
    _expect(nb, "rollback", 0.01, [0.009, 0.02, 0.03, 0.04])


@pytest.mark.check(exercise="rollback-decision", points=3)
def test_only_the_last_window_counts(nb):
    _expect(nb, "rollback", 0.01, [0.01] * 20 + [0.02, 0.02, 0.02])
    _expect(nb, "continue", 0.01, [0.09, 0.09, 0.01, 0.01, 0.01])


@pytest.mark.check(exercise="rollback-decision", points=2, hidden=True)
def test_hidden_other_parameters(nb):
    _expect(nb, "wait", 100.0, [500.0] * 4, window=5)
    _expect(nb, "continue", 100.0, [150.0, 250.0, 200.0, 150.0], max_ratio=2.0, window=4)
    _expect(nb, "rollback", 100.0, [100.0, 300.0, 200.0], max_ratio=1.2, window=2)
    _expect(nb, "continue", 0.25, [0.9, 0.1, 0.1, 0.1], max_ratio=1.0, window=3)


@pytest.mark.check(exercise="rollback-decision", points=2, hidden=True)
def test_hidden_equal_is_not_above_and_one_spike(nb):
    _expect(nb, "continue", 2.0, [3.0, 3.0], max_ratio=1.5, window=2)
    _expect(nb, "continue", 0.01, [0.01, 0.01, 0.035, 0.0, 0.0], window=5)
    _expect(nb, "wait", 0.01, [], window=1)
