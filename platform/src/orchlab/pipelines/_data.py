"""Data task templates: ingest, validate, transform and features.

Each is a plain typed function from data set to data set (or report), so it can be called
from a notebook, a test, a Prefect task or a Temporal activity alike. Sources are
scikit-learn's bundled data sets: nothing is downloaded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from sklearn import datasets as skdata

from orchlab.errors import ValidationFailed
from orchlab.pipelines._artifacts import ColumnSchema, Dataset, Schema, TaskKind, ValidationReport

Source = Literal["wine", "breast_cancer", "diabetes", "digits"]
"""The bundled data sets :func:`ingest` can read."""

_SOURCES: dict[str, tuple[Callable[..., Any], TaskKind]] = {
    "wine": (skdata.load_wine, "classification"),
    "breast_cancer": (skdata.load_breast_cancer, "classification"),
    "diabetes": (skdata.load_diabetes, "regression"),
    "digits": (skdata.load_digits, "classification"),
}

SOURCES: tuple[str, ...] = tuple(_SOURCES)
"""The names of the bundled data sets."""

_MAX_LISTED = 5


def _column_name(raw: str) -> str:
    # "od280/od315_of_diluted_wines" -> "od280_od315_of_diluted_wines": safe in any query.
    return re.sub(r"[^0-9a-z]+", "_", raw.lower()).strip("_")


def ingest(
    source: str,
    *,
    sample_fraction: float = 1.0,
    shift: float = 0.0,
    seed: int = 0,
) -> Dataset:
    """Load a bundled scikit-learn data set as a :class:`Dataset`.

    Args:
        source: One of :data:`SOURCES`: ``wine``, ``breast_cancer``, ``diabetes``, ``digits``.
        sample_fraction: The share of rows to keep, drawn with ``seed`` (1.0 keeps all).
        shift: Simulated covariate shift: every feature moves by this many of its standard
            deviations. Use it to rehearse drift monitoring.
        seed: The random seed for sampling.

    Returns:
        The data set, with a schema of non-null float columns named in snake case.

    Raises:
        ValueError: When ``source`` is unknown or ``sample_fraction`` is not in (0, 1].
    """
    if source not in _SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of: {', '.join(SOURCES)}")
    if not 0.0 < sample_fraction <= 1.0:
        raise ValueError(f"sample_fraction must be in (0, 1], got {sample_fraction}")
    loader, task = _SOURCES[source]
    bunch = loader()
    names = [_column_name(str(n)) for n in bunch.feature_names]
    frame = pd.DataFrame(np.asarray(bunch.data, dtype=np.float64), columns=names)
    target = pd.Series(bunch.target, name="target")
    if sample_fraction < 1.0:
        frame = frame.sample(frac=sample_fraction, random_state=seed).sort_index()
        target = target.loc[frame.index]
    if shift:
        frame = frame + shift * frame.std(ddof=0)
    schema = Schema(columns=tuple(ColumnSchema(name=n, dtype="float") for n in names))
    return Dataset(name=source, frame=frame, target=target, task=task, schema=schema)


def _rows(mask: pd.Series) -> str:
    rows = [str(r) for r in mask[mask].index[:_MAX_LISTED]]
    more = "" if int(mask.sum()) <= _MAX_LISTED else ", ..."
    return ", ".join(rows) + more


def _check_column(series: pd.Series, spec: ColumnSchema) -> list[str]:
    name = spec.name
    problems: list[str] = []
    numeric = ptypes.is_numeric_dtype(series) and not ptypes.is_bool_dtype(series)
    if spec.dtype in ("float", "int") and not numeric:
        return [f"column {name!r} should be {spec.dtype} but holds {series.dtype} values"]
    if spec.dtype == "int" and not ptypes.is_integer_dtype(series):
        problems.append(f"column {name!r} should be int but holds {series.dtype} values")
    if spec.dtype == "bool" and not ptypes.is_bool_dtype(series):
        problems.append(f"column {name!r} should be bool but holds {series.dtype} values")
    missing = series.isna()
    if missing.any() and not spec.nullable:
        problems.append(
            f"column {name!r} has {int(missing.sum())} missing value(s) (rows {_rows(missing)})"
        )
    if not numeric:
        return problems
    values = series.astype("float64")
    infinite = pd.Series(np.isinf(values.to_numpy()), index=series.index)
    if infinite.any():
        problems.append(
            f"column {name!r} has {int(infinite.sum())} infinite value(s) (rows {_rows(infinite)})"
        )
    if spec.minimum is not None:
        low = values < spec.minimum
        if low.any():
            problems.append(
                f"column {name!r} has {int(low.sum())} value(s) below the minimum "
                f"{spec.minimum} (rows {_rows(low)})"
            )
    if spec.maximum is not None:
        high = values > spec.maximum
        if high.any():
            problems.append(
                f"column {name!r} has {int(high.sum())} value(s) above the maximum "
                f"{spec.maximum} (rows {_rows(high)})"
            )
    return problems


def validate(
    dataset: Dataset, schema: Schema | None = None, *, min_rows: int | None = None
) -> ValidationReport:
    """Check a data set against its schema; stop bad data before the next step.

    Every check runs, and every problem is reported at once, each naming its column.

    Args:
        dataset: The data set to check.
        schema: The contract to check against; by default the data set's own schema.
        min_rows: The fewest rows allowed; by default the schema's ``min_rows``.

    Returns:
        A report of the checks that passed.

    Raises:
        ValidationFailed: When any check fails; the message names each column and check.
    """
    schema = schema or dataset.schema
    least = schema.min_rows if min_rows is None else min_rows
    frame = dataset.frame
    problems: list[str] = []
    if len(frame) < least:
        problems.append(f"has {len(frame)} row(s), fewer than the minimum {least}")
    expected = schema.names
    present = [str(c) for c in frame.columns]
    problems += [f"column {n!r} is missing" for n in expected if n not in present]
    problems += [f"column {n!r} is not in the schema" for n in present if n not in expected]
    if present != expected and sorted(present) == sorted(expected):
        problems.append("columns are not in schema order")
    for spec in schema.columns:
        if spec.name in present:
            problems += _check_column(frame[spec.name], spec)
    missing_target = dataset.target.isna()
    if missing_target.any():
        problems.append(
            f"target {schema.target!r} has {int(missing_target.sum())} missing value(s) "
            f"(rows {_rows(missing_target)})"
        )
    if dataset.task == "classification" and dataset.target.nunique() < 2 and len(frame):
        problems.append(f"target {schema.target!r} has fewer than 2 classes")
    if problems:
        raise ValidationFailed(
            f"dataset {dataset.name!r} failed validation: " + "; ".join(problems)
        )
    checks = ["row count", "columns present", "column order", "types", "missing values",
              "finite values", "ranges", "target"]  # fmt: skip
    return ValidationReport(dataset=dataset.name, rows=len(frame), checks=checks)


def transform(
    dataset: Dataset,
    *,
    drop_duplicates: bool = True,
    impute: Literal["median", "mean", "none"] = "median",
    clip_quantile: float | None = None,
) -> Dataset:
    """Clean a data set: drop duplicate rows, fill missing values, tame outliers.

    Args:
        dataset: The data set to clean.
        drop_duplicates: Drop rows whose features repeat an earlier row.
        impute: Fill missing numeric values with the column's median or mean, or leave them.
        clip_quantile: If set (for example 0.01), clip each numeric column to its
            ``[q, 1 - q]`` quantiles.

    Returns:
        The cleaned data set; the schema marks columns nullable only if gaps remain.

    Raises:
        ValueError: When ``clip_quantile`` is not in [0, 0.5).
    """
    frame = dataset.frame
    if drop_duplicates:
        frame = frame[~frame.duplicated(keep="first")]
    numeric = [c for c in frame.columns if ptypes.is_numeric_dtype(frame[c])]
    if impute != "none" and numeric:
        fill = frame[numeric].median() if impute == "median" else frame[numeric].mean()
        frame = frame.fillna(fill)
    if clip_quantile is not None:
        if not 0.0 <= clip_quantile < 0.5:
            raise ValueError(f"clip_quantile must be in [0, 0.5), got {clip_quantile}")
        low = frame[numeric].quantile(clip_quantile)
        high = frame[numeric].quantile(1.0 - clip_quantile)
        frame = frame.assign(**{c: frame[c].clip(low[c], high[c]) for c in numeric})
    columns = tuple(
        spec.model_copy(update={"nullable": bool(frame[spec.name].isna().any())})
        if spec.name in frame.columns
        else spec
        for spec in dataset.schema.columns
    )
    return dataset.replace(frame, schema=dataset.schema.model_copy(update={"columns": columns}))


def features(
    dataset: Dataset,
    *,
    drop_constant: bool = True,
    log1p_skewed: float | None = None,
    columns: list[str] | None = None,
) -> Dataset:
    """Engineer features without looking at the target (so nothing leaks from labels).

    Args:
        dataset: The cleaned data set.
        drop_constant: Drop columns with a single distinct value (they carry no signal).
        log1p_skewed: If set, replace each non-negative column whose skewness exceeds this
            by ``log1p`` of it, renamed ``log1p_<name>``.
        columns: Keep only these columns (applied first).

    Returns:
        A data set with the engineered features and a schema inferred from them.

    Raises:
        ValidationFailed: When ``columns`` names a column the data set does not have, or
            no feature is left.
    """
    frame = dataset.frame
    if columns is not None:
        unknown = [c for c in columns if c not in frame.columns]
        if unknown:
            raise ValidationFailed(
                f"dataset {dataset.name!r} has no column(s) {', '.join(map(repr, unknown))}"
            )
        frame = frame[columns]
    if drop_constant:
        frame = frame.loc[:, frame.nunique(dropna=False) > 1]
    if log1p_skewed is not None:
        renames: dict[str, str] = {}
        for name in frame.columns:
            series = frame[name]
            if ptypes.is_numeric_dtype(series) and series.min() >= 0:
                skew = cast(float, series.skew())
                if skew > log1p_skewed:
                    frame = frame.assign(**{name: np.log1p(series)})
                    renames[name] = f"log1p_{name}"
        frame = frame.rename(columns=renames)
    if frame.shape[1] == 0:
        raise ValidationFailed(f"dataset {dataset.name!r} has no features left")
    schema = Schema.infer(frame, target=dataset.schema.target)
    return dataset.replace(frame, schema=schema)


__all__ = ["SOURCES", "Source", "features", "ingest", "transform", "validate"]
