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
"""

import numpy as np
import scipy.linalg as la

from .._kernel.factor import qr_r

# Cholesky on the normal equations loses about cond(Gram)·eps relative
# accuracy: above this reciprocal condition the result keeps >= 10 digits.
FAST_PATH_RCOND = 1e-6
EPS = np.finfo(np.float64).eps
# Below this reciprocal condition of the equilibrated Gram, the Cholesky
# solution gets one refinement step on the raw data (one more pass).
REFINE_RCOND = 1e-3
_potrf, _pocon, _potrs = la.get_lapack_funcs(
    ("potrf", "pocon", "potrs"), (np.zeros((1, 1)),)
)


def varying_columns(stats, l2_reg_strength):
    """Columns whose variance is more than rounding of a constant column.

    A constant column, centred with a mean that carries rounding, keeps a
    variance of about (eps·|x̄|)²·Σs: it does not change the fit, and its
    minimum-norm coefficient is zero.
    """
    diag = np.diag(stats.xx)
    noise = (16 * EPS * np.abs(stats.x_mean)) ** 2 * stats.sw_sum
    return (diag > noise) & (diag + l2_reg_strength * stats.sw_sum > 0)


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

    Cholesky of the equilibrated Gram; one refinement pass on the data when
    it may have lost digits; the streaming QR of the data when the Gram is
    too ill-conditioned. The same route on every data source.
    """
    target, rcond, inverse = solve_from_stats(stats, l2_reg_strength)
    if target is not None and needs_refinement(source, stats, rcond):
        target = refine(source, stats, l2_reg_strength, target, inverse)
    if target is None:
        factor = source.qr_factor(stats.x_mean, stats.y_mean)
        target = solve_from_factor(
            factor, stats.xy.shape[0], stats.n_samples, stats.sw_sum, l2_reg_strength
        )
    return target


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

    Its error grows like eps/rcond; sparse statistics are not centred
    before accumulation, so columns whose mean dwarfs their spread lose
    (mean/std)² more. float32 data cannot give a more accurate residual.
    """
    if source.dtype != np.float64:
        return False
    if source.sparse:
        spread = np.sqrt(np.maximum(np.diag(stats.xx), 0) / stats.sw_sum)
        if np.any(np.abs(stats.x_mean) > spread):
            return True
    return rcond < REFINE_RCOND


def refine(source, stats, l2_reg_strength, coef, inverse):
    """One more Newton step, its gradient computed on the raw data.

    Iterative refinement of the normal equations: the residual of the data
    at ``coef``, in exact centred arithmetic, gives the gradient
    ``XcᵀS(Xc·w − yc) + alpha·Σs·w``, and the same Cholesky factor turns it
    into the correction. The error of the Gram route (about cond(X)²·eps)
    shrinks towards that of a QR solve (cond(X)·eps).
    """
    grad = source.centred_gradient(stats.x_mean, stats.y_mean, coef)
    grad += l2_reg_strength * stats.sw_sum * coef
    return coef - inverse(grad)


def solve_from_factor(factor, n_features, n_samples, sw_sum, l2_reg_strength):
    """Minimum-norm minimiser from the triangular factor of ``qr_factor``."""
    width = factor.shape[1]
    if l2_reg_strength > 0:
        ridge = np.zeros((n_features, width))
        ridge[:, :n_features] = np.sqrt(l2_reg_strength * sw_sum) * np.eye(n_features)
        factor = qr_r(np.vstack([factor, ridge]))
    return min_norm_solve(factor[:, :n_features], factor[:, n_features:], n_samples)


def min_norm_solve(triangular, rhs, n_samples):
    """Minimum-norm least-squares solution of ``triangular @ coef ≈ rhs``.

    The numerical rank is decided on the column-equilibrated matrix (so badly
    scaled but full-rank designs keep every column, which plain ``lstsq``
    would truncate) with lstsq's default cutoff ``eps·max(n, d)``; a truly
    rank-deficient system is then solved with the same rank in the original
    coordinates, so the solution has minimum Euclidean norm as in ``lstsq``.
    """
    n_features = triangular.shape[1]
    coef = np.zeros((n_features, rhs.shape[1]))
    norms = np.linalg.norm(triangular, axis=0)
    active = norms > 0
    if not active.any():
        return coef
    cutoff = np.finfo(np.float64).eps * max(n_samples, n_features)
    scaled = triangular[:, active] / norms[active]
    u, sing, vt = la.svd(scaled, full_matrices=False, check_finite=False)
    rank = int(np.sum(sing > cutoff * sing[0]))
    if rank == active.sum():
        coef[active] = (vt.T @ ((u.T @ rhs) / sing[:, None])) / norms[active, None]
        return coef
    u, sing, vt = la.svd(triangular[:, active], full_matrices=False, check_finite=False)
    u, sing, vt = u[:, :rank], sing[:rank], vt[:rank]
    coef[active] = vt.T @ ((u.T @ rhs) / sing[:, None])
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
    solution, as ``lstsq``. ``Xc`` is never formed (``source.row_gram``).
    One step of iterative refinement, its residual recomputed on the raw
    data, recovers digits lost in forming K.
    """
    n_samples = source.n_samples
    root = np.sqrt(source.weights())
    gram = source.row_gram(x_mean)
    gram[np.diag_indices_from(gram)] += l2_reg_strength * sw_sum
    evals, evecs = la.eigh(gram, check_finite=False)
    keep = evals > np.finfo(np.float64).eps * n_samples * max(evals[-1], 0.0)
    evecs, evals = evecs[:, keep], evals[keep]

    def pinv(rhs):
        return evecs @ ((evecs.T @ rhs) / evals[:, None])

    def primal(dual):
        weighted = root[:, None] * dual
        return source.rmatvec(weighted) - np.outer(x_mean, weighted.sum(axis=0))

    rhs = root[:, None] * (source.targets() - y_mean)
    dual = pinv(rhs)
    coef = primal(dual)
    fitted = source.matvec(coef) - x_mean @ coef
    residual = rhs - root[:, None] * fitted - l2_reg_strength * sw_sum * dual
    return primal(dual + pinv(residual))
