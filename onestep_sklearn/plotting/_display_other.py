"""Other regressors on the axes of the displays: ``SGDRegressor`` epoch by
epoch, and any fitted linear model as a point.

Every curve and contour of ``plotting`` is the objective of
``onestep_sklearn._kernel.objective``, ``f(w, b) = Σ sᵢ(yᵢ − xᵢᵀw − b)²/Σs +
alpha·‖w‖²``. ``SGDRegressor(penalty="l2", alpha=a)`` minimises
``½·(mean squared error + a·‖w‖²)``, the same objective with ``alpha = a``
up to the factor ½, so its epochs are drawn on it with ``alpha = a``; with
another penalty its objective differs and its epochs are drawn on the plain
mean squared error (``alpha = 0``).
"""

import numpy as np
from sklearn.base import clone
from sklearn.linear_model import SGDRegressor
from sklearn.utils import check_array


def is_sgd(estimator):
    return isinstance(estimator, SGDRegressor)


def is_linear_point(estimator):
    """A fitted single-target linear model drawn as a point (no path)."""
    return hasattr(estimator, "coef_") and hasattr(estimator, "intercept_")


def sgd_alpha(sgd):
    """The ``alpha`` of the package's objective that SGD minimises."""
    return float(sgd.alpha) if sgd.penalty == "l2" else 0.0


def sgd_epochs(sgd, X, y, sample_weight=None, n_epochs=None):
    """The run of a fitted ``SGDRegressor`` epoch by epoch, through
    ``partial_fit``: ``(coefs, intercepts)`` of shape (n_epochs + 1, d) and
    (n_epochs + 1,), the zero start first.

    A clone with the same parameters takes ``n_epochs`` (default: the fit's
    ``n_iter_``) calls of ``partial_fit`` on all of ``(X, y)``, one epoch
    each, its learning-rate schedule carried from call to call. That is
    ``fit``'s run when nothing stops it early and ``shuffle=False`` (with
    shuffling, ``fit`` and ``partial_fit`` draw their orders differently).
    """
    if n_epochs is None:
        n_epochs = int(getattr(sgd, "n_iter_", 0) or sgd.max_iter)
    n_features = check_array(X, accept_sparse=["csr", "csc"]).shape[1]
    replay = clone(sgd)
    coefs, intercepts = [np.zeros(n_features)], [0.0]
    for _ in range(max(n_epochs, 1)):
        replay.partial_fit(X, y, sample_weight=sample_weight)
        coefs.append(np.asarray(replay.coef_, dtype=np.float64).copy())
        intercepts.append(float(np.ravel(replay.intercept_)[0]))
    return np.array(coefs), np.array(intercepts)


def objective_values(X, y, coefs, intercepts, alpha, sample_weight=None):
    """``f(w, b)`` of the objective above for every row of ``coefs``
    with its intercept, on ``(X, y)``."""
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).ravel()
    weights = (
        np.ones(X.shape[0])
        if sample_weight is None
        else np.asarray(sample_weight, dtype=np.float64)
    )
    coefs = np.atleast_2d(np.asarray(coefs, dtype=np.float64))
    residuals = y[:, None] - X @ coefs.T - np.asarray(intercepts)[None, :]
    mse = weights @ residuals**2 / weights.sum()
    return mse + alpha * np.sum(coefs**2, axis=1)
