"""Checks for exercise ``run-cost``: ``run_cost(usages, card, budget)``.

Contract: an attempt costs cpu_seconds/3600*cpu_hour + memory_gb*wall_seconds/3600*gb_hour +
actions/1000*per_1k_actions; steps sums a step's attempts in first-appearance order; total the
sum; over_budget exactly when a budget is given and total > budget; ValueError for a negative
usage or a missing price.
"""

import pytest

from labgrader.checks import assert_close, assert_equal, assert_type, text

CARD = {"cpu_hour": 0.048, "gb_hour": 0.0053, "per_1k_actions": 0.025}


def _cost(nb, usages, card, budget=None):
    got = nb.run_cost(usages, card, budget)
    assert_type(got, nb.RunCostLite, what="run_cost(...)")
    assert_type(got.steps, dict, what="run_cost(...).steps")
    assert_type(got.total, float, what="run_cost(...).total")
    assert_type(got.over_budget, bool, what="run_cost(...).over_budget")
    return got


def _attempt(cpu, wall, gb, actions, card=CARD):
    return (
        cpu / 3600 * card["cpu_hour"]
        + gb * wall / 3600 * card["gb_hour"]
        + actions / 1000 * card["per_1k_actions"]
    )


@pytest.mark.check(exercise="run-cost", points=5)
def test_worked_example(nb):
    usages = [
        nb.StepUsage("train", 1800, 2000, 4.0, 10),
        nb.StepUsage("train", 900, 1000, 4.0, 10),
        nb.StepUsage("eval", 36, 40, 1.0, 4),
    ]
    got = _cost(nb, usages, dict(CARD), 0.05)
    train = _attempt(1800, 2000, 4.0, 10) + _attempt(900, 1000, 4.0, 10)
    evaluate = _attempt(36, 40, 1.0, 4)
    assert_close(
        got.steps,
        {"train": train, "eval": evaluate},
        what="run_cost(worked example).steps",
        hint="memory is priced for the wall time; a retried step's attempts add up",
    )
    assert_equal(list(got.steps), ["train", "eval"], what="the order of steps")
    assert_close(got.total, train + evaluate, what="run_cost(worked example).total")
    assert got.over_budget is True, (
        f"0.057 is over a 0.05 budget; got over_budget={got.over_budget!r}"
    )
    with pytest.raises(ValueError):
        nb.run_cost([nb.StepUsage("train", -1, 10, 1.0, 0)], dict(CARD))


@pytest.mark.check(exercise="run-cost", points=5, hidden=True)
def test_hidden_budget_edge_prices_and_errors(nb):
    card = {"cpu_hour": 3.6, "gb_hour": 0.36, "per_1k_actions": 1.0}
    usages = [
        nb.StepUsage("ingest", 10, 100, 2.0, 0),
        nb.StepUsage("score", 0, 50, 0.0, 500),
        nb.StepUsage("ingest", 0, 0, 0.0, 0),
    ]
    # ingest: 10 s CPU = 0.01, 2 GB x 100 s = 0.02; score: 500 actions = 0.5
    got = _cost(nb, usages, card, 0.53)
    assert_close(got.steps, {"ingest": 0.03, "score": 0.5}, what="steps on a round-number card")
    assert_close(got.total, 0.53, what="total")
    assert got.over_budget is False, (
        f"a run that costs exactly its budget (0.53) is within it; got "
        f"over_budget={got.over_budget!r}"
    )
    nobudget = _cost(nb, usages, card, None)
    assert nobudget.over_budget is False, "with no budget a run is never over it"
    empty = _cost(nb, [], card, 0.0)
    assert_equal(
        (empty.steps, empty.total, empty.over_budget), ({}, 0.0, False), what="run_cost([])"
    )
    for field in ("wall_seconds", "memory_gb", "actions"):
        values = {
            "cpu_seconds": 1.0,
            "wall_seconds": 1.0,
            "memory_gb": 1.0,
            "actions": 1,
            field: -1,
        }
        with pytest.raises(ValueError):
            nb.run_cost([nb.StepUsage("x", **values)], card)
    for missing in card:
        partial = {k: v for k, v in card.items() if k != missing}
        with pytest.raises(ValueError) as info:
            nb.run_cost([nb.StepUsage("x", 1.0, 1.0, 1.0, 0)], partial)
        assert missing in text(info.value), (
            f"the error for a card without {missing!r} names it; got {text(info.value)!r}"
        )
