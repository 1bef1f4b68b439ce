"""Krylov least squares for sparse, wide designs: no d × d matrix at all.

The objective is the one of ``_kernel.objective``; its minimiser (the Newton
target) solves the weighted, centred, damped least-squares problem::

    min_w ‖√S·(Xc·w − yc)‖² + alpha·Σs·‖w‖²,   Xc = X − 1·x̄ᵀ,  yc = y − ȳ

For sparse ``X`` with many columns the Gram ``XcᵀSXc`` is a dense d × d
matrix even when ``X`` is very sparse (the centring fills it), and forming
and factorising it costs O(n·d²) + O(d³). Here the problem is solved by LSQR
(Paige & Saunders) on a :class:`~scipy.sparse.linalg.LinearOperator` instead:

* the centring is implicit, ``Xc·v = X·v − (x̄ᵀv)·1`` (``X`` is never
  densified or copied, except once to float64 when it is float32);
* the weights enter as ``√s`` on the rows, the penalty as ``d`` extra rows
  ``√(alpha·Σs)·I`` (so that it stays ``alpha·Σs·‖w‖²`` under the column
  scaling below);
* the columns are scaled to unit centred (and damped) norm, a Jacobi
  preconditioner: one-hot blocks, whose centred Gram is nearly diagonal,
  then converge in a handful of iterations.

Minimum norm. From ``z₀ = 0`` LSQR converges to the minimum-norm solution
of the system it is given, here the *column-scaled* one (``z = w / scale``).
For a full-rank design (or ``alpha > 0``) the minimiser is unique and the
scaling changes nothing; for a rank-deficient one (a one-hot block beside
the intercept, the dummy trap) ``w`` may hold a vector of the null space of
``Xc`` that ``numpy.linalg.lstsq``'s solution does not. It is removed
(:func:`_minimum_norm`): a solve with the right-hand side ``Ā·(scale·w)``
returns ``scale·w`` less its part in the null space of ``Ā``, which, scaled
back, is a null vector of ``Xc`` along which ``w`` has a component; ``w`` is
projected off each (at most one more solve than the null space has
dimensions), which leaves lstsq's minimum-norm solution in the user's units.

Tolerance. LSQR stops on ``‖Āᵀr̄‖ ≤ atol·‖Ā‖·‖r̄‖``, which a direction of
singular value below ``atol·‖Ā‖`` meets without being fitted (a near-copy of
a column: its estimate of ``‖Ā⁺‖`` never sees that direction, and the bound
below is met on a problem it has not solved). Its ``atol`` is therefore at
the rank cutoff of lstsq (``eps·max(n, d)``, at most 1e-12), so that every
direction lstsq fits is fitted before the bound is even looked at; that
costs a third more iterations on one-hot and random sparse designs.

Everything here is a pure function of arrays (numpy and scipy only).
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
from scipy.sparse.linalg import lsqr

from .._kernel.sparse_null import structural_null_candidates
from .._kernel.sparse_ops import (
    as_float64,
    centred_operator,
    centred_sq_norms,
    single_threaded_blas,
    varying,
)
from .._kernel.user_warnings import warn_user

# The solve stops once its bound on the error of the fitted values is below
# this fraction of their size (see ``_prediction_error_bound``).
PREDICTION_RTOL = 1e-9
# A Krylov solve that hits its iteration cap falls back to the exact route
# (dense d × d statistics, 128 MiB at this size) up to this many columns.
EXACT_FALLBACK_MAX_FEATURES = 4096
# LSQR's own tolerance at most (see "Tolerance" above); it is tightened by
# the factor the bound was missed by on a later attempt (from where the last
# one stopped).
FIRST_ATOL = 1e-12
# A null vector found this many times smaller than its probe is rounding.
NULL_RTOL = 1e-9
# Solves spent on the null space of a rank-deficient design at most, per
# target (one more than the dimensions it finds).
MAX_NULL_PROBES = 32
# ... each solved to this fraction of rtol if it can be (rtol is required).
PROBE_RTOL = 1e-3
# Null vectors read off the sparsity pattern (duplicated columns, one-hot
# blocks: ``_kernel.sparse_null``) seed the probes, at most this many
# entries (d per vector: 8 MiB, and an SVD of d·m² flops, 0.1 s at most),
# and at least as many vectors as the probes could find; with them the
# probes only have to certify that nothing is missing (one solve).
MAX_STRUCTURAL_ENTRIES = 1 << 20
MAX_ATTEMPTS = 4
EPS = np.finfo(np.float64).eps


def column_scales(X, sample_weight, x_mean, sw_sum, l2_reg_strength):
    """The Jacobi scaling: ``1/‖damped centred column‖``, 0 for constant ones.

    A column whose centred norm is only rounding of its mean (the same test
    as ``_newton.varying_columns``) does not change the fit: scale 0 keeps it
    out of the solve and gives it the coefficient 0.
    """
    sq_norms = centred_sq_norms(X, sample_weight, x_mean)
    active = varying(sq_norms, x_mean, sw_sum)
    damped = sq_norms + l2_reg_strength * sw_sum
    scale = np.zeros_like(sq_norms)
    scale[active] = 1.0 / np.sqrt(damped[active])
    return scale


@dataclass(frozen=True)
class KrylovSolution:
    """The result of :func:`solve_lsq`.

    Attributes: ``coef`` (d, k) float64; ``converged`` (every target met
    ``PREDICTION_RTOL``); ``minimum_norm`` (``coef`` is lstsq's
    minimum-norm solution, not only one with its fitted values: False for
    wide X or a null space :func:`_minimum_norm` could not remove);
    ``iterations`` (k,) LSQR iterations per target;
    ``bound`` (k,) the final bound on the relative error of the fitted
    values; ``residual_sq`` (k,) ``Σ s·(y − ŷ)² + alpha·Σs·‖w‖²`` at ``coef``
    (the objective times Σs), from the product the bound needed anyway.
    """

    coef: np.ndarray
    converged: bool
    iterations: np.ndarray
    bound: np.ndarray
    residual_sq: np.ndarray
    minimum_norm: bool = True


def _prediction_error_bound(result, fitted_norm):
    """Bound on ``‖√S·Xc·(w − w*)‖`` relative to ``‖√S·Xc·w‖``, from LSQR.

    With ``Ā`` the (scaled, damped) operator, ``r̄ = b̄ − Ā·z`` and ``e = z −
    z*``: ``r̄ = r̄* − Ā·e`` with ``r̄* ⊥ range(Ā)``, so

    * ``‖Ā·e‖² = ‖r̄‖² − ‖r̄*‖² ≤ ‖r̄‖²`` (rigorous; tight for consistent
      systems), and
    * ``Āᵀr̄ = −ĀᵀĀ·e`` with ``e ∈ range(Āᵀ)`` (LSQR's iterates from 0 stay
      there), so ``‖Ā·e‖ ≤ ‖Āᵀr̄‖·‖Ā⁺‖``; LSQR estimates ``‖Ā⁺‖`` (from
      the Frobenius norms of its bidiagonal, an over-estimate of the
      2-norm) as ``acond/anorm``.

    The error of the fitted values, ``‖√S·Xc·(w − w*)‖``, is at most
    ``‖Ā·e‖`` (the penalty rows only add to it).
    """
    _, _, _, r1norm, _, anorm, acond, arnorm = result[:8]
    if arnorm == 0 or r1norm == 0:
        # The normal equations hold exactly (Āᵀb̄ = 0 among them: nothing of
        # y is in the range of the varying columns, and z = 0 is the answer).
        return 0.0
    inverse_norm = acond / anorm if anorm > 0 else np.inf
    absolute = min(r1norm, arnorm * inverse_norm)
    return absolute / fitted_norm if fitted_norm > 0 else np.inf


def _solve_one(operator, rhs, n_samples, max_iter, rtol, first_atol=FIRST_ATOL):
    """One target: LSQR from 0, continued until the bound meets ``rtol``.

    Each attempt starts where the last stopped (still in ``range(Āᵀ)``, so
    the minimum-norm property holds) with LSQR's tolerance tightened by the
    factor its bound was missed by. Returns ``(z, iterations, bound,
    residual_sq)``, the last ``‖b̄ − Ā·z‖²`` (the objective times Σs).
    """
    z = np.zeros(operator.shape[1])
    if not np.any(rhs):
        return z, 0, 0.0, 0.0
    atol, iterations, bound, image = first_atol, 0, np.inf, np.zeros_like(rhs)
    for _ in range(MAX_ATTEMPTS):
        budget = max_iter - iterations
        if budget <= 0:
            break
        result = lsqr(
            operator, rhs, atol=atol, btol=atol, conlim=0, iter_lim=budget, x0=z
        )
        z, iterations = result[0], iterations + int(result[2])
        image = operator.matvec(z)
        fitted_norm = float(np.linalg.norm(image[:n_samples]))
        bound = _prediction_error_bound(result, fitted_norm)
        if bound <= rtol:
            break
        if result[1] == 7:  # iteration limit
            break
        # LSQR's tolerance cannot usefully go below rounding.
        atol = max(atol * min(0.5, 0.5 * rtol / bound), 4 * EPS)
    residual = rhs - image
    return z, iterations, bound, float(residual @ residual)


def solve_lsq(
    X,
    Y,
    sample_weight,
    x_mean,
    y_mean,
    sw_sum,
    l2_reg_strength,
    *,
    rtol=PREDICTION_RTOL,
    max_iter=None,
):
    """The minimiser of the objective by preconditioned LSQR, one per target.

    Parameters
    ----------
    X : sparse matrix of shape (n_samples, n_features)
        CSR or CSC, never densified.
    Y : ndarray of shape (n_samples, n_targets)
        Targets.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights.
    x_mean, y_mean : ndarray of shape (n_features,), (n_targets,)
        The weighted means (zeros without an intercept).
    sw_sum : float
        ``Σs``.
    l2_reg_strength : float
        ``alpha``.
    rtol : float, default=PREDICTION_RTOL
        Required bound on ``‖√S·Xc·(w − w*)‖ / ‖√S·Xc·w‖`` per target.
    max_iter : int, default=None
        Cap on LSQR iterations per target (default ``2·n_features + 100``).

    Returns
    -------
    solution : KrylovSolution
        ``coef`` is lstsq's minimum-norm solution (see the module
        docstring); ``converged`` is False when some target hit the
        iteration cap before its bound met ``rtol`` (or the null space of a
        rank-deficient design was not resolved), in which case the caller
        must not use ``coef`` silently.
    """
    X = as_float64(X)
    n_features = X.shape[1]
    n_outputs = Y.shape[1]
    max_iter = 2 * n_features + 100 if max_iter is None else max_iter
    unit = bool(np.all(sample_weight == 1))
    sample_weight = np.asarray(sample_weight, dtype=np.float64)
    root_sw = None if unit else np.sqrt(sample_weight)
    scale = column_scales(X, sample_weight, x_mean, sw_sum, l2_reg_strength)
    damp = float(np.sqrt(l2_reg_strength * sw_sum))
    coef = np.zeros((n_features, n_outputs))
    iterations = np.zeros(n_outputs, dtype=np.int64)
    bounds = np.zeros(n_outputs)
    residual_sq = np.zeros(n_outputs)
    operator = centred_operator(X, root_sw, x_mean, scale, damp)
    atol = min(FIRST_ATOL, max(EPS * max(X.shape), 4 * EPS))
    for k in range(n_outputs):
        rhs = np.asarray(Y[:, k], dtype=np.float64) - y_mean[k]
        if root_sw is not None:
            rhs *= root_sw
        if damp > 0:
            rhs = np.concatenate([rhs, np.zeros(n_features)])
        with single_threaded_blas():
            z, iterations[k], bounds[k], residual_sq[k] = _solve_one(
                operator, rhs, X.shape[0], max_iter, rtol, atol
            )
        coef[:, k] = scale * z
    converged = bool(np.all(bounds <= rtol))
    del rhs  # n floats: the probes below hold their own
    minimum = coef if damp > 0 else None
    # Wide X has a null space of d − n dimensions or more: no probing it.
    if converged and minimum is None and X.shape[0] >= n_features:
        with single_threaded_blas():
            seed = _structural_basis(X, operator, scale, atol)
            minimum = _minimum_norm(operator, scale, coef, max_iter, rtol, atol, seed)
    return KrylovSolution(
        coef if minimum is None else minimum,
        converged,
        iterations,
        bounds,
        residual_sq,
        minimum is not None,
    )


def _structural_basis(X, operator, scale, atol):
    """An orthonormal basis (d, m) of null vectors of ``Ā`` read off the
    sparsity pattern of ``X``, in the scaled units (``z = w / scale``).

    Only candidates that ``Ā`` maps to below ``atol`` times their norm (the
    rank cutoff of the solve: directions lstsq drops) are kept, and the
    orthonormal basis of their span is checked the same way; otherwise, or
    without candidates, an empty basis (the probes then find everything).
    """
    n_features = operator.shape[1]
    empty = np.zeros((n_features, 0))
    limit = max(MAX_NULL_PROBES, MAX_STRUCTURAL_ENTRIES // n_features)
    candidates = structural_null_candidates(X, limit)
    if candidates is None:
        return empty
    active = scale > 0
    # A candidate that needs a constant column (kept out of the solve) is
    # not a null vector of Ā.
    candidates = candidates[:, ~np.any(candidates[~active] != 0, axis=0)]
    candidates[active] /= scale[active, None]
    norms = np.linalg.norm(candidates, axis=0)
    candidates = candidates[:, norms > 0] / norms[norms > 0]
    if candidates.shape[1] == 0:
        return empty
    candidates = candidates[:, _null_columns(operator, candidates, atol)]
    if candidates.shape[1] == 0:
        return empty
    basis, singular, _ = la.svd(candidates, full_matrices=False, check_finite=False)
    basis = basis[:, singular > NULL_RTOL * singular[0]]
    return basis if _null_columns(operator, basis, atol).all() else empty


def _null_columns(operator, vectors, atol):
    """Which unit columns of ``vectors`` ``Ā`` maps below ``atol``."""
    images = operator.matmat(vectors)
    return np.linalg.norm(images, axis=0) <= atol


def _minimum_norm(operator, scale, coef, max_iter, rtol, atol, seed):
    """lstsq's minimum-norm solution with the fitted values of ``coef`` (the
    scaled minimum-norm one): ``coef`` projected off the null space of
    ``Xc`` (see "Minimum norm" above), starting from the orthonormal null
    vectors ``seed``. None when ``MAX_NULL_PROBES`` solves do not span it, a
    solve does not converge, or the projection would move the fitted values
    by more than ``rtol``."""
    n_rows, n_features = operator.shape
    active = scale > 0
    rng = np.random.default_rng(0)
    basis = seed  # orthonormal, of the null space of Ā
    for _ in range(MAX_NULL_PROBES):
        probe = np.where(active, rng.standard_normal(n_features), 0.0)
        # Aimed below rtol: the error of a probe's solve is in the null
        # vector it finds, and projecting it off moves the fitted values.
        z, _, bound, _ = _solve_one(
            operator, operator.matvec(probe), n_rows, max_iter, PROBE_RTOL * rtol, atol
        )
        if not bound <= rtol:
            return None
        null = probe - z
        for _ in range(2):  # Gram–Schmidt, twice
            null -= basis @ (basis.T @ null)
        norm = float(np.linalg.norm(null))
        if not norm > NULL_RTOL * float(np.linalg.norm(probe)):
            break
        basis = np.column_stack([basis, null / norm])
    else:
        return None
    if basis.shape[1] == 0:
        return coef
    # In the user's units (w = scale·z). Small entries are kept: a probe's
    # null vector, once the seeds are taken off it, is spread thinly over
    # many columns, and dropping its entries below 1e-8 moved the fitted
    # values of a 2,500 x 1,642 one-hot design by 5e-10 (kept: 1.6e-12).
    null_w = la.qr(scale[:, None] * basis, mode="economic", check_finite=False)[0]
    minimum = coef - null_w @ (null_w.T @ coef)
    unscaled = np.divide(1.0, scale, out=np.zeros_like(scale), where=active)
    for k in range(coef.shape[1]):
        before = np.linalg.norm(operator.matvec(unscaled * coef[:, k])[:n_rows])
        moved = operator.matvec(unscaled * (minimum[:, k] - coef[:, k]))[:n_rows]
        if not np.linalg.norm(moved) <= rtol * before:
            return None
    return minimum


def newton_target(
    X, Y, sample_weight, x_mean, y_mean, sw_sum, l2_reg_strength, *, warning
):
    """``(coef, residual_sq)`` of :func:`solve_lsq`, or ``None`` (exact route).

    A solve that hit its iteration cap, or whose coefficients are not
    lstsq's minimum-norm ones (wide or rank-deficient X whose null space was
    not removed), is never used silently: when the smaller side of X is at
    most ``EXACT_FALLBACK_MAX_FEATURES`` the caller is sent to the exact
    route by ``None`` (d × d statistics, or the n × n dual of wide X);
    beyond, the iterate comes with a warning of category ``warning`` (the
    caller's, so that this module imports no estimator library).
    """
    solution = solve_lsq(X, Y, sample_weight, x_mean, y_mean, sw_sum, l2_reg_strength)
    if solution.converged and solution.minimum_norm:
        return solution.coef, solution.residual_sq
    # The exact route: d × d statistics for tall X, the n × n dual for wide X.
    if min(X.shape) <= EXACT_FALLBACK_MAX_FEATURES:
        return None
    if solution.converged:
        message = (
            f"The fitted values are within {PREDICTION_RTOL:g} of lstsq's, but "
            "coef_ is not lstsq's minimum-norm solution: X is rank-deficient "
            "with a null space too large to remove and too wide for the exact "
            "route (the solution of smallest norm for standardised columns)."
        )
    else:
        message = (
            f"LSQR stopped after {int(solution.iterations.max())} iterations "
            f"with a bound {float(solution.bound.max()):.2g} on the relative error "
            f"of the fitted values (target {PREDICTION_RTOL:g}): X is too "
            "ill-conditioned for the iterative solve and too wide for the exact "
            "one."
        )
    warn_user(message, warning)
    return solution.coef, solution.residual_sq
