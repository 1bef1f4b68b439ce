"""In-memory training data: numpy arrays, CSR/CSC matrices, memory maps.

Implements the data seam of ``_data.protocol`` on the kernels of
``_kernel`` directly. ``X`` is never copied or modified, except when its
units change (extreme magnitudes, see ``_kernel.units``).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

from .._kernel import objective as kernel
from .._kernel import refine
from .._kernel.factor import qr_factor
from .._kernel.sparse_ops import hessian_operator, use_krylov
from .._kernel.stats import SufficientStats
from .._kernel.units import (
    MomentsOverflow,
    Units,
    pilot_magnitude,
    powers_of_two,
    target_magnitude,
)
from .protocol import RowArrays

ACCEPT_SPARSE = ["csr", "csc"]


def raise_for_nonfinite(X):
    """Raise the right error once a result on finite-looking ``X`` is not.

    The kernel's results are finite exactly when ``X`` is (and its moments
    fit in float64): scikit-learn's own check raises its usual message for
    NaN or infinity; otherwise the moments overflowed.
    """
    check_array(X, accept_sparse=ACCEPT_SPARSE, dtype=None, input_name="X")
    raise MomentsOverflow(
        "X is finite but its moments overflow float64: rescale X (for "
        "example with StandardScaler) before fitting."
    )


@dataclass(frozen=True)
class ArraySource(RowArrays):
    """Validated in-memory data: ``X`` (n, d), ``Y`` (n, k) in X's dtype,
    ``sample_weight`` (n,) and ``sw_sum`` = Σs > 0."""

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray
    sw_sum: float
    row_access = True

    @property
    def sparse(self):
        return sp.issparse(self.X)

    @property
    def krylov(self):
        """Whether X is sparse and wide enough for the Krylov routes (LSQR,
        sparse Hessian products) rather than a dense d × d matrix."""
        return use_krylov(self.X)

    def arrays(self):
        """``(X, Y, sample_weight)`` for the Krylov solvers, which build their
        operators on X itself (``krylov`` sources only)."""
        return self.X, self.Y, self.sample_weight

    def hessian_operator(self, x_mean, sw_sum, l2_reg_strength):
        """The Hessian as a LinearOperator of two sparse products (``krylov``
        sources), or None: generic sources use data-pass products."""
        if not self.krylov:
            return None
        return hessian_operator(
            self.X, self.sample_weight, x_mean, sw_sum, l2_reg_strength
        )

    def _check(self, finite):
        if not finite:
            raise_for_nonfinite(self.X)

    def means(self, fit_intercept):
        x_mean, y_mean = kernel.weighted_means(
            self.X, self.Y, self.sample_weight, self.sw_sum
        )
        # The pass Xᵀs runs even without an intercept: it is the cheapest
        # result on X to test for NaN and infinity.
        self._check(np.isfinite(x_mean).all())
        if not fit_intercept:
            return self.sw_sum, np.zeros_like(x_mean), np.zeros_like(y_mean)
        return self.sw_sum, x_mean, y_mean

    def statistics(self, fit_intercept, *, with_factor=False, shifts=None):
        stats = SufficientStats.from_data(
            self.X, self.Y, self.sample_weight, fit_intercept, shifts
        )
        self._check(stats.finite)
        if with_factor:
            stats = stats.with_factor(self.X, self.Y, self.sample_weight)
        return stats

    def group_statistics(self, labels, n_groups):
        """Centred statistics of each row group (``labels[i]`` the group of
        row i, -1 for none) in one pass over X; see :func:`group_moments`."""
        groups = group_moments(self.X, self.Y, self.sample_weight, labels, n_groups)
        self._check(all(stats.finite for stats in groups))
        return groups

    def data_pass(self, coef, intercept, *, with_y=True, gradient=True):
        Y = self.Y if with_y else None
        return kernel.data_pass(
            self.X, Y, coef, intercept, self.sample_weight, gradient=gradient
        )

    def batch_products(self, coef, intercept):
        return kernel.batch_products(
            self.X, self.Y, coef, intercept, self.sample_weight
        )

    def sq_norms(self, vec, offset):
        return kernel.weighted_sq_norms(self.X, vec, offset, self.sample_weight)

    def moments_at_zero(self, fit_intercept):
        y_mean = np.zeros(self.n_outputs)
        if fit_intercept:
            y_mean = np.asarray(self.sample_weight @ self.Y, np.float64) / self.sw_sum
        moments, weighted_sum, sq = kernel.moments_at_zero(
            self.X, self.Y, self.sample_weight, y_mean
        )
        self._check(np.isfinite(moments).all())
        return self.sw_sum, y_mean, moments, weighted_sum, sq

    def centred_gradient(self, x_mean, y_mean, coef):
        return kernel.centred_gradient(
            self.X, self.Y, self.sample_weight, x_mean, y_mean, coef
        )

    def exact_gradient(self, coef, intercept, low=None):
        return refine.exact_gradient(
            self.X, self.Y, self.sample_weight, coef, intercept, low
        )

    def exact_moments(self):
        return refine.exact_moments(self.X, self.Y, self.sample_weight)

    def qr_factor(self, x_mean, y_mean):
        return qr_factor(self.X, self.Y, self.sample_weight, x_mean, y_mean)

    def max_row_sq_norm(self, x_mean):
        return kernel.max_row_sq_norm(self.X, self.sample_weight, x_mean)

    def column_magnitudes(self, *, every_row=False):
        """Largest |x| per column over the first rows of positive weight (a
        pilot), or over ``every_row`` (one more pass, blockwise)."""
        if not every_row:
            return pilot_magnitude(self.X, self.sample_weight)
        return kernel.max_abs_columns(self.X, self.sample_weight)

    def column_ranges(self):
        """``max − min`` per column (one pass): tells a constant column from
        one whose variance underflowed."""
        return kernel.column_ranges(self.X, self.sample_weight)

    def extreme_units(self, *, scale_x=True):
        """Powers of two for extreme magnitudes, read off the first rows (a
        pilot): a later extreme row shows up as an overflow, which the
        validation of the results reports."""
        y_max = target_magnitude(self.Y, self.sample_weight)
        x_scale = 1.0
        if scale_x:
            x_scale = float(powers_of_two(self.column_magnitudes().max(initial=0.0)))
        return Units(x_scale, float(powers_of_two(y_max)))

    def rescaled(self, units):
        if units.identity:
            return self
        X, Y = self.X, self.Y
        if units.x_scale != 1.0:
            X = X * units.x_scale
        if units.y_scale != 1.0:
            Y = Y * units.y_scale
        return ArraySource(X, Y, self.sample_weight, self.sw_sum)

    def column_scaled(self, columns):
        X = self.X @ sp.diags(columns) if sp.issparse(self.X) else self.X * columns
        return ArraySource(X, self.Y, self.sample_weight, self.sw_sum)

    def with_weights(self, sample_weight):
        """The same rows with other weights (validation splits: no copy of X)."""
        sw_sum = float(sample_weight.sum(dtype=np.float64))
        return ArraySource(self.X, self.Y, sample_weight, sw_sum)

    def batches(self, batch_size, rng):
        """Mini-batch sources over the rows of positive weight (shuffled when
        ``rng`` is given). Contiguous batches are views of ``X``; shuffled
        ones copy only the batch. Batches of zero weight are skipped."""
        indices = np.flatnonzero(self.sample_weight > 0)
        if rng is not None:
            indices = rng.permutation(indices)
        contiguous = rng is None and np.all(np.diff(indices) == 1)
        for start in range(0, indices.size, batch_size):
            rows = indices[start : start + batch_size]
            if contiguous:
                rows = slice(rows[0], rows[-1] + 1)
            weights = self.sample_weight[rows]
            sw_sum = float(weights.sum(dtype=np.float64))
            if sw_sum > 0:
                yield ArraySource(self.X[rows], self.Y[rows], weights, sw_sum)

    def row_gram(self, x_mean):
        X = self.X
        root = np.sqrt(self.sample_weight.astype(np.float64))
        gram = X @ X.T
        gram = gram.toarray() if sp.issparse(gram) else np.asarray(gram)
        return centre_row_gram(gram, self.matvec(x_mean[:, None])[:, 0], x_mean, root)

    def matvec(self, coef):
        return np.asarray(self.X @ coef.astype(self.X.dtype), dtype=np.float64)

    def rmatvec(self, columns):
        return np.asarray(self.X.T @ columns, dtype=np.float64)

    def weights(self):
        return self.sample_weight.astype(np.float64)

    def targets(self):
        return self.Y.astype(np.float64)


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
    belong to no group. Shared by the in-memory and the Dask sources.
    """
    n_samples, n_features = X.shape
    result = [
        SufficientStats.empty(n_features, Y.shape[1], True) for _ in range(n_groups)
    ]
    rows = max(256, GROUP_BLOCK_BYTES // (8 * max(n_features, 1)))
    groups = np.arange(n_groups + 1)
    for start in range(0, n_samples, rows):
        block = slice(start, min(start + rows, n_samples))
        X_block, Y_block = X[block], Y[block]
        weights, block_labels = sample_weight[block], labels[block]
        if np.any(block_labels[1:] < block_labels[:-1]):
            order = np.argsort(block_labels, kind="stable")
            X_block, Y_block = X_block[order], Y_block[order]
            weights, block_labels = weights[order], block_labels[order]
        bounds = np.searchsorted(block_labels, groups)
        for group in range(n_groups):
            first, last = bounds[group], bounds[group + 1]
            if last > first:
                part = SufficientStats.from_data(
                    X_block[first:last],
                    Y_block[first:last],
                    weights[first:last],
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
