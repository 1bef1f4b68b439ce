"""One parameter update ``θ₁ = θ₀ − η·d(θ₀)`` on the objective of
``_kernel.objective``: the gradient step (fixed or exact line search) and
the Newton step, on a data source or on sufficient statistics alone.

Everything is in the units of the data source (see ``_kernel.units``); the
result is a :class:`StepResult`.
"""

from dataclasses import dataclass, replace

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._data import questions
from .._kernel.objective import gradient_terms_at_zero
from .._kernel.stats import SufficientStats
from .._kernel.units import MomentsOverflow, powers_of_two, underflowed
from .newton import (
    newton_target,
    refine_from_moments,
    solve_dual,
    target_from_stats,
)
from .objective import Objective
from .sparse_lsq import newton_target as krylov_target


@dataclass(frozen=True)
class StepResult:
    """The outcome of one update.

    ``coef`` (d, k) and ``intercept`` (k,) after the step, the step size
    ``learning_rate`` taken, the objective ``loss`` after it and
    ``loss_before`` at θ₀; for a gradient step ``grad_sq`` = ‖g‖² and
    ``curvature`` = gᵀHg (the step helps only while η < 2‖g‖²/(gᵀHg)).
    ``stats``: the statistics of the rows, when the route formed them (what
    ``partial_fit`` continues from), in per-column units ``columns`` if set.
    """

    coef: np.ndarray
    intercept: np.ndarray
    learning_rate: float
    loss: float
    loss_before: float = np.nan
    grad_sq: float = np.nan
    curvature: float = np.nan
    stats: SufficientStats | None = None
    #: Per-column powers of two the statistics were formed in (or None).
    columns: np.ndarray | None = None


def cauchy_step(grad_sq, curvature):
    """Exact line-search step ``‖g‖²/(gᵀHg)`` along ``−g`` (0 when g = 0).

    ``grad_sq`` is ``‖g‖²`` and ``curvature`` is ``gᵀHg``.
    """
    return grad_sq / curvature if curvature > 0 else 0.0


def take_gradient_step(coef0, loss0, grad, curvature, learning_rate):
    """θ₁ = θ₀ − η·∇f(θ₀); ``learning_rate`` None means the Cauchy step.

    Returns ``(coef, η, loss)``. The objective is quadratic, so its value
    along −g is exact: f(θ₀ − ηg) = f(θ₀) − η‖g‖² + ½η²·gᵀHg.
    """
    grad_sq = float(np.sum(grad**2))
    eta = cauchy_step(grad_sq, curvature) if learning_rate is None else learning_rate
    eta = np.float64(eta)  # numpy floats saturate to inf (Python's raise)
    with np.errstate(over="ignore", invalid="ignore"):
        coef = coef0 - eta * grad
        loss = loss0 - eta * grad_sq + 0.5 * eta**2 * curvature
    loss = max(loss, 0.0) if np.isfinite(loss) else loss
    return coef, float(eta), loss


def newton_update(coef0, target, learning_rate):
    """θ₁ = θ₀ − η·H⁻¹∇f(θ₀) = θ₀ + η·(w* − θ₀); None means the full step."""
    if learning_rate is None or learning_rate == 1:
        return target, 1.0
    return coef0 + learning_rate * (target - coef0), float(learning_rate)


def gradient_step(source, coef0, *, fit_intercept, l2_reg_strength, learning_rate):
    """One gradient step on ``source`` from ``coef0``: two passes over X.

    From θ₀ = 0 the residual is −(y − ȳ): one pass gives the gradient and the
    means together; the curvature gᵀHg is one more pass with no Xᵀ product.
    """
    if np.any(coef0):
        sw_sum, x_mean, y_mean = questions.means(source, fit_intercept)
        objective = Objective.on_data(source, sw_sum, x_mean, y_mean, l2_reg_strength)
        loss0, grad = objective.loss_gradient(coef0)
    else:
        sw_sum, y_mean, moments, weighted_sum, sq = questions.moments_at_zero(
            source, fit_intercept
        )
        x_mean, xty = gradient_terms_at_zero(
            moments,
            weighted_sum,
            sq,
            sw_sum,
            fit_intercept,
            source.n_samples,
            source.dtype,
        )
        objective = Objective.on_data(source, sw_sum, x_mean, y_mean, l2_reg_strength)
        loss0, grad = float(sq.sum()) / sw_sum, -(2.0 / sw_sum) * xty
    if not np.isfinite(grad).all():
        return StepResult(coef0, objective.intercept(coef0), 0.0, np.inf, loss0)
    curvature = objective.curvature(grad)
    coef, eta, loss = take_gradient_step(coef0, loss0, grad, curvature, learning_rate)
    return StepResult(
        coef,
        objective.intercept(coef),
        eta,
        loss,
        loss0,
        float(np.sum(grad**2)),
        curvature,
    )


def newton_step(
    source, coef0, *, fit_intercept, l2_reg_strength, learning_rate, scaled=None
):
    """One Newton step on ``source`` from ``coef0`` (lands on the minimiser).

    Sparse X with many columns is solved by LSQR (``sparse_lsq``), never a
    d × d matrix; other wide data (n < d) in the n × n dual. Without a
    penalty, Newton is invariant under column scaling: columns of extreme
    and unequal magnitude (1e-160 beside 1e150) are first brought near 1 by
    exact powers of two (a copy, for such data only).
    """
    krylov = getattr(source, "krylov", False)
    wide = source.n_samples < source.n_features
    if wide and not krylov:
        return _dual_step(source, coef0, fit_intercept, l2_reg_strength, learning_rate)
    # ``scaled``: how the columns were already brought near 1 ("pilot" rows
    # or "every_row"); only every row's magnitudes are final.
    by_column = l2_reg_strength == 0 and scaled is None
    magnitudes = questions.column_magnitudes(source) if by_column else None
    columns = None if magnitudes is None else powers_of_two(magnitudes)
    if columns is not None and np.any(columns != 1.0):
        return _by_columns(
            source, coef0, columns, fit_intercept, learning_rate, "pilot"
        )
    if krylov:
        sw_sum, x_mean, y_mean = questions.means(source, fit_intercept)
        solved = krylov_target(
            *source.arrays(),
            x_mean,
            y_mean,
            sw_sum,
            l2_reg_strength,
            warning=ConvergenceWarning,
        )
        if solved is not None:
            coef, eta = newton_update(coef0, solved[0], learning_rate)
            objective = Objective.on_data(
                source, sw_sum, x_mean, y_mean, l2_reg_strength
            )
            # At the target LSQR's residual (penalty included) is the
            # objective times Σs: no pass.
            if eta == 1:
                loss = float(solved[1].sum() / sw_sum)
            else:
                loss = objective.loss(coef)
            return StepResult(coef, objective.intercept(coef), eta, loss)
        # LSQR hit its cap: the exact route below can afford the d × d matrix.
        if wide:
            return _dual_step(
                source, coef0, fit_intercept, l2_reg_strength, learning_rate
            )
    try:
        stats = questions.statistics(source, fit_intercept)
    except MomentsOverflow:
        # Values the pilot did not see overflowed the moments: measure every
        # row and scale by columns (any other error is the user's to see).
        if magnitudes is None and scaled != "pilot":
            raise
        columns = powers_of_two(questions.column_magnitudes(source, every_row=True))
        if not np.any(columns != 1.0):
            raise
        return _by_columns(
            source, coef0, columns, fit_intercept, learning_rate, "every_row"
        )
    if (magnitudes is not None or scaled == "pilot") and missed_magnitudes(stats):
        # The pilot (the first rows) missed a column of extreme magnitude:
        # its variance underflowed. Measure every row and scale by columns.
        columns = powers_of_two(questions.column_magnitudes(source, every_row=True))
        if np.any(columns != 1.0):
            return _by_columns(
                source, coef0, columns, fit_intercept, learning_rate, "every_row"
            )
    target, intercept = newton_target(source, stats, l2_reg_strength)
    coef, eta = newton_update(coef0, target, learning_rate)
    if intercept is None or eta != 1.0:
        intercept = stats.intercept(coef)
    loss = float(stats.loss_per_output(coef, l2_reg_strength).sum())
    return StepResult(coef, intercept, eta, loss, stats=stats)


def _by_columns(source, coef0, columns, fit_intercept, learning_rate, scaled):
    """The unpenalised Newton step on ``X·diag(columns)``, in the data's
    units; its statistics stay in the per-column units (``columns``)."""
    inner = newton_step(
        questions.column_scaled(source, columns),
        coef0 / columns[:, None],
        fit_intercept=fit_intercept,
        l2_reg_strength=0.0,
        learning_rate=learning_rate,
        scaled=scaled,
    )
    return replace(inner, coef=inner.coef * columns[:, None], columns=columns)


def missed_magnitudes(stats):
    """Values of extreme magnitude the pilot did not see, whose squares
    underflowed (``_kernel.units.underflowed``)."""
    return underflowed(np.diag(stats.xx), stats.x_mean)


def _dual_step(source, coef0, fit_intercept, l2_reg_strength, learning_rate):
    sw_sum, x_mean, y_mean = questions.means(source, fit_intercept)
    target = solve_dual(source, x_mean, y_mean, sw_sum, l2_reg_strength)
    coef, eta = newton_update(coef0, target, learning_rate)
    objective = Objective.on_data(source, sw_sum, x_mean, y_mean, l2_reg_strength)
    return StepResult(coef, objective.intercept(coef), eta, objective.loss(coef))


def step_from_stats(stats, *, solver, l2_reg_strength, learning_rate):
    """The one update from θ₀ = 0 on statistics alone (``partial_fit``)."""
    coef0 = np.zeros_like(stats.xy)
    if solver == "gradient":
        objective = Objective.on_stats(stats, l2_reg_strength)
        loss0, grad = objective.loss_gradient(coef0)
        curvature = objective.curvature(grad)
        coef, eta, loss = take_gradient_step(
            coef0, loss0, grad, curvature, learning_rate
        )
        grad_sq = float(np.sum(grad**2))
        return StepResult(
            coef, stats.intercept(coef), eta, loss, loss0, grad_sq, curvature, stats
        )
    target = target_from_stats(stats, l2_reg_strength)
    coef, eta = newton_update(coef0, target, learning_rate)
    intercept = stats.intercept(coef)
    if eta == 1.0:
        # Exact moments carried by ill-conditioned chunks: refine from them.
        refined = refine_from_moments(stats, l2_reg_strength, coef)
        if refined is not None:
            coef, intercept = refined
    loss = float(stats.loss_per_output(coef, l2_reg_strength).sum())
    return StepResult(coef, intercept, eta, loss, stats=stats)
