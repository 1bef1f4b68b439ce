"""What both estimators share: validation, coefficient layout, predict, tags."""

import functools
from numbers import Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.validation import (
    _check_sample_weight,
    check_array,
    check_is_fitted,
    validate_data,
)

from . import _dask
from ._objective import weighted_means

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
        # The finiteness of X is not checked here: that is a pass over X of
        # its own. The kernel's results are finite exactly when X is, so
        # callers check those (``_check_finite``) and only then pay for the
        # standard check, which raises scikit-learn's usual error.
        # Plain float arrays, which check_X_y would return unchanged, only
        # need the feature-name and count bookkeeping: that saves most of the
        # per-fit overhead on small data (grid searches).
        plain = _plain_X(X) and _plain_y(y, X.shape[0])
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            skip_check_array=plain,
            accept_sparse=_ACCEPT_SPARSE,
            dtype=_DTYPES,
            multi_output=True,
            y_numeric=True,
            ensure_all_finite=False,
        )
        Y = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
        if not reset:
            self._check_target_shape(y.shape, Y.shape[1])
        if sample_weight is None:
            sample_weight = np.ones(X.shape[0], dtype=X.dtype)
        else:
            sample_weight = _check_sample_weight(
                sample_weight, X, dtype=X.dtype, ensure_non_negative=True
            )
        sw_sum = float(sample_weight.sum(dtype=np.float64))
        if not sw_sum > 0:
            raise ValueError(
                "sample_weight sums to zero: at least one weight must be positive."
            )
        return X, Y, y.ndim, sample_weight, sw_sum

    def _rescaled(self, X, Y, sample_weight, scales=None, *, scale_x=True):
        """``(X, Y, (x_scale, y_scale))``, rescaled when their magnitude is extreme.

        Squares of values past about 1e±120 under- or overflow float64 (the
        Gram, the curvature L). Such data are fitted as ``(cₓ·X, c_y·y)``
        with exact powers of two ``cₓ``, ``c_y`` (no rounding), which is the
        same problem in other units: ``w = (cₓ/c_y)·w'``, ``b = b'/c_y``,
        ``alpha' = alpha·cₓ²``, ``η' = η/cₓ²``, ``f = f'/c_y²``. ``X`` is copied
        only then. Its magnitude is read off the first rows (a pilot): a later
        extreme row shows up as an overflow, which ``_check_finite`` reports.
        """
        if scales is None:
            counted = Y if sample_weight.min() > 0 else Y[sample_weight > 0]
            y_max = max(np.max(counted, initial=0.0), -np.min(counted, initial=0.0))
            x_scale = 1.0
            if scale_x:
                x_max = _pilot_magnitude(X, sample_weight).max(initial=0.0)
                x_scale = float(_powers_of_two(x_max))
            scales = (x_scale, float(_powers_of_two(y_max)))
        x_scale, y_scale = scales
        if x_scale != 1.0:
            X = X * x_scale
        if y_scale != 1.0:
            Y = Y * y_scale
        return X, Y, scales

    def _check_finite(self, X, finite):
        """Raise the standard error for non-finite ``X`` when a result is not.

        ``finite`` says whether the kernel's first results on ``X`` are
        finite. If they are not and ``X`` holds NaN or infinity, scikit-learn's
        own check raises its usual message; otherwise the data overflowed.
        """
        if finite:
            return
        check_array(X, accept_sparse=_ACCEPT_SPARSE, dtype=None, input_name="X")
        raise ValueError(
            "X is finite but its moments overflow float64: rescale X (for "
            "example with StandardScaler) before fitting."
        )

    def _check_target_shape(self, y_shape, n_outputs):
        """A later chunk's y must have the layout of the fitted ``coef_``."""
        if not hasattr(self, "coef_"):
            return
        fitted_1d = self.coef_.ndim == 1
        fitted_k = 1 if fitted_1d else self.coef_.shape[0]
        if (len(y_shape) == 1) != fitted_1d or n_outputs != fitted_k:
            raise ValueError(
                f"y has shape {y_shape}, but {type(self).__name__} was fitted "
                f"on targets giving coef_ of shape {self.coef_.shape}."
            )

    def _means(self, X, Y, sample_weight, sw_sum):
        """Weighted means (zeros without an intercept), X checked finite.

        The pass ``Xᵀs`` runs even without an intercept: it is the cheapest
        result on ``X`` to test for NaN and infinity.
        """
        x_mean, y_mean = weighted_means(X, Y, sample_weight, sw_sum)
        self._check_finite(X, np.isfinite(x_mean).all())
        if not self.fit_intercept:
            return np.zeros_like(x_mean), np.zeros_like(y_mean)
        return x_mean, y_mean

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
        self.coef_, self.intercept_ = self._public(coef, intercept, y_ndim, dtype)

    def _public(self, coef, intercept, y_ndim, dtype):
        """``coef_`` and ``intercept_`` in scikit-learn's layout and dtype."""
        if not self.fit_intercept:
            intercept = np.zeros_like(intercept)
        if y_ndim == 1:
            return coef[:, 0].astype(dtype), dtype.type(intercept[0])
        return np.ascontiguousarray(coef.T, dtype=dtype), intercept.astype(dtype)

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
        if _dask.is_dask_collection(X):
            return _dask.predict(self, X)
        X = validate_data(
            self,
            X,
            reset=False,
            skip_check_array=_plain_X(X),
            accept_sparse=_ACCEPT_SPARSE,
            dtype=_DTYPES,
            ensure_all_finite=False,
        )
        with np.errstate(over="ignore", invalid="ignore"):
            y_pred = safe_sparse_dot(X, self.coef_.T, dense_output=True)
            y_pred += self.intercept_
        if not np.isfinite(y_pred).all():
            check_array(X, accept_sparse=_ACCEPT_SPARSE, dtype=None, input_name="X")
            raise ValueError(
                "The predictions overflow: X is finite but too large for the "
                "fitted coefficients. Rescale X as it was during fit."
            )
        return y_pred

    @classmethod
    def _get_param_names(cls):
        # The signature of __init__ never changes: read it once per class.
        return list(_param_names(cls))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags


@functools.cache
def _param_names(cls):
    return tuple(BaseEstimator._get_param_names.__func__(cls))


def _plain_X(X):
    """A 2-D float32/float64 ndarray with at least one row and column."""
    return (
        isinstance(X, np.ndarray)
        and not isinstance(X, np.matrix)
        and X.ndim == 2
        and X.dtype in _DTYPES
        and X.shape[0] >= 1
        and X.shape[1] >= 1
    )


def _plain_y(y, n_samples):
    """A finite real ndarray target of matching length, 1-D or 2-D."""
    return (
        isinstance(y, np.ndarray)
        and not isinstance(y, np.matrix)
        and y.ndim in (1, 2)
        and y.shape[0] == n_samples
        and (y.ndim == 1 or y.shape[1] >= 1)
        and y.dtype.kind in "fiu"
        and bool(np.isfinite(y).all())
    )


# Values whose squares stay well inside float64 (about 1e±120).
_TAME_LOW, _TAME_HIGH = 2.0**-400, 2.0**400


def _powers_of_two(magnitudes):
    """1, or the power of two bringing an extreme magnitude near 1 (each)."""
    magnitudes = np.asarray(magnitudes, dtype=np.float64)
    nonzero = magnitudes[magnitudes != 0]
    if nonzero.size == 0 or (
        nonzero.min() >= _TAME_LOW and nonzero.max() <= _TAME_HIGH
    ):
        return np.ones_like(magnitudes)  # the common case, decided at once
    exponents = np.clip(np.frexp(magnitudes)[1], -1000, 1000)
    tame = (magnitudes >= _TAME_LOW) & (magnitudes <= _TAME_HIGH)
    tame |= ~np.isfinite(magnitudes) | (magnitudes <= 0)
    return np.where(tame, 1.0, np.ldexp(1.0, -exponents))


def in_units(value, scale, power):
    """``value·scale^power`` without overflow errors: 0 stays 0, extremes
    saturate to 0 or infinity."""
    if value == 0:
        return 0.0
    with np.errstate(over="ignore", under="ignore"):
        return float(np.float64(value) * np.float64(scale) ** power)


def column_scales(X, sample_weight):
    """Per-column powers of two for columns of extreme magnitude, else None.

    Read off the first rows, like ``BaseMSERegressor._rescaled``.
    """
    scales = _powers_of_two(_pilot_magnitude(X, sample_weight))
    return None if np.all(scales == 1.0) else scales


def _pilot_magnitude(X, sample_weight):
    """Largest |x| per column over the first 1024 rows of positive weight
    (rows of zero weight do not enter the fit, so they do not set its units)."""
    positive = sample_weight[:1024] > 0
    if not positive.any():
        return np.zeros(X.shape[1])
    rows = slice(0, positive.size) if positive.all() else np.flatnonzero(positive)
    pilot = abs(X[rows])  # the first rows only: a small copy
    if sp.issparse(pilot):
        return np.asarray(pilot.max(axis=0).todense()).ravel()
    return pilot.max(axis=0)
