"""Dask training data: the data seam of ``_data.protocol`` on a cluster.

A Dask array ``X`` chunked along rows never leaves the workers: every method
applies the SAME block kernel of ``_kernel`` that the in-memory source runs
to each row block where it lives and combines the results by a pairwise
tree of tasks (the exact merge of the statistics, sums, or stacked QR
factors): one Dask computation per method, whose small result is all that
reaches the client. With a ``distributed.Client`` active it runs there.

The values are validated by the first reduction (``means`` or
``statistics``), on the workers; extreme magnitudes raise an error that says
to rescale (in memory they are fitted in other units).
"""

from dataclasses import dataclass
from functools import partial

import numpy as np

from .._kernel import objective as kernel
from .._kernel import refine
from .._kernel.factor import qr_factor, stack_factors
from .._kernel.stats import SufficientStats
from .._kernel.units import Units
from .dask_checks import InputCheck, _extremes, nonfinite_message, raise_overflow
from .memory import centre_row_gram, group_moments
from .protocol import RowArrays

# --------------------------------------------------------------------------
# Block kernels (run on the workers) and their combination.


def _stats_block(X, Y, sample_weight, fit_intercept, with_factor, shifts):
    stats = SufficientStats.from_data(X, Y, sample_weight, fit_intercept, shifts)
    suspect = _suspect(stats)
    if with_factor and not suspect:
        stats = stats.with_factor(X, Y, sample_weight)
    return stats, _block_check(X, Y, sample_weight, stats, suspect)


def _suspect(stats):
    return not (stats.finite and np.isfinite(stats.yy).all()) or stats.sw_sum == 0


def _block_check(X, Y, sample_weight, stats, suspect):
    # Columns with (next to) no sum of squares: constant, or underflowed.
    flat = np.diag(stats.xx) <= np.finfo(np.float64).tiny * max(stats.sw_sum, 1.0)
    tiny, _ = _extremes(X, flat)  # large values show as non-finite statistics
    return InputCheck.of(X, Y, sample_weight, suspect, (tiny, False))


def _groups_block(X, Y, sample_weight, labels, n_groups):
    """The statistics of each row group within a block (the in-memory
    kernel), and the check of the block's values."""
    groups = group_moments(X, Y, sample_weight, labels, n_groups)
    whole = SufficientStats.empty(X.shape[1], Y.shape[1], True)
    for stats in groups:
        whole = whole.merge(stats)
    return groups, _block_check(X, Y, sample_weight, whole, _suspect(whole))


def _merge_groups_checked(left, right):
    merged = [a.merge(b) for a, b in zip(left[0], right[0])]
    return merged, left[1].merge(right[1])


def _merge_checked(left, right):
    return left[0].merge(right[0]), left[1].merge(right[1])


def _means_block(X, Y, sample_weight):
    sw = sample_weight.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        sums = (
            np.asarray(sw.sum()),
            np.asarray(X.T @ sample_weight, dtype=np.float64),
            np.asarray(sample_weight @ Y, dtype=np.float64),
        )
    suspect = not all(np.isfinite(s).all() for s in sums) or not sums[0] > 0
    # The first of many passes: its magnitude scan of every column is cheap.
    return sums, InputCheck.of(X, Y, sample_weight, suspect, _extremes(X))


def _merge_sums_checked(left, right):
    return _add(left[0], right[0]), left[1].merge(right[1])


def _add(left, right):
    """Sum of two tuples of arrays (``None`` entries stay ``None``)."""
    return tuple(None if a is None else a + b for a, b in zip(left, right))


def _pass_block(X, Y, sample_weight, coef, intercept, with_y, gradient):
    return kernel.data_pass(
        X, Y if with_y else None, coef, intercept, sample_weight, gradient=gradient
    )


def _sq_norms_block(X, Y, sample_weight, vec, offset):
    return (kernel.weighted_sq_norms(X, vec, offset, sample_weight),)


def _moments_block(X, Y, sample_weight, y_mean):
    return kernel.moments_at_zero(X, Y, sample_weight, y_mean)


def _centred_gradient_block(X, Y, sample_weight, x_mean, y_mean, coef):
    return (kernel.centred_gradient(X, Y, sample_weight, x_mean, y_mean, coef),)


def _exact_gradient_block(X, Y, sample_weight, coef, intercept, low):
    return refine.exact_gradient_parts(X, Y, sample_weight, coef, intercept, low)


def _exact_moments_block(X, Y, sample_weight):
    return refine.exact_moments(X, Y, sample_weight)


def _qr_block(X, Y, sample_weight, x_mean, y_mean):
    return qr_factor(X, Y, sample_weight, x_mean, y_mean)


def _max_row_block(X, Y, sample_weight, x_mean):
    return kernel.max_row_sq_norm(X, sample_weight, x_mean)


def reduce_blocks(source, block_function, combine, *args):
    """``block_function(X, Y, s, *args)`` on every row block, combined by a
    pairwise tree of ``combine`` tasks: one computation, on the cluster."""
    import dask

    apply = dask.delayed(block_function, pure=True)
    merge = dask.delayed(combine, pure=True)
    parts = [apply(*block, *args) for block in source.blocks()]
    while len(parts) > 1:
        pairs = [merge(a, b) for a, b in zip(parts[::2], parts[1::2])]
        parts = pairs + parts[len(pairs) * 2 :]
    return dask.compute(parts[0])[0]


# --------------------------------------------------------------------------
# The data source.


@dataclass(frozen=True)
class DaskSource(RowArrays):
    """Validated Dask data: ``X`` (n, d) in one column chunk, ``Y`` (n, k) and
    ``sample_weight`` (n,) in the dtype and row chunks of ``X``.

    ``persisted`` keeps the blocks in the workers' memory for repeated
    passes (``persist``). Mini-batches and validation splits need random
    access to the rows: ``row_access`` is False.
    """

    X: object
    Y: object
    sample_weight: object
    row_access = False
    sparse = False

    def blocks(self):
        """Row-aligned ``(X, Y, sample_weight)`` blocks as Delayed objects."""
        return zip(
            self.X.to_delayed().ravel(),
            self.Y.to_delayed().ravel(),
            self.sample_weight.to_delayed().ravel(),
        )

    def persist(self):
        """The same data with its blocks kept in the workers' memory."""
        import dask

        return DaskSource(*dask.persist(self.X, self.Y, self.sample_weight))

    def means(self, fit_intercept):
        (sw_sum, x_sum, y_sum), check = reduce_blocks(
            self, _means_block, _merge_sums_checked
        )
        sw_sum = float(sw_sum)
        check.raise_for_values(sw_sum)
        x_mean, y_mean = x_sum / sw_sum, y_sum / sw_sum
        for name, mean in (("X", x_mean), ("y", y_mean)):
            if not np.isfinite(mean).all():
                raise_overflow(name)
        if not fit_intercept:
            return sw_sum, np.zeros_like(x_mean), np.zeros_like(y_mean)
        return sw_sum, x_mean, y_mean

    def statistics(self, fit_intercept, *, with_factor=False, shifts=None):
        stats, check = reduce_blocks(
            self, _stats_block, _merge_checked, fit_intercept, with_factor, shifts
        )
        check.raise_for_values(stats.sw_sum)
        if not (stats.finite and np.isfinite(stats.yy).all()):
            x_finite = np.isfinite(stats.xx).all() and np.isfinite(stats.x_mean).all()
            raise_overflow("y" if x_finite else "X")
        return stats

    def group_statistics(self, labels, n_groups):
        """Centred statistics of each row group (``labels[i]`` the group of
        row i, -1 for none): one reduction, the labels shipped with the row
        blocks."""
        import dask
        import dask.array as da

        label_blocks = da.from_array(labels, chunks=(self.X.chunks[0],))
        apply = dask.delayed(_groups_block, pure=True)
        merge = dask.delayed(_merge_groups_checked, pure=True)
        parts = [
            apply(*block, group, n_groups)
            for block, group in zip(self.blocks(), label_blocks.to_delayed().ravel())
        ]
        while len(parts) > 1:
            pairs = [merge(a, b) for a, b in zip(parts[::2], parts[1::2])]
            parts = pairs + parts[len(pairs) * 2 :]
        groups, check = dask.compute(parts[0])[0]
        total = sum(stats.sw_sum for stats in groups)
        check.raise_for_values(total)
        if not all(stats.finite and np.isfinite(stats.yy).all() for stats in groups):
            raise_overflow("X")
        return groups

    def data_pass(self, coef, intercept, *, with_y=True, gradient=True):
        return reduce_blocks(self, _pass_block, _add, coef, intercept, with_y, gradient)

    def sq_norms(self, vec, offset):
        (sq,) = reduce_blocks(self, _sq_norms_block, _add, vec, offset)
        return sq

    def moments_at_zero(self, fit_intercept):
        # The first reduction validates the values (and gives ȳ).
        sw_sum, _, y_mean = self.means(fit_intercept)
        if not fit_intercept:
            y_mean = np.zeros(self.n_outputs)
        moments, weighted_sum, sq = reduce_blocks(self, _moments_block, _add, y_mean)
        return sw_sum, y_mean, moments, weighted_sum, sq

    def centred_gradient(self, x_mean, y_mean, coef):
        (grad,) = reduce_blocks(
            self, _centred_gradient_block, _add, x_mean, y_mean, coef
        )
        return grad

    def exact_gradient(self, coef, intercept, low=None):
        """The double-double gradient: block parts added in double-double
        on the workers, rounded once on the client."""
        parts = reduce_blocks(
            self,
            _exact_gradient_block,
            refine.add_gradient_parts,
            coef,
            intercept,
            low,
        )
        return refine.finish_gradient(parts)

    def exact_moments(self):
        return reduce_blocks(self, _exact_moments_block, refine.add_moments)

    def qr_factor(self, x_mean, y_mean):
        """TSQR: each block's factor, stacked and re-factored in a tree."""
        return reduce_blocks(self, _qr_block, stack_factors, x_mean, y_mean)

    def max_row_sq_norm(self, x_mean):
        return float(reduce_blocks(self, _max_row_block, max, x_mean))

    def column_magnitudes(self, *, every_row=False):
        return None  # extreme magnitudes raise in the first reduction

    def column_ranges(self):
        return None  # tiny columns raise in the first reduction

    def extreme_units(self, *, scale_x=True):
        return Units()

    def rescaled(self, units):
        """The data in other units, lazily (chunks continuing an in-memory
        ``partial_fit`` take the units chosen there)."""
        if units.identity:
            return self
        return DaskSource(
            self.X * units.x_scale if units.x_scale != 1.0 else self.X,
            self.Y * units.y_scale if units.y_scale != 1.0 else self.Y,
            self.sample_weight,
        )

    def column_scaled(self, columns):
        return DaskSource(self.X * columns, self.Y, self.sample_weight)

    def row_gram(self, x_mean):
        import dask

        gram, shifted, weights = dask.compute(
            self.X @ self.X.T, self.X @ x_mean.astype(self.dtype), self.sample_weight
        )
        root = np.sqrt(np.asarray(weights, dtype=np.float64))
        return centre_row_gram(np.asarray(gram), np.asarray(shifted), x_mean, root)

    def matvec(self, coef):
        return np.asarray((self.X @ coef.astype(self.dtype)).compute(), np.float64)

    def rmatvec(self, columns):
        import dask.array as da

        columns = da.from_array(columns, chunks=(self.X.chunks[0], -1))
        return np.asarray((self.X.T @ columns).compute(), dtype=np.float64)

    def weights(self):
        return np.asarray(self.sample_weight.compute(), dtype=np.float64)

    def targets(self):
        return np.asarray(self.Y.compute(), dtype=np.float64)


# --------------------------------------------------------------------------
# Prediction: lazy.


def _predict_block(X, coef, intercept):
    with np.errstate(over="ignore", invalid="ignore"):
        y_pred = X @ coef.T
        y_pred += intercept
    if not np.isfinite(y_pred).all():
        message = nonfinite_message("X", X)
        if message:
            raise ValueError(message)
        raise ValueError(
            "The predictions overflow: X is finite but too large for the "
            "fitted coefficients. Rescale X as it was during fit."
        )
    return y_pred


def predict_lazy(X, coef, intercept):
    """Lazy predictions of a validated Dask ``X``: a Dask array with its row
    chunks, of shape (n_samples,) or (n_samples, n_targets) as ``coef``."""
    dtype = np.result_type(X.dtype, coef.dtype)
    block = partial(_predict_block, coef=coef, intercept=intercept)
    if coef.ndim == 1:
        return X.map_blocks(
            block, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype=dtype)
        )
    return X.map_blocks(
        block,
        chunks=(X.chunks[0], (coef.shape[0],)),
        dtype=dtype,
        meta=np.empty((0, 0), dtype=dtype),
    )
