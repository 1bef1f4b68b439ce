"""The data-pass engine of gradient descent and the loop that drives engines.

One iteration (:func:`run_epoch`) is either one full-batch step or one pass of
mini-batch steps; ``fit`` loops over it (:func:`descend`) and ``partial_fit``
calls it once per chunk (:func:`chunk_iteration`). Objectives are
``_solvers.objective.Objective`` (data passes on any source, or statistics).
Engines implement :class:`Engine`; nothing here sees an estimator.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .minibatch import GatheredEpoch
from .stopping import LazyNorms


def norm(coef):
    """Euclidean (Frobenius) norm of a (d, k) coefficient array."""
    return float(np.linalg.norm(coef))


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
    #: The last mini-batch epoch's result: the average of its iterates
    #: (``_solvers.minibatch``); None after a full-batch step.
    average: np.ndarray | None = None

    @property
    def point(self):
        """The iterate the run reports: the epoch average with mini-batches
        (``coef`` carries on from the last update), else ``coef``."""
        return self.coef if self.average is None else self.average


def apply_step(state, grad, eta, moves):
    """θ ← θ + v with v ← μ·v − η·∇f (heavy ball) or its Nesterov form."""
    momentum = moves.momentum
    velocity = momentum * state.velocity - eta * grad
    if moves.nesterov:
        state.coef += momentum * velocity - eta * grad
    else:
        state.coef += velocity
    state.velocity = velocity
    state.t += 1


def run_epoch(state, objective, batches, schedule, moves):
    """One iteration; returns the objective and its gradient after it.

    ``batches`` is ``None`` (full batch) or an iterable of mini-batch
    objectives; ``schedule`` gives the step size of each update.
    Full batch, the fused data pass that yields the objective at the new point
    also yields the next gradient, so each iteration costs one pass; after a
    mini-batch epoch one full pass (or the statistics) gives the full
    objective and gradient at the average of the epoch's iterates
    (``state.average``, see ``_solvers.minibatch``), on which the run is
    judged.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if batches is None:
            if state.grad is None:
                _, state.grad = objective.loss_gradient(state.coef)
            eta = schedule.step(state.t, state.rate_scale)
            apply_step(state, state.grad, eta, moves)
            loss, state.grad = objective.loss_gradient(state.coef)
            return loss, state.grad
        if isinstance(batches, GatheredEpoch):  # gathered rows, lean
            total, count = batches.run(state, schedule, moves)
        else:
            total, count = np.zeros_like(state.coef), 0
            for batch in batches:
                grad = batch.batch_gradient(state.coef)
                eta = schedule.step(state.t, state.rate_scale)
                apply_step(state, grad, eta, moves)
                total += state.coef
                count += 1
        state.grad = None
        state.average = total / count if count else state.coef.copy()
        return objective.loss_gradient(state.average)


@dataclass(frozen=True)
class Chunk:
    """Consecutive iterations of one run, as an engine computed them: the
    objective after each, the norms of its gradient and of the iterate
    (which certify the distance to the optimum, see ``stopping``), and the
    validation scores (or None); ``distances``, where the engine knows them
    exactly (``closed_form.ExactDistance``), the certified ``‖w − w*‖/‖w*‖``
    of each iterate, sharper than the gradient's bound. The coefficient
    norms may come as ``stopping.LazyNorms``, formed where needed."""

    losses: np.ndarray
    grad_norms: np.ndarray
    coef_norms: np.ndarray | LazyNorms
    scores: np.ndarray | None = None
    distances: np.ndarray | None = None


def minibatch_objectives(source, objective, batch_size, rng):
    """Mini-batch objectives of ``source`` (shuffled when ``rng`` is given),
    each normalised by its own weight sum, the intercept profiled with the
    full training means of ``objective``: in-memory dense rows as one
    :class:`minibatch.GatheredEpoch` (the same iterates, lean)."""
    if getattr(source, "gathered_batches", None) and not source.sparse:
        return GatheredEpoch(
            lambda: source.gathered_batches(batch_size, rng), objective
        )
    return _batch_objectives(source, objective, batch_size, rng)


def _batch_objectives(source, objective, batch_size, rng):
    for batch in source.batches(batch_size, rng):
        yield objective.__class__.on_data(
            batch,
            batch.sw_sum,
            objective.x_mean,
            objective.y_mean,
            objective.l2_reg_strength,
        )


class Engine(Protocol):
    """What :func:`descend` drives: chunks of iterations of one run.

    ``advance(limit)`` computes up to ``limit`` iterations (a :class:`Chunk`);
    ``commit`` keeps the
    first ``consumed`` of them (noting the positions of a new best);
    ``coef(which)`` is the "current", "best" or "best_val" iterate.
    """

    t: int
    rate_scale: float
    pending_steps: np.ndarray

    def step_sizes(self, count: int) -> np.ndarray: ...

    def advance(self, limit: int) -> Chunk: ...

    def commit(self, consumed: int, best_at, best_score_at) -> None: ...

    def revert_to_best(self) -> None: ...

    def current_score(self) -> float: ...

    def coef(self, which: str = "current") -> np.ndarray: ...


class DataEngine:
    """Iterations of the data-pass loop, one per :meth:`advance` call.

    Implements :class:`Engine`, as ``spectral.SpectralEngine`` does; this one
    serves mini-batches, ``precompute=False`` and data whose statistics are
    not formed. ``batches()`` (or None: full batch) gives each epoch's
    mini-batch objectives; ``scorer(coef, intercept)`` the validation score.
    """

    def __init__(self, objective, coef, schedule, moves, *, batches=None, scorer=None):
        self.state = GDState(coef=coef.copy(), velocity=np.zeros_like(coef))
        self.objective, self.batches, self.scorer = objective, batches, scorer
        self.schedule, self.moves = schedule, moves
        self.best = self.best_val = self.state.coef.copy()
        self.pending_steps = self.step_sizes(1)

    @property
    def t(self):
        return self.state.t

    @property
    def rate_scale(self):
        return self.state.rate_scale

    def step_sizes(self, count):
        """The step of the next update (mini-batch epochs take several)."""
        return np.full(count, self.schedule.step(self.state.t, self.state.rate_scale))

    def advance(self, limit):
        self.pending_steps = self.step_sizes(1)
        batches = None if self.batches is None else self.batches()
        loss, grad = run_epoch(
            self.state, self.objective, batches, self.schedule, self.moves
        )
        if not np.all(np.isfinite(self.state.point)):
            loss = np.nan
        scores = None
        if self.scorer is not None:
            scores = np.array([self.current_score()])
        with np.errstate(over="ignore", invalid="ignore"):
            norms = np.array([np.linalg.norm(grad)]), np.array([norm(self.state.point)])
        return Chunk(np.array([loss]), *norms, scores)

    def current_score(self):
        coef = self.state.point
        with np.errstate(over="ignore", invalid="ignore"):
            return self.scorer(coef, self.objective.intercept(coef))

    def commit(self, consumed, best_at, best_score_at):
        if best_at is not None:
            self.best = self.state.point.copy()
        if best_score_at is not None:
            self.best_val = self.state.point.copy()

    def revert_to_best(self):
        state = self.state
        state.coef, state.velocity = self.best.copy(), np.zeros_like(self.best)
        state.grad, state.rate_scale = None, state.rate_scale / 5
        state.average = None

    def coef(self, which="current"):
        return {
            "current": self.state.point,
            "best": self.best,
            "best_val": self.best_val,
        }[which]


# The adaptive schedule gives up once the rate has been divided this much.
MIN_RATE_SCALE = 1e-6


def descend(engine, rule, max_iter, adaptive, verbose, on_iteration=None):
    """Drive an engine until the rule stops it or ``max_iter`` is reached.

    Returns ``(loss_curve, validation_scores, stop)`` (the curve an array),
    ``stop`` one of
    "converged", "early_stopping", "plateau" or "unstable" (mini-batches,
    see ``minibatch.PlateauRule``), "diverged", "rate" (adaptive gave up),
    "callback" or ``None`` (max_iter). An undone step of the adaptive
    schedule records the objective of the iterate the run continues from.
    ``on_iteration(before, after)``, if given, sees every iteration's
    iterates (the engine then runs one iteration per call) and stops the run
    ("callback") by returning True. A rule that records divergence
    (``rule.record``) ends a run that rose and never converged as "diverged".
    """
    # The curve in the chunks' own arrays: one concatenation at the end
    # instead of a Python float per iteration.
    curve, scores, stop = [], [], None
    stride = max(1, -(-max_iter // 50))
    while rule.iteration < max_iter:
        first = rule.iteration + 1
        steps = engine.step_sizes(1)  # the step of the chunk's first update
        limit = max_iter - rule.iteration
        if on_iteration is not None:
            before, limit = engine.coef("current").copy(), 1
        chunk = engine.advance(limit)
        losses, chunk_scores = chunk.losses, chunk.scores
        consumed, event, best_at, best_score_at = rule.scan(
            losses, chunk.grad_norms, chunk.coef_norms, chunk_scores, chunk.distances
        )
        engine.commit(consumed, best_at, best_score_at)
        kept = consumed - (event == "diverged")
        curve.append(losses[:kept])
        if chunk_scores is not None:
            scores.extend(np.asarray(chunk_scores[:kept], dtype=float).tolist())
        if verbose:
            if len(losses) > 1:  # a spectral chunk: one update per iteration
                steps = engine.pending_steps
            norms = chunk.coef_norms
            if isinstance(norms, LazyNorms):
                norms = norms.at(slice(None))
            distances = rule.distances(
                chunk.grad_norms[:consumed],
                norms[:consumed],
                None if chunk.distances is None else chunk.distances[:consumed],
            )
            _print_progress(losses[:consumed], distances, first, stride, steps)
        if event == "diverged" and adaptive and engine.rate_scale > MIN_RATE_SCALE:
            engine.revert_to_best()
            rule.restart_from_best()
            curve.append(np.array([rule.best_loss]))
            if chunk_scores is not None:
                scores.append(float(engine.current_score()))
            continue
        if event == "diverged":
            stop = "rate" if adaptive else "diverged"
            finite = losses[kept]
            if np.isfinite(finite):
                curve.append(np.array([finite], dtype=np.float64))
            break
        if event in ("converged", "early_stopping", "plateau", "unstable"):
            stop = event
            break
        if on_iteration is not None and on_iteration(before, engine.coef("current")):
            stop = "callback"
            break
    if stop is None and rule.rose_at is not None:
        stop = "diverged"
    curve = np.concatenate(curve or [np.empty(0)]).astype(np.float64, copy=False)
    return curve, scores, stop


def _print_progress(losses, distances, first, stride, steps):
    """Progress lines for the iterations ``first, first + 1, …``.

    ``distances`` are their certified relative distances to the optimum and
    ``steps[k]`` the step size used in the k-th of them (the last repeats).
    """
    for offset, loss in enumerate(losses):
        iteration = first + offset
        if iteration % stride == 0 or iteration == 1:
            step = steps[min(offset, len(steps) - 1)]
            print(
                f"iter {iteration:>6}  objective {loss:.6e}  "
                f"distance <= {distances[offset]:.2e}  step {step:.3e}"
            )
