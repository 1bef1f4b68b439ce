"""The short cuts of a small fit's fixed costs keep scikit-learn's behaviour:
remembered parameter validation, the bare ndarray's feature-name
bookkeeping, and the one-thread BLAS context."""

import numpy as np
import pandas as pd
import pytest
import threadpoolctl
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor
from onestep_sklearn._kernel.threads import single_threaded_blas


def data(seed=0, n=40, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)


@pytest.mark.parametrize(
    "estimator, bad",
    [
        (IterativeGDRegressor(), {"max_iter": 0}),
        (IterativeGDRegressor(), {"fit_intercept": 1}),  # 1 is not True here
        (IterativeGDRegressor(), {"random_state": "seed"}),
        (OneStepRegressor(), {"solver": "lbfgs"}),
        (OneStepRegressor(), {"alpha": -1.0}),
    ],
)
def test_remembered_validation_still_rejects_bad_settings(estimator, bad):
    X, y = data()
    valid = clone(estimator).fit(X, y)  # its settings are now remembered
    for _ in range(2):  # a rejected setting is never remembered
        with pytest.raises(InvalidParameterError):
            clone(valid).set_params(**bad).fit(X, y)
    assert clone(valid).fit(X, y).n_features_in_ == 3


def test_fit_on_a_bare_ndarray_forgets_the_feature_names():
    X, y = data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    for estimator in (OneStepRegressor(), IterativeGDRegressor()):
        estimator.fit(frame, y)
        assert list(estimator.feature_names_in_) == ["a", "b", "c"]
        estimator.fit(X[:, :2], y)
        assert not hasattr(estimator, "feature_names_in_")
        assert estimator.n_features_in_ == 2
        with pytest.raises(ValueError, match="features"):
            estimator.predict(X)


def blas_threads():
    return [
        info["num_threads"]
        for info in threadpoolctl.threadpool_info()
        if info["user_api"] == "blas"
    ]


def test_single_threaded_blas_sets_one_thread_and_restores():
    if not blas_threads():
        pytest.skip("no BLAS library that threadpoolctl sees")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        with single_threaded_blas():
            assert set(blas_threads()) == {1}
            with single_threaded_blas():  # nested: still one, no restore yet
                assert set(blas_threads()) == {1}
            assert set(blas_threads()) == {1}
        assert blas_threads() == before
