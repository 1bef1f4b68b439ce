"""Learning-rate facts for the objective in ``_kernel.objective`` (public).

The objective is quadratic with Hessian ``H = 2·(XcᵀSXc/Σs) + 2·alpha·I``.
Its largest eigenvalue ``L`` (the Lipschitz constant of the gradient) decides
everything about a fixed step size ``η`` in full-batch gradient descent:
``η = 1/L`` is always stable and monotone, ``η < 2/L`` converges, and
``η ≥ 2/L`` diverges along the top eigenvector.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from numbers import Real
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as la
from sklearn.utils import check_array, check_consistent_length

from ._compat import Interval, _check_sample_weight, validate_params
from ._data import questions
from ._data.checks import raise_for_weights
from ._data.memory import ArraySource
from ._kernel.rates import (
    iterations_to_shrink,
    optimal_heavy_ball,
    optimal_plain_rate,
    stability_limit,
)
from ._kernel.sparse_ops import extreme_eigenvalue
from ._kernel.spectrum import active_extremes, active_mask, hessian_as_operator
from ._kernel.threads import fit_blas_context
from ._solvers.newton import target_from_stats
from ._solvers.objective import Objective

if TYPE_CHECKING:
    from ._compat import ArrayLike, MatrixLike
    from ._data.protocol import DataSource
    from ._kernel.units import Units

# suggest_learning_rate forms the exact Hessian up to this many features
# (dense, sparse); beyond, Lanczos on data passes.
EXACT_MAX_FEATURES = {False: 2000, True: 500}


@dataclass(frozen=True)
class LearningRateSuggestion:
    """Step sizes for full-batch gradient descent on the MSE objective.

    Attributes
    ----------
    lipschitz : float
        ``L``, the largest eigenvalue of the Hessian.
    smallest_curvature : float
        ``ℓ``, the smallest positive eigenvalue (0 when not found).
    auto : float
        ``1/L``: always stable, the objective decreases monotonically.
    max_stable : float
        The exact stability limit for the given momentum: ``2/L``,
        ``2(1+μ)/L`` (heavy ball) or ``2(1+μ)/((1+2μ)L)`` (Nesterov); any
        constant rate at or past it does not converge.
    condition_number : float
        Largest over smallest Hessian eigenvalue (``inf`` when singular).
    optimal_rate : float
        ``2/(L + ℓ)``: the constant rate of plain gradient descent whose
        slowest direction shrinks fastest.
    optimal_momentum : tuple of float
        Polyak's heavy-ball pair ``(η, μ) = (4/(√L+√ℓ)², ((√κ−1)/(√κ+1))²)``.
    momentum, nesterov : float, bool
        The momentum these facts are for.
    optimum : float or None
        ``f*``, the least value of the objective (when ``y`` was given).
    eigenvalues : ndarray or None
        The Hessian's eigenvalues when formed exactly (else None).
    x_scale : float
        1.0, or for ``X`` whose curvature leaves float64 (values beyond about
        1e±154) the power of two ``c`` such that every rate and curvature
        above is that of ``c·X``, the units the estimators fit such ``X``
        in (a rate ``η`` for ``c·X`` is ``η·c²`` for ``X``).
    """

    lipschitz: float
    smallest_curvature: float
    auto: float
    max_stable: float
    condition_number: float
    optimal_rate: float
    optimal_momentum: tuple[float, float]
    momentum: float = 0.0
    nesterov: bool = False
    optimum: float | None = None
    eigenvalues: np.ndarray | None = field(default=None, repr=False)
    x_scale: float = 1.0

    @validate_params(
        {
            "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
            "tol": [Interval(Real, 0, None, closed="left")],
            "momentum": [Interval(Real, 0, 1, closed="left"), None],
        },
        prefer_skip_nested_validation=True,
    )
    def iterations_needed(
        self,
        learning_rate: float | None = None,
        *,
        tol: float = 1e-4,
        momentum: float | None = None,
    ) -> float:
        """About how many iterations from 0 a constant rate needs before the
        error is within ``tol`` of the optimum in every eigen-direction
        (transients of momentum included); ``inf`` for a rate at or past the
        stability limit of that momentum (it does not converge), and for
        ``tol=0``.

        ``IterativeGDRegressor`` stops when its certificate says so: about
        this many iterations on the statistics (where the distance to the
        optimum is known exactly, direction by direction), and on data
        passes, whose certificate ``‖∇f‖/ℓ`` is pessimistic when the error is
        spread over many directions, up to half as many again with momentum.

        ``learning_rate`` defaults to ``auto`` and ``momentum`` to the one
        these facts are for.
        """
        rate = self.auto if learning_rate is None else float(learning_rate)
        momentum = self.momentum if momentum is None else float(momentum)
        curves = self.eigenvalues
        if curves is None or not curves.size:
            curves = np.array([self.smallest_curvature, self.lipschitz])
        curves = curves[curves > 0] if np.any(curves > 0) else curves
        return iterations_to_shrink(rate, curves, tol, momentum, self.nesterov)


def suggestion_from_extremes(
    top: float,
    bottom: float,
    smallest: float,
    *,
    momentum: float = 0.0,
    nesterov: bool = False,
    eigenvalues: np.ndarray | None = None,
) -> LearningRateSuggestion:
    """The suggestion from ``L`` (``top``), the smallest eigenvalue
    (``bottom``, 0 when singular) and the smallest positive one."""
    if not top > 0:
        # A flat objective (constant features): any step is stable.
        return LearningRateSuggestion(
            0.0, 0.0, np.inf, np.inf, 1.0, np.inf, (np.inf, 0.0), momentum, nesterov
        )
    condition = top / bottom if bottom > 0 else np.inf
    return LearningRateSuggestion(
        lipschitz=top,
        smallest_curvature=smallest,
        auto=1.0 / top,
        max_stable=stability_limit(top, momentum, nesterov)[0],
        condition_number=condition,
        optimal_rate=optimal_plain_rate(top, smallest),
        optimal_momentum=optimal_heavy_ball(top, smallest),
        momentum=momentum,
        nesterov=nesterov,
        eigenvalues=eigenvalues,
    )


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like", None],
        "sample_weight": ["array-like", None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def suggest_learning_rate(
    X: MatrixLike,
    y: ArrayLike | None = None,
    *,
    sample_weight: ArrayLike | None = None,
    alpha: float = 0.0,
    fit_intercept: bool = True,
    momentum: float = 0.0,
    nesterov: bool = False,
) -> LearningRateSuggestion:
    """Lipschitz constant, stability limit and optimal step sizes, before any fit.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
        Target values: optional, the rates depend on ``X`` only; given, the
        least objective value ``optimum`` is reported too (exact route).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights (the objective is normalised by their sum). Keyword
        only, so that ``suggest_learning_rate(X, y)`` never takes y for them.
    alpha : float, default=0.0
        L2 strength of the objective (adds ``2·alpha`` to every eigenvalue).
    fit_intercept : bool, default=True
        Whether the intercept is fitted (the Hessian is then that of the
        centred data).
    momentum : float in [0, 1), default=0.0
        Heavy-ball momentum: ``max_stable`` is then ``2(1+μ)/L``.
    nesterov : bool, default=False
        Nesterov's momentum: ``max_stable`` is then ``2(1+μ)/((1+2μ)L)``.

    Returns
    -------
    suggestion : LearningRateSuggestion
        With ``lipschitz``, ``smallest_curvature``, ``auto``, ``max_stable``,
        ``condition_number``, ``optimal_rate``, ``optimal_momentum``,
        ``optimum`` and the method ``iterations_needed(learning_rate, tol)``.

    Examples
    --------
    >>> import numpy as np
    >>> from onestep_sklearn import suggest_learning_rate
    >>> X = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 3.0], [0.0, -3.0]])
    >>> s = suggest_learning_rate(X)
    >>> float(s.lipschitz), float(s.max_stable), float(s.condition_number)
    (9.0, 0.2222222222222222, 9.0)
    >>> float(s.optimal_rate), s.iterations_needed(tol=1e-4)
    (0.2, 79)
    """
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    weights = _check_sample_weight(
        sample_weight, X, dtype=X.dtype, ensure_non_negative=True
    )
    sw_sum = float(weights.sum(dtype=np.float64))
    raise_for_weights(0.0, sw_sum)
    if y is None:
        Y = np.zeros((X.shape[0], 1), dtype=X.dtype)
    else:
        y_checked = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        check_consistent_length(X, y_checked)
        Y = y_checked.reshape(X.shape[0], -1).astype(X.dtype)
    source = ArraySource(X, Y, weights, sw_sum)
    # Extreme magnitudes are measured in exactly rescaled units (powers of
    # two, ``_kernel.units``) and the facts converted back.
    units = questions.extreme_units(source).keeping_finite(alpha)
    with fit_blas_context(X.shape, getattr(X, "nnz", None)):
        facts = _facts_in_units(
            source.rescaled(units), units.alpha(alpha), fit_intercept, y is not None
        )
    facts = replace(facts, momentum=momentum, nesterov=nesterov)
    facts = replace(
        facts, max_stable=stability_limit(facts.lipschitz, momentum, nesterov)[0]
    )
    return _to_data_units(facts, units, X)


def _facts_in_units(
    source: DataSource, alpha: float, fit_intercept: bool, with_optimum: bool
) -> LearningRateSuggestion:
    n_features = source.n_features
    if n_features <= EXACT_MAX_FEATURES[source.sparse]:
        stats = questions.statistics(source, fit_intercept)
        evals = la.eigvalsh(stats.hessian(alpha), check_finite=False)
        top, smallest = active_extremes(evals)
        # An eigenvalue that is rounding of zero (a duplicated column, a
        # one-hot block beside the intercept) makes the Hessian singular.
        bottom = float(max(evals[0], 0.0)) if active_mask(evals).all() else 0.0
        facts = suggestion_from_extremes(top, bottom, smallest, eigenvalues=evals)
        if with_optimum:
            target = target_from_stats(stats, alpha)
            optimum = float(stats.loss_per_output(target, alpha).sum())
            facts = replace(facts, optimum=optimum)
        return facts
    # Large or sparse d: Lanczos on Hessian-vector products (data passes),
    # the d × d Gram never formed.
    sw_sum, x_mean, y_mean = questions.means(source, fit_intercept)
    objective = Objective.on_data(source, sw_sum, x_mean, y_mean, alpha)
    operator = objective.sparse_hessian()
    if operator is None:
        operator = hessian_as_operator(objective.hessp, n_features)
    top = extreme_eigenvalue(operator, "LA")
    if n_features == 1 or top == 0:
        return suggestion_from_extremes(top, top, top)
    bottom = extreme_eigenvalue(operator, "SA")
    return suggestion_from_extremes(top, bottom, bottom)


def _to_data_units(
    facts: LearningRateSuggestion, units: Units, X: MatrixLike
) -> LearningRateSuggestion:
    """The facts of the rescaled data in the units of ``X``, or, where they
    leave float64 (L is the square of X's scale), in the rescaled units with
    ``x_scale`` saying which (as the estimators fit such X)."""
    if units.identity:
        return facts
    lipschitz = units.curvature_to_data(facts.lipschitz)
    small = units.curvature_to_data(facts.smallest_curvature)
    normal = np.finfo(np.float64).tiny
    # Rates are 1/curvatures: both must be normal numbers in X's units.
    if facts.lipschitz > 0 and not (
        normal <= lipschitz <= 1 / normal
        and (normal <= small or not facts.smallest_curvature > 0)
    ):
        optimum = facts.optimum
        optimum = None if optimum is None else units.loss_to_data(optimum)
        return replace(facts, x_scale=float(units.x_scale), optimum=optimum)
    rate = units.rate_to_data
    step, mu = facts.optimal_momentum
    evals = facts.eigenvalues
    return replace(
        facts,
        lipschitz=lipschitz,
        smallest_curvature=units.curvature_to_data(facts.smallest_curvature),
        auto=rate(facts.auto),
        max_stable=rate(facts.max_stable),
        optimal_rate=rate(facts.optimal_rate),
        optimal_momentum=(rate(step), mu),
        optimum=None if facts.optimum is None else units.loss_to_data(facts.optimum),
        eigenvalues=None if evals is None else evals * units.x_scale**-2.0,
    )
