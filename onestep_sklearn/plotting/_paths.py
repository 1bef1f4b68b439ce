"""The path of a fitted regressor, for ``TrajectoryDisplay``: its iterates
replayed, whatever fitted it (see :func:`fitted_path`)."""

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from .. import IterativeGDRegressor, IterativeGDRegressorCV, OneStepRegressor
from .._solvers.descent import recording_path
from ._display_common import refit_equivalent
from ._display_other import is_linear_point, is_sgd, sgd_alpha, sgd_epochs


def is_model(estimator):
    return isinstance(
        estimator, (IterativeGDRegressor, IterativeGDRegressorCV, OneStepRegressor)
    ) or is_sgd(estimator)


def is_shown(estimator):
    """A run of this package or SGD (a path), or any linear model (a point)."""
    return is_model(estimator) or is_linear_point(estimator)


def objective_alpha(estimator, sample_weight, n_samples):
    """The ``alpha`` of this package's objective that ``estimator`` minimises:
    its own, SGD's (``_display_other``), ``Ridge(alpha=a)``'s ``a/Σs`` (the
    documented equivalence), else 0 (least squares)."""
    if is_model(estimator) and not is_sgd(estimator):
        return estimator.alpha
    if is_sgd(estimator):
        return sgd_alpha(estimator)
    ridge_alpha = getattr(estimator, "alpha_", getattr(estimator, "alpha", None))
    if np.ndim(ridge_alpha) == 0 and type(estimator).__name__.startswith("Ridge"):
        total = n_samples if sample_weight is None else np.sum(sample_weight)
        return float(ridge_alpha) / float(total)
    return 0.0


def _replay_partial_fit(estimator, X, y, sample_weight, start):
    """The iterates of a model fitted by ``partial_fit``: as many calls on a
    clone, each on all of ``(X, y)``, ``coef_`` kept after each."""
    replay = clone(estimator).set_params(warm_start=False)
    coefs = [start]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(int(estimator.n_iter_)):
            replay.partial_fit(X, y, sample_weight=sample_weight)
            coefs.append(np.asarray(replay.coef_, dtype=np.float64).copy())
    return replay, np.array(coefs)


def fitted_path(estimator, X, y, *, sample_weight=None, coef_init=None):
    """The iterates of ``estimator``'s fit on ``(X, y)``, ``coef_init`` (or
    zeros) first: (n_points, n_features).

    ``OneStepRegressor`` takes one step: start and ``coef_``. An
    ``IterativeGDRegressor`` fit is run again on a clone with its iterates
    recorded (``recording_path``: the same plan, engine and stopping rule),
    and must end at the estimator's ``coef_``; an ``IterativeGDRegressorCV``
    is its refit run again (``refit_equivalent``), a model fitted by
    ``partial_fit`` as many ``partial_fit`` calls on ``(X, y)``, an
    ``SGDRegressor`` epoch by epoch through ``partial_fit``
    (``_display_other.sgd_epochs``). Any other linear model is one point,
    its ``coef_``.
    """
    name = type(estimator).__name__
    if np.ndim(estimator.coef_) != 1 and np.shape(estimator.coef_)[0] != 1:
        raise ValueError(
            "TrajectoryDisplay draws a single-target fit; "
            f"{name}.coef_ has shape {np.shape(estimator.coef_)}."
        )
    coef = np.ravel(estimator.coef_).astype(np.float64)
    if is_sgd(estimator):
        return sgd_epochs(estimator, X, y, sample_weight)[0]
    if not is_model(estimator):
        return coef[None, :]
    start = np.zeros(coef.size) if coef_init is None else np.asarray(coef_init)
    if isinstance(estimator, OneStepRegressor):
        return np.vstack([start, coef])
    if getattr(estimator, "stop_reason_", None) == "partial_fit":
        replay, path = _replay_partial_fit(estimator, X, y, sample_weight, start)
        if not _same(replay.coef_, coef):
            raise ValueError(
                f"{name} was fitted by {estimator.n_iter_} partial_fit calls; as "
                "many calls on all of the X and y given did not reproduce its "
                "coef_. TrajectoryDisplay replays partial_fit on the whole data "
                "in every call: a model fitted on chunks cannot be replayed "
                "(and shuffled mini-batches need a fixed random_state)."
            )
        return path
    replay = clone(refit_equivalent(estimator)).set_params(warm_start=False)
    with recording_path() as recorder, warnings.catch_warnings():
        # The fit being replayed has already warned about its end, if at all.
        warnings.simplefilter("ignore", ConvergenceWarning)
        replay.fit(X, y, sample_weight=sample_weight, coef_init=coef_init)
    path = np.asarray(recorder.path, dtype=np.float64)
    if not _same(replay.coef_, coef):
        raise ValueError(
            f"Fitting {name} again on the X and y given did not reproduce its "
            "coef_: pass the training data of the fit (and its sample_weight "
            "and coef_init), and a fixed random_state when it shuffles "
            "mini-batches."
        )
    return path


def _same(coef, reference):
    scale = max(np.linalg.norm(reference), np.finfo(np.float64).tiny)
    return np.linalg.norm(np.ravel(coef) - reference) <= 1e-6 * scale
