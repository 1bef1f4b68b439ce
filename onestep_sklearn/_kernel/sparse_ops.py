"""Sparse operators of the objective in ``_kernel.objective``, for Krylov methods.

The weighted, centred design ``√S·(X − 1x̄ᵀ)`` and the Hessian ``H =
2·XcᵀSXc/Σs + 2·alpha·I`` as :class:`~scipy.sparse.linalg.LinearOperator`
objects: the centring is implicit (``X`` is never densified), each product
is one sparse product with ``X`` or ``Xᵀ`` (a transposed view, no copy).
Also the exact centred column norms (the Jacobi preconditioner of
``_sparse_lsq``) and extreme Hessian eigenvalues by Lanczos. Pure functions
of arrays: numpy and scipy only.
"""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import ArpackNoConvergence, LinearOperator, eigsh

from .objective import row_blocks
from .threads import single_threaded_blas
from .weights import all_ones
from .weights import as_float64 as weights_float64

# Sparse designs with at least this many columns are solved by LSQR: below,
# the d × d statistics cost little and the exact route keeps its guarantees
# for ill-conditioned data.
KRYLOV_MIN_FEATURES = 256
# Entries of X per chunk when reading the stored entries (column norms):
# the temporaries stay near 1 MiB, however large X is.
CHUNK_ENTRIES = 1 << 16
EPS = np.finfo(np.float64).eps
# Lanczos restarts before extreme_eigenvalue stops waiting: a singular
# one-hot Hessian (1,500 x 772) ran ARPACK to its default of 10·d = 7,720
# iterations for the smallest eigenvalue and failed (4 s), where forming the
# Hessian from d products and eigvalsh takes 0.3 s.
LANCZOS_MAX_ITER = 1000
# Up to this many columns, an eigenvalue Lanczos cannot resolve comes from
# the Hessian formed column by column (d products; 128 MiB at most).
DENSE_FALLBACK_FEATURES = 4096
LOOSE_TOL = 1e-4


def use_krylov(X):
    """Whether ``X`` is sparse and wide enough for the Krylov routes."""
    return sp.issparse(X) and X.shape[1] >= KRYLOV_MIN_FEATURES


def as_float64(X):
    """``X`` in float64 (a copy of the stored values of float32 data only).

    LSQR's recurrences need float64 products to reach a 1e-9 relative error.
    """
    return X if X.dtype == np.float64 else X.astype(np.float64)


def _stored_entries(X, with_outer):
    """Yield ``(rows, columns, values)`` of the stored entries, in chunks.

    CSR and CSC only; never more than about ``CHUNK_ENTRIES`` entries (plus
    one row or column) at a time, so no array of the size of ``X`` is made.
    The outer index (row of CSR, column of CSC) is expanded only when
    ``with_outer`` (it is ``None`` otherwise).
    """
    outer_size = X.shape[0] if X.format == "csr" else X.shape[1]
    indptr = X.indptr
    start = 0
    while start < outer_size:
        # Whole rows (columns) up to about CHUNK_ENTRIES stored entries.
        stop = int(np.searchsorted(indptr, indptr[start] + CHUNK_ENTRIES, "right"))
        stop = min(max(stop - 1, start + 1), outer_size)
        lo, hi = indptr[start], indptr[stop]
        outer = None
        if with_outer:
            counts = np.diff(indptr[start : stop + 1])
            outer = np.repeat(np.arange(start, stop), counts)
        inner, values = X.indices[lo:hi], X.data[lo:hi]
        yield (outer, inner, values) if X.format == "csr" else (inner, outer, values)
        start = stop


def centred_sq_norms(X, sample_weight, x_mean):
    """``Σᵢ sᵢ (xᵢⱼ − x̄ⱼ)²`` for every column ``j``, without cancellation.

    One pass gives ``Σ s·x²``, from which ``Σs·x̄²`` is subtracted. Where
    that difference keeps fewer than half the digits (``|x̄|`` above about
    1e4 times the spread; constant columns among them), the columns are
    summed again in centred form (:func:`_centred_sums`), so that a
    constant column comes out as rounding of its mean, not as the
    difference of two large sums.
    """
    unit = all_ones(sample_weight)
    sw_sum = float(sample_weight.sum(dtype=np.float64))
    raw = np.zeros(X.shape[1])
    for rows, columns, values in _stored_entries(X, X.format == "csc" or not unit):
        squares = values * values
        if not unit:
            squares *= sample_weight[rows]
        raw += np.bincount(columns, squares, X.shape[1])
    sq_norms = raw - sw_sum * x_mean**2
    careful = sq_norms <= 1e-8 * raw
    if careful.any():
        sq_norms[careful] = _centred_sums(X, sample_weight, x_mean, unit)[careful]
    return np.maximum(sq_norms, 0.0)


def _centred_sums(X, sample_weight, x_mean, unit):
    """``Σ s (x − x̄)²`` as the stored entries' sum plus ``x̄²`` times the
    weight of the rows where the column is not stored (exactly zero when
    every row is stored)."""
    n_features = X.shape[1]
    sw_sum = float(sample_weight.sum(dtype=np.float64))
    squares = np.zeros(n_features)
    stored_weight = np.zeros(n_features)
    stored_count = np.zeros(n_features, dtype=np.int64)
    for rows, columns, values in _stored_entries(X, X.format == "csc" or not unit):
        deviation = values - x_mean[columns]
        deviation *= deviation
        count = np.bincount(columns, minlength=n_features)
        stored_count += count
        if unit:
            stored_weight += count
        else:
            weights = sample_weight[rows].astype(np.float64)
            deviation *= weights
            stored_weight += np.bincount(columns, weights, n_features)
        squares += np.bincount(columns, deviation, n_features)
    unstored = np.where(
        stored_count == X.shape[0], 0.0, np.maximum(sw_sum - stored_weight, 0.0)
    )
    return squares + x_mean**2 * unstored


def varying(sq_norms, x_mean, sw_sum):
    """Columns whose centred norm is more than rounding of a constant column.

    The test of ``_newton.varying_columns``: a constant column, centred with
    a mean that carries rounding, keeps ``(eps·|x̄|)²·Σs`` at most.
    """
    return sq_norms > (16 * EPS * np.abs(x_mean)) ** 2 * sw_sum


def centred_operator(X, root_sw, x_mean, scale, damp=0.0):
    """``√S·(X − 1x̄ᵀ)·diag(scale)``, stacked on ``damp·diag(scale)`` if damp > 0.

    ``root_sw`` is ``√s`` (``None`` for unit weights). Products cost one
    sparse product with ``X`` (or ``Xᵀ``, a transposed view: no copy) and
    O(n + d) more.
    """
    n_samples, n_features = X.shape
    rows = n_samples + (n_features if damp > 0 else 0)
    transposed = X.T

    def matvec(z):
        w = scale * np.ravel(z)
        fitted = X @ w
        fitted -= x_mean @ w
        if root_sw is not None:
            fitted *= root_sw
        if damp > 0:
            return np.concatenate([fitted, damp * w])
        return fitted

    def rmatvec(r):
        r = np.ravel(r)
        weighted = r[:n_samples] if root_sw is None else root_sw * r[:n_samples]
        grad = transposed @ weighted
        grad -= x_mean * weighted.sum()
        if damp > 0:
            grad += damp * r[n_samples:]
        return scale * grad

    return LinearOperator((rows, n_features), matvec, rmatvec, dtype=np.float64)


def hessian_operator(X, sample_weight, x_mean, sw_sum, l2_reg_strength):
    """``H = 2·XcᵀSXc/Σs + 2·alpha·I`` as a LinearOperator (two sparse products).

    The Hessian of the objective, for Lanczos (``suggest_learning_rate`` and
    the Lipschitz constant of gradient descent) without the d × d Gram.
    Constant columns are left out (their curvature is rounding noise), as
    on the exact route, so that constant features give exactly ``H = 0``.
    """
    X = as_float64(X)
    sample_weight = weights_float64(sample_weight)
    unit = all_ones(sample_weight)
    sq_norms = centred_sq_norms(X, sample_weight, x_mean)
    active = varying(sq_norms, x_mean, sw_sum).astype(np.float64)
    centred = centred_operator(X, None, x_mean, active)
    n_features = X.shape[1]

    def matvec(v):
        v = np.ravel(v)
        fitted = centred.matvec(v)
        if not unit:
            fitted *= sample_weight
        product = (2.0 / sw_sum) * centred.rmatvec(fitted)
        return product + (2.0 * l2_reg_strength) * v

    return LinearOperator((n_features, n_features), matvec, matvec, dtype=np.float64)


def extreme_eigenvalue(operator, which, tol=1e-10):
    """An extreme eigenvalue of a symmetric PSD operator, as a safe bound.

    Lanczos (ARPACK ``eigsh``) gives a Ritz pair ``(θ, v)`` with residual
    ``r = Hv − θv``; an eigenvalue lies within ``‖r‖`` of ``θ``. "LA" returns
    ``θ + ‖r‖`` (a step of 1/L never exceeds 1/λmax), "SA" ``max(θ − ‖r‖,
    0)``. A Hessian that is exactly zero (every column constant, no penalty)
    maps the start vector to zero, which ARPACK rejects: its eigenvalues are
    all 0.
    """
    n_features = operator.shape[0]
    start = np.random.default_rng(0).standard_normal(n_features)
    image = operator.matvec(start)
    if not np.any(image):
        return 0.0
    if n_features == 1:
        return max(float(image[0] / start[0]), 0.0)
    try:
        with single_threaded_blas():
            (theta,), vectors = eigsh(
                operator,
                k=1,
                which=which,
                tol=tol,
                v0=start,
                maxiter=min(10 * n_features, LANCZOS_MAX_ITER),
            )
    except ArpackNoConvergence:
        if tol >= LOOSE_TOL and n_features > DENSE_FALLBACK_FEATURES:
            raise
        return _eigenvalue_without_lanczos(operator, which)
    vector = vectors[:, 0]
    residual = float(np.linalg.norm(operator.matvec(vector) - theta * vector))
    if which == "LA":
        return float(theta) + residual
    return max(float(theta) - residual, 0.0)


def _eigenvalue_without_lanczos(operator, which):
    """The extreme eigenvalue when Lanczos did not converge: exact from the
    formed Hessian for moderate d, else the always-safe bound (0 for the
    smallest; for the largest, Lanczos again at a loose tolerance, whose
    ``θ + ‖r‖`` is still an upper bound)."""
    n_features = operator.shape[0]
    if n_features <= DENSE_FALLBACK_FEATURES:
        hessian = np.column_stack(
            [operator.matvec(column) for column in np.eye(n_features)]
        )
        evals = np.linalg.eigvalsh((hessian + hessian.T) / 2)
        # Rounding of the formed matrix, as the residual bound of Lanczos.
        slack = EPS * n_features * max(abs(evals[-1]), abs(evals[0]))
        if which == "LA":
            return float(evals[-1] + slack)
        return max(float(evals[0] - slack), 0.0)
    if which == "SA":
        return 0.0
    return extreme_eigenvalue(operator, "LA", tol=LOOSE_TOL)


def sparse_moments(X, Y, sw, y_mean, unit):
    """The augmented raw moments ``[X, y − ȳ, 1]ᵀS[X, y − ȳ, 1]`` of sparse X
    (``stats._stream_moments``: not shifted, which would densify X; the
    caller centres them algebraically). Blocks of CSR rows stay sparse."""
    n_features, n_outputs = X.shape[1], Y.shape[1]
    width = n_features + n_outputs + 1
    augmented = np.zeros((width, width))
    if X.format != "csr":
        X = X.tocsr()  # row blocks need CSR; copies the sparse arrays only
    dense_cols = np.empty((0, n_outputs + 1))
    with np.errstate(over="ignore", invalid="ignore"):
        for rows in row_blocks(X, stored=True):
            block = X[rows].astype(np.float64)
            s = sw[rows]
            dense_cols = np.column_stack([Y[rows] - y_mean, np.ones(s.size)])
            weighted_cols = dense_cols * s[:, None]
            weighted_block = block if unit else block.multiply(s[:, None]).tocsr()
            augmented[:n_features, :n_features] += (block.T @ weighted_block).toarray()
            augmented[:n_features, n_features:] += block.T @ weighted_cols
            augmented[n_features:, n_features:] += dense_cols.T @ weighted_cols
    augmented[n_features:, :n_features] = augmented[:n_features, n_features:].T
    return augmented
