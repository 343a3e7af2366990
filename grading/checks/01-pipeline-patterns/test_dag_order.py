"""Checks for exercise ``dag-order``: ``execution_order(deps)``.

Contract: every step exactly once, each after all the steps it needs; among the steps that are
ready at the same time, the alphabetically smallest runs first; a cycle raises ``ValueError``
whose message shows one cycle as ``a -> b -> a``; a dependency that is not a step raises
``ValueError`` naming it.
"""

from __future__ import annotations

import itertools
import re

import pytest

from labgrader.checks import assert_equal, difference, text

DIAMOND = {
    "train": ["features"],
    "features": ["ingest"],
    "report": ["evaluate", "baseline"],
    "evaluate": ["train"],
    "ingest": [],
    "baseline": ["features"],
}


def _problems(deps: dict[str, list[str]], got: object) -> str | None:
    """Explain why ``got`` is not a valid execution order of ``deps``, or None when it is."""
    if type(got) is not list or any(type(step) is not str for step in got):
        return f"expected a list of step names (str), got {type(got).__name__}: {got!r}"
    if difference(sorted(got), sorted(deps)) is not None:
        return f"expected every step exactly once ({sorted(deps)}), got {got}"
    position = {step: i for i, step in enumerate(got)}
    for step, needs in deps.items():
        for need in needs:
            if position[need] > position[step]:
                return f"{step!r} ran before {need!r}, which it needs (order {got})"
    return None


def _assert_order(deps: dict[str, list[str]], expected: list[str], got: object) -> None:
    problem = _problems(deps, got)
    assert problem is None, f"execution_order({deps}): {problem}"
    assert_equal(
        got,
        expected,
        what=f"execution_order({deps}) returned a valid order, but not the contract's tie-break",
        hint="When several steps are ready at once, run the alphabetically smallest first (a "
        "heap or a sorted ready list), not the insertion order of the dict.",
    )


def _assert_names_cycle(deps: dict[str, list[str]], message: str, cycle: set[str]) -> None:
    """The message holds a chain ``a -> b -> ... -> a`` that walks real edges of ``deps``."""
    for chain in re.findall(r"[\w.-]+(?:\s*->\s*[\w.-]+)+", message):
        names = [n.strip() for n in chain.split("->")]
        if len(names) < 2 or names[0] != names[-1] or not set(names) <= deps.keys():
            continue
        pairs = list(itertools.pairwise(names))
        if all(b in deps[a] for a, b in pairs) or all(a in deps[b] for a, b in pairs):
            assert set(names) == cycle, (
                f"the message names the cycle {chain!r}; expected the steps {sorted(cycle)}"
            )
            return
    raise AssertionError(
        f"expected the ValueError message to show the cycle among {sorted(cycle)} as "
        f"'a -> b -> ... -> a' (each step needing the next), got: {message!r}"
    )


@pytest.mark.check(exercise="dag-order", points=3)
def test_diamond_runs_in_dependency_order_with_alphabetical_tie_break(nb):
    got = nb.execution_order(DIAMOND)
    _assert_order(DIAMOND, ["ingest", "features", "baseline", "train", "evaluate", "report"], got)


@pytest.mark.check(exercise="dag-order", points=2)
def test_independent_roots_and_input_not_modified(nb):
    deps = {"load_b": [], "load_a": [], "join": ["load_b", "load_a"], "audit": []}
    snapshot = {k: list(v) for k, v in deps.items()}
    got = nb.execution_order(deps)
    _assert_order(deps, ["audit", "load_a", "load_b", "join"], got)
    assert_equal(deps, snapshot, what="execution_order must not modify its input")


@pytest.mark.check(exercise="dag-order", points=3)
def test_cycle_raises_value_error_naming_the_cycle(nb):
    deps = {"ingest": [], "clean": ["ingest", "score"], "train": ["clean"], "score": ["train"]}
    with pytest.raises(ValueError) as info:
        order = nb.execution_order(deps)
        raise AssertionError(
            f"execution_order({deps}) returned {order}, expected a ValueError: "
            f"clean -> score -> train -> clean can never run"
        )
    _assert_names_cycle(deps, text(info.value), {"clean", "train", "score"})


@pytest.mark.check(exercise="dag-order", points=1, hidden=True)
def test_hidden_other_graph(nb):
    deps = {
        "zeta": [],
        "eval": ["fit"],
        "fit": ["split", "zeta"],
        "split": ["ingest"],
        "ingest": [],
        "publish": ["eval"],
        "alpha": ["ingest"],
    }
    _assert_order(
        deps,
        ["ingest", "alpha", "split", "zeta", "fit", "eval", "publish"],
        nb.execution_order(deps),
    )
    assert_equal(nb.execution_order({}), [], what="an empty pipeline has the empty order []")


@pytest.mark.check(exercise="dag-order", points=1, hidden=True)
def test_hidden_self_loop_and_unknown_dependency(nb):
    deps = {"ingest": [], "retrain": ["retrain", "ingest"]}
    with pytest.raises(ValueError) as info:
        nb.execution_order(deps)
    _assert_names_cycle(deps, text(info.value), {"retrain"})

    deps = {"ingest": [], "train": ["ingest", "featurs"]}
    with pytest.raises(ValueError) as info:
        order = nb.execution_order(deps)
        raise AssertionError(f"execution_order({deps}) returned {order}; 'featurs' is no step")
    assert "featurs" in text(info.value), (
        f"expected the ValueError to name the unknown dependency 'featurs', got {info.value!r}"
    )
