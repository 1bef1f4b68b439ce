"""What ``LossCurveDisplay.from_estimator`` computes besides the curve: the
least objective and the theoretical rate of a run, and the epochs of an
``SGDRegressor`` (see ``_display_other``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import OneStepRegressor, suggest_learning_rate
from .._kernel.rates import contraction
from ._display_common import call_label
from ._display_other import is_sgd, objective_values, sgd_alpha, sgd_epochs

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.lines import Line2D

    from .._compat import ArrayLike


def optimum_and_rate(final, X, y, sample_weight):
    """``f*`` of the fit's objective on ``(X, y)`` (one Newton solve) and the
    per-iteration factor of its error (None when theory gives none)."""
    if X is None or y is None:
        raise ValueError(
            "kind='suboptimality' needs the training data: pass X and y "
            "(f* is the least objective on them)."
        )
    if is_sgd(final):
        newton = OneStepRegressor(alpha=sgd_alpha(final), fit_intercept=True)
        return newton.fit(X, y, sample_weight=sample_weight).loss_, None
    if not hasattr(final, "lipschitz_") or not hasattr(final, "alpha"):
        raise ValueError(
            f"kind='suboptimality' needs a gradient-descent fit of the objective "
            f"of onestep_sklearn (IterativeGDRegressor); {type(final).__name__} "
            "optimises another one."
        )
    if getattr(final, "early_stopping", False):
        raise ValueError(
            "kind='suboptimality' is undefined with early_stopping=True: the "
            "loss curve is on a random training split, not on X."
        )
    newton = OneStepRegressor(alpha=final.alpha, fit_intercept=final.fit_intercept)
    optimum = newton.fit(X, y, sample_weight=sample_weight).loss_
    batch_size = getattr(final, "batch_size", None)
    if batch_size is not None or getattr(final, "schedule", "constant") != "constant":
        return optimum, None
    facts = suggest_learning_rate(
        X,
        sample_weight=sample_weight,
        alpha=final.alpha,
        fit_intercept=final.fit_intercept,
    )
    evals = facts.eigenvalues
    if evals is None:
        return optimum, None
    active = evals[evals > np.finfo(np.float64).eps * evals.size * facts.lipschitz]
    momentum = getattr(final, "momentum_", final.momentum)  # "auto" decided
    rate = contraction(final.learning_rate_, active, momentum, final.nesterov)
    return optimum, rate


def sgd_display(cls, sgd, X, y, sample_weight, kind):
    """The display of an ``SGDRegressor``'s epochs (see the Notes of
    ``from_estimator``)."""
    if X is None or y is None:
        raise ValueError(
            "An SGDRegressor keeps no loss curve: pass its training data X and y "
            "and its epochs are replayed through partial_fit."
        )
    coefs, intercepts = sgd_epochs(sgd, X, y, sample_weight)
    values = objective_values(
        X, y, coefs[1:], intercepts[1:], sgd_alpha(sgd), sample_weight
    )
    display = cls(loss_curve=values, estimator_name=call_label(sgd), x_label="epoch")
    if kind == "suboptimality":
        display.optimum, display.contraction = optimum_and_rate(
            sgd, X, y, sample_weight
        )
    return display


def log_safe(values):
    """``values`` with entries <= 0 raised to the smallest positive one."""
    values = np.asarray(values, dtype=np.float64)
    positive = values[values > 0]
    floor = positive.min() if positive.size else np.finfo(np.float64).tiny
    return np.maximum(values, floor)


def twin_of(ax):
    """The twin axes a previous plot made on ``ax`` for validation scores."""
    for other in ax.figure.axes:
        if other is not ax and getattr(other, "_onestep_twin_of", None) is ax:
            return other
    return None


def validation_line(ax: Axes, scores: ArrayLike, colour: Any) -> tuple[Line2D, Axes]:
    """The validation scores of a run, dashed in its ``colour``, on the twin
    axes of ``ax`` (made on first use, found again by :func:`twin_of`)."""
    twin = twin_of(ax)
    if twin is None:
        twin = ax.twinx()
        twin._onestep_twin_of = ax  # type: ignore[attr-defined]
        twin.set_ylabel("validation R²")
    values = np.asarray(scores, dtype=np.float64)
    (line,) = twin.plot(
        np.arange(1, values.size + 1),
        values,
        linestyle="--",
        color=colour,
        alpha=0.7,
        label="validation R²",
    )
    return line, twin


def early_action(values):
    """Whether a long curve does nine tenths of its (log) fall in its first
    tenth: then a linear iteration axis hides everything but a flat line."""
    if values.size <= 100:
        return False
    logs = np.log10(values)
    fall = logs[0] - logs.min()
    if not fall > 0:
        return False
    return bool(logs[0] - logs[: values.size // 10].min() >= 0.9 * fall)


def theory_line(ax, self, iterations, values, name):
    """The line of the theoretical rate of ``self`` (a LossCurveDisplay)."""
    rho = float(self.contraction)
    with np.errstate(over="ignore", under="ignore"):
        theory = values[0] * rho ** (2.0 * (iterations - 1))
    # Below the rounding floor of the curve the line says nothing more.
    theory = np.where(theory >= values.min() / 10, theory, np.nan)
    what = "bound" if self.bound else "asymptotic rate"
    owner = f"{name}: " if name else ""
    return ax.plot(
        iterations,
        theory,
        linestyle=":",
        linewidth=2,
        color=self.line_.get_color(),
        label=f"{owner}{what} ρ²ᵗ, ρ = {rho:.6g}",
    )[0]
