"""Memory during fit, measured deterministically with tracemalloc.

Goals: no copy of X. Extra memory during any fit on dense data with n ≫ d
stays within 10% of X's bytes; on CSR data within 50% of the CSR arrays
(sparse X is never densified). Unit sample weights are never materialised
as an n-sized vector.
"""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor
from onestep_sklearn._validation import validate_fit_data

ESTIMATORS = {
    "newton": lambda: OneStepRegressor(),
    "newton-ridge": lambda: OneStepRegressor(alpha=0.1),
    "gradient-auto": lambda: OneStepRegressor(solver="gradient"),
    "gradient-fixed": lambda: OneStepRegressor(solver="gradient", learning_rate=0.01),
    "gd-statistics": lambda: IterativeGDRegressor(max_iter=50),
    "gd-data-passes": lambda: IterativeGDRegressor(precompute=False, max_iter=3),
    "gd-momentum": lambda: IterativeGDRegressor(momentum=0.9, max_iter=50),
    "gd-minibatch": lambda: IterativeGDRegressor(
        batch_size=256, max_iter=1, random_state=0
    ),
}


def peak_during_fit(estimator, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        tracemalloc.start()
        try:
            estimator.fit(X, y, **fit_params)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.fixture(scope="module")
def dense():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200_000, 50))
    y = X @ rng.standard_normal(50) + rng.standard_normal(200_000)
    return X, y


@pytest.fixture(scope="module")
def csr():
    X = sp.random(100_000, 200, density=0.05, format="csr", random_state=0)
    y = np.asarray(X.sum(axis=1)).ravel()
    return X, y


@pytest.mark.parametrize("name", ESTIMATORS)
def test_dense_fit_extra_memory_below_ten_percent_of_X(dense, name):
    X, y = dense
    peak = peak_during_fit(ESTIMATORS[name](), X, y)
    assert peak <= 0.10 * X.nbytes, f"{name}: {peak / X.nbytes:.1%} of X"


@pytest.fixture(scope="module")
def uncentred():
    # The shape: 1e6 × 20, column means far from zero. At d = 20 an
    # n-sized column is 5% of X: the columns [y − ȳ, 1] held whole (15% of X
    # with the unit weights) would fail the bound.
    rng = np.random.default_rng(2)
    X = rng.standard_normal((1_000_000, 20))
    X += rng.uniform(1e3, 1e4, 20)
    y = X @ rng.standard_normal(20) + rng.standard_normal(X.shape[0])
    return X, y


@pytest.mark.parametrize("name", ["gradient-auto", "gradient-fixed", "newton"])
def test_uncentred_dense_fit_extra_memory_below_ten_percent_of_X(uncentred, name):
    X, y = uncentred
    peak = peak_during_fit(ESTIMATORS[name](), X, y)
    assert peak <= 0.10 * X.nbytes, f"{name}: {peak / X.nbytes:.1%} of X"


def test_uncentred_gradient_step_buffers_do_not_grow_with_n(uncentred):
    # The gradient step's buffers are row blocks and the unit weights a
    # view of one value: doubling n adds (next to) nothing.
    X, y = uncentred
    half = X.shape[0] // 2
    model = ESTIMATORS["gradient-fixed"]
    extra_full = peak_during_fit(model(), X, y)
    extra_half = peak_during_fit(model(), X[:half], y[:half])
    assert extra_full <= extra_half + 0.005 * X.nbytes


def test_unit_weights_are_a_view_of_one_value(uncentred):
    X, y = uncentred
    source = validate_fit_data(OneStepRegressor(), X, y, None, reset=True).source
    assert source.sample_weight.shape == (X.shape[0],)
    assert source.sample_weight.strides == (0,)
    assert source.sample_weight.base.size == 1


@pytest.mark.parametrize("name", [n for n in ESTIMATORS if n != "gd-minibatch"])
def test_full_batch_fits_hold_no_n_sized_vector(uncentred, name):
    # At d = 20 one float64 per row is 5% of X: unit weights held as an
    # array (or any other n-sized float64 column) would reach this bound.
    X, y = uncentred
    peak = peak_during_fit(ESTIMATORS[name](), X, y)
    assert peak < 8 * X.shape[0], f"{name}: {peak / (8 * X.shape[0]):.2f} n floats"


@pytest.fixture(scope="module")
def sparse_wide():
    # The shape: 500,000 × 200 at 1%. Its CSR arrays are 16 MB, of
    # which a vector of n unit weights would be a quarter.
    X = sp.random(500_000, 200, density=0.01, format="csr", random_state=0)
    y = np.asarray(X.sum(axis=1)).ravel()
    return X, y


@pytest.mark.parametrize("name", ESTIMATORS)
def test_large_csr_fit_extra_memory_below_half_the_csr_bytes(sparse_wide, name):
    X, y = sparse_wide
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    peak = peak_during_fit(ESTIMATORS[name](), X, y)
    assert peak <= 0.50 * csr_bytes, f"{name}: {peak / csr_bytes:.1%} of CSR"


def test_weighted_dense_fit_extra_memory(dense):
    X, y = dense
    weights = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    # The weights themselves are the caller's; the fit adds at most √s.
    peak = peak_during_fit(OneStepRegressor(), X, y, sample_weight=weights)
    assert peak <= 0.10 * X.nbytes


@pytest.mark.parametrize("name", ESTIMATORS)
def test_csr_fit_is_never_densified(csr, name):
    X, y = csr
    csr_bytes = X.data.nbytes + X.indices.nbytes + X.indptr.nbytes
    peak = peak_during_fit(ESTIMATORS[name](), X, y)
    assert peak <= 0.50 * csr_bytes, f"{name}: {peak / csr_bytes:.1%} of CSR"


def test_linear_regression_copies_X_for_contrast(dense):
    # The reference point of the goal: scikit-learn centres a copy of X.
    from sklearn.linear_model import LinearRegression

    X, y = dense
    assert peak_during_fit(LinearRegression(), X, y) > X.nbytes
