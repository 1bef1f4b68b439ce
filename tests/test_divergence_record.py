"""IterativeGDRegressor(divergence="stop" | "record"): a recorded divergence
keeps the rising curve, the best finite coef_, the warning and the reason."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor, suggest_learning_rate
from onestep_sklearn._solvers.stopping import RECORD_BOUND


@pytest.fixture(scope="module")
def data():
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X, y, suggest_learning_rate(X, y)


def fit(X, y, **params):
    with pytest.warns(ConvergenceWarning) as record:
        est = IterativeGDRegressor(**params).fit(X, y)
    (warning,) = [w for w in record if issubclass(w.category, ConvergenceWarning)]
    return est, str(warning.message)


@pytest.mark.parametrize("precompute", [True, False])
def test_record_keeps_the_rising_curve_and_the_best_coef(data, precompute):
    X, y, facts = data
    rate = 1.025 * facts.max_stable
    stop, stop_message = fit(X, y, learning_rate=rate, precompute=precompute)
    rec, rec_message = fit(
        X, y, learning_rate=rate, precompute=precompute, divergence="record"
    )
    assert len(stop.loss_curve_) == 2  # today's behaviour: the first rise
    assert stop.stop_reason_ == rec.stop_reason_ == "diverged"
    curve = np.array(rec.loss_curve_)
    assert np.all(np.isfinite(curve)) and len(curve) > 100
    assert np.all(np.diff(curve[1:]) > 0)  # rising from the second iteration on
    # Grows like ρ²ᵗ with ρ = max|1 − ηλ| = 1.05 (the top direction).
    rho = abs(1 - rate * facts.lipschitz)
    assert curve[-1] / curve[-2] == pytest.approx(rho**2, rel=1e-3)
    # It stops once the objective passes RECORD_BOUND times its scale.
    assert curve[-1] > 1e10 * curve[0] and curve[-2] < RECORD_BOUND * y.var() * 10
    assert rec.n_iter_ < 10_000
    # The best finite iterate is the one "stop" keeps; coef_ is finite.
    np.testing.assert_allclose(rec.coef_, stop.coef_, rtol=1e-10)
    assert np.all(np.isfinite(rec.coef_))
    # The same warning, at the first rising iteration.
    assert rec_message == stop_message
    assert "diverged at iteration 2" in rec_message


def test_record_runs_to_max_iter_when_the_blow_up_is_slow(data):
    X, y, facts = data
    rec, message = fit(
        X, y, learning_rate=1.001 * facts.max_stable, divergence="record", max_iter=300
    )
    assert rec.n_iter_ == len(rec.loss_curve_) == 300
    assert rec.stop_reason_ == "diverged"
    assert rec.loss_curve_[-1] > rec.loss_curve_[100] > min(rec.loss_curve_)
    assert "diverged at iteration" in message


def test_record_engines_agree(data):
    X, y, facts = data
    curves = [
        fit(
            X,
            y,
            learning_rate=1.01 * facts.max_stable,
            divergence="record",
            max_iter=200,
            precompute=precompute,
        )[0].loss_curve_
        for precompute in (True, False)
    ]
    np.testing.assert_allclose(curves[0], curves[1], rtol=1e-8)


def test_record_with_momentum(data):
    X, y, facts = data
    momentum = 0.5
    limit = suggest_learning_rate(X, momentum=momentum).max_stable
    rec, message = fit(
        X, y, learning_rate=1.05 * limit, momentum=momentum, divergence="record"
    )
    assert rec.stop_reason_ == "diverged"
    assert len(rec.loss_curve_) > 50 and rec.loss_curve_[-1] > 1e10
    assert np.all(np.isfinite(rec.coef_))
    assert "2(1+μ)/L" in message


def test_record_changes_nothing_below_the_limit(data):
    X, y, _ = data
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        a = IterativeGDRegressor().fit(X, y)
        b = IterativeGDRegressor(divergence="record").fit(X, y)
    assert a.loss_curve_ == b.loss_curve_ and b.stop_reason_ == "converged"
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_record_with_the_adaptive_schedule_still_undoes_steps(data):
    X, y, facts = data
    params = {"learning_rate": 3 * facts.max_stable, "schedule": "adaptive"}
    a = IterativeGDRegressor(**params).fit(X, y)
    b = IterativeGDRegressor(divergence="record", **params).fit(X, y)
    assert a.loss_curve_ == b.loss_curve_
    assert b.stop_reason_ == "converged"


def test_divergence_is_validated(data):
    X, y, _ = data
    with pytest.raises(ValueError, match="'divergence' parameter"):
        IterativeGDRegressor(divergence="ignore").fit(X, y)
