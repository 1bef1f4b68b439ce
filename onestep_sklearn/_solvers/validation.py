"""Validation scores for early stopping, on a held-out part of the rows.

The held-out rows are masked by weights (weight 0 in training, their own
weight in validation), so ``X`` is never copied.
"""

import math

import numpy as np
from sklearn.model_selection import train_test_split

from .._data import questions


def r2_from_sse(sse, sst):
    """Uniformly averaged R² as ``sklearn.metrics.r2_score`` (force_finite)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), 0.0)
    scores = np.where((sst == 0) & (sse == 0), 1.0, scores)
    return float(np.mean(scores))


def validation_r2_data(val_source):
    """Validation R² scorer by a data pass over the validation rows."""
    weights = questions.weights(val_source)
    targets = questions.targets(val_source)
    y_mean = weights @ targets / weights.sum()
    y_sst = weights @ (targets - y_mean) ** 2

    def score(coef, intercept):
        sse, _, _ = questions.data_pass(val_source, coef, intercept, gradient=False)
        return r2_from_sse(sse, y_sst)

    return score


def validation_r2_stats(val_stats):
    """Validation R² scorer from the validation rows' statistics: O(d²)."""

    def score(coef, intercept):
        return r2_from_sse(val_stats.sse(coef, intercept), val_stats.yy)

    return score


def validation_split(sample_weight, validation_fraction, rng):
    """Training and validation weights: the held-out rows get weight 0.

    Masking by weights, rather than indexing, keeps X uncopied. The split
    needs at least 2 validation rows and 1 training row among the rows of
    positive weight; otherwise the error names ``validation_fraction``.
    """
    rows = np.flatnonzero(sample_weight > 0)
    n_val = math.ceil(validation_fraction * rows.size)
    if n_val < 2 or rows.size - n_val < 1:
        raise ValueError(
            "early_stopping needs at least 2 validation samples and 1 training "
            f"sample: validation_fraction={validation_fraction} of {rows.size} "
            f"samples with positive weight holds out {n_val}. Use more samples, "
            "another validation_fraction, or early_stopping=False."
        )
    train_rows, val_rows = train_test_split(
        rows, test_size=validation_fraction, random_state=rng
    )
    val_weight = np.zeros_like(sample_weight)
    val_weight[val_rows] = sample_weight[val_rows]
    train_weight = sample_weight.copy()
    train_weight[val_rows] = 0
    return train_weight, val_weight
