"""The one ``ConvergenceWarning`` of a gradient-descent fit that did not
converge: one line with the numbers (the rate, the stability limit that
applies, how far from the optimum the run stopped) and the fix that fits the
data. The arithmetic runs in the units of the fit (rates times curvatures
do not depend on them); the numbers shown are in the units of the data.
"""

from dataclasses import dataclass

import numpy as np

from .._kernel.rates import (
    damped_momentum,
    iterations_to_shrink,
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
    unresolved: float = 0.0


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
            f"diverged at iteration {k}: learning_rate={shown:.4g} is {where} "
            f"the stability limit {limit_text}; coef_ is the best iterate. Use "
            f"learning_rate='auto' or below {_rate(facts, limit):.4g}."
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
            f"stopped at iteration {k} because a callback asked it to, "
            f"{_distance(rule.distance)} (tol={facts.tol} not met)."
        )
    return _max_iter_message(rule, facts, limit, limit_text)


def _count(value):
    """An iteration count to quote, rounded up to two significant digits."""
    value = int(value)
    digits = max(len(str(value)) - 2, 0)
    return -(-value // 10**digits) * 10**digits


# Iteration counts past this many times max_iter are not advice.
REACHABLE = 100


def _max_iter_message(rule, facts, limit, limit_text):
    eta, distance = facts.learning_rate, rule.distance
    shown = _rate(facts, eta)
    head = (
        f"reached max_iter={facts.max_iter} {_distance(distance)} "
        f"(tol={facts.tol} not met)"
    )
    # Rounding can put a rate meant as exactly the limit a hair below it.
    if eta >= limit * (1 - 1e-9):
        return (
            f"{head}: learning_rate={shown:.4g} is at or past the stability limit "
            f"{limit_text}, where gradient descent cannot converge. Use "
            f"learning_rate='auto' or below {_rate(facts, limit):.4g}."
        )
    if facts.unresolved > 0:
        return (
            f"{head}: X has a direction of curvature about "
            f"{facts.unresolved:.1g}·L (condition number about "
            f"{1 / facts.unresolved:.1g}) that XᵀX cannot resolve in float64, so "
            "gradient descent cannot converge along it and no gradient can "
            "certify the distance. Fix: OneStepRegressor() (exact), or drop one "
            "of the near-duplicate columns."
        )
    curves = np.geomspace(max(facts.smallest, 1e-300), facts.lipschitz, 32)
    # An uncertified distance (the iterate still near 0) is at most about 1.
    shrink = facts.tol / (distance if np.isfinite(distance) else 1.0)
    constant = facts.schedule == "constant"
    reachable = REACHABLE * facts.max_iter
    advice, text = [], f"learning_rate={shown:.4g} converges too slowly"
    more = iterations_to_shrink(eta, curves, shrink, facts.momentum, facts.nesterov)
    if constant and more <= reachable:
        needed = rule.iteration + more
        text = f"learning_rate={shown:.4g} needs about {_count(needed):,} iterations"
        # The estimate is for the slowest direction alone: a margin.
        advice.append(f"max_iter={_count(1.5 * needed)}")
    auto_momentum = damped_momentum(facts.lipschitz, facts.smallest, facts.nesterov)
    fast = iterations_to_shrink(
        1 / facts.lipschitz, curves, shrink, auto_momentum, facts.nesterov
    )
    if facts.smallest > 0 and fast <= reachable and fast < 0.5 * more:
        budget = _count(1.5 * fast)
        advice.append(
            "learning_rate='auto', momentum='auto'"
            + (
                f", max_iter={budget}"
                if budget > facts.max_iter
                else f" (about {_count(fast):,} iterations)"
            )
        )
    if not advice:
        advice.append("OneStepRegressor() (exact)")
    note = ""
    spread = facts.column_spread
    if spread is not None and spread > SPREAD_WORTH_SCALING:
        factor = (
            f"{spread:,.0f}x"
            if spread < 1e6
            else f"{spread:.2g}x"
            if np.isfinite(spread)
            else "beyond float64's range"
        )
        note = f" Column scales differ {factor}: standardise X."
    return f"{head}: {text}. Fix: {', or '.join(advice)}.{note}"
