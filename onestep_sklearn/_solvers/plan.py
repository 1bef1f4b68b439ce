"""Which engine runs a gradient-descent fit, on which objective and rate.

``plan_descent`` makes the choices ``IterativeGDRegressor.fit`` makes, for
any data source: iterate on the sufficient statistics (the closed-form
spectral engine, or data passes for mini-batches) or on data passes; the
base rate (the user's, or 1/L, or 1/Lₘₐₓ for mini-batches); the validation
scorer for early stopping.
"""

from dataclasses import dataclass

import numpy as np

from .._kernel.spectrum import largest_eigenvalue
from .gd import DataEngine, minibatch_objectives
from .objective import Objective
from .schedule import Momentum, StepSchedule
from .spectral import SpectralEngine, statistics_objective
from .validation import validation_r2_data, validation_r2_stats


@dataclass(frozen=True)
class DescentPlan:
    """The objective, the engine and its settings for one run.

    ``frozen`` marks constant columns (statistics route; None otherwise);
    ``lipschitz`` is L of the training objective and ``learning_rate`` the
    base step, both in the units of the source.
    """

    objective: Objective
    engine: object
    scorer: object
    frozen: np.ndarray | None
    lipschitz: float
    learning_rate: float


def base_rate(source, objective, lipschitz, learning_rate, batch_size):
    """The user's rate (``learning_rate`` a float), or for None 1/L (full
    batch) or 1/Lₘₐₓ (mini-batches)."""
    if learning_rate is not None:
        return learning_rate
    if batch_size is not None:
        # 2·maxᵢ‖xᵢ − x̄‖² + 2·alpha bounds every batch's curvature: a batch
        # Hessian averages the per-sample ones 2(xᵢ − x̄)(xᵢ − x̄)ᵀ.
        lipschitz = 2.0 * source.max_row_sq_norm(objective.x_mean)
        lipschitz += 2.0 * objective.l2_reg_strength
    # A flat objective (no variance in X, alpha = 0): any step is stable.
    return 1.0 / lipschitz if lipschitz > 0 else 1.0


def plan_descent(
    train,
    val,
    coef0,
    *,
    fit_intercept,
    l2_reg_strength,
    precompute,
    learning_rate,
    schedule,
    power_t,
    moves,
    batch_size=None,
    rng=None,
):
    """Plan a run on ``train`` (validation rows ``val`` or None) from ``coef0``.

    ``learning_rate`` None means "auto"; ``rng`` shuffles mini-batches (None:
    in order). Returns a :class:`DescentPlan`.
    """
    frozen = spectrum = val_stats = None
    if precompute:
        stats = train.statistics(fit_intercept)
        objective, frozen, spectrum = statistics_objective(stats, l2_reg_strength)
        lipschitz = float(max(spectrum[0][-1], 0.0))
    else:
        sw_sum, x_mean, y_mean = train.means(fit_intercept)
        objective = Objective.on_data(train, sw_sum, x_mean, y_mean, l2_reg_strength)
        lipschitz = largest_eigenvalue(objective.hessp, objective.n_features)
    rate = base_rate(train, objective, lipschitz, learning_rate, batch_size)
    steps = StepSchedule(rate, schedule, power_t)
    scorer = None
    if val is not None and precompute:
        val_stats = val.statistics(True)
        scorer = validation_r2_stats(val_stats)
    elif val is not None:
        scorer = validation_r2_data(val)
    if precompute and batch_size is None:
        engine = SpectralEngine(
            objective, coef0, steps, moves, spectrum=spectrum, val_stats=val_stats
        )
    else:
        batches = None
        if batch_size is not None:

            def batches():
                return minibatch_objectives(train, objective, batch_size, rng)

        engine = DataEngine(
            objective, coef0, steps, moves, batches=batches, scorer=scorer
        )
    return DescentPlan(objective, engine, scorer, frozen, lipschitz, rate)


__all__ = ["DescentPlan", "Momentum", "base_rate", "plan_descent"]
