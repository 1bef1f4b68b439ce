"""IterativeGDRegressor: gradient descent on least squares, done properly."""

from __future__ import annotations

from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, Literal

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ._base import BaseMSERegressor, fit_method
from ._callbacks import CallbackSupportMixin, FitHooks
from ._compat import Interval, StrOptions
from ._data import questions
from ._fitted import chunk_attributes, descent_attributes, descent_message
from ._kernel.user_warnings import warn_user
from ._solvers.descent import DescentSettings, chunk_step, run_descent
from ._solvers.plan import plan_descent, resolve_precompute
from ._solvers.schedule import Momentum, RunConfig
from ._solvers.validation import validation_split
from ._stream import StreamState, lock_for
from ._validation import require_row_access, validate_fit_data

if TYPE_CHECKING:
    from ._compat import ArrayLike, MatrixLike, NDArray, RandomStateLike, Self, Tags
    from ._data.protocol import DataSource


class IterativeGDRegressor(CallbackSupportMixin, BaseMSERegressor):
    """Linear least squares fitted by gradient descent.

    Minimises the objective of ``onestep_sklearn._kernel.objective``::

        f(w, b) = (1/Σsᵢ) Σ sᵢ (yᵢ − xᵢᵀw − b)²  +  alpha·‖w‖²

    by ``θₜ₊₁ = θₜ − ηₜ·∇f(θₜ)`` (optionally with momentum and mini-batches)
    until the iterate is certified to be within ``tol`` of the exact
    solution. The intercept is profiled out (set to its best value
    ``ȳ − x̄ᵀw`` for every ``w``). ``learning_rate="auto"`` is ``1/L`` with
    ``L`` the largest Hessian eigenvalue: always stable; ``2/L`` is the exact
    stability limit (``2(1+μ)/L`` with heavy-ball momentum ``μ``,
    ``2(1+μ)/((1+2μ)L)`` with Nesterov's). A rate past it never gives
    non-finite coefficients: the run stops at its best iterate with a
    ``ConvergenceWarning`` naming the limit. ``stop_reason_`` says why a fit
    ended; only "converged" and "plateau" (mini-batches) end without a
    ``ConvergenceWarning``, and ``tol=None`` runs ``max_iter`` without one.

    Parameters
    ----------
    learning_rate : "auto" or float > 0, default="auto"
        Step size ``η``. "auto" is ``1/L`` full batch and ``1/L_B`` with
        batches of ``b`` of ``n`` rows, ``L_B = n(b−1)/(b(n−1))·L +
        (n−b)/(b(n−1))·Lₘₐₓ`` (``Lₘₐₓ = 2·maxᵢ‖xᵢ − x̄‖² + 2·alpha``).
    schedule : {"constant", "invscaling", "adaptive"}, default="constant"
        "constant": ``η`` throughout. "invscaling": ``η/(t+1)^power_t`` at
        update ``t``. "adaptive": ``η`` while the objective decreases; a step
        that increases it is undone (back to the best iterate, momentum
        reset) and the rate divided by 5.
    power_t : float >= 0, default=0.25
        Exponent of the "invscaling" schedule.
    max_iter : int >= 1, default=10_000
        Maximum number of iterations (epochs with mini-batches). The
        closed-form engine (``precompute``) makes thousands cheap.
    tol : float >= 0 or None, default=1e-4
        Stop once ``coef_`` is certified to be within ``tol`` of the exact
        solution ``w*`` (``OneStepRegressor()``): ``‖coef_ − w*‖ ≤
        tol·‖w*‖`` (Euclidean), by ``‖w − w*‖ ≤ ‖∇f(w)‖/ℓ`` (``ℓ`` the
        smallest positive Hessian eigenvalue) or, on the statistics, by that
        distance itself, eigen-direction by eigen-direction. It never depends
        on the units of X or y, nor on an offset of y. Mini-batches: judged on
        the full gradient at each epoch's result (the average of its
        iterates); the run also ends as "plateau" once the full objective
        stays above ``(1 − tol)`` times its best for ``n_iter_no_change``
        epochs. With early stopping, also the least validation R² gain that
        counts. ``None`` runs ``max_iter``.
    alpha : float >= 0, default=0.0
        L2 penalty strength. Converged, equals ``Ridge(alpha=alpha*n_samples)``.
    fit_intercept : bool, default=True
        Whether to fit an intercept (never penalised).
    momentum : "auto" or float in [0, 1), default="auto"
        Heavy-ball momentum ``μ``. "auto": ``(1 − √(ℓ/L))²`` with
        ``learning_rate="auto"`` full batch (``ℓ`` the smallest positive
        Hessian eigenvalue: about ``√κ`` iterations per digit instead of
        ``κ``), Nesterov's ``(1 − √(ℓ/L))/(1 + √(ℓ/L))`` with ``nesterov``;
        else 0 (textbook steps). ``momentum_`` holds the value used.
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
        Iterations without a validation improvement (early stopping), or
        epochs without a ``tol`` improvement (mini-batches), before stopping.
    precompute : "auto" or bool, default="auto"
        Iterate on the sufficient statistics (O(d²) per iteration after one
        pass) instead of data passes. "auto" does so when
        ``n_features <= 4000`` (wide designs included), except for tall
        sparse ``X`` with more than 1024 columns. Both routes give the same
        iterates up to rounding.
    warm_start : bool, default=False
        Start ``fit`` from the previous ``coef_``.
    divergence : {"stop", "record"}, default="stop"
        What a diverging run does. "stop": end at the first rising step.
        "record": keep iterating until ``max_iter`` or until the objective
        exceeds ``1e12`` times its value at the start (or at 0), so that
        ``loss_curve_`` shows the blow-up; either way ``coef_`` is the best
        finite iterate, the ``ConvergenceWarning`` is raised and
        ``stop_reason_`` is "diverged". The adaptive schedule undoes rising
        steps in both cases.
    verbose : int, default=0
        Print progress lines (iteration, objective, certified distance to the
        optimum, step), at most about 50 per fit.

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
        The base step size used (``1/L`` or ``1/L_B`` for "auto").
    momentum_ : float
        The momentum used (``momentum`` decided when "auto").
    lipschitz_ : float
        ``L``, the largest eigenvalue of the full-data Hessian.
    stop_reason_ : str
        Why the run ended: "converged", "plateau" (mini-batches, see ``tol``;
        no warning), "max_iter", "diverged", "rate_floor" (adaptive gave up),
        "early_stopping", "callback" or "partial_fit" (one iteration a call).
    validation_scores_ : list of float
        Validation R² after each iteration (only with early stopping).
    best_validation_score_ : float
        Best validation R² (only with early stopping).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
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
        "momentum": [StrOptions({"auto"}), Interval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "precompute": [StrOptions({"auto"}), "boolean"],
        "divergence": [StrOptions({"stop", "record"})],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        learning_rate: Literal["auto"] | float = "auto",
        schedule: Literal["constant", "invscaling", "adaptive"] = "constant",
        power_t: float = 0.25,
        max_iter: int = 10_000,
        tol: float | None = 1e-4,
        alpha: float = 0.0,
        fit_intercept: bool = True,
        momentum: Literal["auto"] | float = "auto",
        nesterov: bool = False,
        batch_size: int | None = None,
        shuffle: bool = True,
        random_state: RandomStateLike = None,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 5,
        precompute: Literal["auto"] | bool = "auto",
        warm_start: bool = False,
        divergence: Literal["stop", "record"] = "stop",
        verbose: int = 0,
    ) -> None:
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
        self.divergence = divergence
        self.verbose = verbose

    @fit_method
    def fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        coef_init: ArrayLike | None = None,
    ) -> Self:
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
        data = validate_fit_data(self, X, y, sample_weight, reset=True)
        self._check_backend(data.source)
        rng = check_random_state(self.random_state)
        coef0 = self._initial_coef(coef_init, data.source, data.y_ndim)
        # Extreme magnitudes are fitted in other units (``_kernel.units``).
        units = questions.extreme_units(data.source).keeping_finite(self.alpha)
        source = data.source.rescaled(units)
        coef0 = units.coef_from_data(coef0)
        train, val = source, None
        if self.early_stopping:
            weights = validation_split(
                source.sample_weight, self.validation_fraction, rng
            )
            train, val = (source.with_weights(part) for part in weights)
        precompute = resolve_precompute(self.precompute, source)
        moves = Momentum.of(self.momentum, self.nesterov)
        config = self._run_config(units, moves, rng, precompute)
        plan = plan_descent(train, val, coef0, config)
        objective = plan.objective

        def public(coef: NDArray[Any]) -> dict[str, Any]:
            coef_, intercept_ = self._public(
                units.coef_to_data(coef),
                units.intercept_to_data(objective.intercept(coef)),
                data.y_ndim,
                source.dtype,
            )
            return {"coef_": coef_, "intercept_": intercept_}

        hooks = FitHooks.start(self, data.X, data.y, sample_weight, public)
        on_iteration = hooks.iteration if hooks and hooks.per_iteration else None
        result = run_descent(
            plan.engine,
            objective,
            plan.start,  # coef0 without its null-space component
            DescentSettings.from_params(self.get_params(), plan.moves),
            curvature=plan.curvature,
            dtype=source.dtype,
            scorer=plan.scorer,
            on_iteration=on_iteration,
        )
        attributes = descent_attributes(
            result,
            plan,
            units,
            fit_intercept=self.fit_intercept,
            y_ndim=data.y_ndim,
            dtype=source.dtype,
        )
        message = descent_message(result, plan, units, self.get_params())
        if message:
            warn_user(f"{type(self).__name__} {message}", ConvergenceWarning)
        self._assign(attributes, data.space)
        if hooks is not None:
            hooks.finish()
        return self

    def _check_backend(self, source: DataSource) -> None:
        require_row_access(
            self, source, batch_size=self.batch_size, early_stopping=self.early_stopping
        )

    @fit_method
    def partial_fit(
        self, X: MatrixLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Run one iteration (one pass) over a chunk of data.

        The same iteration ``fit`` loops over: one full-batch step on the
        chunk, or one epoch of mini-batches, continuing from the previous
        ``fit`` or ``partial_fit``. The intercept is profiled with the
        running weighted means of all rows seen. "auto" uses the chunk's own
        ``1/L`` (or ``1/L_B``); with mini-batches ``coef_`` is the epoch's
        average iterate. Safe to call from several threads on one object.

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
        with lock_for(self):
            stream = getattr(self, "_stream", None)
            data = validate_fit_data(
                self, X, y, sample_weight, reset=stream is None, whole=False
            )
            source = data.source
            self._check_backend(source)
            if stream is None:
                # Units chosen on the first chunk, kept for every later one.
                units = questions.extreme_units(source).keeping_finite(self.alpha)
                stream = StreamState.for_descent(
                    source.n_features, source.n_outputs, self.fit_intercept, units
                )
            units = stream.units
            # One step per chunk: "auto" momentum is plain there.
            moves = Momentum.of(self.momentum, self.nesterov, auto=0.0)
            rng = check_random_state(self.random_state)
            config = self._run_config(units, moves, rng)
            result = chunk_step(source.rescaled(units), stream.gd, stream.means, config)
            for message in result.warnings:
                warn_user(message, ConvergenceWarning)
            attributes = chunk_attributes(
                result, stream, self.fit_intercept, data.y_ndim, source.dtype
            )
            self._assign({**attributes, "momentum_": moves.momentum}, data.space)
        return self

    def _run_config(
        self, units: Any, moves: Momentum, rng: Any, precompute: bool = True
    ) -> RunConfig:
        """The run this estimator's parameters ask for, in the fit's units."""
        return RunConfig(
            self.fit_intercept,
            units.alpha(self.alpha),
            self._rate_in(units),
            self.schedule,
            self.power_t,
            moves,
            self.batch_size,
            rng if self.shuffle else None,
            precompute,
        )

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        shuffled = self.batch_size is not None and self.shuffle
        tags.non_deterministic = shuffled and self.random_state is None
        return tags
