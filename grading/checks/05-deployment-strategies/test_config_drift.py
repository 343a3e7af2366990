"""Checks for exercise ``config-drift``: ``drift_keys(declared, live, ignore=())``.

Contract: flatten nested dicts to dotted keys (anything else is a value); a key drifted when it
is on one side only or its values differ; leave out the ``ignore`` keys; sorted, each once.
"""

import copy

import pytest

from labgrader.checks import assert_equal

DECLARED = {"serving": {"replicas": 4, "memory": "4Gi"}, "model": {"name": "fraud"}}
LIVE = {"serving": {"replicas": 2, "memory": "4Gi"}, "model": {"name": "fraud", "shadow": True}}


def _assert_drift(nb, declared, live, expected, ignore=()):
    before = copy.deepcopy((declared, live))
    got = nb.drift_keys(declared, live, ignore)
    assert_equal(
        got,
        expected,
        what=f"drift_keys({declared!r}, {live!r}, ignore={list(ignore)!r})",
        hint="Likely cause: not flattening nested dicts to dotted keys, missing the keys present "
        "on one side only, or not sorting.",
    )
    assert_equal(
        (declared, live), before, what="the inputs after drift_keys", hint="It must only read them."
    )


@pytest.mark.check(exercise="config-drift", points=3)
def test_changed_and_added_keys(nb):
    _assert_drift(nb, DECLARED, LIVE, ["model.shadow", "serving.replicas"])


@pytest.mark.check(exercise="config-drift", points=2)
def test_ignore_and_no_drift(nb):
    _assert_drift(nb, DECLARED, LIVE, ["model.shadow"], ignore=["serving.replicas"])
    _assert_drift(nb, DECLARED, copy.deepcopy(DECLARED), [])


@pytest.mark.check(exercise="config-drift", points=3, hidden=True)
def test_hidden_deep_nesting_and_missing_keys(nb):
    declared = {
        "a": {"b": {"c": 1, "d": [1, 2]}, "e": "x"},
        "gone": {"k": 1},
        "temporal": {"namespace": "ml-prod"},
    }
    live = {"a": {"b": {"c": 1, "d": [1, 3]}, "e": "x"}, "temporal": {"namespace": "default"}}
    _assert_drift(nb, declared, live, ["a.b.d", "gone.k", "temporal.namespace"])
    _assert_drift(nb, {}, {"z": 1, "y": {"x": None}}, ["y.x", "z"])


@pytest.mark.check(exercise="config-drift", points=2, hidden=True)
def test_hidden_dict_against_value_and_ignore(nb):
    _assert_drift(nb, {"a": {"b": 1}}, {"a": 5}, ["a", "a.b"])
    _assert_drift(nb, {"p": 1, "q": {"r": 2}}, {"p": 2, "q": {"r": 3}}, ["p"], ignore=["q.r"])
