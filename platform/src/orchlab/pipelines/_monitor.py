"""Data drift monitoring with the population stability index (PSI).

PSI compares how a feature's values spread over bins in a reference sample (what the model
was trained on) and in a current sample (what it sees now)::

    PSI = sum over bins of (current% - reference%) * ln(current% / reference%)

A common reading: below 0.1 no meaningful change, 0.1 to 0.25 a moderate shift, above 0.25
a major shift worth acting on. Bins are the reference's quantiles, so each holds about the
same share of reference rows and the score does not depend on the feature's units.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from orchlab.errors import ValidationFailed
from orchlab.pipelines._artifacts import Dataset, DriftReport

DEFAULT_THRESHOLD = 0.25
"""The PSI above which a feature counts as drifted."""

_EPSILON = 1e-4  # floor for empty bins, so ln() stays finite


def population_stability_index(
    reference: npt.ArrayLike, current: npt.ArrayLike, *, bins: int = 10
) -> float:
    """The PSI of ``current`` against ``reference``: 0 for the same spread, larger for drift.

    Args:
        reference: The baseline sample of one feature.
        current: The sample to compare.
        bins: How many quantile bins of the reference to use (at least 2).

    Returns:
        The population stability index, a non-negative float.

    Raises:
        ValueError: When a sample is empty or ``bins`` is below 2.
    """
    ref = np.asarray(reference, dtype=np.float64)
    cur = np.asarray(current, dtype=np.float64)
    ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]
    if ref.size == 0 or cur.size == 0:
        raise ValueError("population_stability_index needs non-empty samples")
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    # Interior edges at the reference's quantiles; repeated edges (ties) collapse.
    edges = np.unique(np.quantile(ref, np.linspace(0.0, 1.0, bins + 1)[1:-1]))
    ref_share = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=edges.size + 1)
    cur_share = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=edges.size + 1)
    p = np.clip(ref_share / ref.size, _EPSILON, None)
    q = np.clip(cur_share / cur.size, _EPSILON, None)
    return float(np.sum((q - p) * np.log(q / p)))


def monitor(
    reference: Dataset,
    current: Dataset,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    bins: int = 10,
    columns: Sequence[str] | None = None,
) -> DriftReport:
    """Score data drift per feature between a reference and a current data set.

    Args:
        reference: The baseline, usually the data the model was trained on.
        current: The new batch.
        threshold: A feature drifts when its PSI exceeds this.
        bins: Quantile bins per feature.
        columns: The features to compare; by default every numeric column both share.

    Returns:
        The per-feature scores and the drifted features, worst first.

    Raises:
        ValidationFailed: When the data sets share none of the requested columns.
    """
    if columns is None:
        numeric = reference.frame.select_dtypes("number").columns
        columns = [str(c) for c in numeric if c in current.frame.columns]
    missing = [c for c in columns if c not in reference.frame or c not in current.frame]
    if missing or not columns:
        names = ", ".join(map(repr, missing)) or "(none shared)"
        raise ValidationFailed(
            f"cannot monitor {current.name!r} against {reference.name!r}: "
            f"column(s) {names} not in both data sets"
        )
    scores = {
        c: population_stability_index(reference.frame[c], current.frame[c], bins=bins)
        for c in columns
    }
    drifted = sorted((c for c, s in scores.items() if s > threshold), key=lambda c: -scores[c])
    return DriftReport(
        threshold=threshold,
        scores=scores,
        drifted_features=drifted,
        max_score=max(scores.values()),
    )


__all__ = ["DEFAULT_THRESHOLD", "monitor", "population_stability_index"]
