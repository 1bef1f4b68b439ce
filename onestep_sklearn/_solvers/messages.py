"""The one ``ConvergenceWarning`` of a gradient-descent fit that did not
converge: one line with the numbers (the rate, the stability limit that
applies, how far from the optimum the run stopped) and the fix that fits the
data. The arithmetic runs in the units of the fit (rates times curvatures
do not depend on them); the numbers shown are in the units of the data.
"""

from dataclasses import dataclass

import numpy as np

from .._kernel.rates import (
    iterations_to_shrink,
    optimal_heavy_ball,
    stability_limit,
)
from .._kernel.units import Units

START_OVERFLOW = (
    "The starting point is too large for X: the residual at coef_init (or at "
    "the previous coef_ with warm_start=True) overflows float64. Start from "
    "smaller coefficients, or from zeros."
)
# Column scales differing by more than this factor are worth standardising.
SPREAD_WORTH_SCALING = 10.0


@dataclass(frozen=True)
class RunFacts:
    """The settings and curvatures a warning quotes, in the units of the fit
    (``units`` converts rates for display)."""

    learning_rate: float
    lipschitz: float
    smallest: float
    units: Units = Units()
    momentum: float = 0.0
    nesterov: bool = False
    max_iter: int = 1000
    tol: float | None = 1e-4
    n_iter_no_change: int = 5
    batch_size: int | None = None
    schedule: str = "constant"
    column_spread: float | None = None


def _distance(value):
    if not np.isfinite(value):
        return "at an uncertified distance from the optimum"
    return f"within {value:.2g} of the optimum (relative)"


def _limit_text(facts):
    limit, name = stability_limit(facts.lipschitz, facts.momentum, facts.nesterov)
    return limit, f"{name} = {_rate(facts, limit):.4g}"


def _rate(facts, rate):
    """A rate of the fit in the units of the data, for display."""
    return facts.units.rate_to_data(rate)


def stop_message(stop, rule, facts, rate_scale=1.0):
    """The warning text for how a run stopped (``None``: it converged, or ran
    the fixed budget ``tol=None`` asked for without diverging)."""
    if stop == "converged" or (stop is None and facts.tol is None):
        return None
    eta, shown = facts.learning_rate, _rate(facts, facts.learning_rate)
    limit, limit_text = _limit_text(facts)
    k = rule.iteration
    if stop == "diverged":
        k = rule.rose_at or k  # divergence="record" ran on after the first rise
        where = "at or past" if eta >= limit else "close to"
        return (
            f"diverged at iteration {k}: learning_rate={shown:.4g} is {where} the "
            f"stability limit {limit_text}; coef_ is the best iterate, "
            f"{_distance(rule.best_distance)}. Use learning_rate='auto' "
            f"(1/L = {_rate(facts, 1 / facts.lipschitz):.4g}) or below "
            f"{_rate(facts, limit):.4g}."
        )
    if stop == "rate":
        return (
            f"gave up at iteration {k}: schedule='adaptive' divided "
            f"learning_rate={shown:.4g} by {1 / rate_scale:.0e} and the objective "
            f"still grew ({limit_text}); coef_ is the best iterate, "
            f"{_distance(rule.best_distance)}. Use learning_rate='auto'."
        )
    if stop == "early_stopping":
        return (
            f"stopped early at iteration {k}: the validation score did not improve "
            f"by more than tol={facts.tol} for n_iter_no_change="
            f"{facts.n_iter_no_change} iterations; coef_ is the best-scoring "
            f"iterate, not the training optimum (last iterate "
            f"{_distance(rule.distance)})."
        )
    if stop == "callback":
        return (
            f"a callback stopped the run at iteration {k}, "
            f"{_distance(rule.distance)} (tol={facts.tol})."
        )
    return _max_iter_message(rule, facts, limit, limit_text)


def _max_iter_message(rule, facts, limit, limit_text):
    eta, distance = facts.learning_rate, rule.distance
    shown = _rate(facts, eta)
    head = (
        f"reached max_iter={facts.max_iter} {_distance(distance)} "
        f"(tol={facts.tol} not met)"
    )
    curves = np.geomspace(max(facts.smallest, 1e-300), facts.lipschitz, 32)
    # Rounding can put a rate meant as exactly the limit a hair below it.
    if eta >= limit * (1 - 1e-9):
        return (
            f"{head}: learning_rate={shown:.4g} is at or past the stability limit "
            f"{limit_text}, where gradient descent cannot converge. Use "
            f"learning_rate='auto' or below {_rate(facts, limit):.4g}."
        )
    if facts.batch_size is not None and facts.schedule == "constant":
        return (
            f"{head}: with batch_size={facts.batch_size} a constant "
            f"learning_rate={shown:.4g} leaves the iterates fluctuating. Use "
            "schedule='invscaling', a smaller rate, or full batches."
        )
    # An uncertified distance (the iterate still near 0) is at most about 1.
    start = distance if np.isfinite(distance) else 1.0
    more = iterations_to_shrink(
        eta, curves, facts.tol / start, facts.momentum, facts.nesterov
    )
    constant = facts.schedule == "constant"
    advice = []
    if constant and more <= 100 * facts.max_iter:
        needed = rule.iteration + more
        text = f"learning_rate={shown:.4g} needs about {needed:,} iterations"
        advice.append(f"increase max_iter to about {needed:,}")
    else:
        text = f"learning_rate={shown:.4g} converges too slowly"
        auto = 1.0 / facts.lipschitz
        if eta < auto:
            advice.append(f"use learning_rate='auto' (1/L = {_rate(facts, auto):.4g})")
    rate, momentum = optimal_heavy_ball(facts.lipschitz, facts.smallest)
    if facts.momentum == 0 and momentum > 0.5:
        fast = iterations_to_shrink(rate, curves, facts.tol / start, momentum)
        shown_rate = _rate(facts, rate)
        advice.append(
            f"or learning_rate={shown_rate:.3g}, momentum={momentum:.3g} "
            f"({fast:,} iterations)"
        )
    spread = facts.column_spread
    if spread is not None and spread > SPREAD_WORTH_SCALING:
        advice.append(f"or standardise X (column scales differ {spread:.0f}x)")
    fix = ", ".join(advice) if advice else "use OneStepRegressor() for the exact fit"
    return f"{head}: {text}. Fix: {fix}."
