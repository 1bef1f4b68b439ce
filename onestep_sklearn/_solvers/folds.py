"""Cross-validation folds as row groups whose statistics merge exactly.

A split names its training and validation rows by index, each as many
times as it lists it (a bootstrap repeats rows; parts may overlap). Rows
that every split names the same number of times in each part form one
*group*; a data source computes the sufficient statistics of all groups in
one pass (``group_statistics``), and the training and validation statistics
of each split are exact merges of its groups' statistics, each scaled by
the number of times the split names its rows (the weighted parallel-axis
formula of Chan, Golub & LeVeque, for any number of parts at once): the
statistics of ``X[train]`` and ``X[test]`` themselves, as
``cross_val_score`` indexes them. K-fold cross-validation has one group per
fold. Nothing here sees X.

Memory: one label per row whatever the number of splits (groups are
refined split by split, never coded by a number that grows with them), and
per split the groups of its two parts and their multiplicities, no longer
than the split's own index arrays.
"""

from dataclasses import dataclass, replace

import numpy as np

from .._kernel.stats import SufficientStats

# Relabelling through a lookup table is O(n) while the table is this small.
TABLE_MAX = 1 << 22


@dataclass(frozen=True)
class SplitParts:
    """The groups of one split's training and validation parts, each as
    ``(groups, multiplicities)`` int arrays, and the number of rows each
    part names (repetitions counted)."""

    train: tuple
    test: tuple
    n_train: int
    n_test: int


@dataclass(frozen=True)
class FoldGroups:
    """The row groups of a list of splits.

    ``labels`` (n_samples,) holds each row's group (-1: named by no split);
    ``splits`` a :class:`SplitParts` per split.
    """

    labels: np.ndarray
    splits: tuple

    @property
    def n_groups(self):
        return int(self.labels.max(initial=-1)) + 1

    @property
    def n_splits(self):
        return len(self.splits)

    @classmethod
    def from_splits(cls, splits, n_samples):
        """Groups of ``splits``, a list of ``(train, test)`` index arrays
        (as :func:`as_indices` reads them)."""
        labels = np.zeros(n_samples, dtype=np.int64)
        n_labels = 1
        named = np.zeros(n_samples, dtype=bool)
        counts = []
        for train, test in splits:
            train_count = np.bincount(train, minlength=n_samples)
            test_count = np.bincount(test, minlength=n_samples)
            named |= (train_count > 0) | (test_count > 0)
            width = int(test_count.max(initial=0)) + 1
            code = train_count * width + test_count
            n_codes = (int(train_count.max(initial=0)) + 1) * width
            if n_codes > 4:  # repeated rows: keep only the codes present
                code, n_codes = _relabel(code, n_codes)
            labels, n_labels = _relabel(labels * n_codes + code, n_labels * n_codes)
            counts.append((train.size, test.size))
        # Rows that no split names are computed by nobody.
        labels = np.where(named, labels, -1)
        kept = np.unique(labels[named])
        lookup = np.full(n_labels, -1, dtype=np.intp)
        lookup[kept] = np.arange(kept.size)
        labels = np.where(named, lookup[np.maximum(labels, 0)], -1).astype(np.intp)
        sizes = np.bincount(labels[named], minlength=kept.size)
        parts = tuple(
            SplitParts(
                _multiplicities(labels[train], sizes),
                _multiplicities(labels[test], sizes),
                n_train,
                n_test,
            )
            for (train, test), (n_train, n_test) in zip(splits, counts)
        )
        return cls(labels, parts)


def as_indices(part, n_samples):
    """The row indices (intp, in ``[0, n_samples)``) that ``X[part]`` takes,
    as ``_safe_indexing`` reads ``part``: a boolean mask of length
    ``n_samples`` or integers (negative ones counted from the end).
    Raises ``ValueError`` with the reason otherwise."""
    part = np.asarray(part)
    if part.dtype == bool:
        if part.shape != (n_samples,):
            raise ValueError(
                f"a boolean mask of shape {part.shape} cannot select among "
                f"{n_samples} samples; it needs shape ({n_samples},)"
            )
        return np.flatnonzero(part)
    if part.size == 0:
        return np.zeros(0, dtype=np.intp)
    if part.ndim != 1 or part.dtype.kind not in "iu":
        raise ValueError(
            "a part must be a 1-D array of integer indices or a boolean mask, "
            f"got an array of dtype {part.dtype} and shape {part.shape}"
        )
    low, high = int(part.min()), int(part.max())
    if low < -n_samples or high >= n_samples:
        bad = high if high >= n_samples else low
        raise ValueError(
            f"index {bad} is out of bounds for axis 0 with size {n_samples}"
        )
    if low < 0:
        part = np.where(part < 0, part + n_samples, part)
    return part.astype(np.intp, copy=False)


def _relabel(key, size):
    """Consecutive labels (0..m-1) of the distinct values of the
    non-negative ints ``key`` (< ``size``), in their order, and ``m``."""
    if size <= max(TABLE_MAX, 4 * key.size):
        present = np.bincount(key, minlength=size) > 0
        table = np.cumsum(present) - 1
        return table[key], int(table[-1]) + 1
    distinct, labels = np.unique(key, return_inverse=True)
    return labels.reshape(-1), distinct.size


def _multiplicities(labels, sizes):
    """``(groups, multiplicities)`` of the rows ``labels`` names (with
    repetitions): every row of a group is named equally often."""
    occurrences = np.bincount(labels, minlength=sizes.size)
    groups = np.flatnonzero(occurrences)
    return groups, occurrences[groups] // sizes[groups]


def scaled(stats, count):
    """The statistics of ``count`` copies of the rows of ``stats``."""
    if count == 1:
        return stats
    return replace(
        stats,
        sw_sum=stats.sw_sum * count,
        xx=stats.xx * count,
        xy=stats.xy * count,
        yy=stats.yy * count,
        n_samples=stats.n_samples * count,
        factor=None,
        exact=None,
    )


def merge_all(parts):
    """The exact merge of a list of ``SufficientStats`` (one step for all).

    ``Σs``-weighted means; the centred moments add up, plus the spread of
    the parts' means about the merged mean (what pairwise merges give, up
    to rounding).
    """
    parts = [part for part in parts if part.sw_sum > 0] or parts[:1]
    n_samples = sum(part.n_samples for part in parts)
    if len(parts) == 1:
        return replace(parts[0], n_samples=n_samples, factor=None)
    weights = np.array([part.sw_sum for part in parts])
    sw_sum = float(weights.sum())
    xx = sum(part.xx for part in parts)
    xy = sum(part.xy for part in parts)
    yy = sum(part.yy for part in parts)
    x_mean, y_mean = parts[0].x_mean, parts[0].y_mean
    fit_intercept = parts[0].fit_intercept
    if fit_intercept:
        x_means = np.array([part.x_mean for part in parts])
        y_means = np.array([part.y_mean for part in parts])
        x_mean = weights @ x_means / sw_sum
        y_mean = weights @ y_means / sw_sum
        dx, dy = x_means - x_mean, y_means - y_mean
        xx = xx + (dx.T * weights) @ dx
        xy = xy + (dx.T * weights) @ dy
        yy = yy + weights @ dy**2
    return SufficientStats(sw_sum, x_mean, y_mean, xx, xy, yy, n_samples, fit_intercept)


def without_intercept(stats):
    """Raw (uncentred) statistics from centred ones: the statistics of a fit
    without intercept, whose means are zero."""
    sw = stats.sw_sum
    return SufficientStats(
        sw,
        np.zeros_like(stats.x_mean),
        np.zeros_like(stats.y_mean),
        stats.xx + sw * np.outer(stats.x_mean, stats.x_mean),
        stats.xy + sw * np.outer(stats.x_mean, stats.y_mean),
        stats.yy + sw * stats.y_mean**2,
        stats.n_samples,
        False,
    )


def split_statistics(groups, group_stats, fit_intercept):
    """``(train, validation)`` statistics of every split: those of the rows
    it names, repetitions included.

    ``group_stats`` are the centred statistics of each group; the training
    statistics are centred as the fit of ``fit_intercept`` needs them, the
    validation ones always centred (R² needs the validation fold's own
    variance).
    """
    pairs = []
    for split in groups.splits:
        train, test = (
            merge_all([scaled(group_stats[g], int(c)) for g, c in zip(*part)])
            for part in (split.train, split.test)
        )
        if not fit_intercept:
            train = without_intercept(train)
        pairs.append((train, test))
    return pairs
