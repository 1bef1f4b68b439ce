"""scikit-learn's array API dispatch at the estimators' boundary.

With ``sklearn.set_config(array_api_dispatch=True)``, ``X`` from torch, CuPy
or array-api-strict stays in its namespace and on its device: ``y`` and
``sample_weight`` are moved there (``move_to``, as scikit-learn's own
estimators do, "everything follows X"), the data source is an
:class:`~._data.array_api.ArrayAPISource`, and the fitted array attributes
are put back in X's namespace and on X's device, in X's dtype (float32 where
the device has no float64), as scikit-learn's convention for array API
estimators says. numpy inputs take the in-memory route whether dispatch is
on or not.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from sklearn import get_config
from sklearn.utils.validation import check_non_negative

from ._compat import (
    _is_numpy_namespace,
    _max_precision_float_dtype,
    get_namespace_and_device,
    move_to,
    validate_data,
)
from ._data.array_api import ArrayAPISource, numpy_dtype, to_host
from ._data.checks import nonfinite_message, raise_for_weights


class Space(NamedTuple):
    """An array namespace and a device of it."""

    xp: Any
    device: Any


def array_space(X: Any) -> Space | None:
    """X's namespace and device under array API dispatch, or None (dispatch
    off, or numpy, lists, sparse matrices, Dask: the in-memory routes)."""
    if not get_config().get("array_api_dispatch", False):
        return None
    if isinstance(X, (np.ndarray, list, tuple)) or not hasattr(X, "shape"):
        return None
    try:
        xp, _, device = get_namespace_and_device(X)
    except TypeError:  # not an array of any namespace (a DataFrame)
        return None
    if _is_numpy_namespace(xp):
        return None
    return Space(xp, device)


def validate_fit_space(
    estimator: Any, X: Any, y: Any, sample_weight: Any, space: Space, *, reset: bool
) -> tuple[ArrayAPISource, tuple[int, ...]]:
    """``(source, shape of y)``: :func:`~._validation.validate_fit_data` for X
    in ``space``."""
    xp, device = space
    # Lists (and pandas objects) go through numpy: move_to takes arrays.
    y, sample_weight = (
        np.asarray(a) if a is not None and not hasattr(a, "__dlpack__") else a
        for a in (y, sample_weight)
    )
    y, sample_weight = move_to(y, sample_weight, xp=xp, device=device)
    X_checked, y_checked = validate_data(
        estimator,
        X,
        y,
        reset=reset,
        dtype=[xp.float64, xp.float32],
        multi_output=True,
        y_numeric=True,
        ensure_all_finite=False,
    )
    # X's values are validated by the first question (a pass of its own
    # saved, as in memory); y's here, in the in-memory words.
    _raise_for_nonfinite("y", y_checked, xp)
    n_samples = X_checked.shape[0]
    Y = xp.reshape(xp.astype(y_checked, X_checked.dtype), (n_samples, -1))
    if not bool(xp.all(xp.isfinite(Y))):  # float64 y past float32's range
        dtype = numpy_dtype(xp, X_checked.dtype)
        raise ValueError(
            f"y has values up to {float(xp.max(xp.abs(y_checked))):.3g}, beyond "
            f"the range of X's dtype {dtype.name} (max {np.finfo(dtype).max:.3g}): "
            "convert X to float64 or rescale y."
        )
    weights = None
    sw_sum = float(n_samples)
    if sample_weight is not None:
        weights = _weights_in_space(sample_weight, X_checked, xp, device)
        sw_sum = float(np.sum(to_host(weights, xp)))
        if not np.isfinite(sw_sum):
            raise ValueError(
                f"sample_weight sums to {sw_sum}: the weights are finite but "
                "their sum overflows float64. Divide them by a common factor "
                "(the fit only depends on their ratios)."
            )
    raise_for_weights(0.0, sw_sum)
    wide64 = _max_precision_float_dtype(xp, device) == xp.float64
    source = ArrayAPISource(X_checked, Y, weights, sw_sum, xp, device, wide64)
    return source, tuple(y_checked.shape)


def _weights_in_space(sample_weight: Any, X: Any, xp: Any, device: Any) -> Any:
    """scikit-learn's ``_check_sample_weight`` (its words) for weights
    already in X's namespace, in X's dtype; one implementation for every
    supported scikit-learn (1.6's takes numpy dtypes only)."""
    n_samples = X.shape[0]
    weights = xp.astype(sample_weight, X.dtype)
    if weights.ndim == 0:
        return xp.full(n_samples, float(weights), dtype=X.dtype, device=device)
    if weights.ndim != 1:
        raise ValueError(
            f"Sample weights must be 1D array or scalar, got {weights.ndim}D "
            "array. Expected either a scalar value or a 1D array of length "
            f"{n_samples}."
        )
    if tuple(weights.shape) != (n_samples,):
        raise ValueError(
            f"sample_weight.shape == {tuple(weights.shape)}, expected {(n_samples,)}!"
        )
    _raise_for_nonfinite("sample_weight", weights, xp)
    if bool(xp.any(weights < 0)):  # scikit-learn's words, of its version
        check_non_negative(np.full(1, -1.0), "`sample_weight`")
    return weights


def _raise_for_nonfinite(name: str, values: Any, xp: Any) -> None:
    """scikit-learn's message for NaN or infinity in ``values``, as for the
    numpy array of the same dtype (the device is asked two booleans)."""
    if not xp.isdtype(values.dtype, "real floating") or bool(
        xp.all(xp.isfinite(values))
    ):
        return
    probe = np.nan if bool(xp.any(xp.isnan(values))) else np.inf
    dtype = numpy_dtype(xp, values.dtype)
    raise ValueError(nonfinite_message(name, np.full(1, probe, dtype=dtype)))


def to_space(attributes: dict[str, Any], space: Space | None) -> dict[str, Any]:
    """The fitted attributes with numpy arrays and numpy scalars (a 1-D
    target's ``intercept_``) as arrays of ``space``, dtypes kept (float64 as
    float32 where the device has no float64)."""
    if space is None:
        return attributes
    xp, device = space
    narrow = _max_precision_float_dtype(xp, device) == xp.float32
    moved = {}
    for name, value in attributes.items():
        if isinstance(value, (np.ndarray, np.floating)) and not name.startswith("_"):
            value = np.asarray(value)
            if narrow and value.dtype == np.float64:
                value = value.astype(np.float32)
            dtype = {
                np.dtype(np.float64): xp.float64,
                np.dtype(np.float32): xp.float32,
                np.dtype(bool): xp.bool,
            }.get(value.dtype)
            value = xp.asarray(value, dtype=dtype, device=device)
        moved[name] = value
    return moved


def host_coef(coef: Any) -> Any:
    """``coef_init`` or a previous ``coef_`` as numpy (None passes)."""
    if coef is None or isinstance(coef, np.ndarray):
        return coef
    if hasattr(coef, "__array_namespace__"):
        return to_host(coef, coef.__array_namespace__())
    return coef


def predict_in_space(estimator: Any, X: Any, space: Space) -> Any:
    """``X @ coef_ᵀ + intercept_`` in X's namespace, on X's device."""
    xp = space.xp
    X = validate_data(estimator, X, reset=False, dtype=[xp.float64, xp.float32])
    coef = xp.astype(estimator.coef_, X.dtype)
    intercept = xp.astype(
        xp.asarray(estimator.intercept_, device=space.device), X.dtype
    )
    y_pred = X @ (coef if coef.ndim == 1 else coef.T) + intercept
    if not bool(xp.all(xp.isfinite(y_pred))):
        raise ValueError(
            "The predictions overflow: X is finite but too large for the "
            "fitted coefficients. Rescale X as it was during fit."
        )
    return y_pred


def on_host(source: ArrayAPISource, y_ndim: int, sample_weight: Any) -> tuple:
    """``(X, y, sample_weight)`` of ``source`` as numpy, ``y`` in the user's
    number of dimensions (for a user's scorer called on every run)."""
    X, Y, weights = source.arrays()
    return X, Y[:, 0] if y_ndim == 1 else Y, None if sample_weight is None else weights
