"""The exact minimiser of the objective in ``_kernel.objective`` (the Newton target).

For squared error one Newton step from any point lands on the minimiser
``w* = (XcᵀSXc + alpha·Σs·I)⁻¹ XcᵀS(y − ȳ)``. Two routes compute it:

* fast: Cholesky of the column-equilibrated centred Gram from the sufficient
  statistics, used when its estimated reciprocal condition number shows the
  normal equations keep enough digits;
* careful: a streaming (tall-skinny) QR of the weighted, centred data
  ``[Xc·√s | yc·√s]``, block by block (never a copy of ``X``), and an SVD of
  the small triangular factor. Its accuracy depends on cond(X), not on
  cond(X)², and rank-deficient or wide problems get the minimum-norm
  solution, like ``numpy.linalg.lstsq``.

Ill-conditioned full-rank solutions of either route are then refined with
gradients in double-double arithmetic (``_kernel.refine``) to the exact
least-squares solution of the float64 data.
"""

import numpy as np
import scipy.linalg as la

from .._data import questions
from .._kernel.factor import qr_r
from .._kernel.refine import centred_correction, moments_gradient, refine_solution
from .._kernel.sparse_ops import varying as centred_norm_varies

# Refinement steps of the wide dual at most (each is two passes over the
# small wide X; 5 reach full precision while cond(K)·eps ≤ 1e-3).
DUAL_REFINEMENT_STEPS = 5
# Cholesky on the normal equations loses about cond(Gram)·eps relative
# accuracy: above this reciprocal condition the result keeps >= 10 digits.
FAST_PATH_RCOND = 1e-6
EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny
# Below this reciprocal condition of the equilibrated Gram (and always after
# the QR route), the solution is refined to the exact solution of the data
# (``refine_exactly``: a few more passes, only for such fits).
REFINE_RCOND = 1e-3
# An entry of a unit null vector of the equilibrated factor below this is
# rounding of zero (the SVD keeps about eps·d).
NULL_SUPPORT = 1e-10
_potrf, _pocon, _potrs = la.get_lapack_funcs(
    ("potrf", "pocon", "potrs"), (np.zeros((1, 1)),)
)


def varying_columns(stats, l2_reg_strength):
    """Columns whose variance is more than rounding of a constant column.

    A constant column, centred with a mean that carries rounding, keeps a
    variance of about (eps·|x̄|)²·Σs: it does not change the fit, and its
    minimum-norm coefficient is zero. With a penalty, a column whose variance
    underflowed (values near 1e-300) but whose cross moment with y is more
    than rounding still counts: the penalty keeps its equation well posed.
    """
    diag = np.diag(stats.xx)
    # The one constant-column test, shared with the sparse LSQR route.
    varying = centred_norm_varies(diag, stats.x_mean, stats.sw_sum)
    if l2_reg_strength > 0:
        spread = np.sqrt(stats.sw_sum * np.maximum(stats.yy, 0.0)).max(initial=0.0)
        xy_noise = 16 * EPS * np.abs(stats.x_mean) * spread
        varying |= np.abs(stats.xy).max(axis=1, initial=0.0) > xy_noise
    return varying & (diag + l2_reg_strength * stats.sw_sum > 0)


def solve_from_stats(stats, l2_reg_strength):
    """Minimiser from the statistics by equilibrated Cholesky.

    Returns ``(coef, rcond, inverse)``: ``coef`` is ``None`` when the Gram is
    too ill-conditioned (or singular) for the fast path; ``inverse(rhs)``
    applies ``(XcᵀSXc + alpha·Σs·I)⁻¹`` with the same factor (for
    :func:`refine`).
    """
    n_features, n_outputs = stats.xy.shape
    coef = np.zeros((n_features, n_outputs))
    active = varying_columns(stats, l2_reg_strength)
    if not active.any():
        return coef, 1.0, np.zeros_like
    gram = stats.xx.copy() if active.all() else stats.xx[np.ix_(active, active)]
    gram.flat[:: gram.shape[0] + 1] += l2_reg_strength * stats.sw_sum
    scale = 1.0 / np.sqrt(np.diag(gram))
    scaled = gram * np.outer(scale, scale)
    anorm = np.abs(scaled).sum(axis=0).max()
    factor, info = _potrf(scaled, lower=0, clean=1, overwrite_a=1)
    if info != 0:
        return None, 0.0, None
    rcond, info = _pocon(factor, anorm)
    if info != 0 or not rcond > FAST_PATH_RCOND:
        return None, float(rcond), None

    def inverse(rhs):
        result = np.zeros_like(rhs)
        solution, _ = _potrs(factor, rhs[active] * scale[:, None], lower=0)
        result[active] = solution * scale[:, None]
        return result

    return inverse(stats.xy), float(rcond), inverse


def newton_target(source, stats, l2_reg_strength):
    """The exact minimiser ``w*`` for ``source`` with statistics ``stats``.

    Cholesky of the equilibrated Gram, or the streaming QR of the data when
    the Gram is too ill-conditioned; then, when the solution may have lost
    digits, refinement with double-double gradients to the exact solution of
    the float64 data. Returns ``(coef, intercept)``: ``intercept`` is the
    refined one, or None (then ``ȳ − x̄ᵀw``). The same route on every source.
    """
    target, rcond, inverse = solve_from_stats(stats, l2_reg_strength)
    if target is None:
        factor = questions.qr_factor(source, stats.x_mean, stats.y_mean)
        n_features, n_samples = stats.xy.shape[0], stats.n_samples
        args = (factor, n_features, n_samples, stats.sw_sum, l2_reg_strength)
        target, inverse = solve_from_factor(*args), factor_inverse(*args)
    if inverse is not None and needs_refinement(source, stats, rcond):
        return refine_exactly(source, stats, l2_reg_strength, target, inverse)
    return target, None


def target_from_stats(stats, l2_reg_strength):
    """The minimiser from statistics alone, with no data to revisit.

    Cholesky of the Gram, or, when it is ill-conditioned, the merged
    triangular factor (which keeps the digits a refinement pass would) or,
    without one, the Gram's pseudo-inverse.
    """
    target, rcond, _ = solve_from_stats(stats, l2_reg_strength)
    if stats.factor is not None and (target is None or rcond < REFINE_RCOND):
        return solve_from_factor(
            stats.factor,
            stats.xy.shape[0],
            stats.n_samples,
            stats.sw_sum,
            l2_reg_strength,
        )
    if target is None:
        return solve_from_stats_pinv(stats, l2_reg_strength)
    return target


def needs_refinement(source, stats, rcond):
    """Whether the Cholesky solution may have lost digits worth a pass.

    Its error grows like eps/rcond (rcond 0 after the QR route); sparse
    statistics are not centred before accumulation, so columns whose mean
    dwarfs their spread lose (mean/std)² more. float32 data are not refined
    (their float32 coefficients would not keep the digits).
    """
    if source.dtype != np.float64:
        return False
    if source.sparse:
        spread = np.sqrt(np.maximum(np.diag(stats.xx), 0) / stats.sw_sum)
        if np.any(np.abs(stats.x_mean) > spread):
            return True
    return rcond < REFINE_RCOND


def solve_from_factor(factor, n_features, n_samples, sw_sum, l2_reg_strength):
    """Minimum-norm minimiser from the triangular factor of ``qr_factor``."""
    width = factor.shape[1]
    if l2_reg_strength > 0:
        ridge = np.zeros((n_features, width))
        ridge[:, :n_features] = np.sqrt(l2_reg_strength * sw_sum) * np.eye(n_features)
        factor = qr_r(np.vstack([factor, ridge]))
    return min_norm_solve(factor[:, :n_features], factor[:, n_features:], n_samples)


def factor_inverse(factor, n_features, n_samples, sw_sum, l2_reg_strength):
    """``rhs ↦ (RᵀR)⁻¹ rhs`` with R the design part of ``qr_factor``'s factor.

    ``RᵀR = XcᵀSXc (+ alpha·Σs·I)`` with the conditioning of the data, not of
    its square. None when R is numerically rank-deficient by the cutoff of
    :func:`min_norm_solve` (the minimum-norm solution is then not the fixed
    point of a refinement). The worst-case rate of refinement with R,
    cond(equilibrated R)²·eps, is not a guard: it is pessimistic (on a
    10th-degree polynomial with cond 2e9 the steps shrink by 2e-7), and
    :func:`_refine.refine_solution` undoes a step that does not contract.
    """
    triangular = factor[:n_features, :n_features]
    if l2_reg_strength > 0:
        ridge = np.sqrt(l2_reg_strength * sw_sum) * np.eye(n_features)
        triangular = qr_r(np.vstack([triangular, ridge]))
    if triangular.shape[0] < n_features:
        return None
    norms = np.linalg.norm(triangular, axis=0)
    if not np.all(norms > 0):
        return None
    # The rank decision of min_norm_solve, on the same equilibrated matrix.
    sing = la.svdvals(triangular / norms, check_finite=False)
    if not sing[-1] > EPS * max(n_samples, n_features) * sing[0]:
        return None

    def inverse(rhs):
        half = la.solve_triangular(triangular, rhs, trans="T", check_finite=False)
        return la.solve_triangular(triangular, half, check_finite=False)

    return inverse


def refine_exactly(source, stats, l2_reg_strength, coef, inverse):
    """Refine the minimiser to the exact solution of the float64 data.

    The gradient at each iterate comes from the source's double-double
    ``exact_gradient`` (one pass over ``X``, ``_kernel.refine``); ``inverse``
    (the Cholesky or QR factor the solve used) turns it into the correction.
    Returns ``(coef, intercept)``; the intercept is refined with the
    coefficients.
    """
    sw_sum = stats.sw_sum

    def gradient(w, b, low):
        grad, total = questions.exact_gradient(source, w, b, low)
        return grad - (l2_reg_strength * sw_sum) * (w + low[0]), total

    return _refine_with(gradient, stats, coef, inverse)


def _refine_with(gradient, stats, coef, inverse):
    sw_sum = stats.sw_sum
    correct = centred_correction(inverse, stats.x_mean, sw_sum, stats.fit_intercept)
    scale = np.sqrt(np.maximum(np.diag(stats.xx), 0.0))
    intercept_scale = np.sqrt(sw_sum) if stats.fit_intercept else 0.0
    coef, intercept, _ = refine_solution(
        gradient, correct, coef, stats.intercept(coef), scale, intercept_scale
    )
    return coef, intercept


def wants_exact_moments(chunk, l2_reg_strength, dtype, carry):
    """Whether ``partial_fit`` should carry the chunk's exact moments.

    Only ill-conditioned float64 chunks pay for them (rcond of the
    equilibrated Gram below ``REFINE_RCOND``), and only while every earlier
    chunk had them (``carry``). A well-conditioned chunk makes the union at
    least as well conditioned (its centred Gram only grows), so from then on
    none are kept (``SufficientStats.merge`` drops them).
    """
    if dtype != np.float64 or not carry:
        return False
    return solve_from_stats(chunk, l2_reg_strength)[1] < REFINE_RCOND


def refine_from_moments(stats, l2_reg_strength, coef):
    """:func:`refine_exactly` without the data: from ``stats.exact``.

    For ``partial_fit``. Returns ``(coef, intercept)``, or None when the
    statistics carry no exact moments or the Gram is conditioned well enough
    (rcond ≥ ``REFINE_RCOND``) for the float64 solve, or no full-rank factor
    is there to precondition the steps.
    """
    if stats.exact is None:
        return None
    _, rcond, inverse = solve_from_stats(stats, l2_reg_strength)
    if rcond >= REFINE_RCOND:
        return None
    if stats.factor is not None:
        inverse = factor_inverse(
            stats.factor, coef.shape[0], stats.n_samples, stats.sw_sum, l2_reg_strength
        )
    if inverse is None:
        return None
    sw_sum = stats.sw_sum

    def gradient(w, b, low):
        grad, total = moments_gradient(stats.exact, w, b, low)
        return grad - (l2_reg_strength * sw_sum) * (w + low[0]), total

    return _refine_with(gradient, stats, coef, inverse)


def min_norm_solve(triangular, rhs, n_samples):
    """Minimum-norm least-squares solution of ``triangular @ coef ≈ rhs``.

    The numerical rank is decided on the column-equilibrated matrix (so badly
    scaled but full-rank designs keep every column, which plain ``lstsq``
    would truncate) with lstsq's default cutoff ``eps·max(n, d)``, and the
    system is solved there (its small singular values keep their digits
    whatever the scales of the columns); a truly rank-deficient solution is
    then projected off the null space, mapped to the original coordinates,
    so that it has minimum Euclidean norm as in ``lstsq``.
    """
    n_features = triangular.shape[1]
    coef = np.zeros((n_features, rhs.shape[1]))
    norms = np.linalg.norm(triangular, axis=0)
    active = norms > 0
    if not active.any():
        return coef
    cutoff = np.finfo(np.float64).eps * max(n_samples, n_features)
    scaled = triangular[:, active] / norms[active]
    wide = scaled.shape[0] < scaled.shape[1]  # vt must span the null space
    u, sing, vt = la.svd(scaled, full_matrices=wide, check_finite=False)
    rank = int(np.sum(sing > cutoff * sing[0]))
    solution = vt[:rank].T @ ((u[:, :rank].T @ rhs) / sing[:rank, None])
    solution /= norms[active, None]
    if rank < active.sum():
        # The null space of the scaled system, in the original coordinates
        # (the scaling changes which solution has minimum norm, not the
        # fit); entries that are rounding of zero are made zeros, so that a
        # column outside it keeps its coefficient whatever its scale.
        null = vt[rank:].T
        null = np.where(np.abs(null) > NULL_SUPPORT, null, 0.0) / norms[active, None]
        null = la.qr(null, mode="economic", check_finite=False)[0]
        solution -= null @ (null.T @ solution)
    coef[active] = solution
    return coef


def solve_from_stats_pinv(stats, l2_reg_strength):
    """Minimum-norm minimiser from the statistics alone (no data to revisit).

    Used by ``partial_fit`` when the Gram is too ill-conditioned for Cholesky:
    a symmetric eigendecomposition with a cutoff at eps·d of the largest
    eigenvalue, on the Gram (accuracy limited by cond(X)²).
    """
    gram = stats.xx.copy()
    gram[np.diag_indices_from(gram)] += l2_reg_strength * stats.sw_sum
    evals, evecs = la.eigh(gram, check_finite=False)
    top = max(evals[-1], 0.0)
    keep = evals > np.finfo(np.float64).eps * gram.shape[0] * top
    if not keep.any():
        return np.zeros_like(stats.xy)
    evecs = evecs[:, keep]
    return evecs @ ((evecs.T @ stats.xy) / evals[keep, None])


def solve_dual(source, x_mean, y_mean, sw_sum, l2_reg_strength):
    """Minimum-norm minimiser for wide data (n < d) in the n × n dual.

    ``w = Xcᵀ√S·a`` with ``(K + alpha·Σs·I)·a = √S(y − ȳ)`` and
    ``K = √S·Xc·Xcᵀ·√S``; with ``alpha = 0`` the pseudo-inverse of ``K``
    (eigenvalues below eps·n of the largest dropped) gives the minimum-norm
    solution, as ``lstsq``. ``Xc`` is never formed (``questions.row_gram``).
    Iterative refinement, its residual recomputed on the raw data, recovers
    the digits lost in forming K.
    """
    n_samples = source.n_samples
    root = np.sqrt(questions.weights(source))
    gram = questions.row_gram(source, x_mean)
    gram[np.diag_indices_from(gram)] += l2_reg_strength * sw_sum
    evals, evecs = la.eigh(gram, check_finite=False)
    keep = evals > np.finfo(np.float64).eps * n_samples * max(evals[-1], 0.0)
    evecs, evals = evecs[:, keep], evals[keep]

    def pinv(rhs):
        return evecs @ ((evecs.T @ rhs) / evals[:, None])

    def primal(dual):
        weighted = root[:, None] * dual
        return questions.rmatvec(source, weighted) - np.outer(
            x_mean, weighted.sum(axis=0)
        )

    rhs = root[:, None] * (questions.targets(source) - y_mean)
    dual = pinv(rhs)
    coef = primal(dual)
    # Iterative refinement, the residual recomputed on the raw data: each step
    # shrinks the error by about cond(K)·eps (K has cond(X)²), so a few steps
    # recover the digits lost in forming K. The corrections are added to the
    # coefficients, not only to the dual: a column of large scale has a small
    # coefficient, the inner product of its column with a dual whose part
    # along that column is below the dual's rounding. Stop when the largest
    # relative correction of a coefficient no longer shrinks.
    previous = np.inf
    for _ in range(DUAL_REFINEMENT_STEPS):
        fitted = questions.matvec(source, coef) - x_mean @ coef
        residual = rhs - root[:, None] * fitted - l2_reg_strength * sw_sum * dual
        correction = pinv(residual)
        step = primal(correction)
        size = float(np.max(np.abs(step) / np.maximum(np.abs(coef), TINY), initial=0))
        if not size < previous:
            break
        dual, coef, previous = dual + correction, coef + step, size
        if size <= EPS:
            break
    return coef
