"""Tests for IterativeGDRegressor: gradient descent on the MSE objective.

The objective (``onestep_sklearn._objective``)::

    f(w, b) = (1/Σsᵢ) Σ sᵢ (yᵢ − xᵢᵀw − b)²  +  alpha·‖w‖²

so a converged fit equals ``Ridge(alpha=alpha * Σsᵢ)`` (``alpha * n_samples``
with unit weights), and ``LinearRegression`` when ``alpha=0``.
"""

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from conftest import make_data as shared_make_data
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.metrics import r2_score
from sklearn.model_selection import GridSearchCV, train_test_split

from onestep_sklearn import IterativeGDRegressor

MOMENTA = {
    "plain": {},
    "heavy_ball": {"momentum": 0.9},
    "nesterov": {"momentum": 0.9, "nesterov": True},
}


def make_data(n_samples=200, n_features=5, n_targets=None, seed=0, loc=0.0):
    """``conftest.make_data`` with every column mean ``loc`` (0: centred
    columns of unit scale), y linear plus noise and an offset."""
    X, y = shared_make_data(
        n_samples, n_features, n_targets, seed=seed, offset=0.0, intercept=3.0
    )
    # Shifting X changes only the intercept of the exact solution.
    return X + loc, y


def hessian(X, alpha=0.0, sample_weight=None, fit_intercept=True):
    """2·XcᵀSXc/Σs + 2·alpha·I, written from scratch."""
    sw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    Xc = X - sw @ X / sw.sum() if fit_intercept else X
    return 2 * (Xc.T * sw) @ Xc / sw.sum() + 2 * alpha * np.eye(X.shape[1])


def lipschitz(X, alpha=0.0, sample_weight=None, fit_intercept=True):
    return np.linalg.eigvalsh(hessian(X, alpha, sample_weight, fit_intercept))[-1]


def objective(X, y, coef, intercept, alpha=0.0, sample_weight=None):
    """f(w, b) at the given parameters, summed over outputs."""
    sw = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    resid = np.asarray(y) - (np.asarray(X) @ np.asarray(coef).T + intercept)
    sq = resid**2 if resid.ndim == 1 else (resid**2).sum(axis=1)
    return float(sw @ sq / sw.sum() + alpha * np.sum(np.asarray(coef) ** 2))


def fit_quietly(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def convergence_messages(record):
    return [str(w.message) for w in record if w.category is ConvergenceWarning]


# --------------------------------------------------------------------------
# Converged gradient descent == closed form
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MOMENTA))
@pytest.mark.parametrize("alpha", [0.0, 0.3])
@pytest.mark.parametrize("precompute", [True, False])
def test_converged_equals_ridge(precompute, alpha, mode):
    X, y = make_data()
    reg = IterativeGDRegressor(
        alpha=alpha, tol=1e-12, max_iter=20000, precompute=precompute, **MOMENTA[mode]
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg.fit(X, y)
    if alpha == 0:
        ref = LinearRegression().fit(X, y)
    else:
        ref = Ridge(alpha=alpha * X.shape[0]).fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-5)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-5)
    assert reg.n_iter_ < 20000


@pytest.mark.parametrize("precompute", [True, False])
def test_converged_multi_output_weighted_equals_ridge(precompute):
    X, Y = make_data(n_targets=3, seed=1)
    sample_weight = np.random.RandomState(2).uniform(0.2, 3.0, size=X.shape[0])
    alpha = 0.1
    reg = IterativeGDRegressor(
        alpha=alpha, tol=1e-12, max_iter=20000, precompute=precompute
    ).fit(X, Y, sample_weight=sample_weight)
    ref = Ridge(alpha=alpha * sample_weight.sum()).fit(
        X, Y, sample_weight=sample_weight
    )
    assert reg.coef_.shape == (3, X.shape[1])
    assert reg.intercept_.shape == (3,)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-5)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-5)
    assert reg.predict(X).shape == Y.shape


def test_single_column_target_keeps_2d_layout():
    X, y = make_data()
    reg = IterativeGDRegressor(tol=1e-12, max_iter=5000).fit(X, y[:, None])
    ref = LinearRegression().fit(X, y[:, None])
    assert reg.coef_.shape == ref.coef_.shape == (1, X.shape[1])
    assert reg.predict(X).shape == (X.shape[0], 1)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-5)


def test_predictions_sum_to_y_sum():
    X, y = make_data(loc=5.0)
    reg = IterativeGDRegressor(tol=1e-10, max_iter=5000).fit(X, y)
    assert_allclose(reg.predict(X).sum(), y.sum(), rtol=1e-10)


# --------------------------------------------------------------------------
# Precompute (sufficient statistics) vs data passes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MOMENTA))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_precompute_same_iterates(fit_intercept, mode):
    X, y = make_data(loc=2.0)
    common = dict(
        tol=None, max_iter=50, fit_intercept=fit_intercept, alpha=0.05, **MOMENTA[mode]
    )
    stats = IterativeGDRegressor(precompute=True, **common).fit(X, y)
    data = IterativeGDRegressor(precompute=False, **common).fit(X, y)
    assert len(stats.loss_curve_) == len(data.loss_curve_) == 50
    assert_allclose(stats.loss_curve_, data.loss_curve_, rtol=1e-8)
    assert_allclose(stats.coef_, data.coef_, rtol=1e-8)
    assert_allclose(stats.intercept_, data.intercept_, rtol=1e-8)
    assert_allclose(stats.learning_rate_, data.learning_rate_, rtol=1e-10)


# --------------------------------------------------------------------------
# learning_rate="auto" and lipschitz_
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("precompute", [True, False])
def test_auto_learning_rate_is_inverse_lipschitz(
    precompute, alpha, weighted, fit_intercept
):
    X, y = make_data(loc=3.0)
    X[:, 0] *= 4.0  # a dominant direction, so L is not ~2
    sw = np.random.RandomState(3).uniform(0.1, 2.0, X.shape[0]) if weighted else None
    reg = IterativeGDRegressor(
        alpha=alpha, precompute=precompute, fit_intercept=fit_intercept, max_iter=3
    )
    fit_quietly(reg, X, y, sample_weight=sw)
    L = lipschitz(X, alpha, sw, fit_intercept)
    assert_allclose(reg.lipschitz_, L, rtol=1e-6)
    assert_allclose(reg.learning_rate_, 1 / L, rtol=1e-6)


def test_auto_learning_rate_many_features_eigsh():
    # more than 64 features and precompute=False: L comes from eigsh on
    # Hessian-vector products.
    rng = np.random.RandomState(4)
    X = rng.randn(150, 80) * np.linspace(0.5, 3.0, 80)
    y = rng.randn(150)
    for alpha in (0.0, 0.2):
        reg = IterativeGDRegressor(alpha=alpha, precompute=False, max_iter=2)
        fit_quietly(reg, X, y)
        L = lipschitz(X, alpha)
        assert_allclose(reg.lipschitz_, L, rtol=1e-6)
        assert_allclose(reg.learning_rate_, 1 / L, rtol=1e-6)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_auto_learning_rate_minibatch_expected_smoothness(alpha):
    # "auto" with mini-batches is 1/L_B, between 1/Lₘₐₓ (single rows, the
    # per-sample bound) and 1/L (one batch): Gower et al. (2019), b-nice
    # sampling of b = 16 rows out of n = 200.
    X, y = make_data(loc=1.0)
    reg = IterativeGDRegressor(alpha=alpha, batch_size=16, random_state=0, max_iter=2)
    fit_quietly(reg, X, y)
    bound = 2 * np.max(np.sum((X - X.mean(axis=0)) ** 2, axis=1)) + 2 * alpha
    n, b, L = X.shape[0], 16, lipschitz(X, alpha)
    L_B = n * (b - 1) / (b * (n - 1)) * L + (n - b) / (b * (n - 1)) * bound
    assert_allclose(reg.learning_rate_, 1 / L_B, rtol=1e-8)
    assert 1 / bound < reg.learning_rate_ < 1 / L
    # lipschitz_ stays the full-data L
    assert_allclose(reg.lipschitz_, lipschitz(X, alpha), rtol=1e-6)


# --------------------------------------------------------------------------
# Stopping: tol, max_iter, ConvergenceWarning
# --------------------------------------------------------------------------


@pytest.mark.parametrize("precompute", [True, False])
def test_tol_none_runs_exactly_max_iter(precompute):
    X, y = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = IterativeGDRegressor(tol=None, max_iter=137, precompute=precompute)
        reg.fit(X, y)
    assert reg.n_iter_ == 137 == len(reg.loss_curve_)
    assert reg.t_ == 137


def test_default_tol_stops_early_without_warning():
    X, y = make_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        reg = IterativeGDRegressor().fit(X, y)
    assert 1 <= reg.n_iter_ < reg.max_iter
    assert len(reg.loss_curve_) == reg.n_iter_


def test_max_iter_reached_warns_with_numbers():
    X, y = make_data()
    X[:, 0] *= 30.0  # ill-conditioned: GD at 1/L is slow
    reg = IterativeGDRegressor(max_iter=7, tol=1e-9)
    with pytest.warns(ConvergenceWarning) as record:
        reg.fit(X, y)
    message = " ".join(convergence_messages(record))
    assert "max_iter=7" in message
    assert "tol=1e-09" in message
    assert reg.n_iter_ == 7


# --------------------------------------------------------------------------
# loss_curve_
# --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MOMENTA))
@pytest.mark.parametrize("precompute", [True, False])
def test_loss_curve_last_is_objective_at_fitted_model(precompute, mode):
    X, Y = make_data(n_targets=2, loc=1.0)
    sw = np.random.RandomState(5).uniform(0.5, 2.0, X.shape[0])
    alpha = 0.2
    reg = IterativeGDRegressor(
        alpha=alpha, tol=None, max_iter=40, precompute=precompute, **MOMENTA[mode]
    ).fit(X, Y, sample_weight=sw)
    value = objective(X, Y, reg.coef_, reg.intercept_, alpha, sw)
    assert_allclose(reg.loss_curve_[-1], value, rtol=1e-10)


@pytest.mark.parametrize("factor", [0.3, 1.0])
@pytest.mark.parametrize("precompute", [True, False])
def test_loss_curve_non_increasing_for_stable_rate(precompute, factor):
    X, y = make_data(loc=1.0)
    X[:, 1] *= 5.0
    rate = factor / lipschitz(X)
    reg = IterativeGDRegressor(
        learning_rate=rate, tol=None, max_iter=200, precompute=precompute
    ).fit(X, y)
    curve = np.asarray(reg.loss_curve_)
    assert np.all(np.diff(curve) <= 1e-12 * curve[:-1])
    assert curve[0] < objective(X, y, np.zeros(5), y.mean())


# --------------------------------------------------------------------------
# Divergence: caught, explained, best iterate kept
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"factor": 2.5},
        {"factor": 2.5, "precompute": False},
        {"factor": 100.0, "momentum": 0.9},
        {"factor": 100.0, "momentum": 0.9, "precompute": False},
        {"factor": 1e4, "momentum": 0.9, "nesterov": True},
        {"factor": 3.0, "batch_size": 16, "random_state": 0},
    ],
    ids=["gd", "gd-data", "heavy", "heavy-data", "nesterov", "minibatch"],
)
def test_divergence_is_caught_and_explained(params):
    params = dict(params)
    X, y = make_data(loc=100.0)  # un-centred: the intercept must be profiled
    L = lipschitz(X)
    rate = params.pop("factor") / L
    reg = IterativeGDRegressor(learning_rate=rate, max_iter=500, **params)
    with pytest.warns(ConvergenceWarning) as record:
        reg.fit(X, y)
    assert np.all(np.isfinite(reg.coef_)) and np.isfinite(reg.intercept_)
    assert np.all(np.isfinite(reg.predict(X)))
    message = " ".join(convergence_messages(record))
    assert "learning_rate" in message and "auto" in message
    # The limit that applies to these settings, by name and value.
    mu = params.get("momentum", 0.0)
    if mu == 0:
        name, limit = "2/L", 2 / L
    elif params.get("nesterov"):
        name, limit = "2(1+μ)/((1+2μ)L)", 2 * (1 + mu) / ((1 + 2 * mu) * L)
    else:
        name, limit = "2(1+μ)/L", 2 * (1 + mu) / L
    match = re.search(re.escape(name) + r" = ([0-9.eE+-]+)", message)
    assert match is not None, message
    assert_allclose(float(match.group(1)), limit, rtol=1e-3)
    assert len(record) == 1  # one warning per fit
    # The returned model is the best iterate seen.
    value = objective(X, y, reg.coef_, reg.intercept_)
    assert value <= min(reg.loss_curve_) * (1 + 1e-9)
    assert reg.n_iter_ < 500


def test_gridsearch_across_stability_limit_is_finite():
    X, y = make_data(loc=100.0)
    L = lipschitz(X)
    grid = GridSearchCV(
        IterativeGDRegressor(max_iter=300),
        {"learning_rate": list(np.geomspace(0.01 / L, 10 / L, 8))},
        cv=3,
        error_score="raise",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        grid.fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    assert grid.best_params_["learning_rate"] < 2 / L
    assert grid.best_score_ > 0.9


# --------------------------------------------------------------------------
# Schedules
# --------------------------------------------------------------------------


@pytest.mark.parametrize("precompute", [True, False])
def test_adaptive_schedule_recovers_from_large_rate(precompute):
    X, y = make_data()
    L = lipschitz(X)
    # 30/L -> 6/L -> 1.2/L: the last one is stable.
    reg = IterativeGDRegressor(
        schedule="adaptive",
        learning_rate=30 / L,
        tol=1e-12,
        max_iter=5000,
        precompute=precompute,
    )
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        reg.fit(X, y)
    assert not convergence_messages(record)
    ref = LinearRegression().fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-4)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-4)


@pytest.mark.parametrize("max_iter", [1, 2])
def test_adaptive_schedule_short_run_warns_instead_of_crashing(max_iter):
    # Every iteration overshoots (30/L, then 6/L): each is undone. Reaching
    # max_iter must give the usual ConvergenceWarning, not an exception.
    X, y = make_data()
    reg = IterativeGDRegressor(
        schedule="adaptive", learning_rate=30 / lipschitz(X), max_iter=max_iter
    )
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        reg.fit(X, y)
    assert np.all(np.isfinite(reg.coef_))
    assert reg.n_iter_ == max_iter


def test_adaptive_schedule_never_gives_up_silently():
    # Unscaled features and learning_rate=1.0: η·L ≈ 2e7, more than the 5**9
    # the adaptive schedule may divide by. It must either still reach the
    # optimum or say that it did not.
    X, y = make_data()
    X = X * 3000.0
    reg = IterativeGDRegressor(schedule="adaptive", learning_rate=1.0)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        reg.fit(X, y)
    converged = reg.score(X, y) > LinearRegression().fit(X, y).score(X, y) - 1e-3
    assert converged or convergence_messages(record), (
        f"coef_={reg.coef_}, R²={reg.score(X, y):.3f}, no warning"
    )


def test_invscaling_matches_hand_loop():
    X, y = make_data()
    eta, power_t = 0.2, 0.5
    reg = IterativeGDRegressor(
        schedule="invscaling",
        learning_rate=eta,
        power_t=power_t,
        tol=None,
        max_iter=3,
        fit_intercept=False,
    ).fit(X, y)
    n = X.shape[0]
    w = np.zeros(X.shape[1])
    for t in range(3):
        grad = (2 / n) * X.T @ (X @ w - y)
        w = w - eta / (t + 1) ** power_t * grad
    assert_allclose(reg.coef_, w, rtol=1e-10)
    assert reg.t_ == 3


# --------------------------------------------------------------------------
# Mini-batches
# --------------------------------------------------------------------------


def test_minibatch_reproducible_and_counts_updates():
    X, y = make_data(n_samples=203)
    params = dict(batch_size=16, random_state=0, max_iter=20, tol=None)
    first = IterativeGDRegressor(**params).fit(X, y)
    second = IterativeGDRegressor(**params).fit(X, y)
    assert_array_equal(first.coef_, second.coef_)
    assert_array_equal(first.loss_curve_, second.loss_curve_)
    assert first.t_ == first.n_iter_ * math.ceil(203 / 16) == 20 * 13
    other = IterativeGDRegressor(**{**params, "random_state": 1}).fit(X, y)
    assert not np.array_equal(first.coef_, other.coef_)


def test_minibatch_converges_near_optimum():
    X, y = make_data()
    reg = IterativeGDRegressor(batch_size=16, random_state=0, max_iter=200)
    fit_quietly(reg, X, y)
    ref = LinearRegression().fit(X, y)
    assert abs(reg.score(X, y) - ref.score(X, y)) < 1e-2
    assert reg.t_ == reg.n_iter_ * math.ceil(X.shape[0] / 16)


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("batch_size", [200, 500])
def test_one_batch_equals_full_batch(batch_size, shuffle):
    X, y = make_data(loc=1.0)
    common = dict(learning_rate=0.3, tol=None, max_iter=25, alpha=0.1)
    full = IterativeGDRegressor(**common).fit(X, y)
    batch = IterativeGDRegressor(
        batch_size=batch_size, shuffle=shuffle, random_state=0, **common
    ).fit(X, y)
    assert_allclose(batch.coef_, full.coef_, rtol=1e-9)
    assert_allclose(batch.intercept_, full.intercept_, rtol=1e-9)
    assert_allclose(batch.loss_curve_, full.loss_curve_, rtol=1e-9)


# --------------------------------------------------------------------------
# Hand-checked iterations
# --------------------------------------------------------------------------


@pytest.mark.parametrize("precompute", [True, False])
def test_one_iteration_no_intercept_is_textbook_step(precompute):
    X, y = make_data(loc=1.0)
    eta = 0.01
    reg = IterativeGDRegressor(
        learning_rate=eta,
        tol=None,
        max_iter=1,
        fit_intercept=False,
        precompute=precompute,
    ).fit(X, y)
    assert_allclose(reg.coef_, eta * (2 / X.shape[0]) * X.T @ y, rtol=1e-12)
    assert reg.intercept_ == 0.0
    assert reg.n_iter_ == reg.t_ == 1


@pytest.mark.parametrize("precompute", [True, False])
def test_one_iteration_with_intercept_is_centred_step(precompute):
    X, y = make_data(loc=4.0)
    eta = 0.05
    reg = IterativeGDRegressor(
        learning_rate=eta, tol=None, max_iter=1, precompute=precompute
    ).fit(X, y)
    Xc = X - X.mean(axis=0)
    coef = eta * (2 / X.shape[0]) * Xc.T @ (y - y.mean())
    assert_allclose(reg.coef_, coef, rtol=1e-10)
    assert_allclose(reg.intercept_, y.mean() - X.mean(axis=0) @ coef, rtol=1e-10)


@pytest.mark.parametrize("nesterov", [False, True])
@pytest.mark.parametrize("precompute", [True, False])
def test_two_momentum_iterations_match_hand_recursion(precompute, nesterov):
    X, y = make_data()
    eta, mu, alpha = 0.1, 0.9, 0.05
    reg = IterativeGDRegressor(
        learning_rate=eta,
        momentum=mu,
        nesterov=nesterov,
        alpha=alpha,
        tol=None,
        max_iter=2,
        fit_intercept=False,
        precompute=precompute,
    ).fit(X, y)
    n = X.shape[0]

    def grad(w):
        return (2 / n) * X.T @ (X @ w - y) + 2 * alpha * w

    w = np.zeros(X.shape[1])
    buf = np.zeros_like(w)
    for _ in range(2):
        g = grad(w)
        buf = mu * buf + g
        # heavy ball: w ← w − η·buf; Nesterov (the PyTorch/Sutskever form,
        # the parameters held at the look-ahead point): w ← w − η·(g + μ·buf)
        w = w - eta * (g + mu * buf if nesterov else buf)
    assert_allclose(reg.coef_, w, rtol=1e-10)
    assert_allclose(reg.loss_curve_[-1], objective(X, y, w, 0.0, alpha), rtol=1e-10)


# --------------------------------------------------------------------------
# Early stopping
# --------------------------------------------------------------------------


@pytest.mark.parametrize("precompute", [True, False])
def test_early_stopping_scores_are_validation_r2(precompute):
    X, y = make_data(n_samples=300, seed=6)
    X[:, 0] *= 10.0  # slow direction: R² improves over many iterations
    params = dict(
        early_stopping=True,
        validation_fraction=0.2,
        random_state=7,
        precompute=precompute,
        max_iter=1000,
    )
    reg = IterativeGDRegressor(**params)
    fit_quietly(reg, X, y)
    # The split of ``_split``: the first use of the seeded generator.
    _, val_rows = train_test_split(
        np.arange(X.shape[0]),
        test_size=0.2,
        random_state=np.random.RandomState(7),
    )
    assert len(reg.validation_scores_) == reg.n_iter_ == len(reg.loss_curve_)
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    assert -1.0 <= reg.best_validation_score_ <= 1.0
    # The returned model is the best-validation iterate.
    held_out = r2_score(y[val_rows], reg.predict(X[val_rows]))
    assert_allclose(reg.best_validation_score_, held_out, rtol=1e-9)
    # The first score is the R² on the held-out rows after one iteration.
    one = IterativeGDRegressor(**{**params, "max_iter": 1, "tol": None})
    one.fit(X, y)
    first = r2_score(y[val_rows], one.predict(X[val_rows]))
    assert_allclose(reg.validation_scores_[0], first, rtol=1e-9)
    assert reg.validation_scores_[0] < reg.best_validation_score_
    # R² plateaus: stopped well before max_iter.
    assert reg.n_iter_ < 1000


def test_early_stopping_validation_rows_not_trained_on():
    X, y = make_data(n_samples=200, seed=8)
    _, val_rows = train_test_split(
        np.arange(200), test_size=0.25, random_state=np.random.RandomState(3)
    )
    y_poisoned = y.copy()
    y_poisoned[val_rows] += 1000.0  # only the validation scores may change
    params = dict(
        early_stopping=True,
        validation_fraction=0.25,
        random_state=3,
        tol=None,
        max_iter=5,
    )
    clean = IterativeGDRegressor(**params).fit(X, y)
    poisoned = IterativeGDRegressor(**params).fit(X, y_poisoned)
    assert_allclose(clean.loss_curve_, poisoned.loss_curve_, rtol=1e-12)


# --------------------------------------------------------------------------
# Warm start and coef_init
# --------------------------------------------------------------------------


@pytest.mark.parametrize("precompute", [True, False])
def test_warm_start_continues(precompute):
    X, y = make_data(loc=1.0)
    X[:, 0] *= 6.0
    # Plain steps: a warm start keeps the iterate, not a velocity.
    common = dict(tol=None, precompute=precompute, momentum=0.0)
    reg = IterativeGDRegressor(max_iter=5, warm_start=True, **common)
    reg.fit(X, y)
    curve_first = list(reg.loss_curve_)
    reg.fit(X, y)
    once = IterativeGDRegressor(max_iter=10, **common).fit(X, y)
    assert_allclose(reg.coef_, once.coef_, rtol=1e-10)
    assert_allclose(reg.intercept_, once.intercept_, rtol=1e-10)
    assert_allclose(curve_first + reg.loss_curve_, once.loss_curve_, rtol=1e-10)


def test_coef_init_is_the_starting_point():
    X, Y = make_data(n_targets=2)
    ref = LinearRegression().fit(X, Y)
    reg = IterativeGDRegressor(tol=None, max_iter=1).fit(X, Y, coef_init=ref.coef_)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-9)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-9)
    # a different start gives a different first iterate
    zero = IterativeGDRegressor(tol=None, max_iter=1).fit(X, Y)
    assert not np.allclose(zero.coef_, ref.coef_, rtol=1e-3)


def test_coef_init_bad_shape_is_value_error():
    X, y = make_data()
    reg = IterativeGDRegressor(max_iter=2, tol=None)
    with pytest.raises(ValueError, match="coef_init"):
        reg.fit(X, y, coef_init=np.zeros(4))
    with pytest.raises(ValueError, match="coef_init"):
        reg.fit(X, y, coef_init=np.zeros((1, 5)))
    with pytest.raises(ValueError, match="coef_init"):
        reg.fit(X, np.c_[y, y], coef_init=np.zeros(5))
    with pytest.raises(ValueError):
        reg.fit(X, y, coef_init=np.full(5, np.nan))


# --------------------------------------------------------------------------
# partial_fit
# --------------------------------------------------------------------------


def test_partial_fit_one_iteration_per_call():
    X, y = make_data()
    reg = IterativeGDRegressor(learning_rate=0.1)
    for k in range(1, 5):
        reg.partial_fit(X, y)
        assert reg.n_iter_ == k
        assert len(reg.loss_curve_) == k
    assert np.all(np.diff(reg.loss_curve_) < 0)


@pytest.mark.parametrize("mode", list(MOMENTA))
@pytest.mark.parametrize("fit_intercept", [False, True])
def test_partial_fit_repeated_equals_fit(fit_intercept, mode):
    X, y = make_data(loc=1.0)
    common = dict(learning_rate=0.05, fit_intercept=fit_intercept, **MOMENTA[mode])
    reg = IterativeGDRegressor(**common)
    for _ in range(6):
        reg.partial_fit(X, y)
    ref = IterativeGDRegressor(tol=None, max_iter=6, **common).fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-9)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-9)
    assert_allclose(reg.loss_curve_, ref.loss_curve_, rtol=1e-9)
    assert reg.t_ == ref.t_ == 6


def test_partial_fit_feature_mismatch_is_value_error():
    X, y = make_data()
    reg = IterativeGDRegressor().partial_fit(X, y)
    with pytest.raises(ValueError):
        reg.partial_fit(X[:, :3], y)


def test_partial_fit_after_fit_on_other_features():
    # fit() resets the model; a partial_fit that follows must work on the
    # data fit() saw, whatever an earlier partial_fit saw.
    X, y = make_data()
    reg = IterativeGDRegressor(learning_rate=0.1)
    reg.partial_fit(X[:, :3], y)
    reg.fit(X, y)
    reg.partial_fit(X, y)
    assert reg.coef_.shape == (5,)
    assert np.all(np.isfinite(reg.coef_))


def test_partial_fit_after_fit_continues_from_fitted_coef():
    # As SGDRegressor and MLPRegressor: partial_fit continues the fitted model.
    X, y = make_data()
    reg = IterativeGDRegressor(tol=1e-12, max_iter=5000).fit(X, y)
    before = objective(X, y, reg.coef_, reg.intercept_)
    reg.partial_fit(X, y)
    after = objective(X, y, reg.coef_, reg.intercept_)
    assert after <= before * (1 + 1e-9), (before, after)


# --------------------------------------------------------------------------
# verbose
# --------------------------------------------------------------------------


def test_verbose_output(capsys):
    X, y = make_data()
    IterativeGDRegressor(verbose=1, tol=None, max_iter=5000).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    progress = [line for line in lines if line.startswith("iter")]
    assert 5 <= len(progress) and len(lines) <= 52
    for line in progress:
        for token in ("iter", "objective", "distance <=", "step"):
            assert token in line
    assert "5000" in lines[-1]
    IterativeGDRegressor(verbose=0, max_iter=50).fit(X, y)
    assert capsys.readouterr().out == ""


# --------------------------------------------------------------------------
# Input types: float32, sparse, pandas, weights
# --------------------------------------------------------------------------


@pytest.mark.parametrize("precompute", [True, False])
def test_float32_dtype_kept(precompute):
    X, y = make_data()
    X32 = X.astype(np.float32)
    reg = IterativeGDRegressor(tol=None, max_iter=50, precompute=precompute)
    fit_quietly(reg, X32, y)  # false divergence: see the test below
    assert reg.coef_.dtype == np.float32
    assert reg.predict(X32).dtype == np.float32
    ref = IterativeGDRegressor(tol=None, max_iter=50, precompute=precompute)
    ref.fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-4)


@pytest.mark.parametrize("tol", [1e-6, None])
@pytest.mark.parametrize("precompute", [True, False])
def test_float32_converges_without_false_divergence(precompute, tol):
    # Rounding noise of a float32 data pass is not divergence.
    X, y = make_data()
    X32 = X.astype(np.float32)
    reg = IterativeGDRegressor(tol=tol, max_iter=300, precompute=precompute)
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        reg.fit(X32, y)
    assert not [m for m in convergence_messages(record) if "diverged" in m]
    ref = LinearRegression().fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-4)


@pytest.mark.parametrize(
    "params",
    [
        {"precompute": True},
        {"precompute": False},
        {"batch_size": 16, "shuffle": False},
        {"precompute": False, "momentum": 0.5, "alpha": 0.1},
    ],
    ids=["stats", "data", "batch", "data-momentum"],
)
def test_sparse_equals_dense(params):
    X, y = make_data(loc=1.0)
    X[np.random.RandomState(9).rand(*X.shape) < 0.4] = 0.0
    sw = np.random.RandomState(10).uniform(0.5, 1.5, X.shape[0])
    common = dict(tol=None, max_iter=30, **params)
    dense = IterativeGDRegressor(**common).fit(X, y, sample_weight=sw)
    sparse = IterativeGDRegressor(**common).fit(sp.csr_matrix(X), y, sample_weight=sw)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-7)
    assert_allclose(sparse.intercept_, dense.intercept_, rtol=1e-7)
    assert_allclose(sparse.loss_curve_, dense.loss_curve_, rtol=1e-7)
    assert_allclose(sparse.learning_rate_, dense.learning_rate_, rtol=1e-7)
    assert_allclose(sparse.predict(sp.csr_matrix(X)), dense.predict(X), rtol=1e-7)


def test_dataframe_feature_names():
    X, y = make_data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    reg = IterativeGDRegressor(max_iter=20, tol=None).fit(frame, y)
    assert_array_equal(reg.feature_names_in_, frame.columns)
    assert reg.n_features_in_ == 5
    assert_allclose(reg.predict(frame), X @ reg.coef_ + reg.intercept_)


@pytest.mark.parametrize("precompute", [True, False])
def test_integer_weights_equal_repeated_rows(precompute):
    X, y = make_data(n_samples=60, loc=1.0)
    weights = np.random.RandomState(11).randint(0, 4, size=60)
    common = dict(tol=None, max_iter=30, precompute=precompute, alpha=0.05)
    weighted = IterativeGDRegressor(**common).fit(X, y, sample_weight=weights)
    rows = np.repeat(np.arange(60), weights)
    repeated = IterativeGDRegressor(**common).fit(X[rows], y[rows])
    assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-8)
    assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-8)
    assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-8)
    assert_allclose(weighted.lipschitz_, repeated.lipschitz_, rtol=1e-8)
