"""Checks for exercise ``ingest-template``: ``load_split(config)``.

Contract: load the scikit-learn data set ``config.dataset``, split it stratified by class with
``ceil(test_size * n)`` test rows, deterministic for a given ``config.seed``, and return a
``Split`` of plain Python lists (so it can cross an engine boundary as JSON); an unknown data
set raises ``ValueError`` naming it and the known ones.
"""

from __future__ import annotations

import json
import math
from collections import Counter

import pytest
from sklearn.datasets import load_breast_cancer, load_wine

from labgrader.checks import assert_equal, assert_not_equal, assert_type, text


def _assert_split(nb, config, data) -> None:
    call = f"load_split({config!r})"
    split = nb.load_split(config)
    assert_type(split, nb.Split, what=call)
    columns = [str(name) for name in data.feature_names]  # wine: str, breast_cancer: np.str_
    assert_equal(split.columns, columns, what=f"{call}: the columns")
    n = len(data.target)
    n_test = math.ceil(config.test_size * n)
    assert (len(split.X_test), len(split.y_test)) == (n_test, n_test), (
        f"{call}: expected {n_test} test rows (ceil({config.test_size} x {n})), got "
        f"{len(split.X_test)} features and {len(split.y_test)} labels"
    )
    assert (len(split.X_train), len(split.y_train)) == (n - n_test, n - n_test), (
        f"{call}: expected {n - n_test} training rows, got {len(split.X_train)} features and "
        f"{len(split.y_train)} labels"
    )
    try:
        json.dumps([split.columns, split.X_train, split.y_train, split.X_test, split.y_test])
    except TypeError as exc:
        raise AssertionError(
            f"{call}: the split must hold plain Python lists of float/int/str so it can travel "
            f"as JSON between engine workers (use .tolist() on numpy arrays); json said: {exc}"
        ) from None
    assert all(type(v) is float for v in split.X_train[0]), (
        f"{call}: feature values should be float, got "
        f"{[type(v).__name__ for v in split.X_train[0][:3]]}"
    )
    rows = Counter(
        (*tuple(r), int(t)) for r, t in zip(data.data.tolist(), data.target, strict=True)
    )
    assert all(type(t) is int for t in split.y_train + split.y_test), (
        f"{call}: labels should be int, got "
        f"{sorted({type(t).__name__ for t in split.y_train + split.y_test})}"
    )
    got = Counter(
        (*tuple(r), t)
        for r, t in zip(split.X_train + split.X_test, split.y_train + split.y_test, strict=True)
    )
    # exact floats and ints: the Counters below then compare plain values only
    assert all(type(v) is float for row in split.X_train + split.X_test for v in row), (
        f"{call}: every feature value should be a float"
    )
    assert got == rows, (
        f"{call}: train + test should hold every (row, label) of the data set exactly once"
    )
    counts, test_counts = Counter(data.target.tolist()), Counter(split.y_test)
    for label, count in counts.items():
        expected = count * n_test / n
        assert abs(test_counts[label] - expected) <= 1, (
            f"{call}: class {label} has {test_counts[label]} test rows, expected about "
            f"{expected:.1f}; the split must be stratified by class (stratify=y)"
        )


@pytest.mark.check(exercise="ingest-template", points=4)
def test_default_config_gives_a_stratified_json_ready_wine_split(nb):
    _assert_split(nb, nb.DataConfig(), load_wine())


@pytest.mark.check(exercise="ingest-template", points=2)
def test_same_seed_same_split_other_seed_other_split(nb):
    a = nb.load_split(nb.DataConfig(seed=5))
    b = nb.load_split(nb.DataConfig(seed=5))
    c = nb.load_split(nb.DataConfig(seed=6))
    assert_equal(
        (b.X_test, b.y_test),
        (a.X_test, a.y_test),
        what="two runs with seed=5 gave different test rows",
        hint="Pass config.seed as random_state.",
    )
    assert_not_equal(
        c.X_test,
        a.X_test,
        what="seed=5 and seed=6 gave the same test rows",
        hint="The seed must come from the config.",
    )


@pytest.mark.check(exercise="ingest-template", points=1)
def test_unknown_dataset_is_a_value_error(nb):
    with pytest.raises(ValueError) as info:
        split = nb.load_split(nb.DataConfig(dataset="wines"))
        raise AssertionError(
            f"DataConfig(dataset='wines') gave a split of {len(split.y_test)} "
            f"test rows, expected a ValueError"
        )
    message = text(info.value)
    assert "wines" in message and "wine" in message.replace("wines", ""), (
        f"expected the error to name 'wines' and list the known data sets, got {info.value!r}"
    )


@pytest.mark.check(exercise="ingest-template", points=3, hidden=True)
def test_hidden_other_dataset_size_and_seed(nb):
    _assert_split(
        nb, nb.DataConfig(dataset="breast_cancer", test_size=0.3, seed=3), load_breast_cancer()
    )
