"""Input validation for the estimators: it picks the data source.

In memory, scikit-learn's ``validate_data`` and ``_check_sample_weight``
give an :class:`~._data.memory.ArraySource`; Dask collections are checked by
shapes, dtypes and chunks only (their values by the first reduction, on the
workers) and give a :class:`~._data.dask.DaskSource`. After this, fitting is
one code path for both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils.validation import check_array

from ._compat import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    validate_data,
)
from ._data.checks import nonfinite_message, raise_for_weights
from ._data.dask_checks import as_dask_array, dask_weights, is_dask_collection
from ._data.memory import ACCEPT_SPARSE, ArraySource
from ._kernel.weights import unit_weights
from ._namespace import array_space, validate_fit_space

if TYPE_CHECKING:
    from ._data.protocol import DataSource

DTYPES = [np.float64, np.float32]


@dataclass(frozen=True)
class FitData:
    """A validated ``fit`` input: the data source, the number of dimensions
    of ``y`` (1 or 2), ``X``/``y`` as the user gave them (for callbacks) and,
    under array API dispatch, X's namespace and device (``_namespace``)."""

    source: DataSource
    y_ndim: int
    X: object
    y: object
    space: object = None


def validate_fit_data(estimator, X, y, sample_weight, *, reset, whole=True):
    """Validate ``(X, y, sample_weight)`` and return a :class:`FitData`.

    ``reset`` as in ``validate_data``: True in ``fit`` and a first
    ``partial_fit``; later chunks must match the fitted features and targets.
    ``whole``: these are all the rows of the fit (not a ``partial_fit``
    chunk), so only the ratios of the weights matter and tiny ones are
    brought near 1 by a power of two (subnormal weights keep few digits in
    their products with X).
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target "
            "y is None."
        )
    if is_dask_collection(X):
        return _validate_dask(estimator, X, y, sample_weight, reset=reset)
    space = array_space(X)
    if space is not None:
        source, y_shape = validate_fit_space(
            estimator, X, y, sample_weight, space, reset=reset
        )
        if not reset:
            check_target_shape(estimator, y_shape, source.n_outputs)
        return FitData(source, len(y_shape), X, y, space=space)
    # The finiteness of X is not checked here: that is a pass over X of its
    # own. The kernel's results are finite exactly when X is, so the data
    # source checks those and only then pays for the standard check, which
    # raises scikit-learn's usual error. Plain float arrays, which
    # check_X_y would return unchanged, only need the feature-name and count
    # bookkeeping: that saves most of the per-fit overhead on small data.
    plain = plain_X(X) and _plain_y(y, X.shape[0])
    if plain and reset and type(X) is np.ndarray:
        # What validate_data(skip_check_array=True) does for a bare ndarray,
        # which has no feature names: scikit-learn's check of that asks
        # narwhals whether X is a data frame (about a tenth of a small fit).
        if hasattr(estimator, "feature_names_in_"):
            delattr(estimator, "feature_names_in_")
        estimator.n_features_in_ = X.shape[1]
        X_checked, y_checked = X, y
    else:
        X_checked, y_checked = validate_data(
            estimator,
            X,
            y,
            reset=reset,
            skip_check_array=plain,
            accept_sparse=ACCEPT_SPARSE,
            dtype=DTYPES,
            multi_output=True,
            y_numeric=True,
            ensure_all_finite=False,
        )
    if not plain:
        # An object y (a None in a list) passes scikit-learn's check as
        # objects and only becomes NaN in the numeric conversion.
        message = nonfinite_message("y", np.asarray(y_checked, dtype=np.float64))
        if message:
            raise ValueError(message)
    Y = _targets_in_dtype(y_checked, X_checked.dtype)
    if not reset:
        check_target_shape(estimator, y_checked.shape, Y.shape[1])
    if sample_weight is None:
        # A zero-stride view: the default fit holds no n-sized vector of ones.
        sample_weight = unit_weights(X_checked.shape[0], X_checked.dtype)
    else:
        sample_weight = _check_sample_weight(
            sample_weight, X_checked, dtype=X_checked.dtype, ensure_non_negative=True
        )
        if whole:
            sample_weight = _scale_free(sample_weight)
    with np.errstate(over="ignore"):
        sw_sum = float(sample_weight.sum(dtype=np.float64))
    if not np.isfinite(sw_sum):
        raise ValueError(
            f"sample_weight sums to {sw_sum}: the weights are finite but their "
            "sum overflows float64. Divide them by a common factor (the fit "
            "only depends on their ratios)."
        )
    raise_for_weights(0.0, sw_sum)
    source = ArraySource(X_checked, Y, sample_weight, sw_sum)
    return FitData(source, y_checked.ndim, X, y)


def _targets_in_dtype(y, dtype):
    """``y`` as a 2-D array in the dtype of X, refusing values that overflow
    in the cast (float64 y past float32's range with float32 X)."""
    y64 = np.asarray(y)
    with np.errstate(over="ignore"):
        Y = np.asarray(y64, dtype=dtype).reshape(y64.shape[0], -1)
    if dtype != np.float64 and not np.isfinite(Y).all():
        raise ValueError(
            f"y has values up to {np.max(np.abs(y64)):.3g}, beyond the range of "
            f"X's dtype {np.dtype(dtype).name} (max {np.finfo(dtype).max:.3g}): "
            "convert X to float64 or rescale y."
        )
    return Y


def check_target_shape(estimator, y_shape, n_outputs):
    """A later chunk's y must have the layout of the fitted ``coef_``."""
    if not hasattr(estimator, "coef_"):
        return
    coef = estimator.coef_
    fitted_1d = coef.ndim == 1
    fitted_k = 1 if fitted_1d else coef.shape[0]
    if (len(y_shape) == 1) != fitted_1d or n_outputs != fitted_k:
        raise ValueError(
            f"y has shape {y_shape}, but {type(estimator).__name__} was fitted "
            f"on targets giving coef_ of shape {coef.shape}."
        )


def validate_predict_X(estimator, X):
    """``X`` for ``predict``: an in-memory array or a validated Dask array."""
    if is_dask_collection(X):
        return validate_dask_X(estimator, X, reset=False)
    return validate_data(
        estimator,
        X,
        reset=False,
        skip_check_array=plain_X(X),
        accept_sparse=ACCEPT_SPARSE,
        dtype=DTYPES,
        ensure_all_finite=False,
    )


def check_X_values(X):
    """scikit-learn's error for NaN or infinity in in-memory ``X``."""
    check_array(X, accept_sparse=ACCEPT_SPARSE, dtype=None, input_name="X")


def plain_X(X):
    """A 2-D float32/float64 ndarray with at least one row and column."""
    return (
        isinstance(X, np.ndarray)
        and not isinstance(X, np.matrix)
        and X.ndim == 2
        and X.dtype in DTYPES
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


# --------------------------------------------------------------------------
# Dask collections: shapes, dtypes and chunks, without computing anything.


def validate_dask_X(estimator, X, *, reset):
    """``X`` as a 2-D float32/float64 Dask array in one column chunk."""
    names = X
    if hasattr(X, "columns"):
        import pandas as pd  # a Dask DataFrame: its columns are known, no data

        names = pd.DataFrame(columns=X.columns)
    _check_feature_names(estimator, names, reset=reset)
    X = as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {X.ndim}D Dask array instead (shape "
            f"{X.shape}); use X.reshape(-1, 1) for a single feature."
        )
    if X.dtype not in DTYPES:
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X has dtype {X.dtype}; a real numeric dtype is needed.")
        X = X.astype(np.float64)
    for axis, what in ((0, "sample"), (1, "feature")):
        if X.shape[axis] < 1:
            raise ValueError(
                f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum "
                "of 1 is required."
            )
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})  # row blocks hold whole rows
    _check_n_features(estimator, X, reset=reset)
    return X


def _validate_dask(estimator, X, y, sample_weight, *, reset):
    from ._data.dask import DaskSource

    X_dask = validate_dask_X(estimator, X, reset=reset)
    n_samples, row_chunks = X_dask.shape[0], X_dask.chunks[0]
    y_dask = as_dask_array(y, "y", row_chunks)
    if y_dask.ndim not in (1, 2) or y_dask.shape[0] != n_samples:
        if y_dask.ndim in (1, 2):
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {y_dask.shape[0]}]"
            )
        raise ValueError(f"y must be 1-D or 2-D, got shape {y_dask.shape}.")
    if y_dask.dtype.kind not in "biuf":
        raise ValueError(f"y has dtype {y_dask.dtype}; a real numeric dtype is needed.")
    Y = (y_dask if y_dask.ndim == 2 else y_dask[:, None]).astype(X_dask.dtype)
    Y = Y.rechunk({0: row_chunks, 1: -1})
    if not reset:
        check_target_shape(estimator, y_dask.shape, Y.shape[1])
    source = DaskSource(X_dask, Y, dask_weights(sample_weight, X_dask))
    return FitData(source, y_dask.ndim, X, y)


def require_row_access(estimator, source, **parameters):
    """Refuse parameters that need random access to rows on a source without.

    ``parameters`` maps names to values; a value other than None/False
    needs row subsets (mini-batches, the validation split).
    """
    if source.row_access:
        return
    for name, value in parameters.items():
        if value not in (None, False):
            raise ValueError(
                f"{type(estimator).__name__}({name}={value!r}) is not supported "
                "on Dask arrays: mini-batches and the validation split need "
                "random access to the rows. Use the defaults (full-batch "
                "gradient descent) or compute the data into memory."
            )


# Weights whose largest is below this are rescaled (exactly) to about 1.
TINY_WEIGHTS = 2.0**-64


def _scale_free(sample_weight):
    """The weights times the power of two that brings the largest near 1,
    when it is tiny (a new array; exact, since it scales up)."""
    largest = float(np.max(sample_weight, initial=0.0))
    if not 0 < largest < TINY_WEIGHTS:
        return sample_weight
    exponent = np.frexp(largest)[1]
    return np.ldexp(sample_weight, -exponent).astype(sample_weight.dtype)
