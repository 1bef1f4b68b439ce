"""OneStepRegressor: a linear model fitted by exactly one parameter update."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._base import BaseMSERegressor, fit_method
from ._compat import StrOptions
from ._data import questions
from ._kernel.units import column_rescaled, powers_of_two
from ._kernel.user_warnings import warn_user
from ._solvers.messages import START_OVERFLOW
from ._solvers.newton import wants_exact_moments
from ._solvers.steps import gradient_step, newton_step, step_from_stats
from ._stream import StreamState, lock_for
from ._validation import validate_fit_data

if TYPE_CHECKING:
    from ._compat import ArrayLike, MatrixLike, Self, Tags
    from ._data.protocol import DataSource
    from ._kernel.stats import SufficientStats
    from ._kernel.units import Units
    from ._solvers.steps import StepResult


class OneStepRegressor(BaseMSERegressor):
    """Least squares fitted by ONE update ``θ₁ = θ₀ − η·d(θ₀)``.

    Minimises the objective of ``onestep_sklearn._kernel.objective``::

        f(w, b) = (1/Σsᵢ) Σ sᵢ (yᵢ − xᵢᵀw − b)²  +  alpha·‖w‖²

    With ``solver="newton"`` the direction is ``d = H⁻¹∇f`` and, the
    objective being quadratic, the single step lands on the exact minimiser
    (``LinearRegression``, or ``Ridge(alpha=alpha * n_samples)`` for unit
    weights). With ``solver="gradient"`` the direction is ``d = ∇f``: the
    textbook gradient step, with either the best possible step size (exact
    line search) or the one you give. The intercept is profiled out: after
    the step on ``w`` it is set to its best value ``ȳ − x̄ᵀw``.

    Parameters
    ----------
    solver : {"newton", "gradient"}, default="newton"
        The direction of the update: Newton (exact minimiser) or gradient.
    learning_rate : "auto" or float > 0, default="auto"
        The step size ``η``. "auto" is 1 for Newton (the full step) and the
        exact line-search step ``‖g‖²/(gᵀHg)`` for the gradient, which is the
        best single gradient step.
    alpha : float >= 0, default=0.0
        L2 penalty strength (never the step size). Equals
        ``Ridge(alpha=alpha * n_samples)`` with unit weights.
    fit_intercept : bool, default=True
        Whether to fit an intercept (never penalised).
    warm_start : bool, default=False
        Whether ``fit`` starts from the previous ``coef_`` instead of zeros.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
        Coefficients after the step, in the dtype of ``X``. For rank-deficient
        ``X`` (dense, sparse, streamed or Dask), ``numpy.linalg.lstsq``'s
        minimum-norm solution.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept (0.0 when ``fit_intercept=False``).
    n_iter_ : int
        Always 1: one update.
    learning_rate_ : float
        The step size actually taken (0.0 when the gradient was already 0).
    loss_ : float
        The objective after the step (summed over targets).
    stop_reason_ : str
        "converged" for the full Newton step (it lands on the minimiser);
        "step" otherwise: one update was taken, which is not a fit to
        convergence by design (a gradient step that raised the objective
        warns with a ``ConvergenceWarning``).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit``, for string column names only.

    See Also
    --------
    IterativeGDRegressor : Gradient descent run to convergence.
    sklearn.linear_model.LinearRegression : Ordinary least squares.
    sklearn.linear_model.Ridge : Least squares with an L2 penalty.

    Notes
    -----
    ``X`` may be a numpy array, a sparse CSR/CSC matrix, a memory map or a
    Dask array/DataFrame (the statistics are then reduced on the workers):
    the same solver runs on all of them. ``partial_fit`` continues from the
    rows given to ``fit`` when that fit formed their sufficient statistics
    (``solver="newton"`` on data with ``n_samples >= n_features``); a
    ``fit`` by one gradient step or in the wide dual keeps none, and a
    ``partial_fit`` after it starts again from its chunk with a warning
    that says so.

    Examples
    --------
    >>> import numpy as np
    >>> from onestep_sklearn import OneStepRegressor
    >>> X = np.array([[1.0], [2.0], [3.0], [4.0]])
    >>> y = np.array([3.0, 5.0, 7.0, 9.0])
    >>> reg = OneStepRegressor().fit(X, y)
    >>> round(float(reg.coef_[0]), 6), round(float(reg.intercept_), 6)
    (2.0, 1.0)
    >>> textbook = OneStepRegressor(solver="gradient", learning_rate=0.01,
    ...                             fit_intercept=False).fit(X, y)
    >>> round(float(textbook.coef_[0]), 12)  # 0.01 * (2/n) * X.T @ y
    0.35
    """

    _parameter_constraints: dict = {
        **BaseMSERegressor._parameter_constraints,
        "solver": [StrOptions({"newton", "gradient"})],
    }

    def __init__(
        self,
        *,
        solver: Literal["newton", "gradient"] = "newton",
        learning_rate: Literal["auto"] | float = "auto",
        alpha: float = 0.0,
        fit_intercept: bool = True,
        warm_start: bool = False,
    ) -> None:
        self.solver = solver
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start

    @fit_method
    def fit(
        self,
        X: MatrixLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        coef_init: ArrayLike | None = None,
    ) -> Self:
        """Fit the model with one update from ``θ₀``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. Never copied or modified.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Target values.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the objective is normalised by their sum.
        coef_init : array-like of shape (n_features,) or (n_targets, n_features)
            The starting point ``θ₀`` (default: zeros, or ``coef_`` with
            ``warm_start=True``).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        data = validate_fit_data(self, X, y, sample_weight, reset=True)
        source = data.source
        coef0 = self._initial_coef(coef_init, source, data.y_ndim)
        # Newton without penalty rescales columns one by one (newton_step),
        # except in the wide dual, whose minimum norm only a common scale keeps.
        by_column = self.solver == "newton" and self.alpha == 0
        by_column = by_column and source.n_samples >= source.n_features
        units = questions.extreme_units(source, scale_x=not by_column).keeping_finite(
            self.alpha
        )
        source = source.rescaled(units)
        step = gradient_step if self.solver == "gradient" else newton_step
        result = step(
            source,
            units.coef_from_data(coef0),
            fit_intercept=self.fit_intercept,
            l2_reg_strength=units.alpha(self.alpha),
            learning_rate=self._rate_in(units),
        )
        if not np.isfinite(result.loss_before) and self.solver == "gradient":
            raise ValueError(START_OVERFLOW)
        attributes = self._fitted(result, units, data.y_ndim, source.dtype)
        attributes["_stream"] = StreamState(
            replace(units, columns=result.columns),
            self.fit_intercept,
            stats=result.stats,
            magnitudes=None
            if result.columns is None
            else questions.column_magnitudes(source),
            not_resumable=None if result.stats is not None else self._why_not(source),
        )
        self._assign(attributes, data.space)
        return self

    def _rate_in(self, units: Units) -> float | None:
        if self.solver == "newton" and self.learning_rate != "auto":
            return float(self.learning_rate)  # a fraction of the Newton step
        return super()._rate_in(units)

    def _why_not(self, source: DataSource) -> str:
        if self.solver == "gradient":
            how = "one gradient step (two passes over X, no Gram)"
        elif source.n_samples < source.n_features:
            how = "the n_samples x n_features dual of wide data"
        else:
            how = "a route that forms no statistics"
        return (
            f"partial_fit starts again from this chunk: the previous fit was "
            f"computed by {how} and kept no sufficient statistics, so its rows "
            "are not part of the model. Call partial_fit on every chunk from "
            "the start (or fit on all rows at once) to fit them all."
        )

    @fit_method
    def partial_fit(
        self, X: MatrixLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> Self:
        """Add a chunk of data; the model equals ``fit`` on all rows so far.

        The sufficient statistics of the chunks (and of the rows of a
        previous ``fit``) are merged exactly, and the step is recomputed from
        ``θ₀ = 0`` on all of them. Safe to call from several threads on one
        object: chunks are merged one at a time.

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
            if stream is not None and stream.not_resumable:
                warn_user(stream.not_resumable, UserWarning)
                stream = None
            if stream is not None and stream.fit_intercept != self.fit_intercept:
                raise ValueError(
                    f"fit_intercept={self.fit_intercept} but the rows so far were "
                    f"fitted with fit_intercept={stream.fit_intercept}; call fit "
                    "to start again."
                )
            units, seen, magnitudes = self._chunk_units(stream, data.source)
            source = data.source.rescaled(units)  # columns included
            newton = self.solver == "newton"
            # About the shifts of the first chunk: the merge then combines
            # offsets, not means (no digits lost to an offset of the data).
            shifts = None if seen is None else seen.pass_shifts
            chunk = questions.statistics(
                source, self.fit_intercept, with_factor=newton, shifts=shifts
            )
            # Ill-conditioned chunks also carry their exact moments, so that
            # the streamed fit can be refined as fit is (``_kernel.refine``).
            carry = seen is None or seen.exact is not None
            alpha = units.alpha(self.alpha)
            if newton and wants_exact_moments(chunk, alpha, source.dtype, carry):
                chunk = replace(chunk, exact=questions.exact_moments(source))
            stats = chunk if seen is None else seen.merge(chunk)
            result = step_from_stats(
                stats,
                solver=self.solver,
                l2_reg_strength=units.alpha(self.alpha),
                learning_rate=self._rate_in(units),
            )
            attributes = self._fitted(result, units, data.y_ndim, source.dtype)
            attributes["_stream"] = StreamState(
                units, self.fit_intercept, stats=stats, magnitudes=magnitudes
            )
            self._assign(attributes, data.space)
        return self

    def _chunk_units(
        self, stream: StreamState | None, source: DataSource
    ) -> tuple[Units, SufficientStats | None, np.ndarray | None]:
        """``(units, statistics so far, column magnitudes)`` for a chunk.

        Units are chosen on the first chunk and kept. The unpenalised Newton
        step scales column by column, as ``fit`` does; a later chunk whose
        columns need other powers of two re-expresses the statistics so far
        in the new units (exactly: powers of two).
        """
        seen = None if stream is None else stream.stats
        by_column = self.solver == "newton" and self.alpha == 0
        if stream is None:
            units = questions.extreme_units(source, scale_x=not by_column)
            units = units.keeping_finite(self.alpha)
        else:
            units = stream.units
        if not by_column:
            return units, seen, None
        magnitudes = questions.column_magnitudes(source)
        if magnitudes is None:  # a backend that does not rescale
            return units, seen, None
        if stream is not None and stream.magnitudes is not None:
            magnitudes = np.maximum(magnitudes, stream.magnitudes)
        needed = powers_of_two(magnitudes)
        previous = np.ones_like(needed) if units.columns is None else units.columns
        if seen is not None and np.any(needed != previous):
            seen = column_rescaled(seen, needed / previous)
        columns = None if np.all(needed == 1.0) else needed
        return replace(units, columns=columns), seen, magnitudes

    def _fitted(
        self, result: StepResult, units: Units, y_ndim: int, dtype: np.dtype
    ) -> dict[str, Any]:
        """The fitted attributes of a :class:`StepResult`, in the data's units.

        Checked against the largest value of the output dtype: a float64
        result past float32's range would turn into inf in ``coef_``.
        """
        coef = units.coef_to_data(result.coef)
        intercept = units.intercept_to_data(result.intercept)
        eta = result.learning_rate
        limit = np.finfo(dtype).max
        finite = np.isfinite(coef).all() and np.isfinite(intercept).all()
        if finite and dtype != np.float64:
            largest = max(np.abs(coef).max(initial=0), np.abs(intercept).max())
            finite = largest <= limit
        if self.solver == "newton" and eta == 1.0 and not finite:
            raise ValueError(
                "The least-squares coefficients exceed the range of "
                f"{np.dtype(dtype).name} (|coef| > {limit:.3g}): X varies too "
                "little for the size of y. Rescale X or y (for example with "
                "StandardScaler)."
            )
        if self.solver == "gradient":
            eta = units.rate_to_data(eta)
        if not (finite and np.isfinite(result.loss)):
            given = (
                f"learning_rate={self.learning_rate!r}"
                if self.learning_rate != "auto"
                else f"learning_rate='auto' (a step of {eta:.3g})"
            )
            raise ValueError(
                f"The {self.solver} step with {given} overflowed: the coefficients "
                "or the objective after it are not finite. Use a smaller "
                "learning_rate, or scale X (for example with StandardScaler)."
            )
        loss = units.loss_to_data(float(result.loss))
        self._warn_if_worse(result, units, eta)
        coef_, intercept_ = self._public(coef, intercept, y_ndim, dtype)
        return {
            "coef_": coef_,
            "intercept_": intercept_,
            "n_iter_": 1,
            "learning_rate_": float(eta),
            "loss_": loss,
            "stop_reason_": (
                "converged" if self.solver == "newton" and eta == 1.0 else "step"
            ),
        }

    def _warn_if_worse(self, result: StepResult, units: Units, eta: float) -> None:
        """A gradient step that raised the objective is no fit: say so."""
        before, after = result.loss_before, result.loss
        if self.solver != "gradient" or not after > before * (1 + 1e-12):
            return
        helps = units.rate_to_data(2.0 * result.grad_sq / result.curvature)
        warn_user(
            f"OneStepRegressor(solver='gradient', learning_rate={eta:.4g}) "
            f"increased the objective from {units.loss_to_data(before):.4g} to "
            f"{units.loss_to_data(after):.4g}: from this start a gradient step "
            f"helps only below 2·‖g‖²/(gᵀHg) = {helps:.4g}. Use "
            f"learning_rate='auto' (the best step, {helps / 2:.4g}) or a smaller "
            "value.",
            ConvergenceWarning,
        )

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        # One gradient step of a size the user fixed is, by design, not a
        # fitted model on arbitrary data (it can be arbitrarily small).
        tags.regressor_tags.poor_score = (
            self.solver == "gradient" and self.learning_rate != "auto"
        )
        return tags
