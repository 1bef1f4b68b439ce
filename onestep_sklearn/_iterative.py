"""IterativeGDRegressor: gradient descent on least squares, done properly."""

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
import scipy.linalg as la
from sklearn.base import _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from . import _dask
from ._base import BaseMSERegressor, in_units
from ._callbacks import CallbackSupportMixin, FitHooks
from ._gd import (
    DataEngine,
    GDState,
    chunk_iteration,
    descend,
    minibatches,
    running_means,
    validation_r2_data,
    validation_r2_stats,
    validation_split,
    weighted_sst,
)
from ._learning_rate import (
    lipschitz_from_data,
    per_sample_lipschitz,
)
from ._newton import varying_columns
from ._objective import DataObjective
from ._sparse_lsq import use_krylov
from ._spectral import SpectralEngine
from ._stats import StatsObjective, SufficientStats
from ._stopping import EPS, StopRule, stop_message

# precompute="auto" iterates on the statistics when forming the d×d Gram is
# cheap next to the data passes it replaces.
PRECOMPUTE_MAX_FEATURES = 1000


def statistics_objective(stats, alpha):
    """The objective on the statistics, for ``fit`` in memory and on Dask.

    Returns ``(objective, frozen, spectrum)``: constant columns (rounding
    noise only) are flattened and reported in ``frozen`` so that their
    coefficients stay put; ``spectrum`` is the Hessian's eigendecomposition,
    which gives L and drives the spectral engine.
    """
    frozen = ~varying_columns(stats, alpha)
    stats = stats.restricted(~frozen)
    spectrum = la.eigh(stats.hessian(alpha), check_finite=False)
    return StatsObjective(stats, alpha), frozen, spectrum


class IterativeGDRegressor(CallbackSupportMixin, BaseMSERegressor):
    """Linear least squares fitted by gradient descent.

    Minimises the objective of ``onestep_sklearn._objective``::

        f(w, b) = (1/Σsᵢ) Σ sᵢ (yᵢ − xᵢᵀw − b)²  +  alpha·‖w‖²

    by ``θₜ₊₁ = θₜ − ηₜ·∇f(θₜ)`` (optionally with momentum and mini-batches)
    until the objective stops changing. The intercept is profiled out (set to
    its best value ``ȳ − x̄ᵀw`` for every ``w``). ``learning_rate="auto"`` is
    ``1/L`` with ``L`` the largest Hessian eigenvalue: always stable; ``2/L``
    is the exact stability limit. A rate past it never gives non-finite
    coefficients: the run stops at its best iterate with a
    ``ConvergenceWarning`` naming the limit.

    Parameters
    ----------
    learning_rate : "auto" or float > 0, default="auto"
        Step size ``η``. "auto" is ``1/L`` full batch and ``1/Lₘₐₓ`` with
        mini-batches (``Lₘₐₓ = 2·maxᵢ‖xᵢ − x̄‖² + 2·alpha`` bounds every
        batch's curvature).
    schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        "constant": ``η`` throughout. "invscaling": ``η/(t+1)^power_t`` at
        update ``t``. "adaptive": ``η`` while the objective decreases; a step
        that increases it is undone (back to the best iterate, momentum
        reset) and the rate divided by 5.
    power_t : float >= 0, default=0.25
        Exponent of the "invscaling" schedule.
    max_iter : int >= 1, default=1000
        Maximum number of iterations (epochs with mini-batches).
    tol : float >= 0 or None, default=1e-6
        Stop when the relative change of the objective (or, with early
        stopping, the validation R² improvement) stays below ``tol`` for
        ``n_iter_no_change`` iterations. ``None`` runs exactly ``max_iter``.
    alpha : float >= 0, default=0.0
        L2 penalty strength. Converged, equals ``Ridge(alpha=alpha*n_samples)``.
    fit_intercept : bool, default=True
        Whether to fit an intercept (never penalised).
    momentum : float in [0, 1), default=0.0
        Heavy-ball momentum ``μ``.
    nesterov : bool, default=False
        Use Nesterov's accelerated form of the momentum.
    batch_size : int >= 1 or None, default=None
        ``None``: full-batch gradient descent; an int: mini-batches.
    shuffle : bool, default=True
        Whether to shuffle the samples every epoch (mini-batches only).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling and the validation split.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data and stop when its R²
        stops improving; the best-scoring iterate is kept.
    validation_fraction : float in (0, 1), default=0.1
        Share of the samples held out for early stopping.
    n_iter_no_change : int >= 1, default=5
        Iterations without improvement before stopping.
    precompute : "auto" or bool, default="auto"
        Iterate on the sufficient statistics (O(d²) per iteration after one
        pass) instead of data passes. "auto" does so when
        ``n_samples >= n_features`` and ``n_features <= 1000``, except for
        sparse ``X`` with 256 or more columns. Both routes give the same
        iterates up to rounding.
    warm_start : bool, default=False
        Start ``fit`` from the previous ``coef_``.
    verbose : int, default=0
        Print progress lines (iteration, objective, relative change, step),
        at most about 50 per fit.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the dtype of ``X``.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept (0.0 when ``fit_intercept=False``).
    n_iter_ : int
        Number of iterations run (>= 1).
    t_ : int
        Number of parameter updates performed.
    loss_curve_ : list of float
        The objective after each iteration (finite values only).
    learning_rate_ : float
        The base step size used (``1/L`` or ``1/Lₘₐₓ`` for "auto").
    lipschitz_ : float
        ``L``, the largest eigenvalue of the full-data Hessian.
    validation_scores_ : list of float
        Validation R² after each iteration (only with early stopping).
    best_validation_score_ : float
        Best validation R² (only with early stopping).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, for string column names only.

    See Also
    --------
    OneStepRegressor : One update: gradient, best gradient or Newton step.
    sklearn.linear_model.SGDRegressor : Per-sample stochastic gradient descent.

    Examples
    --------
    >>> import numpy as np
    >>> from onestep_sklearn import IterativeGDRegressor
    >>> X = np.array([[1.0], [2.0], [3.0], [4.0]])
    >>> y = np.array([3.0, 5.0, 7.0, 9.0])
    >>> reg = IterativeGDRegressor(tol=None, max_iter=200).fit(X, y)
    >>> round(float(reg.coef_[0]), 6), round(float(reg.intercept_), 6)
    (2.0, 1.0)
    >>> float(reg.learning_rate_), float(reg.lipschitz_)  # 1/L and L = 2·var(x)
    (0.4, 2.5)
    """

    _parameter_constraints: dict = {
        **BaseMSERegressor._parameter_constraints,
        "schedule": [StrOptions({"constant", "invscaling", "adaptive"})],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left"), None],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "precompute": [StrOptions({"auto"}), "boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        learning_rate="auto",
        schedule="constant",
        power_t=0.25,
        max_iter=1000,
        tol=1e-6,
        alpha=0.0,
        fit_intercept=True,
        momentum=0.0,
        nesterov=False,
        batch_size=None,
        shuffle=True,
        random_state=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        precompute="auto",
        warm_start=False,
        verbose=0,
    ):
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.power_t = power_t
        self.max_iter = max_iter
        self.tol = tol
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.momentum = momentum
        self.nesterov = nesterov
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.precompute = precompute
        self.warm_start = warm_start
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, coef_init=None):
        """Fit the model by gradient descent.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Never copied or modified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the objective is normalised by their sum.
        coef_init : array-like of shape (n_features,) or (n_targets, n_features)
            Starting coefficients (default: zeros, or ``coef_`` with
            ``warm_start=True``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if _dask.is_dask_collection(X):
            return _dask.fit_iterative(self, X, y, sample_weight, coef_init)
        X, Y, y_ndim, sample_weight, _ = self._validate_fit_data(
            X, y, sample_weight, reset=True
        )
        n_samples, n_features = X.shape
        rng = check_random_state(self.random_state)
        coef0 = self._initial_coef(coef_init, n_features, Y.shape[1], y_ndim)
        data = (X, Y[:, 0] if y_ndim == 1 else Y)  # as the user sees them
        # Extreme magnitudes are fitted in other units (see ``_rescaled``).
        X, Y, (x_scale, y_scale) = self._rescaled(X, Y, sample_weight)
        coef0 *= y_scale / x_scale
        alpha = in_units(self.alpha, x_scale, 2)
        train_weight, val_weight = sample_weight, None
        if self.early_stopping:
            train_weight, val_weight = validation_split(
                sample_weight, self.validation_fraction, rng
            )
        sw_sum = float(train_weight.sum(dtype=np.float64))
        precompute = self.precompute
        if precompute == "auto":
            precompute = n_samples >= n_features <= PRECOMPUTE_MAX_FEATURES
            # Sparse and wide: data passes; the dense d × d Gram and its
            # eigendecomposition would cost more than the sparse products.
            precompute = precompute and not use_krylov(X)
        if precompute:
            stats = SufficientStats.from_data(X, Y, train_weight, self.fit_intercept)
            self._check_finite(X, stats.finite)
            objective, frozen, spectrum = statistics_objective(stats, alpha)
            lipschitz = float(max(spectrum[0][-1], 0.0))
        else:
            x_mean, y_mean = self._means(X, Y, train_weight, sw_sum)
            objective = DataObjective(X, Y, train_weight, sw_sum, x_mean, y_mean, alpha)
            lipschitz = lipschitz_from_data(objective)
        rate = self._base_rate(X, train_weight, objective, lipschitz, alpha, x_scale)
        self.lipschitz_ = in_units(lipschitz, x_scale, -2)
        self.learning_rate_ = in_units(rate, x_scale, 2)
        rate = (rate, self.schedule, self.power_t)
        moves = (self.momentum, self.nesterov)
        val_stats = scorer = None
        if val_weight is not None and precompute:
            val_stats = SufficientStats.from_data(X, Y, val_weight, True)
            scorer = validation_r2_stats(val_stats)
        elif val_weight is not None:
            scorer = validation_r2_data(X, Y, val_weight, weighted_sst(Y, val_weight))
        if precompute and self.batch_size is None:
            engine = SpectralEngine(
                objective, coef0, *rate, *moves, val_stats, spectrum
            )
        else:
            batches = None
            if self.batch_size is not None:
                batches = partial(
                    minibatches,
                    X,
                    Y,
                    train_weight,
                    objective.x_mean,
                    objective.y_mean,
                    alpha,
                    np.flatnonzero(train_weight > 0),
                    self.batch_size,
                    rng if self.shuffle else None,
                )
            engine = DataEngine(objective, coef0, *rate, *moves, batches, scorer)

        def public(coef):
            coef_, intercept_ = self._public(
                coef * (x_scale / y_scale),
                objective.intercept(coef) / y_scale,
                y_ndim,
                X.dtype,
            )
            return {"coef_": coef_, "intercept_": intercept_}

        hooks = FitHooks.start(self, *data, sample_weight, public)
        coef = self._descend(engine, objective, coef0, scorer, X.dtype, hooks)
        if precompute:
            # Constant columns never move; the eigenbasis would add rounding.
            coef[frozen] = coef0[frozen]
        if y_scale != 1.0:
            with np.errstate(over="ignore", under="ignore"):
                curve = np.asarray(self.loss_curve_) * np.float64(y_scale) ** -2
            self.loss_curve_ = curve.tolist()
        intercept = objective.intercept(coef) / y_scale
        coef = coef * (x_scale / y_scale)
        self._set_coef(coef, intercept, y_ndim, X.dtype)
        # partial_fit continues from here, with these running means.
        self._state = GDState(coef=coef.copy(), velocity=np.zeros_like(coef))
        self._state.t = self.t_
        self._seen = (sw_sum, objective.x_mean / x_scale, objective.y_mean / y_scale)
        if hooks is not None:
            hooks.finish()
        return self

    def _descend(self, engine, objective, coef0, scorer, dtype, hooks=None):
        """Run an engine under the stopping rule; set the run's attributes."""
        loss = objective.loss(coef0)
        # The natural size of the objective: its value at θ₀ and at 0, and
        # the size of y itself (centring y leaves rounding of that order).
        y_size = float(np.sum(objective.y_mean**2))
        scale = max(loss, objective.loss(np.zeros_like(coef0)), y_size)
        rule = StopRule(
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            scale=max(scale, np.finfo(np.float64).tiny),
            monotone=self.momentum == 0 and self.batch_size is None,
            stochastic=self.batch_size is not None,
            previous=loss,
            eps=max(np.finfo(dtype).eps, EPS),
            use_scores=scorer is not None,
        )
        if scorer is not None:
            rule.best_score = scorer(coef0, objective.intercept(coef0))
        on_iteration = hooks.iteration if hooks and hooks.per_iteration else None
        curve, scores, stop = descend(
            engine,
            rule,
            self.max_iter,
            self.schedule == "adaptive",
            self.verbose,
            on_iteration,
        )
        self.loss_curve_, self.n_iter_, self.t_ = curve, rule.iteration, int(engine.t)
        which = "best" if stop in ("diverged", "rate") else "current"
        if scorer is not None:
            self.validation_scores_ = scores
            self.best_validation_score_ = float(rule.best_score)
            which = "best_val"
        if self.verbose:
            print(f"stopped after {self.n_iter_} iterations ({stop or 'max_iter'})")
        message = stop_message(
            stop,
            rule,
            learning_rate=self.learning_rate_,
            lipschitz=self.lipschitz_,
            momentum=self.momentum,
            max_iter=self.max_iter,
            tol=self.tol,
            n_iter_no_change=self.n_iter_no_change,
            rate_scale=engine.rate_scale,
        )
        if message:
            warnings.warn(f"{type(self).__name__} {message}", ConvergenceWarning)
        return engine.coef(which).copy()

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Run one iteration (one pass) over a chunk of data.

        The same iteration ``fit`` loops over: one full-batch step on the
        chunk, or one epoch of mini-batches. The intercept is profiled with
        the running weighted means of all chunks seen. "auto" uses the
        chunk's own ``1/L`` (or ``1/Lₘₐₓ``), so every step is stable for the
        chunk it is taken on.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Its target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Its sample weights.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if _dask.is_dask_collection(X):
            return _dask.partial_fit_iterative(self, X, y, sample_weight)
        first_call = not hasattr(self, "_state")
        X, Y, y_ndim, sample_weight, sw_sum = self._validate_fit_data(
            X, y, sample_weight, reset=first_call
        )
        x_mean, y_mean = running_means(
            self, *self._means(X, Y, sample_weight, sw_sum), sw_sum
        )
        objective = DataObjective(
            X, Y, sample_weight, sw_sum, x_mean, y_mean, self.alpha
        )
        self.lipschitz_ = float(lipschitz_from_data(objective))
        self.learning_rate_ = self._base_rate(
            X, sample_weight, objective, self.lipschitz_, self.alpha
        )
        batches = None
        if self.batch_size is not None:
            rng = check_random_state(self.random_state) if self.shuffle else None
            batches = minibatches(
                X,
                Y,
                sample_weight,
                x_mean,
                y_mean,
                self.alpha,
                np.arange(X.shape[0]),
                self.batch_size,
                rng,
            )
        chunk_iteration(self, objective, batches)
        coef = self._state.coef
        self._set_coef(coef, objective.intercept(coef), y_ndim, X.dtype)
        return self

    def _base_rate(self, X, sample_weight, objective, lipschitz, alpha, x_scale=1.0):
        """The user's rate, or 1/L (full batch) or 1/Lₘₐₓ (mini-batches), in
        the units of the (possibly rescaled) data."""
        if self.learning_rate != "auto":
            return in_units(float(self.learning_rate), x_scale, -2)
        if self.batch_size is not None:
            lipschitz = per_sample_lipschitz(X, sample_weight, objective.x_mean, alpha)
        # A flat objective (no variance in X, alpha = 0): any step is stable.
        return 1.0 / lipschitz if lipschitz > 0 else 1.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        shuffled = self.batch_size is not None and self.shuffle
        tags.non_deterministic = shuffled and self.random_state is None
        return tags
