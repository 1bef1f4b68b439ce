"""Which engine runs a gradient-descent fit, on which objective and rate.

``plan_descent`` makes the choices ``IterativeGDRegressor.fit`` makes, for
any data source: iterate on the sufficient statistics (the closed-form
spectral engine, or data passes for mini-batches) or on data passes; the
base rate (the user's, or 1/L, or 1/L_B for mini-batches); the validation
scorer for early stopping.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la

from .._data import questions
from .._kernel.rates import damped_momentum
from .._kernel.sparse_ops import extreme_eigenvalue
from .._kernel.spectrum import (
    DENSE_HESSIAN_MAX_FEATURES,
    active_extremes,
    hessian_as_operator,
)
from .._kernel.units import tiny_means, underflowed
from .gd import DataEngine, minibatch_objectives
from .minibatch import minibatch_rates
from .null_space import (
    flat_directions,
    measure_flat_directions,
    remove_null_component,
    row_space_part,
    without_null_space,
)
from .objective import Objective
from .schedule import Momentum
from .spectral import SpectralEngine, statistics_objective
from .steps import missed_magnitudes
from .validation import validation_r2_data, validation_r2_stats


@dataclass(frozen=True)
class Curvatures:
    """What the Hessian's spectrum says about a run.

    ``lipschitz`` is L, ``smallest`` ℓ (the smallest positive eigenvalue, 0
    when unknown), ``column_spread`` the ratio of the largest to the smallest
    column standard deviation (None when unknown): scaling X helps when it
    is large.
    """

    lipschitz: float
    smallest: float
    column_spread: float | None = None
    #: Columns of zero curvature with a tiny nonzero mean (their squares
    #: underflowed: values of extreme magnitude beside ordinary ones).
    underflowed: bool = False
    #: Eigen-directions of small eigenvalues (below ``FLAT_BAND·eps·d·L``),
    #: where the formed Hessian may not tell rounding from curvature: (d, m)
    #: orthonormal columns and those eigenvalues; after
    #: :func:`measure_flat_directions`, ``null`` marks the null space of X.
    flat_basis: np.ndarray | None = None
    flat_evals: np.ndarray | None = None
    #: The smallest eigenvalue above that band (L if none).
    above_band: float = 0.0
    null: np.ndarray | None = None
    #: The largest real curvature among the directions the Hessian cannot
    #: resolve, relative to L (0: none). Then no iterate can be certified.
    unresolved: float = 0.0

    @property
    def null_basis(self):
        """Orthonormal columns spanning the null space of X (or None)."""
        if self.null is None or not self.null.any():
            return None
        return self.flat_basis[:, self.null]


def _spread(variances):
    positive = variances[variances > 0]
    if not positive.size:
        return 1.0
    # Square roots first: the ratio of scales overflows only past float64 itself
    # (then it is inf, which reads as "scales differ beyond any factor").
    with np.errstate(over="ignore"):
        return float(np.sqrt(positive.max()) / np.sqrt(positive.min()))


def curvatures(objective, spectrum=None):
    """:class:`Curvatures` of ``objective``: from ``spectrum`` (statistics
    route) or from data passes: the Hessian formed from d products for small
    d, the n × n kernel for wide data, else Lanczos (ℓ a certified lower
    bound, 0 when the Hessian is singular)."""
    l2 = objective.l2_reg_strength
    if spectrum is not None:
        top, smallest = active_extremes(spectrum[0])
        spread = _spread(np.diag(objective.stats.xx) / objective.sw_sum)
        return Curvatures(top, smallest, spread, False, *flat_directions(spectrum))
    source, n_features = objective.source, objective.n_features
    if n_features <= DENSE_HESSIAN_MAX_FEATURES:
        hessian = objective.hessp(np.eye(n_features))
        spectrum = la.eigh((hessian + hessian.T) / 2)
        top, smallest = active_extremes(spectrum[0])
        flat = underflowed(np.diag(hessian) - 2 * l2, objective.x_mean)
        spread = _spread(np.diag(hessian) - 2 * l2)
        return Curvatures(top, smallest, spread, flat, *flat_directions(spectrum))
    if source.n_samples < n_features:
        # The nonzero eigenvalues of XcᵀSXc are those of √S·Xc·Xcᵀ·√S.
        kernel = la.eigvalsh(questions.row_gram(source, objective.x_mean))
        top, smallest = active_extremes(kernel)
        scale = 2.0 / objective.sw_sum
        smallest = 2 * l2 if l2 > 0 else scale * smallest
        return Curvatures(scale * top + 2 * l2, smallest)
    operator = objective.sparse_hessian()
    if operator is None:
        operator = hessian_as_operator(objective.hessp, n_features)
    top = extreme_eigenvalue(operator, "LA")
    bottom = extreme_eigenvalue(operator, "SA")
    singular = bottom <= np.finfo(np.float64).eps * n_features * top * 100
    return Curvatures(top, 0.0 if singular else bottom)


@dataclass(frozen=True)
class DescentPlan:
    """The objective, the engine and its settings for one run.

    ``frozen`` marks constant columns (statistics route; None otherwise);
    ``curvature`` holds L and ℓ of the training objective and
    ``learning_rate`` is the base step, all in the units of the source.
    ``start`` is where the run starts: ``coef0`` without its null-space
    component when that is known (:func:`remove_null_component`).
    """

    objective: Objective
    engine: object
    scorer: object
    frozen: np.ndarray | None
    curvature: Curvatures
    learning_rate: float
    moves: Momentum = Momentum()
    start: np.ndarray | None = None
    #: What "auto" is for this run (1/L, or 1/L_B with mini-batches), and
    #: with mini-batches 1/Lₘₐₓ, the rate at which every single step is stable.
    auto_rate: float | None = None
    safe_rate: float | None = None

    @property
    def lipschitz(self):
        return self.curvature.lipschitz


# precompute="auto" iterates on the statistics when forming the d×d Gram is
# cheap next to the data passes it replaces.
PRECOMPUTE_MAX_FEATURES = 4000
# Tall sparse X (``krylov`` sources) up to this many columns too: the
# eigendecomposition of the d × d Hessian takes at most about 0.3 s here
# (0.17 s at d = 758), the time of a few hundred data passes (0.5–2 ms each
# on one-hot tables), while a singular design (one-hot with an intercept)
# runs all of max_iter = 10,000 passes on the data route, which cannot
# certify convergence there: 7.8 s against 0.55 s (converged, certified)
# on the CLI's 1,200 × 758 one-hot training folds.
KRYLOV_PRECOMPUTE_MAX_FEATURES = 1024


def resolve_precompute(precompute, source):
    """``precompute`` with "auto" decided: statistics when d ≤ 4000, on any
    n (a wide design's d × d problem is small too: one eigendecomposition,
    then O(d) per iteration), except for tall sparse X with more than 1024
    columns (``krylov`` sources), where the dense d × d Gram and its
    eigendecomposition would cost more than the sparse products of the data
    passes."""
    if precompute != "auto":
        return bool(precompute)
    n_samples, n_features = source.n_samples, source.n_features
    if n_features > PRECOMPUTE_MAX_FEATURES:
        return False
    if n_samples < n_features or n_features <= KRYLOV_PRECOMPUTE_MAX_FEATURES:
        return True
    return not getattr(source, "krylov", False)


def _varying_but_flat(objective, ranges):
    """Columns that vary (``ranges`` > 0) with a tiny mean: their variance
    underflowed, it is not 0."""
    return bool(np.any((ranges > 0) & tiny_means(objective.x_mean)))


def base_rate(source, objective, lipschitz, learning_rate, batch_size):
    """The user's rate (``learning_rate`` a float), or for None 1/L (full
    batch) or 1/L_B (mini-batches, ``minibatch.batch_smoothness``)."""
    if learning_rate is not None:
        return learning_rate
    if batch_size is not None:
        return minibatch_rates(source, objective, lipschitz, batch_size)[0]
    # A flat objective (no variance in X, alpha = 0): any step is stable.
    return 1.0 / lipschitz if lipschitz > 0 else 1.0


def resolve_moves(moves, curvature, learning_rate, batch_size):
    """``moves`` with ``momentum="auto"`` (``moves.momentum`` None) decided:
    ``rates.damped_momentum`` for the full-batch "auto" rate 1/L, else 0 (a
    float rate keeps its textbook meaning; mini-batches take plain steps)."""
    if moves.momentum is not None:
        return moves
    momentum = 0.0
    if learning_rate is None and batch_size is None:
        momentum = damped_momentum(
            curvature.lipschitz, curvature.smallest, moves.nesterov
        )
    return Momentum(momentum, moves.nesterov)


def plan_descent(train, val, coef0, config):
    """Plan a run on ``train`` (validation rows ``val`` or None) from ``coef0``
    as ``config`` (``schedule.RunConfig``) asks. Returns a :class:`DescentPlan`.
    """
    l2_reg_strength, batch_size = config.l2_reg_strength, config.batch_size
    learning_rate, precompute = config.learning_rate, config.precompute
    frozen = spectrum = val_stats = None
    underflowed = False
    if precompute:
        stats = questions.statistics(train, config.fit_intercept)
        underflowed = missed_magnitudes(stats)
        objective, frozen, spectrum = statistics_objective(stats, l2_reg_strength)
    else:
        sw_sum, x_mean, y_mean = questions.means(train, config.fit_intercept)
        objective = Objective.on_data(train, sw_sum, x_mean, y_mean, l2_reg_strength)
    curvature = curvatures(objective, spectrum)
    curvature = measure_flat_directions(train, objective, curvature)
    if spectrum is not None and curvature.null is not None:
        spectrum = without_null_space(spectrum, curvature)
    coef0 = remove_null_component(coef0, curvature)
    wide = train.n_samples < train.n_features
    if wide and spectrum is None and curvature.flat_basis is None and np.any(coef0):
        coef0 = row_space_part(train, objective, coef0)
    if l2_reg_strength == 0 and (underflowed or curvature.underflowed):
        # Tiny and constant is harmless; tiny and varying is not (one pass
        # to tell them apart, on such data only).
        ranges = questions.column_ranges(train)
        underflowed = ranges is None or _varying_but_flat(objective, ranges)
    if l2_reg_strength == 0 and underflowed:
        # A common scale cannot serve such columns (their squares underflow
        # beside the others): never leave their coefficients at 0 silently.
        raise ValueError(
            "X has a column of extreme magnitude (values below about 1e-120 "
            "beside ordinary ones) whose variance underflows float64: "
            "standardise X (for example with StandardScaler), or use "
            "OneStepRegressor(), which scales column by column."
        )
    lipschitz = curvature.lipschitz
    moves = resolve_moves(config.moves, curvature, learning_rate, batch_size)
    auto, safe = base_rate(train, objective, lipschitz, None, None), None
    if batch_size is not None:
        auto, safe = minibatch_rates(train, objective, lipschitz, batch_size)
    rate = auto if learning_rate is None else learning_rate
    steps = config.steps(rate)
    scorer = None
    if val is not None and precompute:
        val_stats = questions.statistics(val, True)
        scorer = validation_r2_stats(val_stats)
    elif val is not None:
        scorer = validation_r2_data(val)
    if precompute and batch_size is None:
        engine = SpectralEngine(
            objective, coef0, steps, moves, spectrum=spectrum, val_stats=val_stats
        )
    else:
        batches = None
        if batch_size is not None:

            def batches():
                return minibatch_objectives(train, objective, batch_size, config.rng)

        engine = DataEngine(
            objective, coef0, steps, moves, batches=batches, scorer=scorer
        )
    return DescentPlan(
        objective,
        engine,
        scorer,
        frozen,
        curvature,
        rate,
        moves,
        coef0,
        auto_rate=auto,
        safe_rate=safe,
    )


__all__ = [
    "Curvatures",
    "DescentPlan",
    "Momentum",
    "base_rate",
    "curvatures",
    "plan_descent",
    "resolve_moves",
]
