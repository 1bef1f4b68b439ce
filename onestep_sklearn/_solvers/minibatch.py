"""Mini-batch gradient descent: its rate, what its result is, when it stops,
and what its warning advises.

A mini-batch epoch moves an inner iterate through the batches at a constant
(or scheduled) rate; the epoch's result is the average of its iterates
(Polyak–Ruppert averaging over the epoch), at which the full objective and
gradient are evaluated, and the next epoch continues from the inner iterate.
The average cancels most of the batch noise that the last iterate carries, so
the objective settles within a few tens of epochs at a constant rate.

"auto" is ``1/L_B`` with ``L_B`` the expected smoothness of batches of ``b``
rows drawn without replacement from ``n`` (Gower et al., "SGD: General
Analysis and Improved Rates", ICML 2019)::

    L_B = n(b − 1)/(b(n − 1))·L + (n − b)/(b(n − 1))·Lₘₐₓ

between ``L`` (one batch: full-batch descent) and ``Lₘₐₓ = 2·maxᵢ‖xᵢ −
x̄‖² + 2·alpha`` (single rows, the per-sample bound).

Stopping. Noisy iterates rarely certify ``‖w − w*‖ ≤ tol·‖w*‖`` (the
full-batch promise of ``stopping``), although that certificate, judged on the
full gradient at every epoch's result, still ends a run as "converged" when
it holds. The rule that suits them is :class:`PlateauRule`: the run ends as
"plateau" once the full objective ``f`` at the epoch's result has not fallen
below ``(1 − tol)`` times its best value so far for ``n_iter_no_change``
consecutive epochs (scikit-learn's ``SGDRegressor`` rule, on the full
objective and with a relative ``tol``), provided the objective rose in one
of them (noise: a steady decline is slow descent, which goes on) and stayed
within ``CALM`` times its best (else "unstable", with a warning). That is all
it certifies: the objective stopped improving by more than ``tol`` per
epoch, relative to its value; it bounds no distance to the optimum, and it
does not warn.
"""

from dataclasses import dataclass, field

import numpy as np

from .._data import questions
from .messages import _distance, _limit_text, _rate, stop_message
from .stopping import StopRule


def batch_smoothness(lipschitz, max_curvature, n_rows, batch_size):
    """``L_B`` above: ``lipschitz`` is L, ``max_curvature`` Lₘₐₓ, ``n_rows``
    the rows of positive weight."""
    b = min(batch_size, n_rows)
    if n_rows <= 1 or b >= n_rows:
        return lipschitz
    full = n_rows * (b - 1) / (b * (n_rows - 1))
    single = (n_rows - b) / (b * (n_rows - 1))
    # Never above the per-sample bound (rounding of L could put it there).
    return min(full * lipschitz + single * max_curvature, max_curvature)


def minibatch_rates(source, objective, lipschitz, batch_size):
    """``(1/L_B, 1/Lₘₐₓ)`` of ``objective`` on ``source`` (L is ``lipschitz``):
    "auto", and the rate at which every single step is stable."""
    # 2·maxᵢ‖xᵢ − x̄‖² + 2·alpha bounds every batch's curvature: a batch
    # Hessian averages the per-sample ones 2(xᵢ − x̄)(xᵢ − x̄)ᵀ.
    largest = 2.0 * questions.max_row_sq_norm(source, objective.x_mean)
    largest += 2.0 * objective.l2_reg_strength
    n_rows = int(np.count_nonzero(questions.weights(source) > 0))
    smoothness = batch_smoothness(lipschitz, largest, n_rows, batch_size)
    # A flat objective (no variance in X, alpha = 0): any step is stable.
    return tuple(1.0 / c if c > 0 else 1.0 for c in (smoothness, largest))


class GatheredEpoch:
    """One mini-batch epoch over an in-memory dense source, lean.

    The epoch's rows are gathered a group of batches at a time
    (``ArraySource.gathered_batches``: the same batches, order and ``rng``
    draws as ``source.batches``, copies of about 1 MB); each
    batch then costs its two small products, the gradient and the update,
    with no source, objective or dispatch per batch. Every operation is the
    one ``Objective.batch_gradient`` (``_kernel.objective.batch_products``
    and ``drop_rounding``) and ``gd.apply_step`` perform, in the same order
    and dtypes, so the iterates are bit for bit those of the general path
    (``tests/test_minibatch.py`` pins them). :meth:`run` returns the sum of
    the epoch's iterates and their count.
    """

    def __init__(self, gathered, objective):
        self.gathered, self.objective = gathered, objective

    def run(self, state, schedule, moves):
        total, count = np.zeros_like(state.coef), 0
        bounds = {}  # drop_rounding's bound: one per batch row count
        for X, Y, weights, spans in self.gathered():
            count += self._batches(
                X, Y, weights, spans, state, schedule, moves, total, bounds
            )
        return total, count

    def _batches(self, X, Y, weights, spans, state, schedule, moves, total, bounds):
        objective = self.objective
        x_mean, y_mean = objective.x_mean, objective.y_mean
        x_col, ridge = x_mean[:, None], 2.0 * objective.l2_reg_strength
        same = X.dtype == np.float64  # else the casts of batch_products
        add, dtype = np.add.reduce, np.float64
        momentum, nesterov = moves.momentum, moves.nesterov
        # A constant step within an epoch (``StepSchedule.step``): once.
        eta = None
        if schedule.schedule != "invscaling":
            eta = schedule.step(state.t, state.rate_scale)
        eps = np.finfo(X.dtype).eps
        for start, stop, _ in spans:
            if stop - start not in bounds:
                rows = stop - start
                bounds[rows] = 4 * eps * np.sqrt(rows) * np.abs(x_mean)[:, None]
        coef = state.coef
        for start, stop, sw_sum in spans:
            X_b = X[start:stop]
            intercept = y_mean - x_mean @ coef
            if same:
                resid = X_b @ coef
                resid += intercept - Y[start:stop]
            else:
                resid = X_b @ np.asarray(coef, dtype=X.dtype)
                resid += np.asarray(intercept, dtype=X.dtype) - Y[start:stop]
            weighted = resid if weights is None else resid * weights[start:stop, None]
            sq = add(weighted * resid, axis=0, dtype=dtype)
            xtr = X_b.T @ weighted
            if not same:
                xtr = np.asarray(xtr, dtype=dtype)
            xtr = xtr - x_col * add(weighted, axis=0, dtype=dtype)
            bound = bounds[stop - start] * np.sqrt(sw_sum * sq)
            xtr[np.abs(xtr) <= bound] = 0.0
            grad = (2.0 / sw_sum) * xtr + ridge * coef
            step = schedule.step(state.t, state.rate_scale) if eta is None else eta
            velocity = momentum * state.velocity - step * grad
            if nesterov:
                coef += momentum * velocity - step * grad
            else:
                coef += velocity
            state.velocity = velocity
            state.t += 1
            total += coef
        return len(spans)


# A plateau is calm: its epochs' objectives stay within this factor of the
# best one (averaged epochs at "auto" stay within 1.01). Swings past it while
# nothing improves mean a rate too large for the batch size.
CALM = 1.1


@dataclass
class PlateauRule(StopRule):
    """:class:`stopping.StopRule` plus the plateau of mini-batch runs.

    ``plateau_best`` is the least full objective so far and ``stale`` the
    number of consecutive epochs whose objective stayed above ``(1 − tol)``
    times it (less the rounding ``floor``). Once the last
    ``n_iter_no_change`` epochs are stale and their objective rose at least
    once (batch noise; a steady decline below ``tol`` per epoch is slow
    descent, not a plateau, and goes on), the run ends: "plateau" when they
    all stayed within ``CALM`` times the best, else "unstable" (``swing`` is
    their largest ratio to it). ``tol=None`` never stops this way.
    """

    plateau_best: float = np.inf
    stale: int = 0
    recent: list = field(default_factory=list)
    swing: float = 1.0

    def scan(self, losses, grad_norms, coef_norms, scores=None, exact=None):
        if self.plateau_best == np.inf:
            self.plateau_best = self.previous  # the objective at the start
        last = self.previous
        consumed, event, best_at, best_score_at = super().scan(
            losses, grad_norms, coef_norms, scores, exact
        )
        if event is not None or self.tol is None:
            return consumed, event, best_at, best_score_at
        for loss in np.asarray(losses[:consumed], dtype=np.float64):
            improved = loss < self.plateau_best * (1 - self.tol) - self.floor
            self.stale = 0 if improved else self.stale + 1
            window = [] if improved else self.recent[-self.n_iter_no_change :]
            self.recent = [*window, (float(loss), bool(loss > last))]
            self.plateau_best = min(self.plateau_best, float(loss))
            last = loss
        window = self.recent[-self.n_iter_no_change :]
        if self.stale >= self.n_iter_no_change and any(r for _, r in window):
            worst = max(value for value, _ in window)
            self.swing = worst / max(self.plateau_best, self.floor)
            event = "plateau" if self.swing <= CALM else "unstable"
        return consumed, event, best_at, best_score_at

    def restart_from_best(self):
        super().restart_from_best()
        self.stale, self.recent = 0, []


# Epochs to advise when max_iter ends a run first: averaged epochs reach the
# plateau within tens of epochs; a larger cap only binds a run that still falls.
ENOUGH_EPOCHS = 10_000


def _fix(facts, auto_rate, safe_rate):
    """The change of rate that a run too fast for its batches needs: "auto"
    when the rate is above it, else 1/Lₘₐₓ (every single step stable), else
    no momentum."""
    eta = facts.learning_rate
    if eta > auto_rate * (1 + 1e-9):
        return f"learning_rate='auto' (1/L_B = {_rate(facts, auto_rate):.4g})"
    if eta > safe_rate * (1 + 1e-9):
        return f"learning_rate={_rate(facts, safe_rate):.4g} (1/Lₘₐₓ)"
    return "momentum=0" if facts.momentum else f"batch_size={4 * facts.batch_size}"


def minibatch_message(stop, rule, facts, *, auto_rate, safe_rate, rate_scale=1.0):
    """The warning of a mini-batch run (None when it converged, reached the
    plateau, or ran the ``tol=None`` budget): one sentence, whose advice uses
    only mini-batch options (``learning_rate``, ``max_iter``, ``momentum``,
    ``batch_size``). Rates are in the units of the fit: ``auto_rate`` is
    1/L_B, ``safe_rate`` 1/Lₘₐₓ."""
    if stop in ("converged", "plateau") or (stop is None and facts.tol is None):
        return None
    batch = f"batch_size={facts.batch_size}"
    eta, shown = facts.learning_rate, _rate(facts, facts.learning_rate)
    fix = _fix(facts, auto_rate, safe_rate)
    limit, limit_text = _limit_text(facts)
    # Past the full-batch limit even the mean of the batch steps diverges;
    # below it, the batches' own curvature is what the rate exceeds.
    why = (
        f"is past the stability limit {limit_text}, which binds every batch size"
        if eta >= limit * (1 - 1e-9)
        else f"is below {limit_text} but too large for {batch}"
    )
    if stop == "diverged":
        return (
            f"diverged at epoch {rule.rose_at or rule.iteration}: learning_rate="
            f"{shown:.4g} {why}; coef_ is the best iterate, "
            f"{_distance(rule.best_distance)}; use {fix}."
        )
    if stop == "unstable":
        return (
            f"stopped at epoch {rule.iteration}: for {rule.n_iter_no_change} "
            f"epochs the objective did not improve and swung up to "
            f"{rule.swing:.3g} times its best, so learning_rate={shown:.4g} "
            f"{why}; coef_ is the best epoch's result, "
            f"{_distance(rule.best_distance)}; use {fix}."
        )
    if stop == "rate":
        return (
            f"gave up at epoch {rule.iteration}: schedule='adaptive' divided "
            f"learning_rate={shown:.4g} by {1 / rate_scale:.0e} with {batch} and "
            f"the objective still grew; coef_ is the best iterate, "
            f"{_distance(rule.best_distance)}; use {fix}."
        )
    if stop is not None:  # early stopping and callbacks: as full batch
        return stop_message(stop, rule, facts)
    epochs = max(ENOUGH_EPOCHS, 10 * facts.max_iter)
    advice = f"increase max_iter to {epochs:,}"
    if eta < auto_rate * (1 - 1e-9):
        auto = f"learning_rate='auto' (1/L_B = {_rate(facts, auto_rate):.4g})"
        advice = f"use {auto}, or {advice}"
    return (
        f"reached max_iter={facts.max_iter} epochs with {batch} while the "
        f"objective was still falling, {_distance(rule.distance)}: {advice}."
    )
