"""Cross-validation folds as row groups whose statistics merge exactly.

Every row has a role in each split: training, validation, or neither. Rows
with the same roles in every split form one *group*; a data source computes
the sufficient statistics of all groups in one pass
(``group_statistics``), and the training and validation statistics of each
split are exact merges of the statistics of its groups (the weighted
parallel-axis formula of Chan, Golub & LeVeque, for any number of parts at
once). K-fold cross-validation has one group per fold. Nothing here sees X.
"""

from dataclasses import dataclass, replace

import numpy as np

from .._kernel.stats import SufficientStats

NEITHER, TRAIN, TEST = 0, 1, 2
# Role codes fit in base-3 digits; a lookup table of 3**n_splits entries
# labels the rows in O(n) when it is small.
TABLE_MAX = 1 << 20


@dataclass(frozen=True)
class FoldGroups:
    """The row groups of a list of splits.

    ``labels`` (n_samples,) holds each row's group (-1: used by no split);
    ``roles`` (n_groups, n_splits) the role of each group in each split.
    """

    labels: np.ndarray
    roles: np.ndarray

    @property
    def n_groups(self):
        return self.roles.shape[0]

    @property
    def n_splits(self):
        return self.roles.shape[1]

    @classmethod
    def from_splits(cls, splits, n_samples):
        """Groups of ``splits``, a list of ``(train, test)`` index arrays.

        A split whose training or validation part is empty raises a
        ``ValueError`` naming it.
        """
        codes = np.zeros(n_samples, dtype=np.int64)
        power = 1
        for number, (train, test) in enumerate(splits):
            role = np.zeros(n_samples, dtype=np.int64)
            role[np.asarray(train, dtype=np.intp)] = TRAIN
            role[np.asarray(test, dtype=np.intp)] = TEST
            if not (role == TRAIN).any() or not (role == TEST).any():
                raise ValueError(
                    f"cv split {number} has {np.sum(role == TRAIN)} training and "
                    f"{np.sum(role == TEST)} validation samples; each split "
                    "needs at least one of each."
                )
            codes += role * power
            power *= 3
        if power <= TABLE_MAX:
            present = np.bincount(codes, minlength=power) > 0
            table = np.cumsum(present) - 1
            distinct = np.flatnonzero(present)
            labels = table[codes]
        else:
            distinct, labels = np.unique(codes, return_inverse=True)
        roles = (distinct[:, None] // 3 ** np.arange(len(splits))) % 3
        if distinct[0] == 0:  # rows in no split: computed by nobody
            labels = labels - 1
            roles = roles[1:]
        return cls(labels.astype(np.intp), roles.astype(np.int8))


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
    """``(train, validation)`` statistics of every split.

    ``group_stats`` are the centred statistics of each group; the training
    statistics are centred as the fit of ``fit_intercept`` needs them, the
    validation ones always centred (R² needs the validation fold's own
    variance).
    """
    pairs = []
    for split in range(groups.n_splits):
        roles = groups.roles[:, split]
        train = merge_all([group_stats[g] for g in np.flatnonzero(roles == TRAIN)])
        test = merge_all([group_stats[g] for g in np.flatnonzero(roles == TEST)])
        if not fit_intercept:
            train = without_intercept(train)
        pairs.append((train, test))
    return pairs
