"""Checks for exercise ``resolve-params``: ``resolve_params(defaults, overrides)``.

Contract: ``key=value`` overrides (split at the first ``=``, whitespace stripped) coerced to
the type of the default (bool, int, float or str; bools accept true/false, yes/no, on/off,
1/0 in any case); a later override wins; unknown keys, a missing ``=`` and values that do not
fit the type raise ``ValueError`` naming the key (and the known keys, for an unknown one); the
defaults are never modified.
"""

from __future__ import annotations

import pytest

from labgrader.checks import assert_equal, text

DEFAULTS = {"dataset": "wine", "test_size": 0.25, "seed": 0, "C": 1.0, "standardize": True}


def _assert_same(got: dict[str, object], expected: dict[str, object], call: str) -> None:
    assert_equal(got, expected, what=call, hint="Each value is coerced to the type of its default.")


@pytest.mark.check(exercise="resolve-params", points=3)
def test_overrides_are_coerced_to_the_default_type(nb):
    defaults = dict(DEFAULTS)
    overrides = ["seed=7", "C=0.5", "standardize=false", "dataset=iris"]
    got = nb.resolve_params(defaults, overrides)
    _assert_same(
        got,
        {"dataset": "iris", "test_size": 0.25, "seed": 7, "C": 0.5, "standardize": False},
        f"resolve_params(DEFAULTS, {overrides})",
    )
    assert_equal(defaults, DEFAULTS, what="the defaults were modified; return a new dict")
    untouched = nb.resolve_params(defaults, [])
    _assert_same(untouched, DEFAULTS, "resolve_params(DEFAULTS, [])")
    assert untouched is not defaults, "return a new dict, not the defaults object itself"


@pytest.mark.check(exercise="resolve-params", points=2)
def test_unknown_key_is_a_value_error_listing_the_known_keys(nb):
    with pytest.raises(ValueError) as info:
        got = nb.resolve_params(DEFAULTS, ["sed=7"])
        raise AssertionError(
            f"resolve_params(DEFAULTS, ['sed=7']) returned {got}; "
            f"'sed' is a typo and must be rejected, not added"
        )
    message = text(info.value)
    assert "sed" in message and "seed" in message and "test_size" in message, (
        f"expected the error to name the unknown key 'sed' and list the known keys "
        f"({sorted(DEFAULTS)}), got {message!r}"
    )


@pytest.mark.check(exercise="resolve-params", points=2)
def test_bad_value_and_missing_equals_are_value_errors(nb):
    with pytest.raises(ValueError) as info:
        got = nb.resolve_params(DEFAULTS, ["seed=seven"])
        raise AssertionError(f"resolve_params(DEFAULTS, ['seed=seven']) returned {got}")
    message = text(info.value)
    assert "seed" in message and "seven" in message, (
        f"expected the error to name the key 'seed' and the value 'seven', got {info.value!r}"
    )
    with pytest.raises(ValueError) as info:
        got = nb.resolve_params(DEFAULTS, ["standardize=maybe"])
        raise AssertionError(
            f"resolve_params(DEFAULTS, ['standardize=maybe']) returned {got}; 'maybe' is not a bool"
        )
    with pytest.raises(ValueError):
        got = nb.resolve_params(DEFAULTS, ["seed"])
        raise AssertionError(
            f"resolve_params(DEFAULTS, ['seed']) returned {got}; an override "
            f"without '=' must be a ValueError"
        )


@pytest.mark.check(exercise="resolve-params", points=2, hidden=True)
def test_hidden_edge_cases(nb):
    defaults = {"query": "all", "epochs": 10, "lr": 0.1, "shuffle": False, "dry": True}
    overrides = [" epochs = 3 ", "query=country=FR", "lr=2", "shuffle=YES", "dry=0", "epochs=4"]
    _assert_same(
        nb.resolve_params(defaults, overrides),
        {"query": "country=FR", "epochs": 4, "lr": 2.0, "shuffle": True, "dry": False},
        f"resolve_params({defaults}, {overrides})",
    )
    for flag, expected in [("No", False), ("on", True), ("1", True), ("OFF", False)]:
        got = nb.resolve_params(defaults, [f"shuffle={flag}"])["shuffle"]
        assert got is expected, f"'shuffle={flag}' should give {expected}, got {got!r}"
    with pytest.raises(ValueError):
        got = nb.resolve_params(defaults, ["epochs=3.5"])
        raise AssertionError(f"'epochs=3.5' returned {got}; 3.5 is not an int")


@pytest.mark.check(exercise="resolve-params", points=1, hidden=True)
def test_hidden_other_defaults(nb):
    defaults = {"region": "eu-west-1", "max_rows": 1000}
    with pytest.raises(ValueError) as info:
        nb.resolve_params(defaults, ["rows=5"])
    message = text(info.value)
    assert "rows" in message and "max_rows" in message, (
        f"expected the error to name 'rows' and the known keys {sorted(defaults)}, "
        f"got {info.value!r}"
    )
    _assert_same(
        nb.resolve_params(defaults, ["max_rows=5"]),
        {"region": "eu-west-1", "max_rows": 5},
        "resolve_params(..., ['max_rows=5'])",
    )
