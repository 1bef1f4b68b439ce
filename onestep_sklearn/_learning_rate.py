"""Learning-rate facts for the objective in ``_kernel.objective`` (public).

The objective is quadratic with Hessian ``H = 2·(XcᵀSXc/Σs) + 2·alpha·I``.
Its largest eigenvalue ``L`` (the Lipschitz constant of the gradient) decides
everything about a fixed step size ``η`` in full-batch gradient descent:
``η = 1/L`` is always stable and monotone, ``η < 2/L`` converges, and
``η ≥ 2/L`` diverges along the top eigenvector.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.utils import check_array

from ._compat import _check_sample_weight
from ._data.memory import ArraySource
from ._kernel.spectrum import hessian_extremes, lanczos_extreme
from ._solvers.objective import Objective

# suggest_learning_rate forms the exact Hessian up to this many features
# (dense, sparse); beyond, Lanczos on data passes.
EXACT_MAX_FEATURES = {False: 2000, True: 500}


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
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=X.dtype, ensure_non_negative=True
    )
    if not sample_weight.sum() > 0:
        raise ValueError("sample_weight sums to zero: at least one must be > 0.")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}.")
    Y = np.zeros((X.shape[0], 1), dtype=X.dtype)
    sw_sum = float(sample_weight.sum(dtype=np.float64))
    source = ArraySource(X, Y, sample_weight, sw_sum)
    n_features = X.shape[1]
    if n_features <= EXACT_MAX_FEATURES[sp.issparse(X)]:
        stats = source.statistics(fit_intercept)
        return suggestion_from_extremes(*hessian_extremes(stats.hessian(alpha)))
    # Large or sparse d: Lanczos on Hessian-vector products (data passes),
    # the d × d Gram never formed.
    objective = Objective.on_data(source, *source.means(fit_intercept), alpha)
    top = lanczos_extreme(objective.hessp, n_features, "LA")
    if n_features == 1 or top == 0:
        return suggestion_from_extremes(top, top)
    return suggestion_from_extremes(
        top, lanczos_extreme(objective.hessp, n_features, "SA")
    )
