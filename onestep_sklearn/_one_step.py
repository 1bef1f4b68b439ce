"""OneStepRegressor: a linear model fitted by exactly one parameter update."""

import numpy as np
import scipy.sparse as sp
from sklearn.base import _fit_context
from sklearn.utils._param_validation import StrOptions

from . import _dask
from ._base import BaseMSERegressor, column_scales, in_units
from ._learning_rate import cauchy_step
from ._newton import (
    REFINE_RCOND,
    refine_exactly,
    refine_from_moments,
    solve_by_qr,
    solve_dual,
    solve_from_factor,
    solve_from_stats,
    solve_from_stats_pinv,
    with_exact_moments,
)
from ._objective import (
    DataObjective,
    cross_moments,
    drop_rounding,
    weighted_sq_norms,
)
from ._stats import SufficientStats


class OneStepRegressor(BaseMSERegressor):
    """Least squares fitted by ONE update ``θ₁ = θ₀ − η·d(θ₀)``.

    Minimises the objective of ``onestep_sklearn._objective``::

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
        Coefficients after the step, in the dtype of ``X``.
    intercept_ : float or ndarray of shape (n_targets,)
        Intercept (0.0 when ``fit_intercept=False``).
    n_iter_ : int
        Always 1: one update.
    learning_rate_ : float
        The step size actually taken (0.0 when the gradient was already 0).
    loss_ : float
        The objective after the step (summed over targets).
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during ``fit``, for string column names only.

    See Also
    --------
    IterativeGDRegressor : Gradient descent run to convergence.
    sklearn.linear_model.LinearRegression : Ordinary least squares.
    sklearn.linear_model.Ridge : Least squares with an L2 penalty.

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
        solver="newton",
        learning_rate="auto",
        alpha=0.0,
        fit_intercept=True,
        warm_start=False,
    ):
        self.solver = solver
        self.learning_rate = learning_rate
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, coef_init=None):
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
        if _dask.is_dask_collection(X):
            return _dask.fit_one_step(self, X, y, sample_weight, coef_init)
        X, Y, y_ndim, sample_weight, sw_sum = self._validate_fit_data(
            X, y, sample_weight, reset=True
        )
        coef0 = self._initial_coef(coef_init, X.shape[1], Y.shape[1], y_ndim)
        if hasattr(self, "_stats"):
            del self._stats
        # Newton without penalty rescales columns one by one (_fit_newton).
        by_column = self.solver == "newton" and self.alpha == 0
        X, Y, self._scales = self._rescaled(X, Y, sample_weight, scale_x=not by_column)
        x_scale, y_scale = self._scales
        coef0 = coef0 * (y_scale / x_scale)
        fit = self._fit_newton if self.solver == "newton" else self._fit_gradient
        coef, intercept, eta, loss = fit(X, Y, sample_weight, sw_sum, coef0)
        self._finish(coef, intercept, eta, loss, y_ndim, X.dtype)
        return self

    @property
    def _alpha(self):
        """alpha in the units of the rescaled data (see ``_rescaled``)."""
        return in_units(self.alpha, self._scales[0], 2)

    def _fit_newton(self, X, Y, sample_weight, sw_sum, coef0):
        n_samples, n_features = X.shape
        if n_samples < n_features:
            # Wide data: the n × n dual, never the d × d Gram.
            x_mean, y_mean = self._means(X, Y, sample_weight, sw_sum)
            target = solve_dual(
                X, Y, sample_weight, x_mean, y_mean, sw_sum, self._alpha
            )
            coef, eta = self._newton_update(coef0, target)
            objective = DataObjective(
                X, Y, sample_weight, sw_sum, x_mean, y_mean, self._alpha
            )
            return coef, objective.intercept(coef), eta, objective.loss(coef)
        # Newton is invariant under column scaling: columns of extreme and
        # unequal magnitude (1e-160 beside 1e150) are brought near 1 by exact
        # powers of two (a copy, for such data only).
        columns = column_scales(X, sample_weight) if self.alpha == 0 else None
        if columns is not None:
            X = X @ sp.diags(columns) if sp.issparse(X) else X * columns
            coef, intercept, eta, loss = self._fit_newton(
                X, Y, sample_weight, sw_sum, coef0 / columns[:, None]
            )
            return coef * columns[:, None], intercept, eta, loss
        stats = SufficientStats.from_data(X, Y, sample_weight, self.fit_intercept)
        self._check_finite(X, stats.finite)
        target, rcond, inverse = solve_from_stats(stats, self._alpha)
        if target is None:
            means = (stats.x_mean, stats.y_mean)
            target, inverse = solve_by_qr(
                X, Y, sample_weight, *means, sw_sum, self._alpha, inverse=True
            )
        # Accuracy (issue "Certified accuracy"): ill-conditioned fits are
        # refined to the exact solution of the float64 data (_refine).
        intercept = None
        if inverse is not None and self._needs_refinement(X, stats, rcond):
            target, intercept = refine_exactly(
                X, Y, sample_weight, stats, self._alpha, target, inverse
            )
        coef, eta = self._newton_update(coef0, target)
        if intercept is None or eta != 1.0:
            intercept = stats.intercept(coef)
        loss = float(stats.loss_per_output(coef, self._alpha).sum())
        return coef, intercept, eta, loss

    @staticmethod
    def _needs_refinement(X, stats, rcond):
        """Whether the solution may have lost digits worth refining.

        Its error grows like eps/rcond (rcond 0 after the QR route); sparse
        statistics are not centred before accumulation, so columns whose mean
        dwarfs their spread lose (mean/std)² more. float32 data are not
        refined (their float32 coefficients would not keep the digits).
        """
        if X.dtype != np.float64:
            return False
        if sp.issparse(X):
            spread = np.sqrt(np.maximum(np.diag(stats.xx), 0) / stats.sw_sum)
            if np.any(np.abs(stats.x_mean) > spread):
                return True
        return rcond < REFINE_RCOND

    def _fit_gradient(self, X, Y, sample_weight, sw_sum, coef0):
        if np.any(coef0):
            x_mean, y_mean = self._means(X, Y, sample_weight, sw_sum)
            objective = DataObjective(
                X, Y, sample_weight, sw_sum, x_mean, y_mean, self._alpha
            )
            loss0, grad = objective.loss_gradient(coef0)
            self._check_finite(X, np.isfinite(grad).all())
        else:
            # From θ₀ = 0 the residual is −(y − ȳ): one pass over X gives the
            # gradient and the means together.
            x_mean, y_mean, loss0, grad = _gradient_at_zero(
                X, Y, sample_weight, sw_sum, self.fit_intercept
            )
            self._check_finite(X, np.isfinite(grad).all() and np.isfinite(x_mean).all())
        # gᵀHg = (2/Σs)·Σ s (Xc g)² + 2·alpha·‖g‖²: one more pass, no Xᵀ product.
        sq = weighted_sq_norms(X, grad, x_mean @ grad, sample_weight)
        curvature = 2.0 * float(sq.sum()) / sw_sum + 2.0 * self._alpha * np.sum(grad**2)
        coef, eta, loss = self._gradient_step(coef0, loss0, grad, curvature)
        return coef, y_mean - x_mean @ coef, eta, loss

    def _step_from_stats(self, stats, alpha, coef0=None):
        """The one update on statistics alone, with no data to revisit.

        Returns ``(coef, η, loss)``; ``θ₀ = 0`` unless ``coef0`` is given.
        Newton: Cholesky of the Gram, or, when it is ill-conditioned, the
        merged triangular factor (which keeps the digits a refinement pass
        would) or, without one, the Gram's pseudo-inverse.
        """
        coef0 = np.zeros_like(stats.xy) if coef0 is None else coef0
        if self.solver == "gradient":
            loss0, grad = stats.loss_gradient(coef0, alpha)
            curvature = float(np.sum(grad * stats.hessp(grad, alpha)))
            return self._gradient_step(coef0, loss0, grad, curvature)
        target, rcond, _ = solve_from_stats(stats, alpha)
        if stats.factor is not None and (target is None or rcond < REFINE_RCOND):
            n_features = stats.xy.shape[0]
            target = solve_from_factor(
                stats.factor, n_features, stats.n_samples, stats.sw_sum, alpha
            )
        elif target is None:
            target = solve_from_stats_pinv(stats, alpha)
        coef, eta = self._newton_update(coef0, target)
        return coef, eta, float(stats.loss_per_output(coef, alpha).sum())

    def _gradient_step(self, coef0, loss0, grad, curvature):
        """θ₁ = θ₀ − η·∇f(θ₀), with η the given rate or ‖g‖²/(gᵀHg) ("auto")."""
        grad_sq = float(np.sum(grad**2))
        if self.learning_rate == "auto":
            eta = cauchy_step(grad_sq, curvature)
        else:
            eta = in_units(float(self.learning_rate), self._scales[0], -2)
        # The objective is quadratic, so its value along −g is exact:
        # f(θ₀ − ηg) = f(θ₀) − η‖g‖² + ½η²·gᵀHg.
        with np.errstate(over="ignore", invalid="ignore"):
            coef = coef0 - eta * grad
            loss = loss0 - eta * grad_sq + 0.5 * eta**2 * curvature
        loss = max(loss, 0.0) if np.isfinite(loss) else loss
        return coef, eta, loss

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """Add a chunk of data; the model equals ``fit`` on all chunks so far.

        The sufficient statistics of the chunks are accumulated and merged
        exactly, and the step is recomputed from ``θ₀ = 0`` on all of them.

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
            return _dask.partial_fit_one_step(self, X, y, sample_weight)
        first_call = not hasattr(self, "_stats")
        X, Y, y_ndim, sample_weight, _ = self._validate_fit_data(
            X, y, sample_weight, reset=first_call
        )
        # Every chunk in the units chosen on the first one.
        X, Y, self._scales = self._rescaled(
            X, Y, sample_weight, None if first_call else self._scales
        )
        chunk = SufficientStats.from_data(X, Y, sample_weight, self.fit_intercept)
        self._check_finite(X, chunk.finite)
        if self.solver == "newton":
            chunk = chunk.with_factor(X, Y, sample_weight)
            carry = first_call or self._stats.exact is not None
            chunk = with_exact_moments(chunk, X, Y, sample_weight, self._alpha, carry)
        if not first_call and self._stats.fit_intercept != self.fit_intercept:
            raise ValueError(
                "fit_intercept changed between partial_fit calls; call fit to "
                "start again."
            )
        stats = chunk if first_call else self._stats.merge(chunk)
        coef, eta, loss = self._step_from_stats(stats, self._alpha)
        intercept = stats.intercept(coef)
        if self.solver == "newton" and eta == 1.0:  # issue "Certified accuracy"
            refined = refine_from_moments(stats, self._alpha, coef)
            if refined is not None:
                coef, intercept = refined
                loss = float(stats.loss_per_output(coef, self._alpha).sum())
        self._finish(coef, intercept, eta, loss, y_ndim, X.dtype)
        self._stats = stats
        return self

    def _newton_update(self, coef0, target):
        """θ₁ = θ₀ − η·H⁻¹∇f(θ₀) = θ₀ + η·(w* − θ₀)."""
        if self.learning_rate == "auto" or self.learning_rate == 1:
            return target, 1.0
        eta = float(self.learning_rate)
        return coef0 + eta * (target - coef0), eta

    def _finish(self, coef, intercept, eta, loss, y_ndim, dtype):
        # Checked in the units of the data, against the largest value of the
        # output dtype: a float64 result past float32's range would turn
        # into inf in coef_.
        x_scale, y_scale = self._scales
        with np.errstate(over="ignore", invalid="ignore"):
            coef = coef * (x_scale / y_scale)
            intercept = intercept / y_scale
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
        if not (finite and np.isfinite(loss)):
            raise ValueError(
                f"The step with learning_rate={eta!r} overflowed: the coefficients "
                "or the objective after it are not finite. Use "
                "learning_rate='auto' or a smaller value, or scale X (for "
                "example with StandardScaler)."
            )
        # Back to the units of the data (see ``_rescaled``).
        if self.solver == "gradient":
            eta = in_units(eta, x_scale, 2)
        self._set_coef(coef, intercept, y_ndim, dtype)
        self.n_iter_ = 1
        self.learning_rate_ = float(eta)
        self.loss_ = in_units(float(loss), y_scale, -2)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # One gradient step of a size the user fixed is, by design, not a
        # fitted model on arbitrary data (it can be arbitrarily small).
        tags.regressor_tags.poor_score = (
            self.solver == "gradient" and self.learning_rate != "auto"
        )
        return tags


@np.errstate(all="ignore")
def _gradient_at_zero(X, Y, sample_weight, sw_sum, fit_intercept):
    """Means, objective and gradient at w = 0 from one pass over ``X``.

    At w = 0 the profiled residual is ``−(y − ȳ)``, so ``∇f = −(2/Σs)·XcᵀS(y −
    ȳ)`` and ``x̄ = Xᵀs/Σs`` are the two columns of one product ``Xᵀ[S(y −
    ȳ), s]``.
    """
    n_outputs = Y.shape[1]
    y_mean = np.zeros(n_outputs)
    if fit_intercept:
        y_mean = np.asarray(sample_weight @ Y, dtype=np.float64) / sw_sum
    # The columns [s·(y − ȳ), s], built in place (no other n-sized copies).
    columns = np.empty((X.shape[0], n_outputs + 1), dtype=X.dtype)
    np.subtract(Y, y_mean, out=columns[:, :n_outputs], casting="unsafe")
    columns[:, :n_outputs] *= sample_weight[:, None]
    columns[:, n_outputs] = sample_weight
    with np.errstate(over="ignore", invalid="ignore"):
        moments = cross_moments(X, columns)
    weighted = columns[:, :n_outputs]
    x_mean = moments[:, -1] / sw_sum if fit_intercept else np.zeros(X.shape[1])
    xty = moments[:, :-1] - np.outer(x_mean, weighted.sum(axis=0, dtype=np.float64))
    # Σ s (y − ȳ)² = Σ s(y − ȳ)·y − ȳ·Σ s(y − ȳ), without a temporary.
    sq = np.einsum("ij,ij->j", weighted, Y, dtype=np.float64) - y_mean * weighted.sum(
        axis=0, dtype=np.float64
    )
    drop_rounding(xty, x_mean, sq, sw_sum, X)
    return x_mean, y_mean, float(sq.sum()) / sw_sum, -(2.0 / sw_sum) * xty
