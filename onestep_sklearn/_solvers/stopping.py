"""When gradient descent stops: convergence, divergence, early stopping.

Convergence is judged on optimality, never on a stalled objective. For the
quadratic objective of ``_kernel.objective`` the distance of any iterate
``w`` to the nearest minimiser ``w*`` is bounded by its gradient:
``‖w − w*‖ ≤ ‖∇f(w)‖/ℓ`` (``ℓ`` the smallest positive Hessian eigenvalue),
so ``‖w*‖ ≥ ‖w‖ − ‖∇f(w)‖/ℓ``; also ``‖w*‖ ≥ ‖∇f(0)‖/L`` (the gradient at
0 is ``−H·w*``). With ``r`` the larger of these two lower bounds (and
``‖w − w*‖ ≤ ‖w‖ + ‖w*‖`` for iterates still far away),

    distance(w) = min(‖∇f(w)‖/ℓ, ‖w‖ + r) / r  ≥  ‖w − w*‖/‖w*‖.

A run has converged once ``distance ≤ tol``: then ``coef_`` is certified to
be within ``tol`` (relative, Euclidean norm) of the exact solution that
``OneStepRegressor()`` computes. The bound is scale-free and offset-free:
multiplying X or y by a constant, or adding one to y, changes neither it
nor the number of iterations. Both engines report ``‖∇f‖`` and ``‖w‖`` for
every iteration. The spectral engine also knows the distance itself
(``closed_form.ExactDistance``: ``Σ γ²/λ²`` over the eigen-directions, where
the bound takes the largest ``1/λ`` for all), which the rule takes where it
is smaller: without momentum the two agree once the slowest direction
dominates, so the statistics route and the data passes stop at the same
iteration; with momentum, whose error is spread over directions, the
statistics route may stop sooner (the bound is pessimistic by up to ``L/ℓ``).

:class:`StopRule` consumes iterations in arrays (the spectral engine hands
it hundreds at once, the data-pass loop one by one).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

EPS = float(np.finfo(np.float64).eps)
# Without momentum, full-batch GD below 2/L decreases the objective
# monotonically: a rise beyond rounding means the step is too large. Other
# runs are non-monotone; they count as diverged past this multiple of the
# objective's scale.
BLOW_UP_FACTOR = 100.0
# divergence="record": a diverging run is followed until its objective
# passes this multiple of the objective's scale (or max_iter), so that the
# loss curve shows the blow-up while every value stays finite.
RECORD_BOUND = 1e12


#: ℓ of a run whose gradient cannot certify anything: a real curvature the
#: formed Hessian does not resolve (``plan.measure_flat_directions``).
UNCERTIFIABLE = np.nan


def certified_distance(grad_norms, coef_norms, smallest, reference=0.0):
    """The bound on ``‖w − w*‖/‖w*‖`` above, per iteration; ``reference`` is
    ``‖∇f(0)‖/L``. Inf when it cannot be certified (ℓ unknown, or w* = 0);
    ``smallest`` :data:`UNCERTIFIABLE` (NaN): never, not even at a zero
    gradient (the gradient does not see a direction that matters)."""
    grad_norms = np.asarray(grad_norms, dtype=np.float64)
    coef_norms = np.asarray(coef_norms, dtype=np.float64)
    if np.isnan(smallest):
        return np.full(np.broadcast(grad_norms, coef_norms).shape, np.inf)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if smallest > 0:
            radius = grad_norms / smallest
        else:
            radius = np.where(grad_norms > 0, np.inf, 0.0)
        lower = np.maximum(coef_norms - radius, reference)
        radius = np.minimum(radius, coef_norms + lower)
        distance = np.where(lower > 0, radius / np.where(lower > 0, lower, 1), np.inf)
    return np.where(grad_norms == 0, 0.0, distance)


@dataclass(frozen=True)
class LazyNorms:
    """The coefficient norms of a chunk of iterations, formed on demand:
    ``at(rows)`` gives those of some of them (a slice or an index array) and
    ``bound`` is at least every one. :meth:`StopRule.scan` forms them all
    only when the bound leaves the chunk a chance to converge, else only
    those of the iterates it keeps (the spectral engine's plain chunks: the
    norms cost a transcendental function per iteration and direction)."""

    bound: float
    at: Callable[[slice | np.ndarray], np.ndarray]


# Relative rounding allowed for in LazyNorms.bound and in the bound on the
# certified distance below (both are sums of a few squares).
BOUND_SLACK = 1e-9


@dataclass
class StopRule:
    """Carried state of the stopping decisions of one run.

    ``tol`` bounds the certified relative distance to the optimum (None:
    never converge, run ``max_iter``); ``smallest`` is ℓ and ``reference``
    ``‖∇f(0)‖/L``. ``scale`` is the
    natural size of the objective (its value at w = 0); objective values
    below ``floor = 1e3·eps·scale`` are rounding noise. ``monotone`` says
    the objective must not rise (plain full-batch GD). With ``use_scores``
    (early stopping) a run also stops when the validation score has not
    improved by more than ``tol`` for ``n_iter_no_change`` iterations.
    With ``record`` a rise does not stop the run: ``rose_at`` notes the
    first rising iteration and the run goes on until the objective passes
    ``RECORD_BOUND·scale`` (or is not finite).
    """

    tol: float | None
    n_iter_no_change: int
    scale: float
    monotone: bool
    previous: float
    smallest: float = 0.0
    reference: float = 0.0
    eps: float = EPS
    use_scores: bool = False
    record: bool = False
    rose_at: int | None = None
    best_score: float = -np.inf
    iteration: int = 0
    no_change: int = 0
    best_loss: float = field(init=False)
    distance: float = np.inf
    best_distance: float = np.inf

    def __post_init__(self):
        self.best_loss = self.previous
        self.floor = 1e3 * self.eps * self.scale

    def distances(self, grad_norms, coef_norms, exact=None):
        """The certified relative distances of iterations: the gradient's
        bound, or the engine's ``exact`` ones where smaller. An unresolved
        curvature (ℓ :data:`UNCERTIFIABLE`) certifies nothing: the engine
        does not see that direction either."""
        bound = certified_distance(
            grad_norms, coef_norms, self.smallest, self.reference
        )
        if exact is None or np.isnan(self.smallest):
            return bound
        return np.minimum(bound, np.asarray(exact, dtype=np.float64))

    def _may_converge(self, grad_norms, coef_bound, exact):
        """Whether any of the distances :meth:`distances` would form from
        these gradient norms, coefficient norms at most ``coef_bound`` and
        exact distances can be within ``tol``: the certified bound is at
        least ``min(‖∇f‖/(ℓ·max(bound, reference)), 1)`` (its ``lower`` is
        at most ``max(‖w‖, reference)``, and ``(‖w‖ + lower)/lower ≥ 1``)."""
        if self.tol is None:
            return False
        if np.isnan(self.smallest):
            return False  # never certified (``certified_distance``)
        grad_norms = np.asarray(grad_norms, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            if self.smallest > 0:
                top = max(coef_bound, self.reference) * (1 + BOUND_SLACK)
                least = np.minimum(grad_norms / self.smallest / top, 1.0)
            else:
                least = np.ones_like(grad_norms)
            least = np.where(grad_norms == 0, 0.0, least)
            if exact is not None:
                least = np.minimum(least, exact)
            return not np.all(least * (1 - BOUND_SLACK) > self.tol)

    def rising(self, losses, before):
        """Which objective values rise (arrays of any one shape, ``before``
        the values preceding ``losses``): beyond rounding when the objective
        must not rise (``monotone``), past ``BLOW_UP_FACTOR·scale`` otherwise,
        or not finite. Vectorised: the cross-validation path judges every
        rate × iteration at once with it (``path.FoldPath``)."""
        with np.errstate(invalid="ignore", over="ignore"):
            if self.monotone:
                rising = losses > before * (1 + np.sqrt(self.eps)) + self.floor
            else:
                rising = losses > BLOW_UP_FACTOR * self.scale
            return rising | ~np.isfinite(losses)

    def stops(self, losses, judged=None):
        """What :meth:`scan` decides for many runs from this rule's start
        at once, without ``tol``, scores or ``record`` (the runs of the
        cross-validation path, ``path.FoldPath``): ``losses`` (runs, T) are
        the objective values of iterations 1..T of each run (``previous``
        is that of the start); ``judged`` (runs,) the runs whose values may
        rise at all (the others' values need not be formed).

        Returns per run the iteration that stops it (0: none) and the
        iterate kept then (0: the start): the best before the stop.
        """
        start = np.full((losses.shape[0], 1), self.previous)
        before = np.concatenate((start, losses[:, :-1]), axis=1)
        bad = self.rising(losses, before)
        if judged is not None:
            bad &= judged[:, None]
        stopped = bad.any(axis=1)
        first = np.where(stopped, np.argmax(bad, axis=1), losses.shape[1])
        candidates = np.concatenate((start, losses), axis=1)
        allowed = np.arange(losses.shape[1] + 1) <= first[:, None]
        best = np.argmin(np.where(allowed, candidates, np.inf), axis=1)
        return np.where(stopped, first + 1, 0), best

    def scan(self, losses, grad_norms, coef_norms, scores=None, exact=None):
        """Judge the next iterations: their objective values, gradient and
        coefficient norms (and validation scores, and the engine's exact
        distances to the optimum where it knows them).

        Returns ``(consumed, event, best_at, best_score_at)``: how many of the
        values belong to the run (the stopping iteration included), the event
        ("converged", "early_stopping", "diverged" or ``None``), and the
        positions of a new best objective / validation score (or ``None``).
        """
        losses = np.asarray(losses, dtype=np.float64)
        size = losses.size
        before = np.concatenate(([self.previous], losses[:-1]))
        if isinstance(coef_norms, LazyNorms) and self._may_converge(
            grad_norms, coef_norms.bound, exact
        ):
            coef_norms = coef_norms.at(slice(None))
        if isinstance(coef_norms, LazyNorms):
            distances = None  # no iteration here converges: formed where kept

            def distances_at(rows):
                exact_rows = None if exact is None else exact[rows]
                norms = coef_norms.at(rows)
                return self.distances(grad_norms[rows], norms, exact_rows).tolist()
        else:
            distances = self.distances(grad_norms, coef_norms, exact)

            def distances_at(rows):
                return distances[rows].tolist()

        rising = self.rising(losses, before)
        bad = rising
        with np.errstate(invalid="ignore", over="ignore"):
            if self.record:
                bad = ~np.isfinite(losses) | (losses > RECORD_BOUND * self.scale)
        first_bad = int(np.argmax(bad)) if bad.any() else size
        ok = losses[:first_bad]
        first_stop, event = size, None
        if self.tol is not None and distances is not None:
            reached = distances[:first_bad] <= self.tol
            if reached.any():
                first_stop, event = int(np.argmax(reached)), "converged"
        runs = np.zeros(first_bad, dtype=int)
        if self.use_scores:
            scores = np.asarray(scores, dtype=np.float64)[:first_bad]
            best_scores = np.maximum.accumulate(
                np.concatenate(([self.best_score], scores))
            )
            flags = ~(scores > best_scores[:-1] + (self.tol or 0.0))
            steps = np.arange(1, first_bad + 1)
            last_reset = np.maximum.accumulate(np.where(flags, 0, steps))
            runs = np.where(last_reset == 0, self.no_change + steps, steps - last_reset)
            plateau = runs >= self.n_iter_no_change
            if self.tol is not None and plateau[:first_stop].any():
                first_stop, event = int(np.argmax(plateau)), "early_stopping"
        if first_stop < first_bad:
            consumed = first_stop + 1
        elif first_bad < size:
            consumed, event = first_bad + 1, "diverged"
        else:
            consumed, event = size, None
        kept = min(consumed, first_bad)
        if self.record and self.rose_at is None and rising[:consumed].any():
            self.rose_at = self.iteration + int(np.argmax(rising[:consumed])) + 1
        self.iteration += consumed
        best_at = best_score_at = None
        if kept:
            self.previous = float(losses[kept - 1])
            if self.use_scores:
                self.no_change = int(runs[kept - 1])
            local = int(np.argmin(ok[:kept]))
            improved = ok[local] < self.best_loss
            rows = np.array([kept - 1, local] if improved else [kept - 1])
            self.distance, *best_distance = distances_at(rows)
            if improved:
                self.best_loss, best_at = float(ok[local]), local
                self.best_distance = best_distance[0]
            if self.use_scores:
                local = int(np.argmax(scores[:kept]))
                if scores[local] > self.best_score:
                    self.best_score, best_score_at = float(scores[local]), local
        return consumed, event, best_at, best_score_at

    def restart_from_best(self):
        """After an undone step (adaptive schedule): continue from the best."""
        self.previous = self.best_loss
        self.distance = self.best_distance
        self.no_change = 0
