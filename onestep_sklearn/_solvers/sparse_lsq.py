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
of the system it is given, here the *column-scaled* one: for a rank-deficient
design (a one-hot block beside the intercept, the dummy trap) the solution
returned is the least-squares solution of smallest norm in the scaled
variables ``z = w / scale``, i.e. the one minimising ``Σⱼ ‖xⱼ − x̄ⱼ‖²_S·wⱼ²``
(the minimum-norm solution for standardised columns). Its predictions are
those of every least-squares solution, ``numpy.linalg.lstsq`` included; its
coefficients differ from lstsq's by a vector of the null space of ``Xc``.
For a full-rank design (or ``alpha > 0``) the minimiser is unique and the
scaling changes nothing.

Everything here is a pure function of arrays (numpy and scipy only).
"""

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.sparse.linalg import lsqr

from .._kernel.sparse_ops import (
    as_float64,
    centred_operator,
    centred_sq_norms,
    single_threaded_blas,
    varying,
)

# The solve stops once its bound on the error of the fitted values is below
# this fraction of their size (see ``_prediction_error_bound``).
PREDICTION_RTOL = 1e-9
# A Krylov solve that hits its iteration cap falls back to the exact route
# (dense d × d statistics, 128 MiB at this size) up to this many columns.
EXACT_FALLBACK_MAX_FEATURES = 4096
# LSQR's own tolerance on the first attempt. Its test ‖Āᵀr̄‖ ≤ atol·‖Ā‖·‖r̄‖
# makes the bound at most atol·acond·‖r̄‖/‖√S·Xc·w‖, where the residual is
# rarely larger than the fit and acond is small for equilibrated designs:
# starting at a few times the target usually meets it in one attempt (one
# iteration fewer than at the target itself on CSR 50,000 × 2,000), and a
# later attempt (from where the last one stopped) tightens it by the factor
# the bound was missed by.
FIRST_ATOL = 4 * PREDICTION_RTOL
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
    ``PREDICTION_RTOL``); ``iterations`` (k,) LSQR iterations per target;
    ``bound`` (k,) the final bound on the relative error of the fitted
    values; ``residual_sq`` (k,) ``Σ s·(y − ŷ)² + alpha·Σs·‖w‖²`` at ``coef``
    (the objective times Σs), from the product the bound needed anyway.
    """

    coef: np.ndarray
    converged: bool
    iterations: np.ndarray
    bound: np.ndarray
    residual_sq: np.ndarray


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


def _solve_one(operator, rhs, n_samples, max_iter, rtol):
    """One target: LSQR from 0, continued until the bound meets ``rtol``.

    Each attempt starts where the last stopped (still in ``range(Āᵀ)``, so
    the minimum-norm property holds) with LSQR's tolerance tightened by the
    factor its bound was missed by. Returns ``(z, iterations, bound,
    residual_sq)``, the last ``‖b̄ − Ā·z‖²`` (the objective times Σs).
    """
    z = np.zeros(operator.shape[1])
    if not np.any(rhs):
        return z, 0, 0.0, 0.0
    atol, iterations, bound, image = FIRST_ATOL, 0, np.inf, np.zeros_like(rhs)
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
        ``coef`` is the minimum-norm solution in the column-scaled variables
        (see the module docstring); ``converged`` is False when some target
        hit the iteration cap before its bound met ``rtol``, in which case
        the caller must not use ``coef`` silently.
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
    for k in range(n_outputs):
        rhs = np.asarray(Y[:, k], dtype=np.float64) - y_mean[k]
        if root_sw is not None:
            rhs *= root_sw
        if damp > 0:
            rhs = np.concatenate([rhs, np.zeros(n_features)])
        with single_threaded_blas():
            z, iterations[k], bounds[k], residual_sq[k] = _solve_one(
                operator, rhs, X.shape[0], max_iter, rtol
            )
        coef[:, k] = scale * z
    converged = bool(np.all(bounds <= rtol))
    return KrylovSolution(coef, converged, iterations, bounds, residual_sq)


def newton_target(
    X, Y, sample_weight, x_mean, y_mean, sw_sum, l2_reg_strength, *, warning
):
    """``(coef, residual_sq)`` of :func:`solve_lsq`, or ``None`` (exact route).

    A solve that hit its iteration cap is never used silently: up to
    ``EXACT_FALLBACK_MAX_FEATURES`` columns the caller is sent to the exact
    (d × d) route by ``None``; beyond, the iterate comes with a warning of
    category ``warning`` (the caller's, so that this module imports no
    estimator library).
    """
    solution = solve_lsq(X, Y, sample_weight, x_mean, y_mean, sw_sum, l2_reg_strength)
    if solution.converged:
        return solution.coef, solution.residual_sq
    if X.shape[1] <= EXACT_FALLBACK_MAX_FEATURES:
        return None
    warnings.warn(
        f"LSQR stopped after {int(solution.iterations.max())} iterations with "
        f"a bound {float(solution.bound.max()):.2g} on the relative error of "
        f"the fitted values (target {PREDICTION_RTOL:g}): X is too "
        "ill-conditioned for the iterative solve and too wide for the exact "
        "one.",
        warning,
        stacklevel=3,
    )
    return solution.coef, solution.residual_sq
