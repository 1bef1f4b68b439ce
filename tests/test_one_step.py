"""OneStepRegressor against closed-form references.

The objective (quoted from ``onestep_sklearn._objective``)::

    f(w, b) = (1/Σsᵢ) Σ sᵢ (yᵢ − xᵢᵀw − b)²  +  alpha·‖w‖²

Multiplying by Σs gives Σ sᵢ (yᵢ − xᵢᵀw − b)² + (alpha·Σs)·‖w‖², which is
exactly what ``Ridge`` minimises with ``Ridge(alpha=alpha * Σs)``: so
``alpha`` here is ``Ridge(alpha=alpha * n_samples)`` with unit weights and
``Ridge(alpha=alpha * sample_weight.sum())`` with weights.
"""

import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import make_data
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, Ridge

from onestep_sklearn import OneStepRegressor


def weights(n_samples, seed=1):
    return np.random.default_rng(seed).uniform(0.2, 3.0, size=n_samples)


def centred(X, y, sample_weight=None, fit_intercept=True):
    """Weighted means and centred data, for references built from numpy."""
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    if not fit_intercept:
        return np.zeros(X.shape[1]), np.zeros(y.shape[1:]), X, y
    x_mean, y_mean = s @ X / s.sum(), s @ y / s.sum()
    return x_mean, y_mean, X - x_mean, y - y_mean


def direct_objective(X, y, coef, intercept, alpha, sample_weight=None):
    """f(w, b) straight from its definition; coef in scikit-learn's layout."""
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    resid = np.asarray(y) - (X @ np.asarray(coef).T + intercept)
    resid = resid.reshape(X.shape[0], -1)
    return float(np.sum(s[:, None] * resid**2) / s.sum() + alpha * np.sum(coef**2))


def assert_same_model(actual, expected, rtol=1e-9):
    scale = np.max(np.abs(expected.coef_))
    assert_allclose(actual.coef_, expected.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(
        actual.intercept_,
        expected.intercept_,
        rtol=rtol,
        atol=rtol * max(1.0, np.max(np.abs(expected.intercept_))),
    )


# --------------------------------------------------------------------------
# Newton: the exact minimiser
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_outputs", [None, 1, 3])
@pytest.mark.parametrize("weighted", [False, True])
def test_newton_equals_linear_regression(weighted, n_outputs, fit_intercept):
    X, y = make_data(n_outputs=n_outputs)
    sample_weight = weights(X.shape[0]) if weighted else None

    model = OneStepRegressor(fit_intercept=fit_intercept).fit(X, y, sample_weight)
    reference = LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight)

    assert model.coef_.shape == reference.coef_.shape
    if fit_intercept:
        # Without an intercept LinearRegression stores a scalar 0.0 even for
        # 2-D y; DESIGN.md asks for shape (n_targets,), compared by value.
        assert np.shape(model.intercept_) == np.shape(reference.intercept_)
    assert_same_model(model, reference)
    assert model.predict(X).shape == y.shape
    assert_allclose(model.predict(X), reference.predict(X), rtol=1e-9)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_outputs", [None, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_newton_equals_ridge_with_scaled_alpha(weighted, n_outputs, fit_intercept):
    X, y = make_data(n_outputs=n_outputs, seed=2)
    alpha = 0.3
    sample_weight = weights(X.shape[0]) if weighted else None
    # See the module docstring: Ridge's alpha is alpha·Σs (= alpha·n unweighted).
    ridge_alpha = alpha * (X.shape[0] if sample_weight is None else sample_weight.sum())

    model = OneStepRegressor(alpha=alpha, fit_intercept=fit_intercept).fit(
        X, y, sample_weight
    )
    reference = Ridge(
        alpha=ridge_alpha, fit_intercept=fit_intercept, solver="cholesky"
    ).fit(X, y, sample_weight)

    assert_same_model(model, reference)


@pytest.mark.parametrize("solver", ["newton", "gradient"])
def test_float32_input_gives_float32_model(solver):
    X, y = make_data(seed=3)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)

    model = OneStepRegressor(solver=solver).fit(X32, y32)
    model64 = OneStepRegressor(solver=solver).fit(X32.astype(np.float64), y32)

    assert model.coef_.dtype == np.float32
    assert np.asarray(model.intercept_).dtype == np.float32
    assert model.predict(X32).dtype == np.float32
    assert_allclose(model.coef_, model64.coef_, rtol=1e-4)
    assert_allclose(model.intercept_, model64.intercept_, rtol=1e-4)


def test_float32_multi_output_model_is_float32():
    X, y = make_data(n_outputs=2, seed=3)
    X32 = X.astype(np.float32)
    model = OneStepRegressor().fit(X32, y.astype(np.float32))
    assert model.coef_.dtype == np.float32
    assert model.intercept_.dtype == np.float32
    assert model.intercept_.shape == (2,)
    assert model.predict(X32).dtype == np.float32


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "shape", ["duplicated_column", "wide"], ids=["n>d-rank-deficient", "n<d"]
)
def test_newton_minimum_norm_on_rank_deficient_data(shape, weighted, fit_intercept):
    rng = np.random.default_rng(4)
    if shape == "duplicated_column":
        X = rng.normal(size=(40, 4)) + 1.0
        X = np.column_stack([X, X[:, 1]])
    else:
        X = rng.normal(size=(12, 30)) + 1.0
    y = rng.normal(size=X.shape[0]) + 2.0
    sample_weight = weights(X.shape[0]) if weighted else None
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    x_mean, y_mean, Xc, yc = centred(X, y, sample_weight, fit_intercept)
    root = np.sqrt(s)
    expected = np.linalg.lstsq(Xc * root[:, None], yc * root, rcond=None)[0]

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = OneStepRegressor(fit_intercept=fit_intercept).fit(X, y, sample_weight)

    assert_allclose(model.coef_, expected, rtol=1e-8, atol=1e-10)
    if fit_intercept:
        assert model.intercept_ == pytest.approx(y_mean - x_mean @ expected, rel=1e-8)
    if shape == "duplicated_column":
        # Minimum norm splits the weight evenly between identical columns.
        assert model.coef_[1] == pytest.approx(model.coef_[4], rel=1e-8)


# --------------------------------------------------------------------------
# The textbook gradient step and the exact line search
# --------------------------------------------------------------------------


def test_seed_example_textbook_step():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(100, 1))
    y = 3.0 * X + rng.normal(size=(100, 1))

    model = OneStepRegressor(
        solver="gradient", learning_rate=0.01, fit_intercept=False
    ).fit(X, y)

    assert model.coef_.shape == (1, 1)
    assert_allclose(model.coef_, 0.01 * (2 / 100) * X.T @ y, rtol=1e-12)
    assert model.predict(X).shape == (100, 1)
    assert model.n_iter_ == 1
    assert model.learning_rate_ == 0.01
    assert model.loss_ == pytest.approx(
        direct_objective(X, y, model.coef_, 0.0, 0.0), rel=1e-12
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_column_target_gives_row_coef_like_linear_regression(fit_intercept):
    X, y = make_data(n_outputs=1, seed=6)
    assert y.shape == (50, 1)

    model = OneStepRegressor(fit_intercept=fit_intercept).fit(X, y)
    reference = LinearRegression(fit_intercept=fit_intercept).fit(X, y)

    assert model.coef_.shape == reference.coef_.shape == (1, 4)
    # LinearRegression(fit_intercept=False) stores a scalar 0.0 intercept_.
    assert np.shape(model.intercept_) == (1,)
    if fit_intercept:
        assert np.shape(reference.intercept_) == (1,)
    assert model.predict(X).shape == (50, 1)
    assert_same_model(model, reference)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.2])
@pytest.mark.parametrize("start", ["zeros", "coef_init"])
def test_gradient_auto_is_the_exact_line_search(start, alpha, fit_intercept):
    X, y = make_data(seed=7)
    sample_weight = weights(X.shape[0], seed=8)
    s = sample_weight
    coef0 = np.zeros(4) if start == "zeros" else np.array([0.5, -1.0, 0.2, 0.0])
    x_mean, y_mean, Xc, yc = centred(X, y, sample_weight, fit_intercept)
    # Gradient and Hessian of the profiled objective, from the centred data.
    grad = 2 / s.sum() * Xc.T @ (s * (Xc @ coef0 - yc)) + 2 * alpha * coef0
    hessian = 2 / s.sum() * (Xc.T * s) @ Xc + 2 * alpha * np.eye(4)
    eta = grad @ grad / (grad @ hessian @ grad)

    def f(step):
        coef = coef0 - step * grad
        intercept = y_mean - x_mean @ coef if fit_intercept else 0.0
        return direct_objective(X, y, coef, intercept, alpha, sample_weight)

    model = OneStepRegressor(
        solver="gradient", alpha=alpha, fit_intercept=fit_intercept
    ).fit(X, y, sample_weight, coef_init=None if start == "zeros" else coef0)

    assert model.learning_rate_ == pytest.approx(eta, rel=1e-10)
    assert_allclose(model.coef_, coef0 - eta * grad, rtol=1e-10)
    assert model.loss_ == pytest.approx(
        direct_objective(X, y, model.coef_, model.intercept_, alpha, sample_weight),
        rel=1e-9,
    )
    assert model.loss_ == pytest.approx(f(eta), rel=1e-9)
    for other in (0.0, 0.5 * eta, 0.9 * eta, 0.99 * eta, 1.01 * eta, 1.5 * eta):
        assert f(other) > model.loss_


def test_gradient_auto_multi_output_takes_one_shared_step():
    X, y = make_data(n_outputs=3, seed=9)
    _, _, Xc, yc = centred(X, y)
    grad = -2 / 50 * Xc.T @ yc
    hess_grad = 2 / 50 * Xc.T @ (Xc @ grad)
    eta = np.sum(grad * grad) / np.sum(grad * hess_grad)

    model = OneStepRegressor(solver="gradient").fit(X, y)

    assert model.learning_rate_ == pytest.approx(eta, rel=1e-10)
    assert_allclose(model.coef_, -eta * grad.T, rtol=1e-10)
    assert model.loss_ == pytest.approx(
        direct_objective(X, y, model.coef_, model.intercept_, 0.0), rel=1e-9
    )


@pytest.mark.parametrize("eta", [0.3, 1.0, 1.7])
@pytest.mark.parametrize("n_outputs", [None, 2])
def test_newton_fixed_learning_rate_moves_towards_optimum(eta, n_outputs):
    X, y = make_data(n_outputs=n_outputs, seed=10)
    alpha = 0.1
    rng = np.random.default_rng(11)
    shape = (4,) if n_outputs is None else (n_outputs, 4)
    coef0 = rng.normal(size=shape)
    optimum = Ridge(alpha=alpha * 50, solver="cholesky").fit(X, y)

    model = OneStepRegressor(learning_rate=eta, alpha=alpha).fit(X, y, coef_init=coef0)

    expected = coef0 + eta * (optimum.coef_ - coef0)
    assert_allclose(model.coef_, expected, rtol=1e-9, atol=1e-12)
    assert model.learning_rate_ == eta
    x_mean, y_mean = X.mean(axis=0), y.mean(axis=0)
    assert_allclose(model.intercept_, y_mean - expected @ x_mean, rtol=1e-9)
    assert model.loss_ == pytest.approx(
        direct_objective(X, y, model.coef_, model.intercept_, alpha), rel=1e-9
    )


def test_warm_start_takes_a_second_textbook_step():
    X, y = make_data(seed=12)
    eta, n = 0.02, X.shape[0]
    x_mean, y_mean, Xc, yc = centred(X, y)

    def step(coef):
        return coef - eta * (2 / n) * Xc.T @ (Xc @ coef - yc)

    model = OneStepRegressor(solver="gradient", learning_rate=eta, warm_start=True)
    model.fit(X, y)
    assert_allclose(model.coef_, step(np.zeros(4)), rtol=1e-12)
    model.fit(X, y)
    expected = step(step(np.zeros(4)))
    assert_allclose(model.coef_, expected, rtol=1e-11)
    assert model.intercept_ == pytest.approx(y_mean - x_mean @ expected, rel=1e-11)

    # Without warm_start the second fit starts again from zeros.
    cold = OneStepRegressor(solver="gradient", learning_rate=eta)
    cold.fit(X, y)
    cold.fit(X, y)
    assert_allclose(cold.coef_, step(np.zeros(4)), rtol=1e-12)


def test_newton_auto_attributes():
    X, y = make_data(seed=13)
    model = OneStepRegressor().fit(X, y)
    reference = LinearRegression().fit(X, y)

    assert model.n_iter_ == 1
    assert model.learning_rate_ == 1.0
    assert model.n_features_in_ == 4
    expected_loss = np.mean((y - reference.predict(X)) ** 2)
    assert model.loss_ == pytest.approx(expected_loss, rel=1e-9)


# --------------------------------------------------------------------------
# partial_fit: exact streaming least squares
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"alpha": 0.2},
        {"fit_intercept": False},
        {"solver": "gradient"},
        {"solver": "gradient", "learning_rate": 0.05},
        {"solver": "newton", "learning_rate": 0.5},
    ],
    ids=["newton", "ridge", "no-intercept", "gradient-auto", "gradient", "newton-η"],
)
@pytest.mark.parametrize("n_outputs", [None, 2])
@pytest.mark.parametrize("seed", [0, 1])
def test_partial_fit_equals_fit_on_concatenation(params, n_outputs, seed):
    X, y = make_data(n_samples=60, n_outputs=n_outputs, seed=20 + seed)
    sample_weight = weights(60, seed=30 + seed)
    rng = np.random.default_rng(40 + seed)
    cuts = np.sort(rng.choice(np.arange(1, 60), size=4, replace=False))
    chunks = list(zip([0, *cuts], [*cuts, 60]))
    order = rng.permutation(len(chunks))

    streamed = OneStepRegressor(**params)
    for index in order:
        lo, hi = chunks[index]
        streamed.partial_fit(X[lo:hi], y[lo:hi], sample_weight[lo:hi])
    batch = OneStepRegressor(**params).fit(X, y, sample_weight)

    assert_same_model(streamed, batch)
    assert streamed.loss_ == pytest.approx(batch.loss_, rel=1e-9)
    assert streamed.learning_rate_ == pytest.approx(batch.learning_rate_, rel=1e-9)
    assert streamed.n_iter_ == 1


def test_fit_replaces_earlier_chunks_and_partial_fit_continues_from_it():
    # fit starts a new stream (the earlier chunks are gone); a partial_fit
    # after it adds its chunk to the rows fit saw, as StandardScaler does.
    X, y = make_data(seed=14)
    model = OneStepRegressor().partial_fit(X[:20], y[:20])
    model.fit(X[20:], y[20:])
    assert_same_model(model, OneStepRegressor().fit(X[20:], y[20:]))
    model.partial_fit(X[:20], y[:20])
    assert_same_model(model, OneStepRegressor().fit(X, y))


@pytest.mark.parametrize(
    "params, shape",
    [({"solver": "gradient"}, (60, 4)), ({}, (5, 12))],
    ids=["gradient-step", "wide-dual"],
)
def test_partial_fit_after_a_fit_without_statistics_warns_and_restarts(params, shape):
    # These fits keep no sufficient statistics of their rows (two passes, or
    # the n × n dual): a partial_fit after them cannot include those rows
    # and says so instead of silently forgetting them.
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=shape), rng.normal(size=shape[0])
    model = OneStepRegressor(**params).fit(X, y)
    with pytest.warns(UserWarning, match="rows are not part of the model"):
        model.partial_fit(X[:3], y[:3])
    assert_same_model(model, OneStepRegressor(**params).partial_fit(X[:3], y[:3]))


def test_partial_fit_rejects_changed_number_of_features():
    X, y = make_data(seed=15)
    model = OneStepRegressor().partial_fit(X[:25], y[:25])
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[25:, :3], y[25:])


def test_partial_fit_float32_overflow_raises():
    # fit and partial_fit promise the same model; fit rejects a step whose
    # result does not fit in the dtype of X, partial_fit must too, instead of
    # storing an infinite float32 coef_.
    rng = np.random.default_rng(16)
    X = (rng.normal(size=(20, 2)) * 1e10).astype(np.float32)
    y = (rng.normal(size=20) * 1e10).astype(np.float32)
    model = OneStepRegressor(solver="gradient", learning_rate=1e30)

    with np.errstate(all="ignore"):
        with pytest.raises(ValueError, match="overflowed"):
            model.fit(X, y)
        with pytest.raises(ValueError, match="overflowed"):
            model.partial_fit(X, y)
    assert not hasattr(model, "coef_") or np.all(np.isfinite(model.coef_))


# --------------------------------------------------------------------------
# Sample weights
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"alpha": 0.1},
        {"solver": "gradient"},
        {"solver": "gradient", "learning_rate": 0.05},
    ],
    ids=["newton", "ridge", "gradient-auto", "gradient"],
)
def test_integer_weights_equal_repeated_rows(params):
    X, y = make_data(n_samples=30, seed=17)
    counts = np.random.default_rng(18).integers(1, 4, size=30)

    weighted = OneStepRegressor(**params).fit(X, y, sample_weight=counts)
    repeated = OneStepRegressor(**params).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )

    assert_same_model(weighted, repeated)
    assert weighted.loss_ == pytest.approx(repeated.loss_, rel=1e-9)


@pytest.mark.parametrize(
    "params",
    [{}, {"solver": "gradient"}, {"solver": "gradient", "learning_rate": 0.05}],
    ids=["newton", "gradient-auto", "gradient"],
)
def test_zero_weights_equal_dropped_rows(params):
    X, y = make_data(n_samples=40, seed=19)
    sample_weight = weights(40, seed=20)
    sample_weight[::3] = 0.0
    kept = sample_weight > 0

    zero = OneStepRegressor(**params).fit(X, y, sample_weight)
    dropped = OneStepRegressor(**params).fit(X[kept], y[kept], sample_weight[kept])

    assert_same_model(zero, dropped)
    assert zero.loss_ == pytest.approx(dropped.loss_, rel=1e-9)


def test_negative_weight_raises():
    X, y = make_data(seed=21)
    sample_weight = np.ones(50)
    sample_weight[3] = -0.5
    with pytest.raises(ValueError, match="(?i)negative"):
        OneStepRegressor().fit(X, y, sample_weight)
    with pytest.raises(ValueError, match="(?i)negative"):
        OneStepRegressor().partial_fit(X, y, sample_weight)


def test_all_zero_weights_raise():
    X, y = make_data(seed=22)
    with pytest.raises(ValueError, match="(?i)sample.weight"):
        OneStepRegressor().fit(X, y, np.zeros(50))
    with pytest.raises(ValueError, match="(?i)sample.weight"):
        OneStepRegressor(solver="gradient").partial_fit(X, y, np.zeros(50))


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"alpha": 1.0},
        {"solver": "gradient"},
        {"solver": "gradient", "learning_rate": 0.01},
    ],
    ids=["newton", "ridge", "gradient-auto", "gradient"],
)
@pytest.mark.parametrize("weighted", [False, True])
def test_predictions_sum_to_weighted_target_sum(params, weighted):
    X, y = make_data(n_outputs=2, seed=23)
    sample_weight = weights(50, seed=24) if weighted else np.ones(50)

    model = OneStepRegressor(**params).fit(X, y, sample_weight)

    assert_allclose(sample_weight @ model.predict(X), sample_weight @ y, rtol=1e-10)


# --------------------------------------------------------------------------
# Input formats
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csr", "csc"])
@pytest.mark.parametrize(
    "params",
    [{}, {"alpha": 0.2, "fit_intercept": False}, {"solver": "gradient"}],
    ids=["newton", "ridge-no-intercept", "gradient-auto"],
)
def test_sparse_equals_dense(fmt, params):
    X, y = make_data(n_samples=60, n_features=6, n_outputs=2, seed=25)
    X[np.random.default_rng(26).uniform(size=X.shape) < 0.5] = 0.0
    sample_weight = weights(60, seed=27)
    X_sparse = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)

    dense = OneStepRegressor(**params).fit(X, y, sample_weight)
    sparse = OneStepRegressor(**params).fit(X_sparse, y, sample_weight)
    streamed = OneStepRegressor(**params).partial_fit(X_sparse, y, sample_weight)

    assert_same_model(sparse, dense)
    assert_same_model(streamed, dense)
    assert sparse.loss_ == pytest.approx(dense.loss_, rel=1e-9)
    assert_allclose(sparse.predict(X_sparse), dense.predict(X), rtol=1e-9)


def test_sparse_rank_deficient_newton_equals_dense():
    # n < d: the QR path, which materialises row blocks only.
    rng = np.random.default_rng(28)
    X = sp.random(15, 40, density=0.3, format="csr", random_state=29)
    y = rng.normal(size=15)

    sparse = OneStepRegressor().fit(X, y)
    dense = OneStepRegressor().fit(X.toarray(), y)

    assert_same_model(sparse, dense, rtol=1e-8)


@pytest.mark.parametrize("solver", ["newton", "gradient"])
def test_sparse_fit_does_not_densify(solver):
    n_samples, n_features = 20000, 200
    X = sp.random(n_samples, n_features, density=0.01, format="csr", random_state=30)
    y = np.random.default_rng(31).normal(size=n_samples)
    dense_bytes = n_samples * n_features * 8

    tracemalloc.start()
    model = OneStepRegressor(solver=solver).fit(X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert np.all(np.isfinite(model.coef_))
    assert peak < dense_bytes / 8, f"peak {peak} bytes vs dense {dense_bytes}"


def test_dataframe_feature_names_behave_like_linear_regression():
    X, y = make_data(seed=32)
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])

    model = OneStepRegressor().fit(frame, y)
    reference = LinearRegression().fit(frame, y)

    assert list(model.feature_names_in_) == ["a", "b", "c", "d"]
    assert_allclose(model.predict(frame), reference.predict(frame), rtol=1e-9)
    # scikit-learn >= 1.2 rejects renamed columns (ValueError) and warns when
    # names are missing; the estimator follows it in both cases.
    renamed = frame.rename(columns={"a": "z"})
    for estimator in (model, reference):
        with pytest.raises(ValueError, match="feature names should match"):
            estimator.predict(renamed)
        with pytest.warns(UserWarning, match="does not have valid feature names"):
            estimator.predict(X)


# --------------------------------------------------------------------------
# Overflow
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_overflowing_gradient_step_raises(fit_intercept):
    rng = np.random.default_rng(33)
    X = rng.normal(size=(20, 2)) * 1e150
    y = rng.normal(size=20)
    model = OneStepRegressor(
        solver="gradient", learning_rate=1e10, fit_intercept=fit_intercept
    )

    with np.errstate(all="ignore"):
        with pytest.raises(ValueError, match="overflowed") as error:
            model.fit(X, y)
    assert "learning_rate" in str(error.value)
    assert not hasattr(model, "coef_")


def test_overflowing_newton_step_raises():
    X, y = make_data(seed=34)
    model = OneStepRegressor(learning_rate=1e308)
    with np.errstate(all="ignore"):
        with pytest.raises(ValueError, match="overflowed") as error:
            model.fit(X, y, coef_init=np.full(4, 1e10))
    assert "learning_rate" in str(error.value)
