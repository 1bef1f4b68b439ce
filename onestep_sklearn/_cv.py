"""IterativeGDRegressorCV: the whole learning-rate sweep from fold statistics."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.metrics import get_scorer_names

from ._base import BaseMSERegressor, fit_method
from ._compat import Interval, StrOptions
from ._cv_scores import (
    BUILT_IN,
    built_in_scores,
    choose,
    read_splits,
    scores_of_runs,
)
from ._data import questions
from ._fitted import descent_attributes
from ._kernel.rates import stability_limit
from ._namespace import on_host
from ._solvers.folds import FoldGroups, merge_all, split_statistics, without_intercept
from ._solvers.objective import Objective
from ._solvers.path import FoldPath, Workspace, run_at
from ._solvers.schedule import Momentum
from ._solvers.spectral import statistics_objective
from ._validation import validate_fit_data

if TYPE_CHECKING:
    from ._compat import ArrayLike, CVLike, MatrixLike, ScoringLike, Self
    from ._data.protocol import DataSource
    from ._kernel.stats import SufficientStats
    from ._kernel.units import Units
    from ._validation import FitData

# A grid of n rates spans LOWEST·limit to PAST·limit (geometric).
LOWEST, PAST = 1e-3, 1.25


class IterativeGDRegressorCV(BaseMSERegressor):
    """Gradient descent with its learning rate and iteration count chosen by
    cross-validation, every rate × every iteration at once.

    For each split of ``cv`` it computes the validation score that
    ``IterativeGDRegressor(learning_rate=η, max_iter=t, tol=None)``, fitted on
    the training part, gets on the validation part, for every rate ``η`` of
    ``learning_rates`` and every ``t ≤ max_iter``: from one pass over X (the
    sufficient statistics of the folds, whose merges give every training
    part exactly) and the closed-form iterates of full-batch gradient
    descent in the eigenbasis of each training Hessian. It then selects the
    rate and the iteration count with the best mean score among the stable
    rates and refits ``IterativeGDRegressor`` on all rows with them. Early
    stopping acts as regularisation (gradient descent at rate η for t steps
    behaves like ridge with a penalty of about ``1/(ηt)``), so the best
    iteration count is often smaller than ``max_iter`` on noisy data.

    The scores are those of the runs themselves, not an approximation: a
    rate past a fold's stability limit stops at its best iterate, as the
    estimator does, so every score is finite. Such rates are shown in
    ``cv_scores_`` but never chosen.

    As the last step of a :class:`~sklearn.pipeline.Pipeline` it sees the
    transformed data: the folds are those of the data it is given, and the
    steps before it are fitted once, on all rows (as for ``RidgeCV``). Wrap
    the whole pipeline in a search to refit them per fold.

    Parameters
    ----------
    learning_rates : int >= 2 or array-like of float > 0, default=20
        An int: that many rates on a geometric grid from ``1e-3`` times the
        stability limit of the full data (``2/L``, ``2(1+μ)/L`` with
        heavy-ball momentum ``μ``, ``2(1+μ)/((1+2μ)L)`` with Nesterov's) to
        ``1.25`` times it. An array: these rates (sorted ascending).
    max_iter : int >= 1, default=1000
        Largest number of iterations scored; every count from 1 to
        ``max_iter`` is a candidate.
    cv : int, cross-validation generator or iterable, default=None
        As in scikit-learn's ``check_cv``: None is 5-fold, an int the number
        of folds (``KFold``), or a splitter, or an iterable of
        ``(train, test)`` index arrays or boolean masks. Parts may overlap
        and repeat rows (a bootstrap): each run trains on ``X[train]``, as
        in ``cross_val_score``.
    scoring : str, callable or None, default=None
        None or "r2": R² (``r2_score``; NaN, with scikit-learn's warning,
        for a validation part of one sample); "neg_mean_squared_error":
        minus the mean squared error. Both come from the validation folds'
        statistics (no pass over X). Any other scorer is called as
        ``cross_val_score`` calls it, on an ``IterativeGDRegressor`` holding
        the run's coefficients, for every rate and iteration of every fold
        (``n_splits × n_rates × max_iter`` calls, in-memory data only). With
        ``sample_weight``, a scorer that takes ``sample_weight`` (R² and
        every scikit-learn scorer do) gets the validation rows' weights.
        A NaN or infinite mean score is never chosen.
    alpha : float >= 0, default=0.0
        L2 penalty strength, as in ``IterativeGDRegressor``.
    fit_intercept : bool, default=True
        Whether to fit an intercept (never penalised).
    momentum : float in [0, 1), default=0.0
        Heavy-ball momentum ``μ``.
    nesterov : bool, default=False
        Use Nesterov's accelerated form of the momentum.

    Attributes
    ----------
    learning_rate_ : float
        The chosen learning rate.
    n_iter_ : int
        The chosen number of iterations (the refit runs exactly this many).
    learning_rates_ : ndarray of shape (n_learning_rates,)
        The rates scored, ascending.
    cv_scores_ : ndarray of shape (n_splits, n_learning_rates, max_iter)
        ``cv_scores_[i, j, t - 1]``: the validation score of split ``i``
        after ``t`` iterations at rate ``learning_rates_[j]``.
    best_score_ : float
        The mean over the splits of the score at the chosen point.
    diverged_ : ndarray of shape (n_splits, n_learning_rates)
        Whether the rate's run on the split's training part stopped because
        the objective rose (past that part's stability limit).
    stability_limit_ : float
        The largest stable rate of the full data (see ``learning_rates``).
    lipschitz_ : float
        ``L``, the largest eigenvalue of the full-data Hessian.
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients of the refit.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept of the refit.
    stop_reason_ : str
        Why the refit ended ("max_iter" when it ran its ``n_iter_``).
    loss_curve_ : list of float
        The objective after each iteration of the refit.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, for string column names only.

    See Also
    --------
    IterativeGDRegressor : Gradient descent at one learning rate.
    sklearn.linear_model.RidgeCV : Ridge regression with built-in
        cross-validation of the penalty.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import scale
    >>> from onestep_sklearn import IterativeGDRegressorCV
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = IterativeGDRegressorCV(learning_rates=10, max_iter=200)
    >>> reg = reg.fit(scale(X), y)
    >>> reg.cv_scores_.shape
    (5, 10, 200)
    >>> bool(reg.learning_rate_ < reg.stability_limit_)
    True
    >>> round(float(reg.best_score_), 3)
    0.482
    """

    _parameter_constraints: dict = {
        "learning_rates": [Interval(Integral, 2, None, closed="left"), "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(get_scorer_names())), callable, None],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
    }

    def __init__(
        self,
        *,
        learning_rates: int | ArrayLike = 20,
        max_iter: int = 1000,
        cv: CVLike = None,
        scoring: ScoringLike = None,
        alpha: float = 0.0,
        fit_intercept: bool = True,
        momentum: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        self.learning_rates = learning_rates
        self.max_iter = max_iter
        self.cv = cv
        self.scoring = scoring
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.momentum = momentum
        self.nesterov = nesterov

    @fit_method
    def fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        groups: ArrayLike | None = None,
    ) -> Self:
        """Score every learning rate and iteration count, then refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (a Dask array is reduced on its workers). Never
            modified; read once, one row block at a time (a block is copied
            into group order when the splits interleave its rows).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights: of the training objectives and of the
            validation scores.
        groups : array-like of shape (n_samples,), default=None
            Group labels for a group splitter (``GroupKFold``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        data = validate_fit_data(self, X, y, sample_weight, reset=True)
        units = questions.extreme_units(data.source)
        source = data.source.rescaled(units)
        splits = read_splits(
            self.cv, X, data.y, groups, source.n_samples, source.n_features
        )
        fold_groups = FoldGroups.from_splits(splits, source.n_samples)
        group_stats = questions.group_statistics(
            source, fold_groups.labels, fold_groups.n_groups
        )
        pairs = split_statistics(fold_groups, group_stats, self.fit_intercept)
        for number, (train, test) in enumerate(pairs):
            if not (train.sw_sum > 0 and test.sw_sum > 0):
                raise ValueError(
                    f"cv split {number}: the sample weights of its training "
                    f"({train.sw_sum:g}) or validation ({test.sw_sum:g}) rows sum "
                    "to zero; every split needs rows of positive weight in both."
                )
        l2 = units.alpha(self.alpha)
        full = self._full_statistics(source, fold_groups, group_stats, l2)
        lipschitz = float(max(full.spectrum[0][-1], 0.0))
        limit = stability_limit(lipschitz, self.momentum, self.nesterov)[0]
        rates = self._rates(units, limit)
        in_data = np.array([units.rate_to_data(rate) for rate in rates])
        if not np.all((in_data > 0) & np.isfinite(in_data)):
            raise ValueError(
                f"The stability limit of this data, {limit:.3g} in units where "
                f"X is scaled by {units.x_scale:g}, is a rate that float64 cannot "
                "hold in the units of X: rescale X (for example with "
                "StandardScaler) before fitting."
            )
        moves = Momentum(self.momentum, self.nesterov)
        workspace = Workspace()
        paths = [
            FoldPath(
                train, test, l2, rates, self.max_iter, moves, source.dtype, workspace
            )
            for train, test in pairs
        ]
        if self.scoring is None or self.scoring in BUILT_IN:
            scores = built_in_scores(self.scoring, paths, splits, units)
        else:
            given = (X, y, sample_weight)
            if data.space is not None:  # the user's scorer sees numpy
                given = on_host(data.source, data.y_ndim, sample_weight)
            scores = scores_of_runs(self, paths, splits, in_data, units, data, given)
        diverged = np.array([path.diverged for path in paths])
        stable = (rates < limit) & ~diverged.any(axis=0)
        if not stable.any():
            raise ValueError(
                f"learning_rates: every rate (the smallest is "
                f"{units.rate_to_data(rates[0]):.3g}) is past the stability limit "
                f"{units.rate_to_data(limit):.3g} of the data or of a training "
                "fold; pass smaller rates, or an int for a grid below the limit."
            )
        best_rate, best_t, mean = choose(scores, stable)
        rate = units.rate_to_data(rates[best_rate])
        refit = self._refit(full, l2, rates[best_rate], best_t + 1, units, data)
        self._assign(
            {
                **refit,
                "learning_rate_": rate,
                "n_iter_": best_t + 1,
                "learning_rates_": in_data,
                "cv_scores_": scores,
                "best_score_": float(mean[best_rate, best_t]),
                "diverged_": diverged,
                "stability_limit_": units.rate_to_data(limit),
            },
            data.space,
        )
        return self

    def _full_statistics(
        self,
        source: DataSource,
        fold_groups: FoldGroups,
        group_stats: list[SufficientStats],
        l2: float,
    ) -> _FullData:
        """The objective on all rows (``spectral.statistics_objective``) from
        the merge of the groups when every row is in one, else from a pass
        of its own."""
        if np.all(fold_groups.labels >= 0):
            stats = merge_all(group_stats)
            if not self.fit_intercept:
                stats = without_intercept(stats)
        else:
            stats = questions.statistics(source, self.fit_intercept)
        return _FullData(*statistics_objective(stats, l2))

    def _refit(
        self,
        full: _FullData,
        l2: float,
        rate: float,
        n_iter: int,
        units: Units,
        data: FitData,
    ) -> dict[str, Any]:
        """``IterativeGDRegressor(learning_rate=rate, max_iter=n_iter,
        tol=None)`` on all rows, run on the statistics already formed (the
        same engine, stopping rule and fitted attributes as its ``fit``, with
        no second pass over X)."""
        moves = Momentum(self.momentum, self.nesterov)
        dtype = data.source.dtype
        result, plan = run_at(
            full.objective, full.frozen, full.spectrum, rate, n_iter, moves, dtype
        )
        stats = full.objective.stats
        assert stats is not None  # an objective on statistics carries them
        coef0 = np.zeros_like(stats.xy)
        attributes = descent_attributes(
            result,
            plan,
            units,
            coef0,
            fit_intercept=self.fit_intercept,
            early_stopping=False,
            y_ndim=data.y_ndim,
            dtype=dtype,
        )
        kept = ("coef_", "intercept_", "stop_reason_", "lipschitz_", "loss_curve_")
        return {name: attributes[name] for name in kept}

    def _rates(self, units: Units, limit: float) -> np.ndarray:
        """The rates to score, ascending, in the units of the source."""
        if isinstance(self.learning_rates, Integral):
            top = limit if np.isfinite(limit) else 2.0
            return np.geomspace(LOWEST * top, PAST * top, int(self.learning_rates))
        rates = np.asarray(self.learning_rates, dtype=np.float64)
        if rates.ndim != 1 or rates.size == 0 or not np.all(np.isfinite(rates)):
            raise ValueError(
                f"learning_rates must be a 1-D array of finite rates, got "
                f"{self.learning_rates!r}."
            )
        if not np.all(rates > 0):
            raise ValueError(
                f"learning_rates must be positive, got {rates.min()} among them."
            )
        return np.sort([units.rate_from_data(r) for r in rates])


@dataclass(frozen=True)
class _FullData:
    """The objective on all rows, its constant columns and its spectrum."""

    objective: Objective
    frozen: np.ndarray
    spectrum: tuple
