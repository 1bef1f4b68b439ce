"""When gradient descent stops: divergence, convergence, early stopping.

:class:`StopRule` judges a run from the sequence of objective values (and,
with early stopping, validation scores) it produces. It consumes them in
arrays, so the spectral engine can hand it hundreds of iterations at once
while the data-pass loop hands them one by one: both routes share the same
rule, hence the same ``n_iter_`` and stopping point.
"""

from dataclasses import dataclass, field

import numpy as np

EPS = np.finfo(np.float64).eps
# Without momentum, full-batch GD below 2/L decreases the objective
# monotonically: a rise beyond rounding means the step is too large. Other
# runs are non-monotone; they count as diverged past this multiple of the
# objective's scale.
BLOW_UP_FACTOR = 100.0


@dataclass
class StopRule:
    """Carried state of the stopping decisions of one run.

    ``scale`` is the natural size of the objective (its value at w = 0);
    objective values below ``floor = 1e3·eps·scale`` are rounding noise.
    ``monotone`` says the objective must not rise (plain full-batch GD);
    ``stochastic`` measures progress against the best value so far (noisy
    mini-batch objectives, as ``SGDRegressor`` does). ``eps`` is the machine
    epsilon of the data (float32 objectives jitter more).
    """

    tol: float | None
    n_iter_no_change: int
    scale: float
    monotone: bool
    stochastic: bool
    previous: float
    eps: float = EPS
    use_scores: bool = False
    best_score: float = -np.inf
    iteration: int = 0
    no_change: int = 0
    best_loss: float = field(init=False)
    last_change: float = np.inf

    def __post_init__(self):
        self.best_loss = self.previous
        self.floor = 1e3 * self.eps * self.scale

    def scan(self, losses, scores=None):
        """Judge the next iterations' objective values (and scores).

        Returns ``(consumed, event, best_at, best_score_at)``: how many of the
        values belong to the run (the stopping iteration included), the event
        ("diverged", "converged" or ``None``), and the positions in
        ``losses`` of a new best objective / validation score (or ``None``).
        """
        losses = np.asarray(losses, dtype=np.float64)
        size = losses.size
        before = np.concatenate(([self.previous], losses[:-1]))
        with np.errstate(invalid="ignore", over="ignore"):
            finite = np.isfinite(losses)
            if self.monotone:
                bad = losses > before * (1 + np.sqrt(self.eps)) + self.floor
            else:
                bad = losses > BLOW_UP_FACTOR * self.scale
            bad |= ~finite
            first_bad = int(np.argmax(bad)) if bad.any() else size
            ok = losses[:first_bad]
            best_before = np.minimum.accumulate(np.concatenate(([self.best_loss], ok)))[
                :-1
            ]
            change = np.abs(before[:first_bad] - ok) / np.maximum(
                np.abs(before[:first_bad]), self.floor
            )
            gain = (best_before - ok) / np.maximum(best_before, self.floor)
        if self.use_scores:
            scores = np.asarray(scores, dtype=np.float64)[:first_bad]
            best_scores = np.maximum.accumulate(
                np.concatenate(([self.best_score], scores))
            )
            flags = ~(scores > best_scores[:-1] + (self.tol or 0.0))
        elif self.tol is not None:
            progress = gain if self.stochastic else change
            flags = (progress < self.tol) | (ok <= self.floor)
        else:
            flags = np.zeros(first_bad, dtype=bool)
        steps = np.arange(1, first_bad + 1)
        last_reset = np.maximum.accumulate(np.where(flags, 0, steps))
        runs = np.where(last_reset == 0, self.no_change + steps, steps - last_reset)
        stops = runs >= self.n_iter_no_change
        if self.tol is None:
            stops[:] = False
        first_stop = int(np.argmax(stops)) if stops.any() else size
        if first_stop < first_bad:
            consumed, event = first_stop + 1, "converged"
        elif first_bad < size:
            consumed, event = first_bad + 1, "diverged"
        else:
            consumed, event = size, None
        kept = min(consumed, first_bad)
        self.iteration += consumed
        best_at = best_score_at = None
        if kept:
            self.previous = float(losses[kept - 1])
            self.no_change = int(runs[kept - 1])
            self.last_change = float(change[kept - 1])
            local = int(np.argmin(ok[:kept]))
            if ok[local] < self.best_loss:
                self.best_loss, best_at = float(ok[local]), local
            if self.use_scores:
                local = int(np.argmax(scores[:kept]))
                if scores[local] > self.best_score:
                    self.best_score, best_score_at = float(scores[local]), local
        return consumed, event, best_at, best_score_at

    def restart_from_best(self):
        """After an undone step (adaptive schedule): continue from the best."""
        self.previous = self.best_loss
        self.no_change = 0


def stop_message(
    stop,
    rule,
    *,
    learning_rate,
    lipschitz,
    momentum,
    max_iter,
    tol,
    n_iter_no_change,
    rate_scale,
):
    """The ConvergenceWarning text for how a run stopped (``None``: no warning).

    Every message carries the numbers and the fix: the rate used, the
    stability limit 2/L of the data, and what to change.
    """
    limit = 2.0 / lipschitz if lipschitz > 0 else np.inf
    facts = (
        f"learning_rate={learning_rate:.4g} against the stability limit "
        f"2/L = {limit:.4g} for this data (L = {lipschitz:.4g}, the "
        "largest Hessian eigenvalue)"
    )
    if stop == "diverged":
        where = "at or past" if learning_rate >= limit else "close to"
        return (
            f"diverged at iteration {rule.iteration}: the objective grew "
            f"(best {rule.best_loss:.3e}). learning_rate={learning_rate:.4g}"
            f" is {where} the stability limit 2/L = {limit:.4g} for this data "
            f"(L = {lipschitz:.4g}, the largest Hessian eigenvalue)"
            + (f" with momentum={momentum}" if momentum else "")
            + ". Stopped at the best finite iterate. Fix: use "
            f"learning_rate='auto' (1/L = {limit / 2:.4g}) or a value below "
            "2/L, or schedule='adaptive'."
        )
    if stop == "rate":
        return (
            f"gave up at iteration {rule.iteration}: schedule='adaptive' "
            f"divided the rate by 5 until it was {rate_scale:.1e} times "
            f"the initial one and the objective still grew; {facts}. Returned "
            "the best iterate. Fix: learning_rate='auto', or scale X."
        )
    if stop is None and tol is not None:
        return (
            f"reached max_iter={max_iter} before the objective stopped "
            f"changing: last relative change {rule.last_change:.2e}, tol="
            f"{tol} (needed for n_iter_no_change={n_iter_no_change} "
            f"iterations in a row); objective {rule.previous:.6e}; {facts}. "
            "Increase max_iter, add momentum, or scale X (StandardScaler)."
        )
    return None
