"""The gradient-descent machinery behind IterativeGDRegressor.

One iteration (:func:`run_epoch`) is either one full-batch step or one pass of
mini-batch steps; ``fit`` loops over it and ``partial_fit`` calls it once per
chunk. Objectives come from ``_objective`` (data pass or statistics).
"""

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from ._objective import DataObjective, data_pass
from ._stopping import EPS


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


def step_size(learning_rate, schedule, power_t, state):
    """η for the next update: constant or ``η/(t+1)^power_t``, times the
    adaptive reduction ``state.rate_scale``."""
    eta = learning_rate * state.rate_scale
    if schedule == "invscaling":
        eta /= (state.t + 1) ** power_t
    return eta


def apply_step(state, grad, eta, momentum, nesterov):
    """θ ← θ + v with v ← μ·v − η·∇f (heavy ball) or its Nesterov form."""
    velocity = momentum * state.velocity - eta * grad
    if nesterov:
        state.coef += momentum * velocity - eta * grad
    else:
        state.coef += velocity
    state.velocity = velocity
    state.t += 1


def run_epoch(state, objective, batches, rate, momentum, nesterov):
    """One iteration; returns the objective after it.

    ``batches`` is ``None`` (full batch) or an iterable of mini-batch
    objectives. ``rate(state)`` gives the step size of the next update.
    Full batch, the fused data pass that yields the objective at the new point
    also yields the next gradient, so each iteration costs one pass.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if batches is None:
            if state.grad is None:
                _, state.grad = objective.loss_gradient(state.coef)
            apply_step(state, state.grad, rate(state), momentum, nesterov)
            loss, state.grad = objective.loss_gradient(state.coef)
            return loss
        for batch in batches:
            _, grad = batch.loss_gradient(state.coef)
            apply_step(state, grad, rate(state), momentum, nesterov)
        state.grad = None
        return objective.loss(state.coef)


def minibatches(X, Y, sample_weight, x_mean, y_mean, l2, indices, batch_size, rng):
    """Mini-batch objectives over ``indices`` (shuffled when ``rng`` is given).

    Contiguous batches are views of ``X``; shuffled ones copy only the batch.
    Each batch is normalised by its own weight sum, the intercept profiled
    with the full training means.
    """
    if rng is not None:
        indices = rng.permutation(indices)
    contiguous = rng is None and np.all(np.diff(indices) == 1)
    for start in range(0, indices.size, batch_size):
        rows = indices[start : start + batch_size]
        if contiguous:
            rows = slice(rows[0], rows[-1] + 1)
        weights = sample_weight[rows]
        sw_sum = float(weights.sum(dtype=np.float64))
        if sw_sum > 0:
            yield DataObjective(X[rows], Y[rows], weights, sw_sum, x_mean, y_mean, l2)


def r2_from_sse(sse, sst):
    """Uniformly averaged R² as ``sklearn.metrics.r2_score`` (force_finite)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), 0.0)
    scores = np.where((sst == 0) & (sse == 0), 1.0, scores)
    return float(np.mean(scores))


def validation_r2_data(X, Y, val_weight, y_sst):
    """Validation R² scorer by a data pass over the validation rows."""

    def score(coef, intercept):
        sse, _, _ = data_pass(X, Y, coef, intercept, val_weight, gradient=False)
        return r2_from_sse(sse, y_sst)

    return score


def validation_r2_stats(val_stats):
    """Validation R² scorer from the validation rows' statistics: O(d²)."""

    def score(coef, intercept):
        return r2_from_sse(val_stats.sse(coef, intercept), val_stats.yy)

    return score


def weighted_sst(Y, sample_weight):
    """Σ s (y − ȳ)² per output, computed from ``Y`` only."""
    sw = sample_weight.astype(np.float64)
    y_mean = sw @ Y / sw.sum()
    return sw @ (Y.astype(np.float64) - y_mean) ** 2


class DataEngine:
    """Iterations of the data-pass loop, one per :meth:`advance` call.

    Same interface as ``_spectral.SpectralEngine``, so :func:`descend` drives
    either; this one serves mini-batches, ``precompute=False`` and data whose
    statistics are not formed.
    """

    def __init__(
        self,
        objective,
        coef,
        learning_rate,
        schedule,
        power_t,
        momentum,
        nesterov,
        batches=None,
        scorer=None,
    ):
        self.state = GDState(coef=coef.copy(), velocity=np.zeros_like(coef))
        self.objective, self.batches, self.scorer = objective, batches, scorer
        self.rate = (learning_rate, schedule, power_t)
        self.momentum, self.nesterov = momentum, nesterov
        self.best = self.best_val = self.state.coef.copy()

    @property
    def t(self):
        return self.state.t

    @property
    def rate_scale(self):
        return self.state.rate_scale

    def _rate(self, state):
        learning_rate, schedule, power_t = self.rate
        return step_size(learning_rate, schedule, power_t, state)

    def rate_now(self):
        return float(self._rate(self.state))

    def step_sizes(self, count):
        """The step of the next update (mini-batch epochs take several)."""
        return np.full(count, self.rate_now())

    def advance(self, limit):
        batches = None if self.batches is None else self.batches()
        loss = run_epoch(
            self.state,
            self.objective,
            batches,
            self._rate,
            self.momentum,
            self.nesterov,
        )
        if not np.all(np.isfinite(self.state.coef)):
            loss = np.nan
        scores = None
        if self.scorer is not None:
            scores = [self.current_score()]
        return np.array([loss]), scores

    def current_score(self):
        coef = self.state.coef
        with np.errstate(over="ignore", invalid="ignore"):
            return self.scorer(coef, self.objective.intercept(coef))

    def commit(self, consumed, best_at, best_score_at):
        if best_at is not None:
            self.best = self.state.coef.copy()
        if best_score_at is not None:
            self.best_val = self.state.coef.copy()

    def revert_to_best(self):
        state = self.state
        state.coef, state.velocity = self.best.copy(), np.zeros_like(self.best)
        state.grad, state.rate_scale = None, state.rate_scale / 5

    def coef(self, which="current"):
        return {
            "current": self.state.coef,
            "best": self.best,
            "best_val": self.best_val,
        }[which]


# The adaptive schedule gives up once the rate has been divided this much.
MIN_RATE_SCALE = 1e-6


def descend(engine, rule, max_iter, adaptive, verbose, on_iteration=None):
    """Drive an engine until the rule stops it or ``max_iter`` is reached.

    Returns ``(loss_curve, validation_scores, stop)``, ``stop`` one of
    "converged", "diverged", "rate" (adaptive gave up) or ``None``
    (max_iter). An undone step of the adaptive schedule records the
    objective of the iterate the run continues from. ``on_iteration(before,
    after)``, if given, sees every iteration's iterates (the engine then runs
    one iteration per call) and stops the run ("callback") by returning True.
    """
    curve, scores, stop = [], [], None
    stride = max(1, -(-max_iter // 50))
    while rule.iteration < max_iter:
        first, previous = rule.iteration + 1, rule.previous
        steps = engine.step_sizes(1)  # the step of the chunk's first update
        limit = max_iter - rule.iteration
        if on_iteration is not None:
            before, limit = engine.coef("current").copy(), 1
        losses, chunk_scores = engine.advance(limit)
        consumed, event, best_at, best_score_at = rule.scan(losses, chunk_scores)
        engine.commit(consumed, best_at, best_score_at)
        kept = consumed - (event == "diverged")
        curve.extend(losses[:kept].tolist())
        if chunk_scores is not None:
            scores.extend(np.asarray(chunk_scores[:kept], dtype=float).tolist())
        if verbose:
            if len(losses) > 1:  # a spectral chunk: one update per iteration
                steps = engine.pending_steps
            _print_progress(losses[:consumed], first, stride, steps, previous)
        if event == "diverged" and adaptive and engine.rate_scale > MIN_RATE_SCALE:
            engine.revert_to_best()
            rule.restart_from_best()
            curve.append(rule.best_loss)
            if chunk_scores is not None:
                scores.append(float(engine.current_score()))
            continue
        if event == "diverged":
            stop = "rate" if adaptive else "diverged"
            finite = losses[kept]
            if np.isfinite(finite):
                curve.append(float(finite))
            break
        if event == "converged":
            stop = event
            break
        if on_iteration is not None and on_iteration(before, engine.coef("current")):
            stop = "callback"
            break
    return curve, scores, stop


def _print_progress(losses, first, stride, steps, previous):
    """Progress lines for the iterations ``first, first + 1, …``.

    ``steps[k]`` is the step size used in the k-th of them (the last one
    repeats), ``previous`` the objective before the first.
    """
    for offset, loss in enumerate(losses):
        iteration = first + offset
        if iteration % stride == 0 or iteration == 1:
            change = abs(previous - loss) / abs(previous) if previous else np.inf
            step = steps[min(offset, len(steps) - 1)]
            print(
                f"iter {iteration:>6}  objective {loss:.6e}  "
                f"rel. change {change:.2e}  step {step:.3e}"
            )
        previous = loss


def validation_split(sample_weight, validation_fraction, rng):
    """Training and validation weights: the held-out rows get weight 0.

    Masking by weights, rather than indexing, keeps X uncopied.
    """
    rows = np.flatnonzero(sample_weight > 0)
    train_rows, val_rows = train_test_split(
        rows, test_size=validation_fraction, random_state=rng
    )
    if val_rows.size < 2 or train_rows.size < 1:
        raise ValueError(
            f"early_stopping needs at least 2 validation samples; "
            f"validation_fraction={validation_fraction} of "
            f"{rows.size} weighted samples gives {val_rows.size}."
        )
    val_weight = np.zeros_like(sample_weight)
    val_weight[val_rows] = sample_weight[val_rows]
    train_weight = sample_weight.copy()
    train_weight[val_rows] = 0
    return train_weight, val_weight


# partial_fit of IterativeGDRegressor: one guarded iteration per chunk,
# shared by the in-memory and the Dask routes.


def running_means(estimator, x_mean, y_mean, sw_sum):
    """Merge a chunk's weighted means into those of all chunks seen.

    ``partial_fit`` profiles the intercept with these running means; the
    first call (or one after a ``fit`` with other data) starts the state.
    """
    if not hasattr(estimator, "_state"):
        coef0 = np.zeros((x_mean.size, y_mean.size))
        estimator._state = GDState(coef=coef0, velocity=np.zeros_like(coef0))
        estimator._seen = (0.0, np.zeros_like(x_mean), np.zeros_like(y_mean))
        estimator.loss_curve_, estimator.n_iter_ = [], 0
    seen_sum, seen_x, seen_y = estimator._seen
    total = seen_sum + sw_sum
    x_mean = seen_x + (x_mean - seen_x) * (sw_sum / total)
    y_mean = seen_y + (y_mean - seen_y) * (sw_sum / total)
    estimator._seen = (total, x_mean, y_mean)
    return x_mean, y_mean


def chunk_iteration(estimator, objective, batches):
    """One iteration of ``partial_fit`` on a chunk's objective, guarded.

    The iteration ``fit`` loops over (``run_epoch``), from the carried
    state. A step that overflows is undone and the chunk skipped; one
    that raises the chunk's objective (full batch, no momentum: past
    2/L) is kept; both warn with the numbers.
    """
    state = estimator._state
    if batches is None:
        before, state.grad = objective.loss_gradient(state.coef)
    else:
        before = objective.loss(state.coef)
    previous = (state.coef.copy(), state.velocity.copy(), state.t)

    def rate(s):
        return step_size(
            estimator.learning_rate_, estimator.schedule, estimator.power_t, s
        )

    loss = run_epoch(
        state, objective, batches, rate, estimator.momentum, estimator.nesterov
    )
    state.grad = None  # the next chunk has its own gradient
    limit = 2.0 / estimator.lipschitz_ if estimator.lipschitz_ > 0 else np.inf
    if not (np.isfinite(loss) and np.all(np.isfinite(state.coef))):
        state.coef, state.velocity, state.t = previous
        loss = before
        warnings.warn(
            f"partial_fit: the step with learning_rate={estimator.learning_rate_:.4g} "
            f"overflowed on this chunk (2/L = {limit:.4g}); the chunk was "
            "skipped. Use learning_rate='auto' or a smaller value.",
            ConvergenceWarning,
        )
    grew = loss > before * (1 + np.sqrt(EPS))
    if grew and estimator.momentum == 0 and batches is None:
        warnings.warn(
            f"partial_fit: the objective on this chunk grew from {before:.4g} "
            f"to {loss:.4g}: learning_rate={estimator.learning_rate_:.4g} is past "
            f"the stability limit 2/L = {limit:.4g} for this chunk. Use "
            "learning_rate='auto'.",
            ConvergenceWarning,
        )
    estimator.loss_curve_.append(float(loss))
    estimator.n_iter_ += 1
    estimator.t_ = state.t
