"""Failure behaviour: bad input is refused with a message naming the problem;
awkward but valid input fits and stays finite; inputs are never modified.

Not here (tested elsewhere, not duplicated): the divergence guard of
IterativeGDRegressor (``test_iterative.py``) and the ValueError of a single
overflowing gradient step (``test_one_step.py``).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import make_data
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.utils._param_validation import InvalidParameterError

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor

# Every route through the package: Newton (Gram, QR and wide-data routes are
# chosen from the data), the gradient step, and gradient descent on the
# statistics, by data passes and by mini-batches.
ESTIMATORS = {
    "newton": OneStepRegressor(),
    "newton-ridge": OneStepRegressor(alpha=0.5),
    "gradient": OneStepRegressor(solver="gradient"),
    "gd": IterativeGDRegressor(max_iter=30),
    "gd-data-pass": IterativeGDRegressor(max_iter=30, precompute=False),
    "gd-minibatch": IterativeGDRegressor(max_iter=5, batch_size=8, random_state=0),
}
CONVERGED_GD = {
    "gd": IterativeGDRegressor(max_iter=5000, tol=1e-12),
    "gd-data-pass": IterativeGDRegressor(max_iter=5000, tol=1e-12, precompute=False),
}


def small_data(n_samples=20, n_features=3, seed=0):
    return make_data(n_samples, n_features, seed=seed, intercept=3.0, noise=0.1)


def fresh(name):
    return clone(ESTIMATORS[name])


def quietly(func, *args, **kwargs):
    """Call ignoring ConvergenceWarning (short runs on purpose)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(*args, **kwargs)


def without_noise(func, *args, **kwargs):
    """Call where any warning but ConvergenceWarning is an error.

    Overflow or underflow must be avoided by scaling, not hit and reported
    as "RuntimeWarning: overflow encountered …".
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)
        return func(*args, **kwargs)


def assert_raises_cleanly(exception, match, func, *args, **kwargs):
    """The call raises ``exception`` matching ``match``, and says nothing else.

    A RuntimeWarning ("invalid value encountered …") on the way to the error
    is noise that hides the message: none may be emitted.
    """
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        with pytest.raises(exception, match=match) as info:
            func(*args, **kwargs)
    noise = [str(w.message) for w in record if w.category is not ConvergenceWarning]
    assert not noise, f"warnings before the {exception.__name__}: {noise}"
    return info


# --------------------------------------------------------------------------
# Bad input to fit and partial_fit
# --------------------------------------------------------------------------


def _with_value(array, value, fmt="dense"):
    array = np.array(array, dtype=float)
    array.flat[array.size // 2 + 1] = value
    if fmt == "dense":
        return array
    return sp.csr_matrix(array).asformat(fmt)


def _non_finite_cases():
    cases = []
    for shape in ("tall", "wide"):
        for fmt in ("dense", "csr", "csc"):
            for value, word in ((np.nan, "NaN"), (np.inf, "infinity")):
                cases.append((f"X-{fmt}-{word}-{shape}", shape, fmt, value, word))
        cases.append((f"X-dense--inf-{shape}", shape, "dense", -np.inf, "infinity"))
    return cases


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize(
    "shape, fmt, value, word",
    [case[1:] for case in _non_finite_cases()],
    ids=[case[0] for case in _non_finite_cases()],
)
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_non_finite_X_is_refused(name, shape, fmt, value, word, method):
    X, y = small_data(*((20, 3) if shape == "tall" else (4, 6)))
    X_bad = _with_value(X, value, fmt)
    estimator = fresh(name)
    assert_raises_cleanly(
        ValueError, rf"\bX\b.*{word}", getattr(estimator, method), X_bad, y
    )
    assert not hasattr(estimator, "coef_")


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_nan_in_zero_weight_row_is_still_refused(name, fit_intercept):
    # A zero weight drops a row from the objective, not from validation:
    # scikit-learn refuses NaN anywhere in X, so do we.
    X, y = small_data()
    X[4, 1] = np.nan
    sample_weight = np.ones(20)
    sample_weight[4] = 0.0
    estimator = fresh(name).set_params(fit_intercept=fit_intercept)
    assert_raises_cleanly(ValueError, r"\bX\b.*NaN", estimator.fit, X, y, sample_weight)


def _bad_fit_inputs():
    X, y = small_data()
    ones = np.ones(20)
    complex_X = X + 1j
    strings = np.array([["a", "b", "c"]] * 20)
    negative = ones.copy()
    negative[3] = -1.0
    return {
        # name: (X, y, sample_weight, exception, message regex)
        "y-NaN": (X, _with_value(y, np.nan), None, ValueError, r"\by\b.*NaN"),
        "y-inf": (X, _with_value(y, np.inf), None, ValueError, r"\by\b.*infinity"),
        "y-2d-NaN": (
            X,
            _with_value(np.column_stack([y, y]), np.nan),
            None,
            ValueError,
            r"\by\b.*NaN",
        ),
        "sw-NaN": (X, y, _with_value(ones, np.nan), ValueError, r"sample_weight.*NaN"),
        "sw-inf": (
            X,
            y,
            _with_value(ones, np.inf),
            ValueError,
            r"sample_weight.*infinity",
        ),
        "empty": (np.empty((0, 3)), np.empty(0), None, ValueError, r"0 sample"),
        "zero-features": (np.empty((20, 0)), y, None, ValueError, r"0 feature"),
        "length-mismatch": (X, y[:-1], None, ValueError, r"inconsistent numbers"),
        "sw-length-mismatch": (X, y, ones[:-1], ValueError, r"sample_weight"),
        "sw-2d": (X, y, ones[:, None], ValueError, r"(?i)sample.weight.*1D"),
        "X-1d": (X[:, 0], y, None, ValueError, r"2D array"),
        "X-3d": (X[:, :, None], y, None, ValueError, r"dim 3"),
        "y-3d": (X, y[:, None, None], None, ValueError, r"dim 3"),
        "y-None": (X, None, None, ValueError, r"\by\b"),
        "X-complex": (complex_X, y, None, ValueError, r"[Cc]omplex"),
        "y-complex": (X, y + 1j, None, ValueError, r"[Cc]omplex"),
        "sw-complex": (X, y, ones + 1j, ValueError, r"[Cc]omplex"),
        "X-strings": (strings, y, None, ValueError, r"could not convert|string"),
        "y-strings": (X, np.array(["a"] * 20), None, ValueError, r"could not conv"),
        "y-objects": (
            X,
            np.array(["a"] * 20, dtype=object),
            None,
            ValueError,
            r"could not convert|string",
        ),
        "sw-negative": (X, y, negative, ValueError, r"[Nn]egative"),
        "sw-all-zero": (X, y, 0 * ones, ValueError, r"(?i)sample.weight"),
    }


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("case", list(_bad_fit_inputs()))
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bad_input_is_refused_with_a_message(name, case, method):
    X, y, sample_weight, exception, match = _bad_fit_inputs()[case]
    estimator = fresh(name)
    assert_raises_cleanly(
        exception, match, getattr(estimator, method), X, y, sample_weight
    )
    assert not hasattr(estimator, "coef_")


def _bad_chunks():
    X, y = small_data(seed=1)
    return {
        "X-NaN": (_with_value(X, np.nan), y, None, r"\bX\b.*NaN"),
        "X-csr-inf": (_with_value(X, np.inf, "csr"), y, None, r"\bX\b.*infinity"),
        "y-NaN": (X, _with_value(y, np.nan), None, r"\by\b.*NaN"),
        "sw-NaN": (X, y, _with_value(np.ones(20), np.nan), r"sample_weight.*NaN"),
        "sw-negative": (X, y, -np.ones(20), r"[Nn]egative"),
        "sw-all-zero": (X, y, np.zeros(20), r"(?i)sample.weight"),
        "changed-width": (X[:, :2], y, None, r"2 features.*expecting 3"),
        "wider": (np.column_stack([X, X[:, 0]]), y, None, r"4 features.*expecting 3"),
        "X-1d": (X[:, 0], y, None, r"2D array"),
        "X-complex": (X + 1j, y, None, r"[Cc]omplex"),
        "y-2d-after-1d": (X, np.column_stack([y, y]), None, r"\by\b.*shape"),
    }


@pytest.mark.parametrize("case", list(_bad_chunks()))
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bad_partial_fit_chunk_is_refused_and_nothing_is_lost(name, case):
    X, y = small_data(n_samples=40, seed=2)
    X_bad, y_bad, sw_bad, match = _bad_chunks()[case]
    estimator = fresh(name)
    quietly(estimator.partial_fit, X[:20], y[:20])
    before = (estimator.coef_.copy(), np.copy(estimator.intercept_))

    assert_raises_cleanly(
        ValueError, match, estimator.partial_fit, X_bad, y_bad, sw_bad
    )

    # The model is untouched, and the next good chunk continues as if the
    # bad one had never been offered.
    assert_array_equal(estimator.coef_, before[0])
    assert_array_equal(estimator.intercept_, before[1])
    quietly(estimator.partial_fit, X[20:], y[20:])
    reference = fresh(name)
    quietly(reference.partial_fit, X[:20], y[:20])
    quietly(reference.partial_fit, X[20:], y[20:])
    assert_allclose(estimator.coef_, reference.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(estimator.intercept_, reference.intercept_, rtol=1e-12)


# --------------------------------------------------------------------------
# Bad input to predict
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_predict_before_fit_is_not_fitted_error(name):
    X, _ = small_data()
    info = assert_raises_cleanly(NotFittedError, r"not fitted", fresh(name).predict, X)
    assert isinstance(info.value, ValueError)  # scikit-learn's contract


def _bad_predict_inputs():
    X, _ = small_data(seed=3)
    return {
        "narrower": (X[:, :2], r"2 features.*expecting 3"),
        "wider": (np.column_stack([X, X]), r"6 features.*expecting 3"),
        "X-1d": (X[0], r"2D array"),
        "X-3d": (X[:, :, None], r"dim 3"),
        "X-NaN": (_with_value(X, np.nan), r"\bX\b.*NaN"),
        "X-inf": (_with_value(X, -np.inf), r"\bX\b.*infinity"),
        "X-csr-NaN": (_with_value(X, np.nan, "csr"), r"\bX\b.*NaN"),
        "X-csc-inf": (_with_value(X, np.inf, "csc"), r"\bX\b.*infinity"),
        "X-complex": (X + 1j, r"[Cc]omplex"),
        "X-strings": (np.array([["a", "b", "c"]] * 5), r"could not convert|string"),
        "empty": (np.empty((0, 3)), r"0 sample"),
    }


@pytest.mark.parametrize("case", list(_bad_predict_inputs()))
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bad_predict_input_is_refused_with_a_message(name, case):
    X, y = small_data()
    estimator = quietly(fresh(name).fit, X, y)
    X_bad, match = _bad_predict_inputs()[case]
    assert_raises_cleanly(ValueError, match, estimator.predict, X_bad)


# --------------------------------------------------------------------------
# Invalid parameters: InvalidParameterError naming the parameter
# --------------------------------------------------------------------------

_COMMON_BAD_PARAMS = [
    ("learning_rate", 0),
    ("learning_rate", 0.0),
    ("learning_rate", -0.1),
    ("learning_rate", np.inf),
    ("learning_rate", np.nan),
    ("learning_rate", "fast"),
    ("learning_rate", "Auto"),
    ("learning_rate", None),
    ("alpha", -1e-3),
    ("alpha", np.nan),
    ("alpha", np.inf),
    ("alpha", "big"),
    ("fit_intercept", "yes"),
    ("fit_intercept", None),
    ("warm_start", "no"),
]
BAD_PARAMS = (
    [(OneStepRegressor, *case) for case in _COMMON_BAD_PARAMS]
    + [
        (OneStepRegressor, "solver", "lbfgs"),
        (OneStepRegressor, "solver", None),
    ]
    + [(IterativeGDRegressor, *case) for case in _COMMON_BAD_PARAMS]
    + [
        (IterativeGDRegressor, name, value)
        for name, value in [
            ("schedule", "optimal"),
            ("power_t", -0.5),
            ("max_iter", 0),
            ("max_iter", 1.5),
            ("max_iter", None),
            ("tol", -1e-3),
            ("tol", "small"),
            ("momentum", -0.1),
            ("momentum", 1.0),
            ("nesterov", "yes"),
            ("batch_size", 0),
            ("batch_size", 2.5),
            ("shuffle", "yes"),
            ("random_state", "seed"),
            ("early_stopping", "yes"),
            ("validation_fraction", 0.0),
            ("validation_fraction", 1.0),
            ("n_iter_no_change", 0),
            ("precompute", "always"),
            ("verbose", -1),
        ]
    ]
)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize(
    "Estimator, param, value",
    BAD_PARAMS,
    ids=[f"{E.__name__}-{p}={v!r}" for E, p, v in BAD_PARAMS],
)
def test_invalid_parameter_is_named(Estimator, param, value, method):
    X, y = small_data()
    estimator = Estimator(**{param: value})
    info = assert_raises_cleanly(
        InvalidParameterError, rf"'{param}' parameter", getattr(estimator, method), X, y
    )
    assert isinstance(info.value, ValueError)
    assert not hasattr(estimator, "coef_")


# --------------------------------------------------------------------------
# Awkward but valid input: fits, finite, the right answer
# --------------------------------------------------------------------------


def fit_without_warnings(estimator, X, y, sample_weight=None):
    """Fit where nothing deserves a warning: any warning fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return estimator.fit(X, y, sample_weight)


def assert_finite_model(estimator, X):
    assert np.all(np.isfinite(estimator.coef_))
    assert np.all(np.isfinite(estimator.intercept_))
    assert np.all(np.isfinite(estimator.predict(X)))


@pytest.mark.parametrize("fmt", ["dense", "csr"])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_constant_y(name, fmt):
    # The minimiser is w = 0, b = y: reached exactly, with no warning.
    X, _ = small_data()
    X = X if fmt == "dense" else sp.csr_matrix(X)
    y = np.full(20, -2.75)
    estimator = fit_without_warnings(fresh(name), X, y)
    assert_allclose(estimator.coef_, 0.0, atol=1e-12)
    assert estimator.intercept_ == pytest.approx(-2.75, rel=1e-12)
    assert_allclose(estimator.predict(X), y, rtol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_all_zero_X(name, fit_intercept):
    _, y = small_data()
    X = np.zeros((20, 3))
    estimator = fresh(name).set_params(fit_intercept=fit_intercept)
    fit_without_warnings(estimator, X, y)
    assert_array_equal(estimator.coef_, np.zeros(3))
    expected = y.mean() if fit_intercept else 0.0
    assert estimator.intercept_ == pytest.approx(expected, rel=1e-12)
    assert_finite_model(estimator, X)


CONSTANTS = [1.1, 1e6 + 0.1, 123456.789, -3e15 + 1]


@pytest.mark.parametrize("n_samples", [7, 30, 1000])
@pytest.mark.parametrize("value", CONSTANTS)
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_constant_non_zero_column(name, value, n_samples):
    # A constant column has no variance: it cannot explain anything, its
    # minimum-norm coefficient is 0 and the intercept is ȳ. Its float mean is
    # not exactly its value, so the centred column is rounding noise (~1e-16
    # of the value): a step of 1/(that noise²) must not be taken.
    rng = np.random.default_rng(9)
    X = np.full((n_samples, 1), value)
    y = rng.normal(size=n_samples) + 4.0
    estimator = fit_without_warnings(fresh(name), X, y)
    assert abs(estimator.coef_[0] * value) <= 1e-8 * np.ptp(y)
    assert estimator.intercept_ == pytest.approx(y.mean(), rel=1e-8)
    assert_allclose(estimator.predict(X), y.mean(), rtol=1e-8)


@pytest.mark.parametrize("value", CONSTANTS)
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_constant_column_beside_informative_ones(name, value):
    # The constant column changes nothing: same model as without it.
    X, y = small_data(n_samples=30, seed=10)
    X_const = np.column_stack([X[:, :1], np.full(30, value), X[:, 1:]])
    with_column = quietly(fresh(name).fit, X_const, y)
    without = quietly(fresh(name).fit, X, y)
    assert abs(with_column.coef_[1] * value) <= 1e-8 * np.ptp(y)
    assert_allclose(
        np.delete(with_column.coef_, 1), without.coef_, rtol=1e-8, atol=1e-12
    )
    assert_allclose(with_column.predict(X_const), without.predict(X), rtol=1e-8)


@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_duplicated_columns(name):
    X, y = small_data(n_samples=50)
    X_dup = np.column_stack([X, X[:, 1], X[:, 1]])
    estimator = quietly(fresh(name).fit, X_dup, y)
    assert_finite_model(estimator, X_dup)
    # From θ₀ = 0 every method treats identical columns identically.
    assert estimator.coef_[3] == pytest.approx(estimator.coef_[1], rel=1e-9)
    assert estimator.coef_[4] == pytest.approx(estimator.coef_[1], rel=1e-9)


@pytest.mark.parametrize("name", ["newton", *CONVERGED_GD])
def test_duplicated_columns_fit_like_lstsq(name):
    X, y = small_data(n_samples=50)
    X_dup = np.column_stack([X, X[:, 1], X[:, 1]])
    estimator = clone(CONVERGED_GD.get(name, ESTIMATORS[name]))
    fit_without_warnings(estimator, X_dup, y)
    centred = X_dup - X_dup.mean(axis=0)
    expected = np.linalg.lstsq(centred, y - y.mean(), rcond=None)[0]
    rtol = 1e-9 if name == "newton" else 1e-5
    assert_allclose(estimator.coef_, expected, rtol=rtol)
    assert_allclose(
        estimator.predict(X_dup), LinearRegression().fit(X, y).predict(X), rtol=rtol
    )


@pytest.mark.parametrize("n_features", [1, 3])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_one_sample_with_intercept_predicts_it(name, n_features):
    # One sample: the centred data are all zero, so w = 0 and b = y.
    X = np.array([[2.0, -1.0, 0.5][:n_features]])
    y = np.array([7.25])
    estimator = fit_without_warnings(fresh(name), X, y)
    assert_array_equal(estimator.coef_, np.zeros(n_features))
    assert estimator.intercept_ == pytest.approx(7.25, rel=1e-15)
    assert_allclose(estimator.predict(X), y, rtol=1e-15)


@pytest.mark.parametrize("name", ["newton", *CONVERGED_GD])
def test_one_sample_without_intercept_is_minimum_norm(name):
    X = np.array([[2.0, -1.0, 0.5]])
    y = np.array([7.25])
    estimator = clone(CONVERGED_GD.get(name, ESTIMATORS[name]))
    fit_without_warnings(estimator.set_params(fit_intercept=False), X, y)
    expected = X[0] * y[0] / (X[0] @ X[0])
    assert_allclose(estimator.coef_, expected, rtol=1e-6 if "gd" in name else 1e-12)


@pytest.mark.parametrize(
    "dtype", [bool, np.int8, np.uint8, np.int32, np.int64], ids=lambda d: d.__name__
)
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_bool_and_int_X_equal_float_X(name, dtype):
    rng = np.random.default_rng(5)
    if dtype is bool:
        X = rng.random((30, 3)) < 0.5
    else:
        X = rng.integers(0, 100, size=(30, 3)).astype(dtype)
    y = X.astype(float) @ [0.5, -1.0, 2.0] + rng.normal(size=30)
    estimator = quietly(fresh(name).fit, X, y)
    reference = quietly(fresh(name).fit, X.astype(np.float64), y)
    assert estimator.coef_.dtype == np.float64
    assert_allclose(estimator.coef_, reference.coef_, rtol=1e-12, atol=1e-14)
    assert_allclose(estimator.predict(X), reference.predict(X), rtol=1e-12)


# Scales from the issue (near 1e-160 and 1e150) and beyond, where squares
# underflow to zero or overflow to infinity: LinearRegression fits all of
# them exactly (LAPACK scales internally), so must we.
SCALES = [
    pytest.param(1e-160, id="1e-160"),
    pytest.param(1e150, id="1e150"),
    pytest.param(1e-200, id="1e-200"),
    pytest.param(1e200, id="1e200"),
]


# alpha·‖w‖² is not invariant under X → cX (it becomes alpha/c² on c·w), so
# the ridge estimator is left out of these comparisons.
SCALE_INVARIANT = [name for name in ESTIMATORS if name != "newton-ridge"]


def _scaled_problem():
    X, y = small_data(n_samples=50, seed=6)
    return X, y


@pytest.mark.parametrize("scale_y", [False, True], ids=["y", "y-scaled-too"])
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("name", SCALE_INVARIANT)
def test_tiny_and_huge_X_scale_internally(name, scale, scale_y):
    # f(w, b) on (cX, y) is f(c·w, b) on (X, y): coef(cX) = coef(X)/c, and
    # with y scaled too, coef(cX, cy) = coef(X, y), intercept × c. Every
    # method here is invariant under this scaling in exact arithmetic.
    X, y = _scaled_problem()
    reference = quietly(fresh(name).fit, X, y)
    y_scale = scale if scale_y else 1.0
    estimator = without_noise(fresh(name).fit, X * scale, y * y_scale)
    expected = reference.coef_ * (y_scale / scale)
    assert np.all(np.isfinite(estimator.coef_))
    assert_allclose(estimator.coef_, expected, rtol=1e-6)
    assert estimator.intercept_ == pytest.approx(
        reference.intercept_ * y_scale, rel=1e-6
    )
    predictions = estimator.predict(X * scale)
    assert_allclose(predictions, reference.predict(X) * y_scale, rtol=1e-6)


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("name", ["newton", "gd"])
def test_tiny_and_huge_sparse_X_scale_internally(name, fmt, scale):
    X, y = _scaled_problem()
    reference = quietly(fresh(name).fit, X, y)
    X_sparse = sp.csr_matrix(X * scale).asformat(fmt)
    estimator = without_noise(fresh(name).fit, X_sparse, y)
    assert_allclose(estimator.coef_, reference.coef_ / scale, rtol=1e-6)
    assert estimator.intercept_ == pytest.approx(reference.intercept_, rel=1e-6)


@pytest.mark.parametrize("scale", SCALES)
def test_tiny_and_huge_X_in_partial_fit(scale):
    X, y = _scaled_problem()
    reference = OneStepRegressor().fit(X, y)
    estimator = OneStepRegressor()
    without_noise(estimator.partial_fit, X[:25] * scale, y[:25])
    without_noise(estimator.partial_fit, X[25:] * scale, y[25:])
    assert_allclose(estimator.coef_, reference.coef_ / scale, rtol=1e-6)
    assert estimator.intercept_ == pytest.approx(reference.intercept_, rel=1e-6)


@pytest.mark.parametrize("name", SCALE_INVARIANT)
def test_column_scales_spanning_the_float_range(name):
    # Columns near 1e-160 and 1e150 in the same design: each coefficient
    # scales with its own column.
    X, y = _scaled_problem()
    scales = np.array([1e-160, 1.0, 1e150])
    reference = quietly(fresh(name).fit, X, y)
    if name.startswith("gd"):
        # One common scale cannot serve 1e-160 beside 1e150: the small
        # column's variance underflows. Gradient descent used to freeze its
        # coefficient at 0 and say nothing (a silent wrong answer); it now
        # refuses with the fix.
        with pytest.raises(ValueError, match="extreme magnitude.*StandardScaler"):
            fresh(name).fit(X * scales, y)
        return
    estimator = without_noise(fresh(name).fit, X * scales, y)
    assert np.all(np.isfinite(estimator.coef_))
    if name == "newton":
        # Newton is invariant under column scaling.
        assert_allclose(estimator.coef_, reference.coef_ / scales, rtol=1e-6)
        assert estimator.intercept_ == pytest.approx(reference.intercept_, rel=1e-6)
    assert np.all(np.isfinite(estimator.predict(X * scales)))


# --------------------------------------------------------------------------
# Read-only memory maps and untouched inputs
# --------------------------------------------------------------------------


def _memmap(path, array):
    writer = np.memmap(path, dtype=array.dtype, mode="w+", shape=array.shape)
    writer[:] = array
    writer.flush()
    del writer
    return np.memmap(path, dtype=array.dtype, mode="r", shape=array.shape)


@pytest.mark.parametrize("dtype", [np.float32, np.int32], ids=["float32", "int32"])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_read_only_memmaps_of_other_dtypes(tmp_path, name, dtype):
    # Float64 memmaps are tested in test_objective.py; these need conversion.
    X, y = small_data(n_samples=60)
    X = (X * 10).astype(dtype)
    sample_weight = np.linspace(0.5, 2.0, 60)
    X_map = _memmap(tmp_path / "X.dat", X)
    y_map = _memmap(tmp_path / "y.dat", y)
    sw_map = _memmap(tmp_path / "sw.dat", sample_weight)

    estimator = quietly(fresh(name).fit, X_map, y_map, sw_map)
    quietly(estimator.partial_fit, X_map, y_map, sw_map)
    predictions = estimator.predict(X_map)
    reference = quietly(fresh(name).fit, X, y, sample_weight)
    quietly(reference.partial_fit, X, y, sample_weight)

    assert_allclose(predictions, reference.predict(X), rtol=1e-12)
    assert_array_equal(X_map, X)
    assert_array_equal(y_map, y)


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_read_only_sparse_arrays(name, fmt):
    X, y = small_data(n_samples=60)
    X = np.where(np.abs(X) > 0.8, X, 0.0)
    X_sparse = sp.csr_matrix(X).asformat(fmt)
    for array in (X_sparse.data, X_sparse.indices, X_sparse.indptr):
        array.flags.writeable = False

    estimator = quietly(fresh(name).fit, X_sparse, y)
    quietly(estimator.partial_fit, X_sparse, y)
    predictions = estimator.predict(X_sparse)
    reference = quietly(fresh(name).fit, X, y)
    quietly(reference.partial_fit, X, y)

    assert_allclose(predictions, reference.predict(X), rtol=1e-10)
    assert_array_equal(X_sparse.toarray(), X)


def _input_kinds():
    X, y = small_data(n_samples=40)
    return {
        "float64-C": (X, y),
        "float64-F": (np.asfortranarray(X), y),
        "float32": (X.astype(np.float32), y.astype(np.float32)),
        "int64": ((X * 10).astype(np.int64), y),
        "bool": (X > 1.0, y),
        "csr": (sp.csr_matrix(np.where(X > 1.0, X, 0.0)), y),
        "csc": (sp.csc_matrix(np.where(X > 1.0, X, 0.0)), y),
        "y-2d": (X, np.column_stack([y, -y])),
        "y-column": (X, y[:, None]),
        "dataframe": (pd.DataFrame(X, columns=["a", "b", "c"]), pd.Series(y)),
    }


def _snapshot(obj):
    if sp.issparse(obj):
        return [obj.format, obj.data.copy(), obj.indices.copy(), obj.indptr.copy()]
    if isinstance(obj, (pd.DataFrame, pd.Series)):
        return obj.copy(deep=True)
    return np.array(obj, copy=True, order="K")


def _assert_unchanged(obj, snapshot):
    if sp.issparse(obj):
        assert obj.format == snapshot[0]
        for actual, saved in zip((obj.data, obj.indices, obj.indptr), snapshot[1:]):
            assert_array_equal(actual, saved)
            assert actual.dtype == saved.dtype
    elif isinstance(obj, pd.DataFrame):
        pd.testing.assert_frame_equal(obj, snapshot)
    elif isinstance(obj, pd.Series):
        pd.testing.assert_series_equal(obj, snapshot)
    else:
        assert_array_equal(obj, snapshot)
        assert obj.dtype == snapshot.dtype
        assert obj.flags.c_contiguous == snapshot.flags.c_contiguous


@pytest.mark.parametrize("kind", list(_input_kinds()))
@pytest.mark.parametrize("name", list(ESTIMATORS))
def test_inputs_are_never_modified(name, kind):
    X, y = _input_kinds()[kind]
    sample_weight = np.linspace(0.5, 2.0, 40)
    saved = [_snapshot(a) for a in (X, y, sample_weight)]
    estimator = fresh(name)
    quietly(estimator.fit, X, y, sample_weight)
    quietly(estimator.partial_fit, X, y, sample_weight)
    assert_finite_model(estimator, X)
    for obj, snapshot in zip((X, y, sample_weight), saved):
        _assert_unchanged(obj, snapshot)
