"""What both estimators share: parameters, coefficient layout, predict, tags.

The estimators validate (``_validation``, which picks the data source),
call solvers that return result objects, and turn those into fitted
attributes in one assignment at the end (:meth:`BaseMSERegressor._assign`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from numbers import Real
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import check_is_fitted

from ._compat import Interval, StrOptions, _fit_context, check_same_namespace
from ._data.dask_checks import is_dask_collection
from ._fitted import public_coef
from ._kernel.threads import fit_blas_context
from ._namespace import array_space, host_coef, predict_in_space, to_space
from ._stream import lock_for
from ._validation import check_X_values, validate_predict_X

if TYPE_CHECKING:
    from ._compat import ArrayLike, MatrixLike, Tags
    from ._data.protocol import DataSource
    from ._kernel.units import Units

# Where the documentation site is published (pyproject's [project.urls] names the same
# place): the HTML repr's "?" link points at each estimator's API page there.
DOCS_URL = "https://onestep-sklearn.readthedocs.io/en/stable/"


class _FullText(str):
    """A fitted string shown whole in the HTML repr, whose reprlib cuts ``str``
    values to 9 characters ('ma...er' for "max_iter")."""

    def __repr__(self) -> str:
        return str.__repr__(self)


# A decorated method keeps its signature (for type checkers and users).
Method = TypeVar("Method", bound=Callable[..., Any])


def blas_threads_for_fit(fit: Method) -> Method:
    """Run ``fit`` (or ``partial_fit``, ``predict``) under the BLAS threading
    policy of ``_kernel.threads``: one thread unless the data pass is large.

    The one place the policy is applied: every solver's small dense calls
    (QR, SVD, Cholesky, d × d products) run inside it, in ``GridSearchCV``
    workers and threads too. ``predict`` too: in joblib's threading backend
    the scoring between fits would otherwise call a threaded BLAS from two
    threads at once, whose thread server the callers then wait on.
    """

    @functools.wraps(fit)
    def wrapper(self: Any, X: Any, *args: Any, **kwargs: Any) -> Any:
        with fit_blas_context(getattr(X, "shape", None), getattr(X, "nnz", None)):
            return fit(self, X, *args, **kwargs)

    return cast(Method, wrapper)


def fit_method(fit: Method) -> Method:
    """A ``fit``/``partial_fit``: scikit-learn's parameter validation
    (``_fit_context``) run under the BLAS threading policy."""
    return blas_threads_for_fit(_fit_context(prefer_skip_nested_validation=True)(fit))


class BaseMSERegressor(RegressorMixin, BaseEstimator):
    """Base class of the regressors minimising the objective of
    ``_kernel.objective``."""

    _doc_link_module = "onestep_sklearn"
    _doc_link_template = DOCS_URL + "generated/{estimator_module}.{estimator_name}.html"

    _parameter_constraints: dict[str, list[Any]] = {
        "learning_rate": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "warm_start": ["boolean"],
    }

    def _initial_coef(
        self, coef_init: ArrayLike | None, source: DataSource, y_ndim: int
    ) -> np.ndarray:
        """θ₀ as a (d, k) float64 array: coef_init, warm start, or zeros."""
        n_features, n_outputs = source.n_features, source.n_outputs
        name = "coef_init"
        if coef_init is None and self.warm_start and hasattr(self, "coef_"):
            coef_init, name = self.coef_, "the previous coef_ (warm_start=True)"
        if coef_init is None:
            return np.zeros((n_features, n_outputs))
        coef_init = host_coef(coef_init)
        coef_init = np.asarray(coef_init, dtype=np.float64)
        expected = (n_features,) if y_ndim == 1 else (n_outputs, n_features)
        if coef_init.shape != expected:
            if name != "coef_init":
                raise ValueError(
                    f"warm_start=True: the previous coef_ has shape "
                    f"{coef_init.shape}, but this X and y need {expected}. Fit "
                    "with warm_start=False to start from zeros."
                )
            raise ValueError(
                f"coef_init has shape {coef_init.shape}; expected {expected} "
                "(the shape of coef_ for this y)."
            )
        if not np.all(np.isfinite(coef_init)):
            raise ValueError(f"{name} contains NaN or infinity.")
        return coef_init.reshape(n_outputs, n_features).T.copy()

    def _rate_in(self, units: Units) -> float | None:
        """The user's rate in the units of the data source (None: "auto")."""
        if self.learning_rate == "auto":
            return None
        return units.rate_from_data(float(self.learning_rate))

    def _public(
        self, coef: np.ndarray, intercept: np.ndarray, y_ndim: int, dtype: np.dtype
    ) -> tuple[np.ndarray, Any]:
        """``coef_`` and ``intercept_`` in scikit-learn's layout and dtype."""
        return public_coef(
            coef,
            intercept,
            fit_intercept=self.fit_intercept,
            y_ndim=y_ndim,
            dtype=dtype,
        )

    def _assign(self, attributes: dict[str, Any], space: Any = None) -> None:
        """Set the fitted attributes of one fit at once, under the lock.

        Concurrent fits of one object then end in the state of one of them.
        Under array API dispatch (``space``), array attributes go to X's
        namespace and device.
        """
        coef, intercept = attributes["coef_"], attributes["intercept_"]
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            raise FloatingPointError(
                "internal error: non-finite coefficients reached _assign"
            )
        attributes = to_space(attributes, space)
        with lock_for(self):
            for name, value in attributes.items():
                setattr(self, name, value)

    @blas_threads_for_fit
    # An ndarray, or a Dask array for Dask X: no one static type says both.
    def predict(self, X: MatrixLike) -> Any:
        """Predict using the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (a Dask array gives lazy predictions).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values, in the shape of the training target.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="coef_", method="predict")
        space = array_space(X)
        if space is not None:
            return predict_in_space(self, X, space)
        X = validate_predict_X(self, X)
        if is_dask_collection(X):
            from ._data.dask import predict_lazy

            return predict_lazy(X, self.coef_, self.intercept_)
        with np.errstate(over="ignore", invalid="ignore"):
            y_pred = safe_sparse_dot(X, self.coef_.T, dense_output=True)
            y_pred += self.intercept_
        if not np.isfinite(y_pred).all():
            check_X_values(X)
            raise ValueError(
                "The predictions overflow: X is finite but too large for the "
                "fitted coefficients. Rescale X as it was during fit."
            )
        return y_pred

    def _get_fitted_attr_html(self, doc_link: str = "") -> Any:
        # scikit-learn >= 1.8 lists fitted attributes in the HTML repr; strings
        # (stop_reason_) are shown whole there, not cut to 9 characters.
        attributes = super()._get_fitted_attr_html(doc_link)
        for info in attributes.values():
            if isinstance(info.get("value"), str):
                info["value"] = _FullText(info["value"])
        return attributes

    def _validate_params(self) -> None:
        # scikit-learn checks every parameter against its constraints at each
        # fit: 17 µs for OneStepRegressor, 75 µs for IterativeGDRegressor (a
        # tenth of a small fit; GridSearchCV fits a fresh clone each time).
        # Settings of plain values that passed once pass again: remembered
        # per class (other values, a RandomState say, are checked each time).
        key = _plain_settings(self.get_params(deep=False))
        if key is not None and key in _VALID_SETTINGS.get(type(self), ()):
            return
        super()._validate_params()
        if key is not None:
            seen = _VALID_SETTINGS.setdefault(type(self), set())
            if len(seen) >= MAX_REMEMBERED_SETTINGS:
                seen.clear()
            seen.add(key)

    @classmethod
    def _get_param_names(cls) -> list[str]:
        # The signature of __init__ never changes: read it once per class.
        # (A class is hashable; scikit-learn's bases hide that from mypy.)
        return list(_param_names(cast(type, cls)))

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        # Under array API dispatch, X of torch, CuPy or array-api-strict is
        # fitted on its device (``_namespace``).
        tags.array_api_support = True
        return tags


@functools.cache
def _param_names(cls: type) -> tuple[str, ...]:
    return tuple(BaseEstimator._get_param_names.__func__(cls))


# Parameter settings that passed scikit-learn's validation, per class.
_VALID_SETTINGS: dict[type, set[tuple[Any, ...]]] = {}
MAX_REMEMBERED_SETTINGS = 1024
_PLAIN_TYPES = (type(None), bool, int, float, str)


def _plain_settings(params: dict[str, Any]) -> tuple[Any, ...] | None:
    """The settings as a hashable key, with each value's type (True is not
    1 to a constraint), or None when a value is not a plain immutable one."""
    if not all(type(value) in _PLAIN_TYPES for value in params.values()):
        return None
    return tuple((name, type(value), value) for name, value in params.items())
