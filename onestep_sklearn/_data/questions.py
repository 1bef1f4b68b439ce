"""Every question the solvers ask of the data, written once for every source.

Each question is a block kernel (``_kernel`` functions on one block of rows
``(X, Y, s)``: numpy/scipy arrays, or arrays of an array API namespace on
their device, any number of rows; ``_kernel.xp_ops``), an exact combine
(sums, the Chan merge of the statistics, stacked QR factors, maxima) and a
finish on the small result, run through :meth:`DataSource.reduce
<._data.protocol.DataSource.reduce>`. A new question is one function here,
whatever the backend; a new backend answers all of them (but for the
few kernels declared :func:`host_only`, numpy-only).

The first questions of a fit (``means``, ``statistics``,
``group_statistics``, ``moments_at_zero``) validate the values, on the
blocks where they live (:class:`~.dask_checks.InputCheck`): a block's
values are scanned only when its results are not finite (or it has no
weight), so a clean fit pays nothing. Sources that do not fit extreme
magnitudes in other units (``rescales`` False) also scan the magnitudes in
their first reduction and refuse those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp

from .._kernel import factor, refine
from .._kernel import objective as kernel
from .._kernel.row_groups import centre_row_gram, group_moments
from .._kernel.sparse_ops import hessian_operator as _hessian_operator
from .._kernel.stats import SufficientStats
from .._kernel.units import Units, pilot_magnitude, powers_of_two, target_magnitude
from .._kernel.weights import as_float64, column_sums, weighted_sum
from .._kernel.xp_ops import total
from .checks import InputCheck, extremes, raise_overflow

if TYPE_CHECKING:
    from .protocol import DataSource


def host_only(block_kernel):
    """Declare ``block_kernel`` numpy-only (device sources run it on host
    copies of row chunks): float64 error-free arithmetic (QR factors,
    double-double) for rare ill-conditioned fits; ranges of underflowed
    columns."""
    block_kernel.host_only = True
    return block_kernel


def _add(left, right):
    """Sum of two tuples of arrays (``None`` entries stay ``None``)."""
    return tuple(None if a is None else a + b for a, b in zip(left, right))


def _merge_checked(left, right):
    """Combine ``(statistics, InputCheck)`` pairs."""
    return left[0].merge(right[0]), left[1].merge(right[1])


def _add_checked(left, right):
    """Combine ``(tuple of sums, InputCheck)`` pairs."""
    return _add(left[0], right[0]), left[1].merge(right[1])


def _merge_groups_checked(left, right):
    return [a.merge(b) for a, b in zip(left[0], right[0])], left[1].merge(right[1])


def _check(X, Y, sample_weight, suspect, extremes=(False, False)):
    values = X.data if sp.issparse(X) else X  # the stored values are scanned
    return InputCheck.of(values, Y, sample_weight, suspect, extremes)


def _finite(*arrays):
    return all(np.isfinite(a).all() for a in arrays)


# --------------------------------------------------------------------------
# The validating questions.


def _means_block(X, Y, sample_weight, scan_extremes):
    with np.errstate(over="ignore", invalid="ignore"):
        sums = (
            np.asarray(total(sample_weight)),
            column_sums(X, sample_weight),
            weighted_sum(sample_weight, Y).ravel(),
        )
    suspect = not _finite(*sums) or not sums[0] > 0
    # The first of many passes: its magnitude scan of every column is cheap.
    magnitudes = extremes(X) if scan_extremes else (False, False)
    return sums, _check(X, Y, sample_weight, suspect, magnitudes)


def means(source: DataSource, fit_intercept: bool) -> tuple[float, Any, Any]:
    """``(Σs, x̄, ȳ)``; zero means without an intercept (the pass runs
    anyway: ``Xᵀs`` is the cheapest result on X to validate it by)."""
    (sw_sum, x_sum, y_sum), check = source.reduce(
        _means_block, _add_checked, not source.rescales
    )
    sw_sum = float(sw_sum)
    check.raise_for_values(sw_sum)
    with np.errstate(over="ignore", invalid="ignore"):
        x_mean, y_mean = x_sum / sw_sum, y_sum / sw_sum
    for name, mean in (("X", x_mean), ("y", y_mean)):
        if not np.isfinite(mean).all():
            raise_overflow(name, source.rescales)
    if not fit_intercept:
        return sw_sum, np.zeros_like(x_mean), np.zeros_like(y_mean)
    return sw_sum, x_mean, y_mean


def _suspect(stats):
    return not (stats.finite and np.isfinite(stats.yy).all()) or stats.sw_sum == 0


def _stats_check(X, Y, sample_weight, stats, suspect, scan_extremes):
    tiny = False
    if scan_extremes:
        # Columns with (next to) no sum of squares: constant, or underflowed.
        flat = np.diag(stats.xx) <= np.finfo(np.float64).tiny * max(stats.sw_sum, 1)
        tiny, _ = extremes(X, flat)  # large values show as non-finite results
    return _check(X, Y, sample_weight, suspect, (tiny, False))


def _stats_block(X, Y, sample_weight, fit_intercept, shifts, scan):
    stats = SufficientStats.from_data(X, Y, sample_weight, fit_intercept, shifts)
    return stats, _stats_check(X, Y, sample_weight, stats, _suspect(stats), scan)


@host_only
def _stats_factor_block(X, Y, sample_weight, fit_intercept, shifts, scan):
    stats, check = _stats_block(X, Y, sample_weight, fit_intercept, shifts, scan)
    if not _suspect(stats):
        stats = stats.with_factor(X, Y, sample_weight)
    return stats, check


def _raise_for_stats(stats, rescaled):
    if not (stats.finite and np.isfinite(stats.yy).all()):
        x_finite = np.isfinite(stats.xx).all() and np.isfinite(stats.x_mean).all()
        raise_overflow("y" if x_finite else "X", rescaled)


def statistics(source, fit_intercept, *, with_factor=False, shifts=None):
    """The sufficient statistics of all rows (and their QR factor), about
    the given ``shifts`` ``(c, c_y)`` when set (``partial_fit``)."""
    stats, check = source.reduce(
        _stats_factor_block if with_factor else _stats_block,
        _merge_checked,
        fit_intercept,
        shifts,
        not source.rescales,
    )
    check.raise_for_values(stats.sw_sum)
    _raise_for_stats(stats, source.rescales)
    return stats


def _groups_block(X, Y, sample_weight, labels, n_groups, scan_extremes):
    groups = group_moments(X, Y, sample_weight, labels, n_groups)
    whole = SufficientStats.empty(X.shape[1], Y.shape[1], True)
    for stats in groups:
        whole = whole.merge(stats)
    check = _stats_check(X, Y, sample_weight, whole, _suspect(whole), scan_extremes)
    return groups, check


def group_statistics(source, labels, n_groups):
    """Centred statistics of each row group (``labels[i]`` in
    ``range(n_groups)``, or -1: in none), in one pass over X."""
    groups, check = source.reduce(
        _groups_block,
        _merge_groups_checked,
        n_groups,
        not source.rescales,
        rows=(labels,),
    )
    check.raise_for_values(sum(stats.sw_sum for stats in groups))
    for stats in groups:
        _raise_for_stats(stats, source.rescales)
    return groups


def _target_sums_block(X, Y, sample_weight):
    return (
        np.asarray(total(sample_weight)),
        weighted_sum(sample_weight, Y).ravel(),
    )


def _moments_block(X, Y, sample_weight, y_mean):
    moments, weighted_sum, sq = kernel.moments_at_zero(X, Y, sample_weight, y_mean)
    suspect = not _finite(moments, sq)
    return (moments, weighted_sum, sq), _check(X, Y, sample_weight, suspect)


def moments_at_zero(source, fit_intercept):
    """``(Σs, ȳ, moments, Σs(y − ȳ), Σs(y − ȳ)²)``: the sums of
    ``_kernel.objective.moments_at_zero`` over all rows, validated. ȳ costs
    a pass over ``Y`` only (over X too where the magnitudes are scanned)."""
    if source.rescales:
        sw_sum, y_sum = source.reduce(_target_sums_block, _add)
        sw_sum = float(sw_sum)
        y_mean = y_sum / sw_sum
    else:
        sw_sum, _, y_mean = means(source, fit_intercept)
    if not fit_intercept:
        y_mean = np.zeros(source.n_outputs)
    (moments, weighted_sum, sq), check = source.reduce(
        _moments_block, _add_checked, y_mean
    )
    check.raise_for_values(sw_sum)
    if not np.isfinite(moments).all():
        raise_overflow("X", source.rescales)
    return sw_sum, y_mean, moments, weighted_sum, sq


# --------------------------------------------------------------------------
# Passes on validated data.


def _pass_block(X, Y, sample_weight, coef, intercept, with_y, gradient):
    Y = Y if with_y else None
    return kernel.data_pass(X, Y, coef, intercept, sample_weight, gradient=gradient)


def data_pass(source, coef, intercept, *, with_y=True, gradient=True):
    """``(Σ s r², XᵀS r, Σ s r)`` with ``r = X·coef + intercept − y``
    (``y`` taken as 0 when ``with_y`` is False: a Hessian product)."""
    return source.reduce(_pass_block, _add, coef, intercept, with_y, gradient)


def _batch_block(X, Y, sample_weight, coef, intercept):
    return kernel.batch_products(X, Y, coef, intercept, sample_weight)


def batch_products(source, coef, intercept):
    """:func:`data_pass` for a mini-batch's few rows (fewer calls per row)."""
    return source.reduce(_batch_block, _add, coef, intercept)


def _sq_norms_block(X, Y, sample_weight, vec, offset):
    return (kernel.weighted_sq_norms(X, vec, offset, sample_weight),)


def sq_norms(source, vec, offset):
    """``Σ s (xᵀv − c)²`` per column of ``vec``: no ``Xᵀ`` product."""
    return source.reduce(_sq_norms_block, _add, vec, offset)[0]


@host_only
def _exact_gradient_block(X, Y, sample_weight, coef, intercept, low):
    return refine.exact_gradient_parts(X, Y, sample_weight, coef, intercept, low)


def exact_gradient(source, coef, intercept, low=None):
    """``(XᵀS(y − Xw − b), Σ s(y − Xw − b))`` in double-double, the block
    parts added in double-double and rounded once (``_kernel.refine``)."""
    parts = source.reduce(
        _exact_gradient_block, refine.add_gradient_parts, coef, intercept, low
    )
    return refine.finish_gradient(parts)


@host_only
def _exact_moments_block(X, Y, sample_weight):
    return refine.exact_moments(X, Y, sample_weight)


def exact_moments(source):
    """The raw moments of all rows in double-double (``_kernel.refine``)."""
    return source.reduce(_exact_moments_block, refine.add_moments)


@host_only
def _qr_block(X, Y, sample_weight, x_mean, y_mean):
    return factor.qr_factor(X, Y, sample_weight, x_mean, y_mean)


def qr_factor(source, x_mean, y_mean):
    """R of ``[Xc·√s | yc·√s]``: each block's factor, stacked and
    re-factored (TSQR; ``_kernel.factor``)."""
    return source.reduce(_qr_block, factor.stack_factors, x_mean, y_mean)


def _max_row_block(X, Y, sample_weight, x_mean):
    return kernel.max_row_sq_norm(X, sample_weight, x_mean)


def max_row_sq_norm(source, x_mean):
    """``maxᵢ ‖xᵢ − x̄‖²`` over the rows of positive weight."""
    return float(source.reduce(_max_row_block, max, x_mean))


# --------------------------------------------------------------------------
# Units (sources that rescale only: elsewhere the first reduction refuses
# extreme magnitudes).


def _magnitudes_block(X, Y, sample_weight, every_row):
    if every_row:
        return kernel.max_abs_columns(X, sample_weight)
    return pilot_magnitude(X, sample_weight)


def column_magnitudes(source, *, every_row=False):
    """Largest |x| per column over the first rows of positive weight of each
    block (a pilot), or over ``every_row``; None on sources that do not
    rescale."""
    if not source.rescales:
        return None
    return source.reduce(_magnitudes_block, np.maximum, every_row)


@host_only
def _bounds_block(X, Y, sample_weight):
    return kernel.column_bounds(X, sample_weight)


def _merge_bounds(left, right):
    return np.minimum(left[0], right[0]), np.maximum(left[1], right[1])


def column_ranges(source):
    """``max − min`` per column (one pass): tells a constant column from one
    whose variance underflowed; None on sources that do not rescale."""
    if not source.rescales:
        return None
    low, high = source.reduce(_bounds_block, _merge_bounds)
    return np.where(high >= low, high - low, 0.0)


def _target_magnitude_block(X, Y, sample_weight):
    return target_magnitude(Y, sample_weight)


def extreme_units(source, *, scale_x=True):
    """Powers of two for extreme magnitudes, read off the first rows (a
    pilot): a later extreme row shows up as an overflow, which the
    validation of the results reports. Identity on sources that do not
    rescale."""
    if not source.rescales:
        return Units()
    y_max = source.reduce(_target_magnitude_block, max)
    x_scale = 1.0
    if scale_x:
        x_scale = float(powers_of_two(column_magnitudes(source).max(initial=0.0)))
    return Units(x_scale, float(powers_of_two(y_max)))


def column_scaled(source, columns):
    """The data with column j multiplied by ``columns[j]``."""
    return source.rescaled(Units(columns=np.asarray(columns)))


# --------------------------------------------------------------------------
# Small data (the wide dual, n < d) and the Krylov routes: on the arrays.


def row_gram(source, x_mean):
    """``√S·Xc·Xcᵀ·√S`` (n × n), for wide data."""
    X, _, sample_weight = source.arrays()
    root = np.sqrt(np.asarray(sample_weight, dtype=np.float64))
    gram = X @ X.T
    gram = gram.toarray() if sp.issparse(gram) else np.asarray(gram)
    shifted = matvec(source, x_mean[:, None])[:, 0]
    return centre_row_gram(gram, shifted, x_mean, root)


def matvec(source, coef):
    """``X @ coef`` as float64 (n, k)."""
    X = source.arrays()[0]
    return np.asarray(X @ coef.astype(X.dtype), dtype=np.float64)


def rmatvec(source, columns):
    """``Xᵀ @ columns`` as float64 (d, k)."""
    return np.asarray(source.arrays()[0].T @ columns, dtype=np.float64)


def weights(source):
    """The sample weights as a float64 array."""
    return as_float64(source.arrays()[2])


def targets(source):
    """``Y`` as a float64 array."""
    return np.asarray(source.arrays()[1], dtype=np.float64)


def hessian_operator(source, x_mean, sw_sum, l2_reg_strength):
    """The Hessian as a LinearOperator of two sparse products on X itself
    (``krylov`` sources), or None: other sources use data-pass products."""
    if not source.krylov:
        return None
    X, _, sample_weight = source.arrays()
    return _hessian_operator(X, sample_weight, x_mean, sw_sum, l2_reg_strength)
