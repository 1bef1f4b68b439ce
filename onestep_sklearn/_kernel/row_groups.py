"""Row groups and the row Gram: kernels of the data questions.

Pure numpy/scipy (``_kernel``): the statistics of several row groups from
one pass over X (cross-validation folds), and the centred row Gram of wide
data, formed without centring X.
"""

import numpy as np

from . import xp_ops
from .stats import SufficientStats

# Rows read (and, when the groups interleave, gathered) at a time: the copy
# stays small next to X.
GROUP_BLOCK_BYTES = 8 << 20


def group_moments(X, Y, sample_weight, labels, n_groups):
    """The centred ``SufficientStats`` of every row group, X read once.

    X is read in row blocks of about 8 MB, in order; the rows of a block are
    put in group order (views when they already are, as for K-fold without
    shuffling; else one gather of the block, while it is in cache), and the
    block kernel of the statistics (``SufficientStats.from_data``) runs on
    each group's rows. The parts of a group merge exactly. Rows labelled -1
    belong to no group. On a device X is one block: each group's statistics
    in one pass (X gathered once in group order when the groups
    interleave). The block kernel of ``_data.questions.group_statistics``.
    """
    n_samples, n_features = X.shape
    result = [
        SufficientStats.empty(n_features, Y.shape[1], True) for _ in range(n_groups)
    ]
    rows = max(256, GROUP_BLOCK_BYTES // (8 * max(n_features, 1)))
    if not xp_ops.is_numpy(X):
        rows = max(n_samples, 1)
    take = xp_ops.take_rows
    groups = np.arange(n_groups + 1)
    for start in range(0, n_samples, rows):
        block = slice(start, min(start + rows, n_samples))
        X_block, Y_block = take(X, block), take(Y, block)
        weights, block_labels = take(sample_weight, block), labels[block]
        if np.any(block_labels[1:] < block_labels[:-1]):
            order = np.argsort(block_labels, kind="stable")
            X_block, Y_block = take(X_block, order), take(Y_block, order)
            weights, block_labels = take(weights, order), block_labels[order]
        bounds = np.searchsorted(block_labels, groups)
        for group in range(n_groups):
            first, last = bounds[group], bounds[group + 1]
            if last > first:
                part_rows = slice(int(first), int(last))
                part = SufficientStats.from_data(
                    take(X_block, part_rows),
                    take(Y_block, part_rows),
                    take(weights, part_rows),
                    True,
                )
                result[group] = result[group].merge(part)
    return result


def centre_row_gram(gram, shifted, x_mean, root):
    """``√S·Xc·Xcᵀ·√S`` from ``XXᵀ`` and ``m = X·x̄``, without forming ``Xc``:
    ``XcXcᵀ = XXᵀ − m1ᵀ − 1mᵀ + (x̄ᵀx̄)·11ᵀ``."""
    gram = gram.astype(np.float64)
    gram -= shifted[:, None]
    gram -= shifted[None, :]
    gram += x_mean @ x_mean
    gram *= np.outer(root, root)
    return gram
