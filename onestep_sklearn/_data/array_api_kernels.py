"""The device kernels of :class:`~.array_api.ArrayAPISource`: the questions
of ``_data.questions`` whose work grows with ``n_samples``, written against
the array API, each giving what the question's numpy block kernel gives on
all the rows (results of ``n_features`` rows, float64, on the host).

A kernel returns NotImplemented where the numpy route must answer (non-finite
statistics, whose error it words; a QR factor): the source then runs the
numpy block kernel on host copies of the rows.

Values are not scanned here: the array API validation (``_namespace``)
checked y and the weights; X is known finite when the results of the first
questions (means, statistics, moments) are, as in memory. Where they are
not, the kernel declines and the numpy route scans the values and raises
the in-memory error, in its words.
"""

from dataclasses import replace

import numpy as np

from .._kernel.stats import SufficientStats
from . import questions
from .checks import InputCheck

#: Rows of the pilot (the shift of the statistics, the units).
PILOT = 1024


def _check(source):
    """The InputCheck of validated values: their smallest weight only."""
    if source.weights_xp is None:
        return InputCheck(1.0)
    return InputCheck(float(np.min(source.sample_weight, initial=np.inf)))


def _means(source, scan_extremes):
    x_sum, y_sum = np.zeros(source.n_features), np.zeros(source.n_outputs)
    for rows in source.chunks():
        X, Y, weights = (
            source.X[rows, ...],
            source.Y[rows, ...],
            source.weights_of(rows),
        )
        x_sum += source.colsum(X if weights is None else X * weights)
        y_sum += source.colsum(Y if weights is None else Y * weights)
    if not (np.isfinite(x_sum).all() and np.isfinite(y_sum).all()):
        return NotImplemented  # NaN or infinity in X: the numpy route words it
    return (np.asarray(source.sw_sum), x_sum, y_sum), _check(source)


def _target_sums(source):
    y_sum = np.zeros(source.n_outputs)
    for rows in source.chunks():
        Y, weights = source.Y[rows, ...], source.weights_of(rows)
        y_sum += source.colsum(Y if weights is None else Y * weights)
    return np.asarray(source.sw_sum), y_sum


def _pilot_shift(source, fit_intercept):
    """``(c, c_y)``: the weighted means of the first rows (zeros without an
    intercept, or when they have no weight)."""
    zeros = np.zeros(source.n_features), np.zeros(source.n_outputs)
    if not fit_intercept:
        return zeros
    rows = slice(0, min(PILOT, source.n_samples))
    weights = source.sample_weight[rows].astype(np.float64)
    if not weights.sum() > 0:
        return zeros
    X = source.to_host_rows(source.X, rows)
    Y = source.to_host_rows(source.Y, rows)
    with np.errstate(all="ignore"):  # NaN or infinity: the results tell
        x_mean = weights @ X / weights.sum()
        spread = np.sqrt(np.maximum(weights @ X**2 / weights.sum() - x_mean**2, 0))
    if np.all(np.abs(x_mean) <= spread):
        # Data about centred already: the moments about 0 lose at most a bit
        # to the final centring, and X's rows go to the products uncopied.
        x_mean = np.zeros_like(x_mean)
    return x_mean, weights @ Y / weights.sum()


def _statistics(source, fit_intercept, with_factor, shifts, scan_extremes):
    if with_factor:
        return NotImplemented  # the QR factor: numpy blocks, stacked
    xp = source.xp
    if shifts is None or not fit_intercept:
        shifts = _pilot_shift(source, fit_intercept)
    shift, y_shift = (np.asarray(part, dtype=np.float64) for part in shifts[:2])
    c = source.on_device(np.reshape(shift, (1, -1)))
    c_y = source.on_device(np.reshape(y_shift, (1, -1)))
    d = source.n_features
    width = d + source.n_outputs + 1
    augmented = np.zeros((width, width))
    for rows in source.chunks():
        # The moments of [x − c, y − c_y, 1]: X shifted in one copy, its
        # Gram and its products with the few columns [y − c_y, 1].
        X = source.X[rows, ...] - c if np.any(shift) else source.X[rows, ...]
        W = xp.concat([source.Y[rows, ...] - c_y, source.ones(X.shape[0])], axis=1)
        weights = source.weights_of(rows)
        XS, WS = (X, W) if weights is None else (X * weights, W * weights)
        augmented[:d, :d] += source.cross(X, XS)
        augmented[:d, d:] += source.cross(X, WS)
        augmented[d:, d:] += source.cross(W, WS)
    augmented[d:, :d] = augmented[:d, d:].T
    stats = _finish(augmented, shift, y_shift, source, fit_intercept)
    if not (stats.finite and np.isfinite(stats.yy).all()):
        return NotImplemented  # overflow: the numpy route words the error
    return stats, _check(source)


def _finish(augmented, shift, y_shift, source, fit_intercept):
    """The :class:`SufficientStats` of ``Σ s·zzᵀ`` about ``(c, c_y)``,
    centred exactly (``G − m·mᵀ/Σs``) in float64, as ``_kernel.stats``
    finishes its own pass."""
    d, width, sw_sum = source.n_features, augmented.shape[0] - 1, source.sw_sum
    gram, xy = augmented[:d, :d], augmented[:d, d:width]
    yy = np.diag(augmented)[d:width].copy()
    x_mean, y_mean = np.zeros(d), np.zeros(width - d)
    x_delta, y_delta = x_mean.copy(), y_mean.copy()
    if fit_intercept:
        moment, y_sum = augmented[:d, width], augmented[d:width, width]
        x_delta, y_delta = moment / sw_sum, y_sum / sw_sum
        x_mean, y_mean = shift + x_delta, y_shift + y_delta
        gram = gram - np.outer(moment, moment) / sw_sum
        xy = xy - np.outer(moment, y_sum) / sw_sum
        yy = yy - y_sum**2 / sw_sum
    gram, xy = np.ascontiguousarray(gram), np.ascontiguousarray(xy)
    return SufficientStats(
        sw_sum,
        x_mean,
        y_mean,
        gram,
        xy,
        yy,
        source.n_samples,
        fit_intercept,
        shifts=(shift, y_shift, x_delta, y_delta),
    )


def _groups(source, labels, n_groups, scan_extremes):
    """The statistics of each row group, each on the device: contiguous
    groups (K-fold) as views, others gathered once (one copy of X in all)."""
    xp, groups = source.xp, []
    for group in range(n_groups):
        rows = np.flatnonzero(labels == group)
        weights = source.sample_weight[rows]
        sw_sum = float(weights.sum(dtype=np.float64))
        if not sw_sum > 0:
            empty = SufficientStats.empty(source.n_features, source.n_outputs, True)
            groups.append(replace(empty, n_samples=rows.size))
            continue
        if rows[-1] - rows[0] + 1 == rows.size:
            index = slice(int(rows[0]), int(rows[-1]) + 1)
            X, Y = source.X[index, ...], source.Y[index, ...]
        else:
            index = xp.asarray(rows, device=source.device)
            X, Y = xp.take(source.X, index, axis=0), xp.take(source.Y, index, axis=0)
        part = replace(source, X=X, Y=Y, weights_xp=None, sw_sum=sw_sum)
        if source.weights_xp is not None:
            part = replace(part, weights_xp=source.on_device(weights))
        stats = _statistics(part, True, False, None, scan_extremes)
        if stats is NotImplemented:
            return NotImplemented
        groups.append(stats[0])
    return groups, _check(source)


def _moments(source, y_mean):
    xp = source.xp
    y_mean_x = source.on_device(np.reshape(y_mean, (1, -1)))
    moments = np.zeros((source.n_features, source.n_outputs + 1))
    weighted_sum, sq = np.zeros(source.n_outputs), np.zeros(source.n_outputs)
    for rows in source.chunks():
        centred = source.Y[rows, ...] - y_mean_x
        weights = source.weights_of(rows, ones=True)
        weighted = centred * weights
        sq += source.colsum(weighted * centred)
        weighted_sum += source.colsum(weighted)
        columns = xp.concat([weighted, weights], axis=1)
        moments += source.cross(source.X[rows, ...], columns)
    if not np.isfinite(moments).all():
        return NotImplemented
    return (moments, weighted_sum, sq), _check(source)


def _data_pass(source, coef, intercept, with_y=True, gradient=True):
    coef_x = source.on_device(coef)
    intercept_x = source.on_device(np.reshape(intercept, (1, -1)))
    n_outputs = coef.shape[1]
    sq, rsum = np.zeros(n_outputs), np.zeros(n_outputs)
    xtr = np.zeros(coef.shape) if gradient else None
    for rows in source.chunks():
        resid = source.X[rows, ...] @ coef_x + intercept_x
        if with_y:
            resid = resid - source.Y[rows, ...]
        weights = source.weights_of(rows)
        weighted = resid if weights is None else resid * weights
        sq += source.colsum(weighted * resid)
        rsum += source.colsum(weighted)
        if gradient:
            xtr += source.cross(source.X[rows, ...], weighted)
    return sq, xtr, rsum


def _sq_norms(source, vec, offset):
    vec_x = source.on_device(vec)
    offset_x = source.on_device(np.reshape(offset, (1, -1)))
    sq = np.zeros(vec.shape[1])
    for rows in source.chunks():
        product = source.X[rows, ...] @ vec_x - offset_x
        weights = source.weights_of(rows)
        weighted = product if weights is None else product * weights
        sq += source.colsum(weighted * product)
    return (sq,)


def _positive(source, rows, values):
    """``values`` (rows first) with the rows of zero weight set to 0."""
    weights = source.weights_of(rows)
    if weights is None:
        return values
    xp = source.xp
    if values.ndim == 1:
        weights = weights[:, 0]
    return xp.where(weights > 0, values, xp.zeros_like(values))


def _max_row(source, x_mean):
    xp = source.xp
    centre = source.on_device(np.reshape(x_mean, (1, -1)))
    largest = 0.0
    for rows in source.chunks():
        centred = source.X[rows, ...] - centre
        norms = _positive(source, rows, xp.sum(centred * centred, axis=1))
        largest = max(largest, float(xp.max(norms)))
    return largest


def _magnitudes(source, every_row):
    """Largest |x| per column over the first rows (``every_row``: all)."""
    xp = source.xp
    rows = slice(0, source.n_samples if every_row else min(PILOT, source.n_samples))
    magnitudes = _positive(source, rows, xp.abs(source.X[rows, ...]))
    return source.to_host_rows(xp.max(magnitudes, axis=0), slice(None))


def _target_magnitude(source):
    rows = slice(0, source.n_samples)
    magnitudes = _positive(source, rows, source.xp.abs(source.Y))
    return float(source.xp.max(magnitudes))


#: The block kernels of ``_data.questions`` answered on the device.
DEVICE_KERNELS = {
    questions._means_block: _means,
    questions._target_sums_block: _target_sums,
    questions._stats_block: _statistics,
    questions._moments_block: _moments,
    questions._groups_block: _groups,
    questions._pass_block: _data_pass,
    questions._batch_block: _data_pass,
    questions._sq_norms_block: _sq_norms,
    questions._max_row_block: _max_row,
    questions._magnitudes_block: _magnitudes,
    questions._target_magnitude_block: _target_magnitude,
}
