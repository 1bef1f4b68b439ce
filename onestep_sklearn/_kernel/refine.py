"""Iterative refinement of least squares with error-free residuals.

Float64 data are exact binary numbers, so their exact least-squares solution
is a well-defined target that a float64 answer can reach to its last bit. A
backward-stable solve (QR, or Cholesky of the Gram) misses it by about
cond²·eps·‖r‖ when the residual ``r`` is large, because ``Xᵀr`` then cancels
to a tiny vector in rounding noise. Here that gradient is computed in
double-double arithmetic (error-free transformations: Dekker's TwoProduct,
Knuth's TwoSum and Rump–Ogita–Oishi extraction), about 32 digits, and the
solution is refined with the existing float64 factor until the correction
stops shrinking. The fixed point is then set by the accurate gradient alone;
the factor only sets the rate (about cond(equilibrated X)²·eps per step).

The unknowns are the coefficients AND the intercept (the intercept is not
profiled out in rounded arithmetic: ``ȳ − x̄ᵀw`` cancels badly on
polynomial designs). With ``Xc = X − x̄`` the normal equations of a
correction ``(δw, δb)`` for a gradient ``(g, h) = (XᵀSr, Σsr)`` are::

    XcᵀSXc·δw = g − x̄·h,        δb = h/Σs − x̄ᵀδw,

so the centred factor the solvers already hold serves as the preconditioner.

Pure functions of arrays (numpy only), no estimator and no scikit-learn.
Shapes: ``X`` (n, d) dense float64 or CSR, ``Y`` (n, k), ``coef`` (d, k),
``intercept`` (k,), ``sample_weight`` (n,).
"""

import numpy as np
import scipy.sparse as sp

from .weights import all_ones, as_float64

# Dekker's splitting constant 2^27 + 1: a float64 splits into two halves of
# 26 bits each, whose products are exact.
_SPLITTER = 134217729.0
# Row blocks of about this many float64 values: the double-double kernels
# make ~10 temporaries of a block (2 MiB in all), which stay in the cache.
BLOCK_VALUES = 1 << 14
# Each step costs one pass over X. With the solvers' factors a step shrinks
# the error by cond(equilibrated Xc)·eps or better in practice (2e-7 on a
# 10th-degree polynomial, rounding level after one step on the NIST
# problems); 8 steps still reach full precision at a rate of 1e-2. A slower
# contraction is not worth more passes, and a cap bounds a loop whose sizes
# keep shrinking slowly at the rounding level.
MAX_STEPS = 8


def two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``a + b = s + e`` exactly (Knuth)."""
    s = a + b
    virtual = s - a
    return s, (a - (s - virtual)) + (b - virtual)


def _split(a):
    high = _SPLITTER * a
    high = high - (high - a)
    return high, a - high


def two_product(a, b, a_split=None):
    """``(p, e)`` with ``p = fl(a·b)`` and ``a·b = p + e`` exactly (Dekker).

    ``a_split`` is ``_split(a)`` when the caller reuses it. Exact unless a
    product under- or overflows (|a|, |b| below ~1e300/2^27; the estimators
    bring extreme data into range by powers of two first).
    """
    p = a * b
    a_high, a_low = _split(a) if a_split is None else a_split
    b_high, b_low = _split(b)
    e = ((a_high * b_high - p) + a_high * b_low + a_low * b_high) + a_low * b_low
    return p, e


def _extract(values, abs_total):
    """Split each value into a part on the grid of its segment and a rest.

    ``abs_total`` is Σ|values| of the value's segment (broadcast to it).
    With σ a power of two ≥ 2·Σ|v|, ``q = (σ + v) − σ`` is a multiple of
    2⁻⁵³·σ and ``v − q`` is exact with |v − q| ≤ 2⁻⁵³·σ; every partial sum
    of the q's is a multiple of 2⁻⁵³·σ below σ, so the q's add up EXACTLY in
    any order (Rump, Ogita & Oishi's ExtractVector).
    """
    sigma = np.ldexp(1.0, np.frexp(abs_total)[1] + 1)
    high = (sigma + values) - sigma
    return high, values - high


def sum_along(high, low, axis):
    """Double-double sum of ``high + low`` along ``axis``: ``(hi, lo)``.

    Error at most about (m·2⁻⁵³)²·Σ|high| + 2⁻⁵³·Σ|low| for m terms: the
    accuracy of a sum in twice the working precision.
    """
    abs_total = np.sum(np.abs(high), axis=axis, keepdims=True)
    exact, rest = _extract(high, abs_total)
    total = np.sum(exact, axis=axis)
    return two_sum(total, np.sum(rest, axis=axis) + np.sum(low, axis=axis))


def sum_segments(high, low, segments, n_segments):
    """Double-double sums of ``high + low`` per segment id (like ``bincount``)."""
    abs_total = np.bincount(segments, np.abs(high), minlength=n_segments)
    exact, rest = _extract(high, abs_total[segments])
    total = np.bincount(segments, exact, minlength=n_segments)
    rest = np.bincount(segments, rest + low, minlength=n_segments)
    return two_sum(total, rest)


def _block_residual_gradient(block, y, weights, solution, block_split):
    """``(XᵀSr, Σsr)`` of one row block for one output, as double-double.

    ``r = y − Xw − b`` is formed exactly up to double-double rounding, then
    ``S·r`` and the products with X, all through error-free transformations.
    ``solution`` is ``(w, b, w_low, b_low)``: the double-double solution
    ``(w + w_low, b + b_low)``. ``block_split`` is ``_split`` of the block's
    values (shared by outputs).
    """
    coef, intercept, coef_low, intercept_low = solution
    n_rows = y.shape[0]
    if sp.issparse(block):
        rows = np.repeat(np.arange(n_rows), np.diff(block.indptr))
        values = block.data
        product, error = two_product(values, coef[block.indices], block_split)
        error += values * coef_low[block.indices]
        fitted = sum_segments(product, error, rows, n_rows)
    else:
        values = block
        product, error = two_product(values, coef[None, :], block_split)
        error += values * coef_low[None, :]
        fitted = sum_along(product, error, axis=1)
    # r = (y − b) − Xw, both parts double-double.
    shifted, shifted_low = two_sum(y, -intercept)
    resid, resid_low = two_sum(shifted, -fitted[0])
    resid_low += (shifted_low - intercept_low) - fitted[1]
    weighted, error = two_product(weights, resid)
    weighted_low = error + weights * resid_low
    if sp.issparse(block):
        product, error = two_product(values, weighted[rows], block_split)
        error += values * weighted_low[rows]
        grad = sum_segments(product, error, block.indices, block.shape[1])
    else:
        product, error = two_product(values, weighted[:, None], block_split)
        error += values * weighted_low[:, None]
        grad = sum_along(product, error, axis=0)
    return grad, sum_along(weighted, weighted_low, axis=0)


def exact_gradient(X, Y, sample_weight, coef, intercept, low=None):
    """:func:`exact_gradient_parts`, rounded to float64 at the end."""
    return finish_gradient(
        exact_gradient_parts(X, Y, sample_weight, coef, intercept, low)
    )


def finish_gradient(parts):
    """``(XᵀSr, Σsr)`` from the double-double parts, rounded once."""
    grad, total = parts
    return grad[0] + grad[1], total[0] + total[1]


def add_gradient_parts(first, second):
    """The parts of two row blocks together (double-double addition)."""
    (g1, t1), (g2, t2) = first, second
    grad_hi, grad_lo = two_sum(g1[0], g2[0])
    total_hi, total_lo = two_sum(t1[0], t2[0])
    return (
        (grad_hi, grad_lo + g1[1] + g2[1]),
        (total_hi, total_lo + t1[1] + t2[1]),
    )


def exact_gradient_parts(X, Y, sample_weight, coef, intercept, low=None):
    """``XᵀS(y − Xw − b)`` (d, k) and ``Σ s(y − Xw − b)`` (k,), to ~32 digits.

    ``low`` (optional) is ``(w_low, b_low)``: the solution is then the
    double-double ``(coef + w_low, intercept + b_low)``.

    One streaming pass over ``X`` (dense float64, or CSR whose ``data``,
    ``indices`` and ``indptr`` are used directly), row block by row block;
    the block totals are added in double-double too. Returns the
    double-double ``((grad_hi, grad_lo), (total_hi, total_lo))``: the parts
    of separate blocks add with :func:`add_gradient_parts` (a distributed
    pass), and :func:`finish_gradient` rounds them once, at the end: they are
    differences of huge nearly-cancelling sums, correct to about 2⁻¹⁰⁶ of
    those sums.
    """
    n_samples, n_features = X.shape
    n_outputs = Y.shape[1]
    if sp.issparse(X) and X.format != "csr":
        X = X.tocsr()  # row blocks need CSR; copies the sparse arrays only
    grad = [np.zeros((n_features, n_outputs)), np.zeros((n_features, n_outputs))]
    total = [np.zeros(n_outputs), np.zeros(n_outputs)]
    rows = max(1, BLOCK_VALUES // max(1, n_features))
    weights = as_float64(sample_weight)
    coef_low, intercept_low = _lows(coef, intercept, low)
    for start in range(0, n_samples, rows):
        block = X[start : start + rows]
        block_split = _split(block.data if sp.issparse(block) else block)
        for out in range(n_outputs):
            (g_hi, g_lo), (t_hi, t_lo) = _block_residual_gradient(
                block,
                np.asarray(Y[start : start + rows, out], dtype=np.float64),
                weights[start : start + rows],
                (
                    np.asarray(coef[:, out], dtype=np.float64),
                    float(intercept[out]),
                    coef_low[:, out],
                    float(intercept_low[out]),
                ),
                block_split,
            )
            _accumulate(grad, (slice(None), out), g_hi, g_lo)
            _accumulate(total, out, t_hi, t_lo)
    return (grad[0], grad[1]), (total[0], total[1])


def _lows(coef, intercept, low):
    if low is None:
        return np.zeros(np.shape(coef)), np.zeros(np.shape(intercept))
    return np.asarray(low[0], dtype=np.float64), np.asarray(low[1], dtype=np.float64)


def _accumulate(pair, index, high, low):
    s, e = two_sum(pair[0][index], high)
    pair[0][index] = s
    pair[1][index] += e + low


def centred_correction(inverse, x_mean, sw_sum, fit_intercept):
    """The correction ``(δw, δb)`` of a gradient ``(g, h)`` (see the top).

    ``inverse(rhs)`` applies ``(XcᵀSXc + alpha·Σs·I)⁻¹``, from whichever
    float64 factor the solver holds. Without an intercept, ``b = 0`` stays.
    """

    def correct(grad, total):
        if not fit_intercept:
            return inverse(grad), np.zeros_like(total)
        delta = inverse(grad - np.outer(x_mean, total))
        return delta, total / sw_sum - x_mean @ delta

    return correct


def refine_solution(
    gradient, correct, coef, intercept, scale, intercept_scale, max_steps=None
):
    """Refine ``(coef, intercept)`` until the correction stops shrinking.

    Parameters
    ----------
    gradient : callable
        ``gradient(coef, intercept, low) -> (XᵀSr − alpha·Σs·w, Σsr)`` at the
        double-double solution ``coef + low[0]``, ``intercept + low[1]``,
        accurate beyond float64 (e.g. :func:`exact_gradient`).
    correct : callable
        ``correct(grad, total) -> (δw, δb)`` (see :func:`centred_correction`).
    coef, intercept : ndarray of shape (d, k) and (k,)
        The starting solution (a float64 solve).
    scale : ndarray of shape (d,)
        Column norms of ``Xc·√s``: a correction is measured as
        ‖(scale·δw, intercept_scale·δb)‖, a scale-free bound on its change
        to the fitted values.
    intercept_scale : float
        ``√Σs`` (0 without an intercept).
    max_steps : int, default=MAX_STEPS
        Cap on the steps (each costs one call of ``gradient``).

    Returns
    -------
    coef, intercept, n_steps : ndarray, ndarray, int
        The refined solution (rounded to float64) and the number of gradient
        evaluations.

    Notes
    -----
    A step is kept only when the NEXT correction is smaller than it: then
    the iteration contracts and the step moved towards the fixed point. A
    correction that does not shrink means rounding level (the previous
    iterate is as good) or divergence (cond²·eps ≥ 1: the previous iterate
    is better), so the last step is undone and the iteration stops. A
    correction at the rounding level of the solution itself is applied
    without another pass: nothing is left to gain.

    The iterate is carried in double-double (the corrections are added
    without rounding): rounded to float64 at every step it would be
    perturbed by eps in arbitrary directions, which the factor corrects
    only to about cond(equilibrated X)²·eps, and the corrections would stop
    shrinking there (1e-13 on a 10th-degree polynomial).
    """
    max_steps = MAX_STEPS if max_steps is None else max_steps
    eps = np.finfo(np.float64).eps
    low = (np.zeros_like(coef), np.zeros_like(intercept))
    previous = None  # (coef, intercept, low, size) before the last applied step
    n_steps = 0
    for _ in range(max_steps):
        grad, total = gradient(coef, intercept, low)
        n_steps += 1
        delta, delta_b = correct(grad, total)
        size = _norm(scale, delta, intercept_scale, delta_b)
        if not np.isfinite(size):
            break
        if previous is not None and not size < previous[3]:
            coef, intercept, low = previous[:3]
            break
        previous = (coef, intercept, low, size)
        rounding = 4 * eps * _norm(scale, coef, intercept_scale, intercept)
        coef, coef_low = _add(coef, low[0], delta)
        intercept, intercept_low = _add(intercept, low[1], delta_b)
        low = (coef_low, intercept_low)
        if size <= rounding:
            break
    return coef, intercept, n_steps


def _add(high, low, delta):
    """``high + low + delta`` as a normalised double-double ``(hi, lo)``:
    ``hi`` is the float64 nearest the sum (up to the last bit)."""
    total, error = two_sum(high, delta)
    return two_sum(total, error + low)


def _norm(scale, coef, intercept_scale, intercept):
    return float(
        np.sqrt(
            np.sum((scale[:, None] * coef) ** 2)
            + np.sum((intercept_scale * intercept) ** 2)
        )
    )


def exact_moments(X, Y, sample_weight):
    """Raw weighted moments ``Σ s·u·vᵀ`` of ``u = [x, 1]``, ``v = [x, 1, y]``.

    The statistics ``partial_fit`` can carry instead of the data: with them
    :func:`moments_gradient` gives the same gradient as
    :func:`exact_gradient` on all the chunks. Returns ``(hi, lo)`` of shape
    (d + 1, d + 1 + k), double-double: every product is exact (TwoProduct)
    and the sums are as accurate as in twice the working precision. Costs
    about 30 operations per entry and row (against one for the float64
    Gram), so callers compute them for ill-conditioned data only. Sparse
    blocks are densified one row block at a time.
    """
    n_samples, n_features = X.shape
    width = n_features + 1 + Y.shape[1]
    if sp.issparse(X) and X.format != "csr":
        X = X.tocsr()
    weights = as_float64(sample_weight)
    unit = all_ones(weights)
    moments = [np.zeros((n_features + 1, width)), np.zeros((n_features + 1, width))]
    rows = max(1, BLOCK_VALUES // ((n_features + 1) * width))
    for start in range(0, n_samples, rows):
        block = X[start : start + rows]
        block = block.toarray() if sp.issparse(block) else block
        v = np.column_stack(
            [block, np.ones(block.shape[0]), Y[start : start + rows]]
        ).astype(np.float64, copy=False)
        product, error = two_product(v[:, : n_features + 1, None], v[:, None, :])
        if not unit:
            s = weights[start : start + rows, None, None]
            product, low = two_product(s, product)
            error = low + s * error
        hi, lo = sum_along(product, error, axis=0)
        _accumulate(moments, slice(None), hi, lo)
    return moments[0], moments[1]


def add_moments(first, second):
    """The moments of two chunks together (double-double addition)."""
    hi, lo = two_sum(first[0], second[0])
    return hi, lo + first[1] + second[1]


def moments_gradient(moments, coef, intercept, low=None):
    """``(XᵀSr, Σsr)`` at ``(coef, intercept)`` from :func:`exact_moments`.

    ``low``: as in :func:`exact_gradient`.

    ``[XᵀSr; Σsr] = Σsu·y − Σsu·uᵀ·[w; b]``, each entry a double-double sum
    of exact products, so it cancels as accurately as the data pass would.
    """
    hi, lo = moments
    coef_low, intercept_low = _lows(coef, intercept, low)
    n_design = coef.shape[0] + 1
    grad = np.zeros((coef.shape[0], coef.shape[1]))
    total = np.zeros(coef.shape[1])
    for out in range(coef.shape[1]):
        unknowns = np.append(coef[:, out], intercept[out])
        product, error = two_product(hi[:, :n_design], unknowns[None, :])
        column = n_design + out
        high = np.column_stack([hi[:, column], -product])
        unknowns_low = np.append(coef_low[:, out], intercept_low[out])
        low = lo[:, column] - error.sum(axis=1) - lo[:, :n_design] @ unknowns
        low -= hi[:, :n_design] @ unknowns_low
        s, e = sum_along(high, low[:, None], axis=1)
        result = s + e
        grad[:, out], total[out] = result[:-1], result[-1]
    return grad, total
