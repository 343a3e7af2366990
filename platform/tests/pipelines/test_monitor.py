"""Drift monitoring: PSI is near zero for the same data and high for shifted data."""

from __future__ import annotations

import numpy as np
import pytest

from orchlab.errors import ValidationFailed
from orchlab.pipelines import Dataset, ingest, monitor, population_stability_index


def test_psi_is_zero_for_identical_samples_and_high_for_shifted() -> None:
    rng = np.random.default_rng(0)
    reference = rng.normal(size=5000)
    assert population_stability_index(reference, reference) == pytest.approx(0.0)
    same = population_stability_index(reference, rng.normal(size=5000))
    shifted = population_stability_index(reference, rng.normal(loc=1.0, size=5000))
    assert same < 0.02 < 0.25 < shifted


def test_psi_refuses_empty_samples_and_too_few_bins() -> None:
    with pytest.raises(ValueError, match=r"non-empty"):
        population_stability_index([], [1.0])
    with pytest.raises(ValueError, match=r"bins must be at least 2"):
        population_stability_index([1.0], [1.0], bins=1)


def test_monitor_flags_shifted_features(wine: Dataset) -> None:
    report = monitor(wine, ingest("wine", shift=1.0))
    assert report.drifted and set(report.drifted_features) == set(wine.frame.columns)
    assert report.max_score == max(report.scores.values()) > 1.0
    worst = report.drifted_features[0]
    assert report.scores[worst] == report.max_score


def test_monitor_is_quiet_for_a_sample_of_the_same_data(wine: Dataset) -> None:
    report = monitor(wine, ingest("wine", sample_fraction=0.5, seed=7), bins=5)
    assert not report.drifted and report.max_score < 0.25


def test_monitor_threshold_and_columns(wine: Dataset) -> None:
    current = ingest("wine", shift=0.3)
    strict = monitor(wine, current, threshold=0.05, columns=["alcohol"])
    assert list(strict.scores) == ["alcohol"] and strict.drifted
    with pytest.raises(ValidationFailed, match=r"column\(s\) 'colour' not in both"):
        monitor(wine, current, columns=["colour"])
