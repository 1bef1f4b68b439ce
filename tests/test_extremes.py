"""No silent wrong answer: streamed and wide fits keep their digits, extreme
magnitudes are handled on every route, a zero Hessian is L = 0 everywhere,
and errors name the argument and value that caused them.

Each test is a reproduction of the issue "No silent wrong answer anywhere"
(O = OneStepRegressor, G = IterativeGDRegressor, S = suggest_learning_rate).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression

from onestep_sklearn import IterativeGDRegressor as G
from onestep_sklearn import OneStepRegressor as O
from onestep_sklearn import suggest_learning_rate as S


def data(n=300, seed=0, noise=0.01):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    return X, X @ [1.0, 2.0, 3.0] + 0.5 + noise * rng.normal(size=n)


def streamed(X, y, n_chunks, estimator=None):
    model = O() if estimator is None else estimator
    for rows in np.array_split(np.arange(len(y)), n_chunks):
        model.partial_fit(X[rows], y[rows])
    return model


def relative(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


# ---------------------------------------------------------------------------
# Silent wrong answers, now right.


def test_streamed_timestamps_keep_the_digits_of_fit():
    rng = np.random.default_rng(1)
    X = 1e9 + rng.normal(size=(1000, 3))
    y = X @ [1.0, 2.0, 3.0] + rng.normal(size=1000)
    fitted = O().fit(X, y)
    # Before: 3e-9 (the chunk means merged raw lose log10(|mean|/std) digits).
    assert relative(streamed(X, y, 10).coef_, fitted.coef_) < 1e-11


def test_streamed_columns_of_unequal_extreme_scales():
    X, y = data()
    scales = np.array([1e-150, 1.0, 1e150])
    reference = O().fit(X, y).coef_
    streamed_model = streamed(X * scales, y, 3)
    assert_allclose(streamed_model.coef_ * scales, reference, rtol=1e-10)
    continued = (
        O().fit(X[:100] * scales, y[:100]).partial_fit(X[100:] * scales, y[100:])
    )
    assert_allclose(continued.coef_ * scales, reference, rtol=1e-10)


def test_a_later_chunk_that_needs_other_units_re_expresses_the_first():
    X, y = data()
    scales = np.array([1.0, 1.0, 1e150])
    first = X[:150].copy()  # ordinary magnitudes
    later = X[150:] * scales  # column 2 at 1e150 from here on
    model = O().partial_fit(first, y[:150]).partial_fit(later, y[150:])
    both = np.vstack([first, later])
    assert np.all(np.isfinite(model.coef_))
    assert_allclose(model.predict(both), O().fit(both, y).predict(both), rtol=1e-8)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_wide_data_of_extreme_magnitude(scale):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(3, 10)) * scale, rng.normal(size=3)
    expected = LinearRegression().fit(X, y).predict(X)
    assert_allclose(O().fit(X, y).predict(X), expected, rtol=1e-10)


def test_a_column_the_pilot_rows_do_not_show():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 3))
    X[:1024, 1] = 0.0  # the first 1024 rows: zeros; then values near 1e-200
    X[1024:, 1] *= 1e-200
    y = X[:, 0] + X[:, 1] * 1e200 + 0.01 * rng.normal(size=3000)
    unscaled = X.copy()
    unscaled[:, 1] *= 1e200
    expected = O().fit(unscaled, y).coef_
    assert_allclose(O().fit(X, y).coef_ * [1, 1e-200, 1], expected, rtol=1e-9)


def test_huge_values_the_pilot_rows_do_not_show():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 3))
    X[1024:, 1] *= 1e200  # ordinary in the pilot rows, 1e200 after
    y = X[:, 0] + X[:, 1] * 1e-200 + 0.01 * rng.normal(size=3000)
    unscaled = X.copy()
    unscaled[:, 1] *= 1e-200
    expected = O().fit(unscaled, y).coef_
    # Before: "X is finite but its moments overflow"; a finite answer exists.
    assert_allclose(O().fit(X, y).coef_ * [1, 1e200, 1], expected, rtol=1e-8)


def test_gradient_descent_never_freezes_a_column_the_pilot_missed():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 3))
    X[:1024, 1] = 0.0
    X[1024:, 1] *= 1e-200
    y = X[:, 0] + X[:, 1] * 1e200
    with pytest.raises(ValueError, match="extreme magnitude"):
        G().fit(X, y)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_gradient_descent_partial_fit_in_extreme_units(scale):
    X, y = data()
    plain = G().partial_fit(X, y)
    scaled = G().partial_fit(X * scale, y)
    assert_allclose(scaled.coef_ * scale, plain.coef_, rtol=1e-10)


def test_wide_newton_with_one_large_column():
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(20, 40)), rng.normal(size=20)
    X[:, 0] *= 1e6
    centred = X - X.mean(axis=0)
    reference = np.linalg.lstsq(centred, y - y.mean(), rcond=None)[0]
    # Before: 5e-9 (one refinement step of the n × n dual); K has cond(X)²,
    # refinement to convergence leaves about cond(X)·eps.
    assert relative(O().fit(X, y).coef_, reference) < 1e-9


def test_a_penalised_fit_of_tiny_x_is_not_zero():
    X, y = data()
    tiny = X * 1e-300
    centred = X - X.mean(axis=0)
    # The penalty dominates: w ≈ Xcᵀ(y − ȳ)/(alpha·n), a finite answer.
    expected = 1e-300 * centred.T @ (y - y.mean()) / (1e-3 * len(y))
    for model in (O(alpha=1e-3), G(alpha=1e-3)):
        assert_allclose(model.fit(tiny, y).coef_, expected, rtol=1e-6)


# ---------------------------------------------------------------------------
# A Hessian that is exactly zero: L = 0, never a scipy error.


@pytest.mark.parametrize(
    "X, y",
    [
        (np.random.default_rng(5).normal(size=(1, 65)), [1.5]),
        (np.random.default_rng(6).normal(size=(1, 5)), [1.5]),
        (np.ones((5, 70)), np.arange(5.0)),
        (np.full((5, 100), 3.0), np.arange(5.0)),
    ],
    ids=["one-row-65", "one-row", "identical-rows", "constant-wide"],
)
@pytest.mark.parametrize("precompute", ["auto", False])
def test_zero_hessian_gives_the_mean(X, y, precompute):
    for model in (G(precompute=precompute).fit(X, y), G().partial_fit(X, y)):
        assert np.all(model.coef_ == 0)
        assert model.intercept_ == pytest.approx(np.mean(y))
        assert model.lipschitz_ == 0


@pytest.mark.parametrize(
    "X", [np.ones((10, 2100)), sp.csr_matrix((10, 600))], ids=["dense", "csr"]
)
def test_suggest_learning_rate_on_a_flat_objective(X):
    facts = S(X)
    assert facts.lipschitz == 0 and facts.max_stable == np.inf


# ---------------------------------------------------------------------------
# Errors that name the argument and the value.


def test_errors_name_their_cause():
    X, y = data()
    cases = [
        (lambda: S(X, alpha=np.nan), "'alpha' parameter"),
        (lambda: S(X, alpha="0.1"), "'alpha' parameter"),
        (lambda: O(solver="gradient", learning_rate=1e300).fit(X, y), "1e+300"),
        (lambda: G().fit(X * 1e-310, y), "exceed the range of float64"),
        (lambda: O().fit(X[:3], [1.0, None, 2.0]), "Input y contains NaN"),
        (
            lambda: O().fit(X, y, sample_weight=np.full(len(y), 1e307)),
            "sample_weight sums to inf",
        ),
        (lambda: O().fit(X.astype(np.float32), y * 1e39), "y has values up to"),
        (lambda: O(solver="gradient").fit(X, y, coef_init=[1e300] * 3), "coef_init"),
        (lambda: G().fit(X, y, coef_init=[1e200] * 3), "coef_init"),
        (lambda: G(early_stopping=True).fit(X[:1], y[:1]), "validation_fraction=0.1"),
        (
            lambda: G(early_stopping=True, validation_fraction=0.999).fit(X, y),
            "validation_fraction=0.999",
        ),
    ]
    for call, words in cases:
        with pytest.raises(ValueError, match=words.replace("+", r"\+")):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                call()


def test_warm_start_after_a_change_of_features_names_warm_start():
    X, y = data()
    model = G(warm_start=True, max_iter=20).fit(X, y)
    with pytest.raises(ValueError, match="warm_start=True"):
        model.fit(X[:, :2], y)


# ---------------------------------------------------------------------------
# The property: streamed fits agree with fit, offsets and scales as they come.


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_chunks=st.integers(1, 7),
    log_offsets=st.lists(st.floats(-12, 12), min_size=3, max_size=3),
    log_scales=st.lists(
        st.sampled_from([-150, -60, 0, 60, 150]), min_size=3, max_size=3
    ),
)
def test_partial_fit_agrees_with_fit(seed, n_chunks, log_offsets, log_scales):
    rng = np.random.default_rng(seed)
    n = 240
    base = rng.normal(size=(n, 3))
    y = base @ rng.normal(size=3) + 0.3 * rng.normal(size=n)
    scales = 10.0 ** np.asarray(log_scales, dtype=float)
    offsets = np.sign(rng.normal(size=3)) * 10.0 ** np.asarray(log_offsets)
    X = (base + offsets) * scales
    fitted = O().fit(X, y)
    cuts = np.sort(rng.choice(np.arange(10, n - 10), size=n_chunks - 1, replace=False))
    model = O()
    for rows in np.split(np.arange(n), cuts):
        model.partial_fit(X[rows], y[rows])
    # "To the digits fit has": the offsets cost both routes
    # log10(offset/spread) digits of the coefficients (the conditioning of the
    # centring), so the comparison is in units of the spread of each column.
    spread = np.std(X, axis=0)
    assert_allclose(
        model.coef_ * spread,
        fitted.coef_ * spread,
        rtol=0,
        atol=1e-7 * (np.max(np.abs(fitted.coef_ * spread)) + 1.0),
    )
    # Predictions: evaluating X·w itself rounds at eps·Σ|xⱼwⱼ| (the offsets).
    products = np.abs(X) @ np.abs(fitted.coef_)
    tolerance = 1e-10 * np.max(products) + 1e-8 * np.std(y)
    assert_allclose(model.predict(X), fitted.predict(X), rtol=0, atol=tolerance)
