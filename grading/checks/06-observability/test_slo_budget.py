"""Checks for exercise ``slo-budget``: ``slo_report(runs, objective, max_seconds)``.

Contract: finished runs only (running left out); good = completed within max_seconds
(inclusive); sli = good/total; budget_spent = (1-sli)/(1-objective); remaining = 1-spent;
ValueError for an objective outside (0, 1), an unknown status, or no finished run.
"""

import pytest

from labgrader.checks import assert_close, assert_type


def _report(nb, runs, objective, max_seconds):
    got = nb.slo_report(runs, objective, max_seconds)
    assert_type(got, nb.SloReport, what="slo_report(...)")
    assert_type(got.total, int, what="slo_report(...).total")
    assert_type(got.good, int, what="slo_report(...).good")
    for name in ("sli", "budget_spent", "budget_remaining"):
        assert_type(getattr(got, name), float, what=f"slo_report(...).{name}")
    return got


def _fields(report):
    return {
        "total": report.total,
        "good": report.good,
        "sli": report.sli,
        "budget_spent": report.budget_spent,
        "budget_remaining": report.budget_remaining,
    }


@pytest.mark.check(exercise="slo-budget", points=5)
def test_worked_example(nb):
    R = nb.RunRecord
    runs = [R(f"r{i}", "completed", 0.0, 600.0) for i in range(97)] + [
        R("slow", "completed", 0.0, 3600.0),
        R("bad", "failed", 0.0, 60.0),
        R("late", "completed", 0.0, 2701.0),
        R("now", "running", 0.0),
    ]
    got = _report(nb, runs, 0.99, 2700)
    assert_close(
        _fields(got),
        {"total": 100, "good": 97, "sli": 0.97, "budget_spent": 3.0, "budget_remaining": -2.0},
        what="slo_report(worked example)",
        hint="running runs are left out; a failed run and a slow completed one are bad",
    )
    with pytest.raises(ValueError):
        nb.slo_report(runs, 1.0, 2700)


@pytest.mark.check(exercise="slo-budget", points=5, hidden=True)
def test_hidden_edges(nb):
    R = nb.RunRecord
    runs = [
        R("a", "completed", 100.0, 160.0),
        R("b", "completed", 10.0, 70.5),
        R("c", "failed", 0.0, 1.0),
        R("d", "running", 5.0),
        R("e", "completed", 0.0, 30.0),
    ]
    got = _report(nb, runs, 0.5, 60.0)
    # a: exactly 60 s is good; b: 60.5 s is bad; c failed; d running (left out); e good.
    assert_close(
        _fields(got),
        {"total": 4, "good": 2, "sli": 0.5, "budget_spent": 1.0, "budget_remaining": 0.0},
        what="slo_report (a run of exactly max_seconds is good)",
    )
    perfect = _report(nb, [R("x", "completed", 0.0, 1.0)], 0.999, 10.0)
    assert_close(
        _fields(perfect),
        {"total": 1, "good": 1, "sli": 1.0, "budget_spent": 0.0, "budget_remaining": 1.0},
        what="slo_report (all good)",
    )
    for objective in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError):
            nb.slo_report(runs, objective, 60.0)
    with pytest.raises(ValueError):
        nb.slo_report([R("d", "running", 5.0)], 0.99, 60.0)
    with pytest.raises(ValueError):
        nb.slo_report([], 0.99, 60.0)
    with pytest.raises(ValueError):
        nb.slo_report([*runs, R("f", "cancelled", 0.0, 1.0)], 0.99, 60.0)
