"""suggest_learning_rate against numpy.linalg.eigvalsh, on both routes."""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

import onestep_sklearn._learning_rate as learning_rate_module
from onestep_sklearn import IterativeGDRegressor, suggest_learning_rate


def reference_extremes(X, sample_weight, alpha, fit_intercept):
    """Extreme eigenvalues of H = 2·XcᵀSXc/Σs + 2·alpha·I, with numpy."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    centre = (w @ X) / w.sum() if fit_intercept else np.zeros(X.shape[1])
    Xc = X - centre
    hessian = 2 * (Xc.T * w) @ Xc / w.sum() + 2 * alpha * np.eye(X.shape[1])
    evals = np.linalg.eigvalsh(hessian)
    return evals[-1], evals[0]


def make_X(fmt, n_samples=300, n_features=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)) * np.linspace(0.2, 3, n_features)
    X += 4.0  # un-centred: the intercept matters
    if fmt == "dense":
        return X
    X[rng.random(X.shape) < 0.7] = 0.0
    return sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)


@pytest.mark.parametrize("route", ["exact", "lanczos"])
@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_matches_eigvalsh(monkeypatch, route, fmt, weighted, alpha, fit_intercept):
    if route == "lanczos":
        monkeypatch.setattr(
            learning_rate_module, "EXACT_MAX_FEATURES", {False: 0, True: 0}
        )
    X = make_X(fmt)
    weights = np.random.default_rng(1).uniform(0, 3, X.shape[0]) if weighted else None
    top, bottom = reference_extremes(X, weights, alpha, fit_intercept)
    facts = suggest_learning_rate(
        X, sample_weight=weights, alpha=alpha, fit_intercept=fit_intercept
    )
    assert facts.lipschitz == pytest.approx(top, rel=1e-6)
    assert facts.auto == pytest.approx(1 / top, rel=1e-6)
    assert facts.max_stable == pytest.approx(2 / top, rel=1e-6)
    assert facts.condition_number == pytest.approx(top / bottom, rel=1e-6)
    if route == "lanczos":
        # The Lanczos bound errs on the safe side: 1/L never exceeds 1/λmax.
        assert facts.lipschitz >= top * (1 - 1e-12)


def test_singular_hessian_has_infinite_condition_number():
    X = np.column_stack([np.arange(10.0), 2 * np.arange(10.0)])
    facts = suggest_learning_rate(X)
    assert facts.condition_number == np.inf
    assert np.isfinite(facts.lipschitz) and facts.lipschitz > 0


def test_constant_features_have_no_stability_limit():
    facts = suggest_learning_rate(np.ones((5, 2)))
    assert facts.lipschitz == 0.0
    assert facts.max_stable == np.inf


def test_same_numbers_back_the_estimator():
    X = make_X("dense", n_features=10)
    y = X @ np.arange(10.0)
    facts = suggest_learning_rate(X, alpha=0.3)
    model = IterativeGDRegressor(alpha=0.3, max_iter=3, tol=None).fit(X, y)
    assert model.lipschitz_ == pytest.approx(facts.lipschitz, rel=1e-12)
    assert model.learning_rate_ == pytest.approx(facts.auto, rel=1e-12)


@pytest.mark.parametrize("bad", [{"alpha": -1.0}])
def test_invalid_alpha(bad):
    with pytest.raises(ValueError, match="alpha"):
        suggest_learning_rate(make_X("dense"), **bad)


def test_zero_weights_rejected():
    X = make_X("dense")
    with pytest.raises(ValueError, match="[Ss]ample.weight"):
        suggest_learning_rate(X, sample_weight=np.zeros(X.shape[0]))


def test_lanczos_route_never_forms_the_gram(monkeypatch):
    # With the threshold at 0 the statistics (d × d Gram) are never built.
    monkeypatch.setattr(learning_rate_module, "EXACT_MAX_FEATURES", {False: 0, True: 0})

    def forbidden(*args, **kwargs):
        raise AssertionError("the Gram was formed")

    monkeypatch.setattr("onestep_sklearn._kernel.stats.stream_moments", forbidden)
    X = make_X("csr", n_features=60)
    top, _ = reference_extremes(X, None, 0.0, True)
    assert suggest_learning_rate(X).lipschitz == pytest.approx(top, rel=1e-6)
    assert_allclose(suggest_learning_rate(X).auto * top, 1.0, rtol=1e-6)
