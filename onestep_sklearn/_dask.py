"""Dask arrays: ``fit``, ``partial_fit`` and ``predict`` on a cluster.

The objective is the one of ``_objective``. A Dask array ``X`` chunked along
rows never leaves the workers: every quantity the estimators need is a small
reduction over row blocks, computed where the blocks live and combined by a
pairwise tree of the same exact merges the in-memory code uses.

* Sufficient statistics: :meth:`SufficientStats.from_data` per block, merged
  by :meth:`SufficientStats.merge` (Chan, Golub & LeVeque); only the d×d
  result reaches the client. Newton, the best gradient step and gradient
  descent on the statistics then run exactly as in memory.
* Data passes (``precompute=False``, Newton refinement, the QR fallback):
  per-block :func:`data_pass` (or a block's triangular factor), summed (or
  stacked and re-factored) on the workers, one Dask computation per pass.
* ``predict``: a lazy ``map_blocks`` of ``X @ coef_.T + intercept_``.

Dask and distributed are optional: nothing here imports them until an input
already is a Dask collection (``dask`` then is in ``sys.modules``). With a
``distributed.Client`` active, every computation runs on its cluster.
"""

from functools import partial

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils.validation import check_is_fitted

from ._dask_reduce import (
    DaskDataObjective,
    is_dask_collection,
    nonfinite_message,
    reduce_centred_gradient,
    reduce_means,
    reduce_qr_factor,
    reduce_stats,
    validate_fit_data,
    validate_X,
)
from ._gd import DataEngine, GDState, chunk_iteration, running_means
from ._learning_rate import lipschitz_from_data
from ._newton import solve_from_factor, solve_from_stats
from ._spectral import SpectralEngine

__all__ = [
    "fit_iterative",
    "fit_one_step",
    "is_dask_collection",
    "partial_fit_iterative",
    "partial_fit_one_step",
    "predict",
]


def _units(estimator, data, first_call):
    """Fit a Dask data set in the units of the in-memory estimator.

    In memory, data of extreme magnitude (past about 1e±120) are fitted in
    rescaled units, exact powers of two kept in ``_scales``. A first Dask fit
    keeps units 1 (such data overflow the statistics and get the error that
    says to rescale); Dask chunks passed to ``partial_fit`` after in-memory
    ones take the units already chosen, applied lazily.
    """
    scales = (1.0, 1.0)
    if not first_call:
        scales = getattr(estimator, "_scales", scales)
    x_scale, y_scale = scales
    if x_scale != 1.0:
        data.X = data.X * x_scale
    if y_scale != 1.0:
        data.Y = data.Y * y_scale
    estimator._scales = scales
    return scales


def _base_rate(estimator, lipschitz):
    """``IterativeGDRegressor``'s full-batch rate: the user's, or 1/L."""
    if estimator.learning_rate != "auto":
        return float(estimator.learning_rate)
    # A flat objective (no variance in X, alpha = 0): any step is stable.
    return 1.0 / lipschitz if lipschitz > 0 else 1.0


# --------------------------------------------------------------------------
# The estimators' methods on Dask data. Each mirrors the in-memory method of
# the same estimator step for step, so the fitted models agree.


@_fit_context(prefer_skip_nested_validation=True)
def fit_one_step(estimator, X, y, sample_weight=None, coef_init=None):
    """``OneStepRegressor.fit`` on Dask arrays; the statistics are reduced on
    the cluster and only they reach the client."""
    from ._iterative import PRECOMPUTE_MAX_FEATURES

    data = validate_fit_data(estimator, X, y, sample_weight, reset=True)
    n_features, n_outputs = data.X.shape[1], data.Y.shape[1]
    coef0 = estimator._initial_coef(coef_init, n_features, n_outputs, data.y_ndim)
    if hasattr(estimator, "_stats"):
        del estimator._stats
    _units(estimator, data, first_call=True)
    alpha = estimator.alpha
    if estimator.solver == "gradient" and n_features > PRECOMPUTE_MAX_FEATURES:
        # A d×d Gram per block would outweigh the blocks: three data passes.
        data.persist()
        sw_sum, x_mean, y_mean = reduce_means(data, estimator.fit_intercept)
        objective = DaskDataObjective(data, sw_sum, x_mean, y_mean, alpha)
        loss0, grad = objective.loss_gradient(coef0)
        curvature = objective.curvature(grad)
        coef, eta, loss = estimator._gradient_step(coef0, loss0, grad, curvature)
        intercept = objective.intercept(coef)
    else:
        stats = reduce_stats(data, estimator.fit_intercept)
        if estimator.solver == "newton":
            target = _newton_target(estimator, data, stats)
            coef, eta = estimator._newton_update(coef0, target)
            loss = float(stats.loss_per_output(coef, alpha).sum())
        else:
            coef, eta, loss = estimator._step_from_stats(stats, alpha, coef0)
        intercept = stats.intercept(coef)
    estimator._finish(coef, intercept, eta, loss, data.y_ndim, data.dtype)
    return estimator


def _newton_target(estimator, data, stats):
    """The minimiser as ``OneStepRegressor._fit_newton`` finds it: Cholesky,
    refined by a data pass when ill-conditioned, or a tree-reduced TSQR."""
    alpha = estimator.alpha
    target, rcond, inverse = solve_from_stats(stats, alpha)
    if target is not None and estimator._needs_refinement(data.X, stats, rcond):
        grad = reduce_centred_gradient(data, stats.x_mean, stats.y_mean, target)
        grad += alpha * stats.sw_sum * target
        target = target - inverse(grad)
    if target is None:
        factor = reduce_qr_factor(data, stats.x_mean, stats.y_mean)
        target = solve_from_factor(
            factor, stats.xy.shape[0], stats.n_samples, stats.sw_sum, alpha
        )
    return target


@_fit_context(prefer_skip_nested_validation=True)
def partial_fit_one_step(estimator, X, y, sample_weight=None):
    """``OneStepRegressor.partial_fit`` with a Dask chunk: its statistics are
    reduced on the cluster and merged into the running ones."""
    first_call = not hasattr(estimator, "_stats")
    data = validate_fit_data(estimator, X, y, sample_weight, reset=first_call)
    x_scale, _ = _units(estimator, data, first_call)
    chunk = reduce_stats(data, estimator.fit_intercept)
    if not first_call and estimator._stats.fit_intercept != estimator.fit_intercept:
        raise ValueError(
            "fit_intercept changed between partial_fit calls; call fit to start again."
        )
    stats = chunk if first_call else estimator._stats.merge(chunk)
    alpha = estimator.alpha * x_scale**2  # in the units of the statistics
    coef, eta, loss = estimator._step_from_stats(stats, alpha)
    estimator._finish(coef, stats.intercept(coef), eta, loss, data.y_ndim, data.dtype)
    estimator._stats = stats
    return estimator


def _reject_unsupported(estimator):
    for name, value in (
        ("batch_size", estimator.batch_size),
        ("early_stopping", estimator.early_stopping),
    ):
        if value not in (None, False):
            raise ValueError(
                f"{type(estimator).__name__}({name}={value!r}) is not supported "
                "on Dask arrays: mini-batches and the validation split need "
                "random access to the rows. Use the defaults (full-batch "
                "gradient descent) or compute the data into memory."
            )


@_fit_context(prefer_skip_nested_validation=True)
def fit_iterative(estimator, X, y, sample_weight=None, coef_init=None):
    """``IterativeGDRegressor.fit`` on Dask arrays (full batch).

    With ``precompute`` (True, or "auto" when n ≥ d ≤ 1000) the statistics
    are reduced on the cluster and the spectral engine iterates on them, as
    in memory; with ``precompute=False`` every iteration is one Dask
    reduction of data passes over the persisted blocks.
    """
    from ._iterative import PRECOMPUTE_MAX_FEATURES, statistics_objective

    _reject_unsupported(estimator)
    data = validate_fit_data(estimator, X, y, sample_weight, reset=True)
    (n_samples, n_features), n_outputs = data.X.shape, data.Y.shape[1]
    coef0 = estimator._initial_coef(coef_init, n_features, n_outputs, data.y_ndim)
    alpha, precompute = estimator.alpha, estimator.precompute
    if precompute == "auto":
        precompute = n_samples >= n_features <= PRECOMPUTE_MAX_FEATURES
    if precompute:
        stats = reduce_stats(data, estimator.fit_intercept)
        sw_sum = stats.sw_sum
        objective, frozen, spectrum = statistics_objective(stats, alpha)
        lipschitz = float(max(spectrum[0][-1], 0.0))
    else:
        data.persist()
        sw_sum, x_mean, y_mean = reduce_means(data, estimator.fit_intercept)
        objective = DaskDataObjective(data, sw_sum, x_mean, y_mean, alpha)
        lipschitz = lipschitz_from_data(objective)
    estimator.lipschitz_ = float(lipschitz)
    estimator.learning_rate_ = _base_rate(estimator, lipschitz)
    rate = (estimator.learning_rate_, estimator.schedule, estimator.power_t)
    moves = (estimator.momentum, estimator.nesterov)
    if precompute:
        engine = SpectralEngine(objective, coef0, *rate, *moves, None, spectrum)
    else:
        engine = DataEngine(objective, coef0, *rate, *moves, None, None)
    coef = estimator._descend(engine, objective, coef0, None, data.dtype)
    if precompute:
        # Constant columns never move; the eigenbasis would add rounding.
        coef[frozen] = coef0[frozen]
    estimator._set_coef(coef, objective.intercept(coef), data.y_ndim, data.dtype)
    estimator._state = GDState(coef=coef.copy(), velocity=np.zeros_like(coef))
    estimator._state.t = estimator.t_
    estimator._seen = (sw_sum, objective.x_mean, objective.y_mean)
    return estimator


@_fit_context(prefer_skip_nested_validation=True)
def partial_fit_iterative(estimator, X, y, sample_weight=None):
    """``IterativeGDRegressor.partial_fit`` with a Dask chunk: one full-batch
    step on it, each of its data passes a Dask reduction."""
    _reject_unsupported(estimator)
    first_call = not hasattr(estimator, "_state")
    data = validate_fit_data(estimator, X, y, sample_weight, reset=first_call)
    data.persist()
    sw_sum, x_mean, y_mean = reduce_means(data, estimator.fit_intercept)
    x_mean, y_mean = running_means(estimator, x_mean, y_mean, sw_sum)
    objective = DaskDataObjective(data, sw_sum, x_mean, y_mean, estimator.alpha)
    estimator.lipschitz_ = float(lipschitz_from_data(objective))
    estimator.learning_rate_ = _base_rate(estimator, estimator.lipschitz_)
    chunk_iteration(estimator, objective, None)
    coef = estimator._state.coef
    estimator._set_coef(coef, objective.intercept(coef), data.y_ndim, data.dtype)
    return estimator


# --------------------------------------------------------------------------
# Prediction: lazy.


def _predict_block(X, coef, intercept):
    with np.errstate(over="ignore", invalid="ignore"):
        y_pred = X @ coef.T
        y_pred += intercept
    if not np.isfinite(y_pred).all():
        message = nonfinite_message("X", X)
        if message:
            raise ValueError(message)
        raise ValueError(
            "The predictions overflow: X is finite but too large for the "
            "fitted coefficients. Rescale X as it was during fit."
        )
    return y_pred


def predict(estimator, X):
    """Lazy predictions: a Dask array with the row chunks of ``X``.

    Shape (n_samples,) or (n_samples, n_targets), as the in-memory
    ``predict``; nothing is computed until the result is.
    """
    check_is_fitted(estimator)
    X = validate_X(estimator, X, reset=False)
    coef, intercept = estimator.coef_, estimator.intercept_
    dtype = np.result_type(X.dtype, coef.dtype)
    block = partial(_predict_block, coef=coef, intercept=intercept)
    if coef.ndim == 1:
        return X.map_blocks(
            block, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype=dtype)
        )
    return X.map_blocks(
        block,
        chunks=(X.chunks[0], (coef.shape[0],)),
        dtype=dtype,
        meta=np.empty((0, 0), dtype=dtype),
    )
