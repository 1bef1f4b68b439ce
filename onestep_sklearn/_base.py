"""What both estimators share: validation, coefficient layout, predict, tags."""

from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

_ACCEPT_SPARSE = ["csr", "csc"]
_DTYPES = [np.float64, np.float32]


class BaseMSERegressor(RegressorMixin, BaseEstimator):
    """Base class of the regressors minimising the objective of ``_objective``.

    Subclasses store their parameters in ``__init__`` and set ``coef_`` and
    ``intercept_`` through :meth:`_set_coef`.
    """

    _parameter_constraints: dict = {
        "learning_rate": [
            StrOptions({"auto"}),
            Interval(Real, 0, None, closed="neither"),
        ],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "warm_start": ["boolean"],
    }

    def _validate_fit_data(self, X, y, sample_weight, *, reset):
        """Validated ``X``, 2-D ``Y`` in the dtype of ``X``, weights and Σs."""
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            accept_sparse=_ACCEPT_SPARSE,
            dtype=_DTYPES,
            multi_output=True,
            y_numeric=True,
        )
        Y = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
        if not reset and hasattr(self, "coef_"):
            fitted_1d = self.coef_.ndim == 1
            fitted_k = 1 if fitted_1d else self.coef_.shape[0]
            if (y.ndim == 1) != fitted_1d or Y.shape[1] != fitted_k:
                raise ValueError(
                    f"y has shape {y.shape}, but {type(self).__name__} was fitted "
                    f"on targets giving coef_ of shape {self.coef_.shape}."
                )
        sample_weight = _check_sample_weight(
            sample_weight, X, dtype=X.dtype, ensure_non_negative=True
        )
        sw_sum = float(sample_weight.sum(dtype=np.float64))
        if not sw_sum > 0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        return X, Y, y.ndim, sample_weight, sw_sum

    def _initial_coef(self, coef_init, n_features, n_outputs, y_ndim):
        """θ₀ as a (d, k) float64 array: coef_init, warm start, or zeros."""
        if coef_init is None and self.warm_start and hasattr(self, "coef_"):
            coef_init = self.coef_
        if coef_init is None:
            return np.zeros((n_features, n_outputs))
        coef_init = np.asarray(coef_init, dtype=np.float64)
        expected = (n_features,) if y_ndim == 1 else (n_outputs, n_features)
        if coef_init.shape != expected:
            raise ValueError(
                f"coef_init has shape {coef_init.shape}; expected {expected} "
                "(the shape of coef_ for this y)."
            )
        if not np.all(np.isfinite(coef_init)):
            raise ValueError("coef_init contains NaN or infinity.")
        return coef_init.reshape(n_outputs, n_features).T.copy()

    def _set_coef(self, coef, intercept, y_ndim, dtype):
        """Store (d, k) ``coef`` and (k,) ``intercept`` in scikit-learn's layout."""
        if not (np.all(np.isfinite(coef)) and np.all(np.isfinite(intercept))):
            raise FloatingPointError(
                "internal error: non-finite coefficients reached _set_coef"
            )
        if not self.fit_intercept:
            intercept = np.zeros_like(intercept)
        if y_ndim == 1:
            self.coef_ = coef[:, 0].astype(dtype)
            self.intercept_ = dtype.type(intercept[0])
        else:
            self.coef_ = np.ascontiguousarray(coef.T, dtype=dtype)
            self.intercept_ = intercept.astype(dtype)

    def predict(self, X):
        """Predict using the linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predicted values, in the shape of the training target.
        """
        check_is_fitted(self)
        X = validate_data(
            self, X, reset=False, accept_sparse=_ACCEPT_SPARSE, dtype=_DTYPES
        )
        return safe_sparse_dot(X, self.coef_.T, dense_output=True) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
