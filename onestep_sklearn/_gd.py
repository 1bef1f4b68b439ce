"""The gradient-descent machinery behind IterativeGDRegressor.

One iteration (:func:`run_epoch`) is either one full-batch step or one pass of
mini-batch steps; ``fit`` loops over it and ``partial_fit`` calls it once per
chunk. Objectives come from ``_objective`` (data pass or statistics).
"""

from dataclasses import dataclass

import numpy as np

from ._objective import DataObjective, data_pass


@dataclass
class GDState:
    """Mutable iterate of one run: parameters, velocity, cached gradient.

    ``coef`` holds the look-ahead point with Nesterov momentum (the
    Sutskever/Bengio form), so the objective is always evaluated where the
    gradient is.
    """

    coef: np.ndarray
    velocity: np.ndarray
    grad: np.ndarray | None = None
    t: int = 0
    rate_scale: float = 1.0


def step_size(learning_rate, schedule, power_t, state):
    """η for the next update: constant or ``η/(t+1)^power_t``, times the
    adaptive reduction ``state.rate_scale``."""
    eta = learning_rate * state.rate_scale
    if schedule == "invscaling":
        eta /= (state.t + 1) ** power_t
    return eta


def apply_step(state, grad, eta, momentum, nesterov):
    """θ ← θ + v with v ← μ·v − η·∇f (heavy ball) or its Nesterov form."""
    velocity = momentum * state.velocity - eta * grad
    if nesterov:
        state.coef += momentum * velocity - eta * grad
    else:
        state.coef += velocity
    state.velocity = velocity
    state.t += 1


def run_epoch(state, objective, batches, rate, momentum, nesterov):
    """One iteration; returns the objective after it.

    ``batches`` is ``None`` (full batch) or an iterable of mini-batch
    objectives. ``rate(state)`` gives the step size of the next update.
    Full batch, the fused data pass that yields the objective at the new point
    also yields the next gradient, so each iteration costs one pass.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if batches is None:
            if state.grad is None:
                _, state.grad = objective.loss_gradient(state.coef)
            apply_step(state, state.grad, rate(state), momentum, nesterov)
            loss, state.grad = objective.loss_gradient(state.coef)
            return loss
        for batch in batches:
            _, grad = batch.loss_gradient(state.coef)
            apply_step(state, grad, rate(state), momentum, nesterov)
        state.grad = None
        return objective.loss(state.coef)


def minibatches(X, Y, sample_weight, x_mean, y_mean, l2, indices, batch_size, rng):
    """Mini-batch objectives over ``indices`` (shuffled when ``rng`` is given).

    Contiguous batches are views of ``X``; shuffled ones copy only the batch.
    Each batch is normalised by its own weight sum, the intercept profiled
    with the full training means.
    """
    if rng is not None:
        indices = rng.permutation(indices)
    contiguous = rng is None and np.all(np.diff(indices) == 1)
    for start in range(0, indices.size, batch_size):
        rows = indices[start : start + batch_size]
        if contiguous:
            rows = slice(rows[0], rows[-1] + 1)
        weights = sample_weight[rows]
        sw_sum = float(weights.sum(dtype=np.float64))
        if sw_sum > 0:
            yield DataObjective(X[rows], Y[rows], weights, sw_sum, x_mean, y_mean, l2)


def r2_from_sse(sse, sst):
    """Uniformly averaged R² as ``sklearn.metrics.r2_score`` (force_finite)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), 0.0)
    scores = np.where((sst == 0) & (sse == 0), 1.0, scores)
    return float(np.mean(scores))


def validation_r2_data(X, Y, val_weight, y_sst):
    """Validation R² scorer by a data pass over the validation rows."""

    def score(coef, intercept):
        sse, _, _ = data_pass(X, Y, coef, intercept, val_weight, gradient=False)
        return r2_from_sse(sse, y_sst)

    return score


def validation_r2_stats(val_stats):
    """Validation R² scorer from the validation rows' statistics: O(d²)."""

    def score(coef, intercept):
        return r2_from_sse(val_stats.sse(coef, intercept), val_stats.yy)

    return score


def weighted_sst(Y, sample_weight):
    """Σ s (y − ȳ)² per output, computed from ``Y`` only."""
    sw = sample_weight.astype(np.float64)
    y_mean = sw @ Y / sw.sum()
    return sw @ (Y.astype(np.float64) - y_mean) ** 2
