"""A gradient-descent run under the stopping rule, and one ``partial_fit``
iteration, as result objects.

``run_descent`` drives any ``gd.Engine`` with ``stopping.StopRule``;
``chunk_iteration`` runs the iteration ``fit`` loops over once, on a chunk,
from a carried ``GDState``. Values are in the units of the data source.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._data import questions
from .._kernel.spectrum import largest_eigenvalue
from .gd import GDState, descend, minibatch_objectives, norm, run_epoch
from .messages import START_OVERFLOW
from .minibatch import PlateauRule
from .objective import Objective
from .plan import base_rate
from .schedule import Momentum
from .stopping import EPS, UNCERTIFIABLE, StopRule, certified_distance


@dataclass(frozen=True)
class DescentSettings:
    """How a run stops: the estimator's parameters, checked already.

    ``record_divergence`` (``divergence="record"``) follows a diverging run
    to ``max_iter`` or ``stopping.RECORD_BOUND`` instead of stopping at the
    first rise; the adaptive schedule undoes rising steps either way.
    """

    max_iter: int
    tol: float | None
    n_iter_no_change: int
    adaptive: bool
    monotone: bool
    verbose: int = 0
    record_divergence: bool = False
    #: Mini-batches: the plateau of the full objective also ends the run
    #: (``minibatch.PlateauRule``).
    plateau: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, Any], moves: Momentum) -> DescentSettings:
        """The settings of ``IterativeGDRegressor(**params)`` whose momentum
        is ``moves`` ("auto" decided)."""
        return cls(
            max_iter=params["max_iter"],
            tol=params["tol"],
            n_iter_no_change=params["n_iter_no_change"],
            adaptive=params["schedule"] == "adaptive",
            monotone=moves.momentum == 0 and params["batch_size"] is None,
            verbose=params["verbose"],
            record_divergence=params["divergence"] == "record",
            plateau=params["batch_size"] is not None,
        )


@dataclass
class PathRecorder:
    """The iterates of the runs started while it is active (see
    :func:`recording_path`), in the units of the data source: ``coefs[0]``
    the start, then one per iteration, the last one the final iterate.
    ``path`` is set by the estimator: the same iterates as its ``coef_``
    (units and layout of the data)."""

    coefs: list = field(default_factory=list)
    path: list | None = None


_RECORDER = ContextVar("onestep_sklearn_path_recorder", default=None)


@contextmanager
def recording_path():
    """Record the iterates of the fits run inside the block (the plots'
    trajectories): through ``descend``'s per-iteration hook, the same loop
    and engine as any fit, never a second implementation of it."""
    recorder = PathRecorder()
    token = _RECORDER.set(recorder)
    try:
        yield recorder
    finally:
        _RECORDER.reset(token)


def active_recorder():
    """The :class:`PathRecorder` of the enclosing ``recording_path`` or None."""
    return _RECORDER.get()


def _recording(recorder, coef0, on_iteration):
    """``on_iteration`` that also appends every iterate to ``recorder``."""
    recorder.coefs[:] = [coef0.copy()]

    def hook(before, after):
        recorder.coefs.append(after.copy())
        return bool(on_iteration(before, after)) if on_iteration else False

    return hook


@dataclass(frozen=True)
class DescentResult:
    """The outcome of one run.

    ``coef`` is the iterate kept (the last one, the best finite one after a
    divergence, or the best-scoring one with early stopping); ``stop`` is
    "converged", "diverged", "rate" (adaptive gave up), "callback" or None
    (max_iter); ``rule`` is the stopping rule's final state (the numbers of
    the warning).
    """

    coef: np.ndarray
    loss_curve: np.ndarray
    validation_scores: list | None
    best_validation_score: float | None
    stop: str | None
    n_iter: int
    t: int
    rate_scale: float
    rule: StopRule


def run_descent(
    engine,
    objective,
    coef0,
    settings,
    *,
    curvature,
    dtype,
    scorer=None,
    on_iteration=None,
):
    """Run ``engine`` from ``coef0`` until ``settings`` stop it.

    ``curvature`` (``plan.Curvatures``) gives L and ℓ, which certify the
    distance to the optimum (``stopping``).
    """
    loss, grad = objective.loss_gradient(coef0)
    if not (np.isfinite(loss) and np.all(np.isfinite(grad))):
        raise ValueError(START_OVERFLOW)
    # The objective and gradient at 0: the same evaluation as at θ₀ when the
    # run starts there (the usual case: no second pass over the data).
    at_zero = (loss, grad) if not np.any(coef0) else objective.loss_gradient(0 * coef0)
    top = curvature.lipschitz
    reference = norm(at_zero[1]) / top if top > 0 else 0.0
    # A real curvature the formed Hessian cannot resolve: no gradient from
    # it certifies a distance (``plan.measure_flat_directions``).
    smallest = curvature.smallest
    if getattr(curvature, "unresolved", 0.0):
        smallest = UNCERTIFIABLE
    # The natural size of the objective: its value at θ₀ and at 0, and the
    # size of y itself (centring y leaves rounding of that order).
    y_size = float(np.sum(objective.y_mean**2))
    scale = max(loss, at_zero[0], y_size)
    rule = (PlateauRule if settings.plateau else StopRule)(
        tol=settings.tol,
        n_iter_no_change=settings.n_iter_no_change,
        scale=max(scale, np.finfo(np.float64).tiny),
        monotone=settings.monotone,
        previous=loss,
        smallest=smallest,
        reference=reference,
        eps=max(np.finfo(dtype).eps, EPS),
        use_scores=scorer is not None,
        record=settings.record_divergence and not settings.adaptive,
    )
    start = certified_distance([norm(grad)], [norm(coef0)], smallest, reference)[0]
    rule.distance = rule.best_distance = float(start)
    if scorer is not None:
        rule.best_score = scorer(coef0, objective.intercept(coef0))
    recorder = active_recorder()
    if recorder is not None:
        on_iteration = _recording(recorder, coef0, on_iteration)
    curve, scores, stop = descend(
        engine,
        rule,
        settings.max_iter,
        settings.adaptive,
        settings.verbose,
        on_iteration,
    )
    if recorder is not None:
        last = engine.coef("current")
        if not np.array_equal(last, recorder.coefs[-1]):
            recorder.coefs.append(last.copy())  # the stopping iteration
    # Mini-batch epochs end noisy: a plateau keeps the best epoch's result.
    which = "best" if stop in ("diverged", "rate", "plateau", "unstable") else "current"
    if scorer is not None:
        which = "best_val"
    if settings.verbose:
        plural = "s" * (rule.iteration != 1)
        reason = stop or "max_iter"
        print(f"stopped after {rule.iteration} iteration{plural} ({reason})")
    return DescentResult(
        coef=engine.coef(which).copy(),
        loss_curve=curve,
        validation_scores=scores if scorer is not None else None,
        best_validation_score=float(rule.best_score) if scorer is not None else None,
        stop=stop,
        n_iter=rule.iteration,
        t=int(engine.t),
        rate_scale=float(engine.rate_scale),
        rule=rule,
    )


@dataclass(frozen=True)
class RunningMeans:
    """The weighted means of all chunks seen (``partial_fit``'s intercept)."""

    sw_sum: float
    x_mean: np.ndarray
    y_mean: np.ndarray

    @classmethod
    def empty(cls, n_features, n_outputs):
        return cls(0.0, np.zeros(n_features), np.zeros(n_outputs))

    def merge(self, sw_sum, x_mean, y_mean):
        total = self.sw_sum + sw_sum
        share = sw_sum / total
        return RunningMeans(
            total,
            self.x_mean + (x_mean - self.x_mean) * share,
            self.y_mean + (y_mean - self.y_mean) * share,
        )


@dataclass(frozen=True)
class ChunkResult:
    """One ``partial_fit`` iteration: the new state, the objective after it
    on the chunk and the warnings it raised (texts); with :func:`chunk_step`
    also the running means, the intercept, the chunk's L and the rate."""

    state: GDState
    loss: float
    warnings: tuple
    means: RunningMeans | None = None
    intercept: np.ndarray | None = None
    lipschitz: float = np.nan
    learning_rate: float = np.nan


def chunk_step(source, state, means, config):
    """``partial_fit``'s iteration on the chunk ``source`` from ``state``, as
    ``config`` (``schedule.RunConfig``) asks.

    The intercept is profiled with the running means of all rows seen
    (``means`` merged with the chunk's); "auto" (``learning_rate`` None) is
    the chunk's own 1/L (or 1/L_B for mini-batches, ``minibatch``).
    """
    l2_reg_strength, batch_size = config.l2_reg_strength, config.batch_size
    sw_sum, x_mean, y_mean = questions.means(source, config.fit_intercept)
    means = means.merge(sw_sum, x_mean, y_mean)
    objective = Objective.on_data(
        source, sw_sum, means.x_mean, means.y_mean, l2_reg_strength
    )
    lipschitz = largest_eigenvalue(
        objective.hessp, source.n_features, objective.sparse_hessian()
    )
    rate = base_rate(source, objective, lipschitz, config.learning_rate, batch_size)
    batches = None
    if batch_size is not None:
        batches = minibatch_objectives(source, objective, batch_size, config.rng)
    steps = config.steps(rate)
    result = chunk_iteration(state, objective, batches, steps, config.moves, lipschitz)
    return replace(
        result,
        means=means,
        intercept=objective.intercept(result.state.point),
        lipschitz=float(lipschitz),
        learning_rate=float(rate),
    )


def chunk_iteration(state, objective, batches, schedule, moves, lipschitz):
    """One iteration of ``partial_fit`` on a chunk's objective, guarded.

    The iteration ``fit`` loops over (``run_epoch``), from a copy of
    ``state``. A step that overflows is undone and the chunk skipped; one
    that raises the chunk's objective (full batch, no momentum: past 2/L) is
    kept; both are reported with the numbers.
    """
    state = replace(state, coef=state.coef.copy(), velocity=state.velocity.copy())
    if batches is None:
        before, state.grad = objective.loss_gradient(state.coef)
    else:
        before, state.grad = objective.loss(state.coef), None
    previous = (state.coef.copy(), state.velocity.copy(), state.t, state.average)
    loss, _ = run_epoch(state, objective, batches, schedule, moves)
    state.grad = None  # the next chunk has its own gradient
    rate = schedule.learning_rate
    limit = 2.0 / lipschitz if lipschitz > 0 else np.inf
    messages = []
    if not (np.isfinite(loss) and np.all(np.isfinite(state.point))):
        state.coef, state.velocity, state.t, state.average = previous
        loss = before
        messages.append(
            f"partial_fit: the step with learning_rate={rate:.4g} overflowed on "
            f"this chunk (2/L = {limit:.4g}); the chunk was skipped. Use "
            "learning_rate='auto' or a smaller value."
        )
    grew = loss > before * (1 + np.sqrt(EPS))
    if grew and moves.momentum == 0 and batches is None:
        messages.append(
            f"partial_fit: the objective on this chunk grew from {before:.4g} to "
            f"{loss:.4g}: learning_rate={rate:.4g} is past the stability limit "
            f"2/L = {limit:.4g} for this chunk. Use learning_rate='auto'."
        )
    return ChunkResult(state, float(loss), tuple(messages))
