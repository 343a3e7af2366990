"""Checks for exercise ``check-artifact``: ``check_artifact(split, ranges)``.

Contract: every column named in ``ranges`` must exist, and each of its values in both
``X_train`` and ``X_test`` must be a finite number within ``[low, high]`` (bounds included);
both parts must have rows. Anything else raises ``orchlab.errors.ValidationFailed`` whose
message names the column (or the empty part). A good artifact is returned unchanged.
"""

from __future__ import annotations

import copy
import math

import pytest

from labgrader.checks import assert_equal, text
from orchlab.errors import ValidationFailed

COLUMNS = ["alcohol", "malic_acid", "proline"]
RANGES = {"alcohol": (10.0, 15.5), "proline": (250.0, 1800.0)}


def _split(nb, train=None, test=None):
    train = train or [[13.2, 1.8, 1050.0], [12.4, 2.1, 520.0], [14.1, 3.9, 1280.0]]
    test = test or [[12.9, 1.5, 830.0], [13.7, 4.4, 610.0]]
    return nb.Split(
        columns=list(COLUMNS),
        X_train=train,
        y_train=[0] * len(train),
        X_test=test,
        y_test=[1] * len(test),
    )


def _assert_fails(nb, split, ranges, column: str, why: str) -> None:
    with pytest.raises(ValidationFailed) as info:
        nb.check_artifact(split, ranges)
        raise AssertionError(
            f"check_artifact accepted an artifact where {why}; expected "
            f"orchlab.errors.ValidationFailed naming {column!r}"
        )
    assert column in text(info.value), (
        f"the ValidationFailed for an artifact where {why} should name the column {column!r}, "
        f"got {str(info.value)!r}"
    )


@pytest.mark.check(exercise="check-artifact", points=2)
def test_good_artifact_is_returned_unchanged(nb):
    split = _split(nb)
    before = copy.deepcopy(split)
    got = nb.check_artifact(split, RANGES)
    assert_equal(got, before, what="a valid artifact should come back unchanged")


@pytest.mark.check(exercise="check-artifact", points=3)
def test_out_of_range_value_is_a_validation_failed_naming_the_column(nb):
    bad = _split(nb, train=[[13.2, 1.8, 1050.0], [12.4, 2.1, 5200.0]])
    _assert_fails(nb, bad, RANGES, "proline", "X_train[1] has proline = 5200.0 (range 250-1800)")
    bad = _split(nb, test=[[12.9, 1.5, 830.0], [9.1, 4.4, 610.0]])
    _assert_fails(
        nb,
        bad,
        RANGES,
        "alcohol",
        "X_test[1] has alcohol = 9.1 (range 10-15.5); check X_test as well as X_train",
    )


@pytest.mark.check(exercise="check-artifact", points=2)
def test_missing_column_is_a_validation_failed_naming_it(nb):
    ranges = dict(RANGES, color_intensity=(1.0, 14.0))
    _assert_fails(
        nb,
        _split(nb),
        ranges,
        "color_intensity",
        "the ranges name 'color_intensity' but the split has no such column",
    )


@pytest.mark.check(exercise="check-artifact", points=2, hidden=True)
def test_hidden_nan_inf_and_empty_parts(nb):
    bad = _split(nb, test=[[12.9, 1.5, math.nan], [13.7, 4.4, 610.0]])
    _assert_fails(
        nb,
        bad,
        RANGES,
        "proline",
        "X_test[0] has proline = nan (a NaN fails every comparison: test "
        "'not low <= v <= high' rather than 'v < low or v > high')",
    )
    bad = _split(nb, train=[[math.inf, 1.8, 1050.0], [12.4, 2.1, 520.0]])
    _assert_fails(nb, bad, RANGES, "alcohol", "X_train[0] has alcohol = inf")
    empty = nb.Split(
        columns=list(COLUMNS), X_train=[[13.2, 1.8, 1050.0]], y_train=[0], X_test=[], y_test=[]
    )
    with pytest.raises(ValidationFailed):
        nb.check_artifact(empty, RANGES)
        raise AssertionError("check_artifact accepted a split whose X_test has no rows")


@pytest.mark.check(exercise="check-artifact", points=1, hidden=True)
def test_hidden_bounds_are_inclusive_and_unlisted_columns_are_free(nb):
    edge = _split(nb, train=[[10.0, -99.0, 250.0], [15.5, 1e9, 1800.0]])
    got = nb.check_artifact(edge, RANGES)
    assert_equal(
        got,
        edge,
        what="check_artifact on values at the bounds",
        hint="Values equal to a bound (10.0, 15.5, 250.0, 1800.0) are valid, and malic_acid has "
        "no range so any finite or odd value passes.",
    )
