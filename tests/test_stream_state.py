"""Streaming state with one owner: fit then partial_fit continues, shapes
are checked as scikit-learn checks them, and concurrent calls on one object
neither mix fits nor lose chunks."""

import threading

import numpy as np
import pytest
from conftest import make_data
from numpy.testing import assert_allclose

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor


def stream_data(n_samples=400, seed=0):
    return make_data(n_samples, 3, seed=seed, intercept=0.7, noise=0.1)


def test_one_step_fit_then_partial_fit_equals_fit_on_all_rows():
    X, y = stream_data()
    model = OneStepRegressor().fit(X[:150], y[:150]).partial_fit(X[150:], y[150:])
    reference = OneStepRegressor().fit(X, y)
    assert_allclose(model.coef_, reference.coef_, rtol=1e-12)
    assert_allclose(model.intercept_, reference.intercept_, rtol=1e-12)


def test_iterative_partial_fit_continues_from_fit():
    X, y = stream_data()
    fitted = IterativeGDRegressor(max_iter=20, tol=None).fit(X[:200], y[:200])
    before = fitted.coef_.copy()
    fitted.partial_fit(X[200:], y[200:])
    assert fitted.n_iter_ == 21
    assert len(fitted.loss_curve_) == 21
    # One more step from the fitted coefficients, not from zero.
    fresh = IterativeGDRegressor().partial_fit(X[200:], y[200:])
    assert np.linalg.norm(fitted.coef_ - before) < np.linalg.norm(fresh.coef_ - before)


@pytest.mark.parametrize("Estimator", [OneStepRegressor, IterativeGDRegressor])
@pytest.mark.parametrize("first", ["fit", "partial_fit"])
def test_partial_fit_with_other_features_raises_like_scikit_learn(Estimator, first):
    X, y = stream_data()
    model = getattr(Estimator(), first)(X, y)
    wider = np.column_stack([X, X[:, :2]])
    message = f"X has 5 features, but {Estimator.__name__} is expecting 3 features"
    with pytest.raises(ValueError, match=message):
        model.partial_fit(wider, y)


@pytest.mark.parametrize("Estimator", [OneStepRegressor, IterativeGDRegressor])
def test_partial_fit_with_other_targets_raises(Estimator):
    X, y = stream_data()
    model = Estimator().fit(X, y)
    with pytest.raises(ValueError, match=r"y has shape \(400, 2\)"):
        model.partial_fit(X, np.column_stack([y, y]))


def test_concurrent_fits_of_one_object_end_in_one_of_them():
    # Half the threads fit y, half y·1e200 (fitted in other units): the end
    # state is exactly one of the sequential fits, never a mixture.
    X, y = stream_data()
    targets = [y if i % 2 else y * 1e200 for i in range(8)]
    expected = [OneStepRegressor().fit(X, t) for t in targets[:2]]
    for _ in range(30):
        model = OneStepRegressor()
        barrier = threading.Barrier(8)

        def fit(target, model=model, barrier=barrier):
            barrier.wait()
            model.fit(X, target)

        threads = [threading.Thread(target=fit, args=(t,)) for t in targets]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        matches = [
            np.array_equal(model.coef_, ref.coef_)
            and model.intercept_ == ref.intercept_
            and model.loss_ == ref.loss_
            for ref in expected
        ]
        assert any(matches)


def test_concurrent_partial_fit_loses_no_chunk():
    X, y = stream_data(800)
    chunks = np.array_split(np.arange(800), 16)
    model = OneStepRegressor()
    barrier = threading.Barrier(8)

    def feed(rows_list):
        barrier.wait()
        for rows in rows_list:
            model.partial_fit(X[rows], y[rows])

    threads = [threading.Thread(target=feed, args=(chunks[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reference = OneStepRegressor().fit(X, y)
    assert_allclose(model.coef_, reference.coef_, rtol=1e-10)
    assert_allclose(model.intercept_, reference.intercept_, rtol=1e-10)
