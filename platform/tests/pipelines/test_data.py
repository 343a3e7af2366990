"""ingest, validate, transform and features on real bundled data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from orchlab.errors import ValidationFailed
from orchlab.pipelines import ColumnSchema, Dataset, Schema, features, ingest, transform, validate


def test_ingest_loads_a_bundled_data_set_with_schema(wine: Dataset) -> None:
    assert wine.name == "wine" and wine.task == "classification"
    assert wine.frame.shape == (178, 13)
    assert wine.schema.names == list(wine.frame.columns)
    assert "od280_od315_of_diluted_wines" in wine.frame.columns  # snake-cased
    assert set(wine.target.unique()) == {0, 1, 2}


def test_ingest_regression_source() -> None:
    ds = ingest("diabetes")
    assert ds.task == "regression" and ds.n_rows == 442


def test_ingest_is_deterministic_given_a_seed() -> None:
    a = ingest("wine", sample_fraction=0.5, seed=3)
    b = ingest("wine", sample_fraction=0.5, seed=3)
    c = ingest("wine", sample_fraction=0.5, seed=4)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.n_rows == 89


def test_ingest_shift_moves_every_feature(wine: Dataset) -> None:
    shifted = ingest("wine", shift=1.0)
    delta = (shifted.frame - wine.frame).mean()
    assert np.allclose(delta, wine.frame.std(ddof=0))


def test_ingest_refuses_unknown_source() -> None:
    with pytest.raises(ValueError, match=r"unknown source 'iris'; choose one of: wine"):
        ingest("iris")


def test_validate_passes_clean_data(wine: Dataset) -> None:
    report = validate(wine)
    assert report.rows == 178 and "missing values" in report.checks


def test_validate_names_the_column_with_missing_values(wine: Dataset) -> None:
    broken = wine.frame.copy()
    broken.loc[[3, 7], "alcohol"] = np.nan
    with pytest.raises(
        ValidationFailed, match=r"column 'alcohol' has 2 missing value\(s\) \(rows 3, 7\)"
    ):
        validate(wine.replace(broken))


def test_validate_reports_every_problem_at_once(wine: Dataset) -> None:
    broken = wine.frame.drop(columns=["hue"]).assign(extra=1.0)
    broken.loc[0, "magnesium"] = np.inf
    with pytest.raises(ValidationFailed) as info:
        validate(wine.replace(broken))
    message = str(info.value)
    assert "column 'hue' is missing" in message
    assert "column 'extra' is not in the schema" in message
    assert "column 'magnesium' has 1 infinite value(s)" in message


def test_validate_checks_types_ranges_and_row_count(wine: Dataset) -> None:
    text = wine.frame.astype({"alcohol": str})
    with pytest.raises(ValidationFailed, match=r"column 'alcohol' should be float"):
        validate(wine.replace(text))
    bounded = Schema(columns=(ColumnSchema(name="alcohol", maximum=14.0),))
    subset = wine.replace(wine.frame[["alcohol"]], schema=bounded)
    with pytest.raises(ValidationFailed, match=r"column 'alcohol' has .* above the maximum 14.0"):
        validate(subset)
    with pytest.raises(ValidationFailed, match=r"178 row\(s\), fewer than the minimum 500"):
        validate(wine, min_rows=500)


def test_transform_drops_duplicates_and_imputes(wine: Dataset) -> None:
    frame = wine.frame.copy()
    frame.loc[5] = frame.loc[4]
    frame.loc[10, "alcohol"] = np.nan
    cleaned = transform(wine.replace(frame))
    assert cleaned.n_rows == 177 and 5 not in cleaned.frame.index
    assert cleaned.frame["alcohol"].notna().all()
    assert cleaned.target.index.equals(cleaned.frame.index)
    validate(cleaned)


def test_transform_clips_outliers(wine: Dataset) -> None:
    clipped = transform(wine, clip_quantile=0.05)
    assert clipped.frame["proline"].max() <= wine.frame["proline"].quantile(0.95)


def test_features_drop_constant_columns_and_log_skewed() -> None:
    digits = ingest("digits")
    engineered = features(digits)
    assert "pixel_0_0" not in engineered.frame.columns  # always blank
    assert engineered.schema.names == list(engineered.frame.columns)
    wine = ingest("wine")
    logged = features(wine, log1p_skewed=1.0)
    assert "log1p_magnesium" in logged.frame.columns and "magnesium" not in logged.frame.columns
    validate(logged)


def test_features_refuses_unknown_columns(wine: Dataset) -> None:
    with pytest.raises(ValidationFailed, match=r"has no column\(s\) 'colour'"):
        features(wine, columns=["alcohol", "colour"])


def test_dataset_round_trips_through_files(wine: Dataset, tmp_path: Path) -> None:
    ref = wine.save(tmp_path)
    loaded = Dataset.load(ref)
    assert loaded.fingerprint() == wine.fingerprint() == ref.fingerprint
    assert loaded.frame.equals(wine.frame) and loaded.schema == wine.schema
