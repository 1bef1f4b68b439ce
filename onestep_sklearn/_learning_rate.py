"""Learning-rate facts for the objective in ``_objective``.

The objective is quadratic with Hessian ``H = 2·(XcᵀSXc/Σs) + 2·alpha·I``.
Its largest eigenvalue ``L`` (the Lipschitz constant of the gradient) decides
everything about a fixed step size ``η`` in full-batch gradient descent:
``η = 1/L`` is always stable and monotone, ``η < 2/L`` converges, and
``η ≥ 2/L`` diverges along the top eigenvector.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator

from ._objective import row_blocks
from ._sparse_ops import extreme_eigenvalue, hessian_operator

# Up to this many features the Hessian is formed exactly in one pass (a
# Hessian-vector product with the identity as k = d right-hand sides).
DENSE_HESSIAN_MAX_FEATURES = 64
# suggest_learning_rate forms the exact Hessian up to this many features
# (dense, sparse); beyond, Lanczos on data passes.
EXACT_MAX_FEATURES = {False: 2000, True: 500}


def hessian_extremes(hessian):
    """Largest and smallest eigenvalue of a symmetric matrix (exact)."""
    evals = la.eigvalsh(hessian, check_finite=False)
    return float(evals[-1]), float(max(evals[0], 0.0))


def lipschitz_from_data(objective):
    """``L`` from Hessian-vector products (data passes), no Gram needed."""
    n_features = objective.x_mean.shape[0]
    if n_features <= DENSE_HESSIAN_MAX_FEATURES:
        hessian = objective.hessp(np.eye(n_features))
        return hessian_extremes((hessian + hessian.T) / 2)[0]
    if sp.issparse(getattr(objective, "X", None)):
        # Products straight with X, as in suggest_learning_rate (no slices).
        hessian = hessian_operator(
            objective.X,
            objective.sample_weight,
            objective.x_mean,
            objective.sw_sum,
            objective.l2_reg_strength,
        )
        return extreme_eigenvalue(hessian, "LA")
    return lanczos_extreme(objective, "LA")


def lanczos_extreme(objective, which, tol=1e-10):
    """An extreme Hessian eigenvalue by Lanczos on data-pass products.

    The Ritz pair ``(θ, v)`` comes with its residual ``r = Hv − θv``; an
    eigenvalue lies within ``‖r‖`` of ``θ``. The largest is returned as the
    bound ``θ + ‖r‖`` (a step of 1/L never exceeds the 1/L of a slightly
    larger L), the smallest as ``max(θ − ‖r‖, 0)``.
    """
    n_features = objective.x_mean.shape[0]
    operator = LinearOperator(
        (n_features, n_features),
        matvec=lambda v: objective.hessp(v.reshape(-1, 1)).ravel(),
        dtype=np.float64,
    )
    # The bound and the zero Hessian (which ARPACK rejects) are handled there.
    return extreme_eigenvalue(operator, which, tol)


def per_sample_lipschitz(X, sample_weight, x_mean, l2_reg_strength):
    """Curvature bound valid for every mini-batch: 2·maxᵢ‖xᵢ − x̄‖² + 2·alpha.

    A batch Hessian is a weighted average of the per-sample ones
    ``2(xᵢ − x̄)(xᵢ − x̄)ᵀ``, whose only non-zero eigenvalue is ``2‖xᵢ − x̄‖²``.
    Rows with zero weight never enter a gradient and are ignored.
    """
    largest = 0.0
    for rows in row_blocks(X):
        block = X[rows]
        if sp.issparse(block):
            sq_norms = np.asarray(block.multiply(block).sum(axis=1)).ravel()
            sq_norms = sq_norms - 2.0 * (block @ x_mean) + x_mean @ x_mean
        else:
            sq_norms = np.sum((block - x_mean) ** 2, axis=1, dtype=np.float64)
        sq_norms = sq_norms[sample_weight[rows] > 0]
        if sq_norms.size:
            largest = max(largest, float(sq_norms.max()))
    return 2.0 * largest + 2.0 * l2_reg_strength


def cauchy_step(grad_sq, curvature):
    """Exact line-search step ``‖g‖²/(gᵀHg)`` along ``−g`` (0 when g = 0).

    ``grad_sq`` is ``‖g‖²`` and ``curvature`` is ``gᵀHg``.
    """
    return grad_sq / curvature if curvature > 0 else 0.0


@dataclass(frozen=True)
class LearningRateSuggestion:
    """Step sizes for full-batch gradient descent on the MSE objective.

    Attributes
    ----------
    lipschitz : float
        ``L``, the largest eigenvalue of the Hessian.
    auto : float
        ``1/L``: always stable, the objective decreases monotonically.
    max_stable : float
        ``2/L``: the exact stability limit; any step at or past it diverges.
    condition_number : float
        Largest over smallest Hessian eigenvalue (``inf`` when singular).
    """

    lipschitz: float
    auto: float
    max_stable: float
    condition_number: float


def suggestion_from_extremes(top, bottom):
    if not top > 0:
        # A flat objective (constant features): any step is stable.
        return LearningRateSuggestion(0.0, np.inf, np.inf, 1.0)
    condition = top / bottom if bottom > 0 else np.inf
    return LearningRateSuggestion(top, 1.0 / top, 2.0 / top, condition)


def suggest_learning_rate(X, sample_weight=None, *, alpha=0.0, fit_intercept=True):
    """Lipschitz constant and safe step sizes for ``X``, before any fit.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (the objective is normalised by their sum).
    alpha : float, default=0.0
        L2 strength of the objective (adds ``2·alpha`` to every eigenvalue).
    fit_intercept : bool, default=True
        Whether the intercept is fitted (the Hessian is then that of the
        centred data).

    Returns
    -------
    suggestion : LearningRateSuggestion
        With attributes ``lipschitz``, ``auto``, ``max_stable`` and
        ``condition_number``.

    Examples
    --------
    >>> import numpy as np
    >>> from onestep_sklearn import suggest_learning_rate
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
    >>> s = suggest_learning_rate(X)
    >>> float(s.lipschitz), float(s.max_stable), float(s.condition_number)
    (9.0, 0.2222222222222222, 9.0)
    """
    from sklearn.utils import check_array
    from sklearn.utils.validation import _check_sample_weight

    from ._objective import DataObjective, weighted_means
    from ._stats import SufficientStats

    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=X.dtype, ensure_non_negative=True
    )
    if not sample_weight.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one must be > 0.")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}.")
    Y = np.zeros((X.shape[0], 1), dtype=X.dtype)
    n_features = X.shape[1]
    if n_features <= EXACT_MAX_FEATURES[sp.issparse(X)]:
        stats = SufficientStats.from_data(X, Y, sample_weight, fit_intercept)
        return suggestion_from_extremes(*hessian_extremes(stats.hessian(alpha)))
    # Large or sparse d: Lanczos on Hessian-vector products (data passes),
    # the d × d Gram never formed.
    sw_sum = float(sample_weight.sum(dtype=np.float64))
    x_mean, y_mean = weighted_means(X, Y, sample_weight, sw_sum)
    if not fit_intercept:
        x_mean, y_mean = np.zeros_like(x_mean), np.zeros_like(y_mean)
    if sp.issparse(X):
        # Products straight with X and its transposed view (no row blocks).
        hessian = hessian_operator(X, sample_weight, x_mean, sw_sum, alpha)
        top = extreme_eigenvalue(hessian, "LA")
        bottom = extreme_eigenvalue(hessian, "SA") if n_features > 1 else top
        return suggestion_from_extremes(top, bottom)
    objective = DataObjective(X, Y, sample_weight, sw_sum, x_mean, y_mean, alpha)
    top = lanczos_extreme(objective, "LA")
    bottom = lanczos_extreme(objective, "SA") if n_features > 1 else top
    return suggestion_from_extremes(top, bottom)
