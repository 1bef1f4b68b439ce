"""IterativeGDRegressorCV on splits and scorers outside k-fold: the
reproductions of issue 18, each against ``cross_val_score`` of the runs.

A split names rows by index as ``cross_val_score`` reads it (repeated rows
count as often as they are named, parts may overlap, boolean masks select,
negative indices count from the end); an undefined score is NaN with
scikit-learn's warning and is never chosen; a callable scorer is called on a
real ``IterativeGDRegressor`` with ``sample_weight`` only if it takes it.
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.model_selection import LeaveOneOut, RepeatedKFold, cross_val_score
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor, IterativeGDRegressorCV
from onestep_sklearn._solvers.folds import FoldGroups


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def real_scores(X, y, rate, t, cv, **kwargs):
    estimator = IterativeGDRegressor(learning_rate=rate, max_iter=t, tol=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cross_val_score(estimator, X, y, cv=cv, **kwargs)


def assert_equals_runs(reg, X, y, cv, iterations=(1, 3, 10), **kwargs):
    for j, rate in enumerate(reg.learning_rates_):
        for t in iterations:
            expected = real_scores(X, y, rate, t, cv, **kwargs)
            assert_allclose(reg.cv_scores_[:, j, t - 1], expected, rtol=0, atol=1e-10)


def bootstrap(n, n_splits, seed):
    rng = np.random.default_rng(seed)
    splits = []
    for _ in range(n_splits):
        train = rng.integers(0, n, n)
        splits.append((train, np.setdiff1d(np.arange(n), train)))
    return splits


@pytest.mark.parametrize(
    "cv",
    [
        [(np.arange(30), np.arange(20, 40))],  # overlapping parts
        bootstrap(40, 4, 0),  # repeated training rows
        [(np.r_[0:20, 0:20, 5], np.r_[20:40, 25:30])],  # repeated in both parts
        [(np.arange(40), np.arange(40))],  # all rows in both
        [(np.arange(40) < 28, np.arange(40) >= 28)],  # boolean masks
        [(np.arange(-40, -12), np.arange(28, 40))],  # negative indices
    ],
    ids=["overlap", "bootstrap", "repeats", "all-all", "masks", "negative"],
)
def test_splits_that_are_not_partitions_train_on_their_rows(diabetes, cv):
    X, y = diabetes[0][:40], diabetes[1][:40]
    reg = IterativeGDRegressorCV(learning_rates=4, max_iter=10, cv=cv).fit(X, y)
    assert_equals_runs(reg, X, y, cv)


def test_overlapping_split_scores_its_own_training_set(diabetes):
    X, y = diabetes[0][:40], diabetes[1][:40]
    cv = [(np.arange(30), np.arange(20, 40))]
    reg = IterativeGDRegressorCV(learning_rates=[0.1], max_iter=10, cv=cv).fit(X, y)
    # The run trained on rows 0..29 (not 0..19): 0.690, where 0.673 was given.
    expected = real_scores(X, y, 0.1, 10, cv)
    assert_allclose(reg.cv_scores_[0, 0, 9], expected[0], atol=1e-12)


def test_weighted_repeated_rows(diabetes):
    X, y = diabetes[0][:60], diabetes[1][:60]
    weights = np.random.default_rng(1).uniform(0.2, 2.0, 60)
    cv = bootstrap(60, 3, 1)
    reg = IterativeGDRegressorCV(learning_rates=[0.05], max_iter=5, cv=cv)
    reg.fit(X, y, sample_weight=weights)
    for t in (1, 5):
        model = IterativeGDRegressor(learning_rate=0.05, max_iter=t, tol=None)
        for i, (train, test) in enumerate(cv):
            model.fit(X[train], y[train], sample_weight=weights[train])
            expected = model.score(X[test], y[test], sample_weight=weights[test])
            assert_allclose(reg.cv_scores_[i, 0, t - 1], expected, atol=1e-10)


def test_many_splits_do_not_overflow(diabetes):
    X, y = diabetes
    cv = RepeatedKFold(n_splits=5, n_repeats=10, random_state=0)
    reg = IterativeGDRegressorCV(learning_rates=3, max_iter=5, cv=cv).fit(X, y)
    assert reg.cv_scores_.shape == (50, 3, 5)
    assert_equals_runs(reg, X, y, cv, iterations=(5,))
    # Leave-one-out on 45 rows: 45 splits, every score defined for the MSE.
    reg = IterativeGDRegressorCV(
        learning_rates=3, max_iter=5, cv=LeaveOneOut(), scoring="neg_mean_squared_error"
    ).fit(X[:45], y[:45])
    assert_equals_runs(
        reg, X[:45], y[:45], LeaveOneOut(), (5,), scoring="neg_mean_squared_error"
    )
    # One label per row, whatever the number of splits.
    groups = FoldGroups.from_splits(list(LeaveOneOut().split(X[:300])), 300)
    assert groups.labels.shape == (300,)
    assert groups.n_groups == 300


def test_undefined_r2_is_nan_with_scikit_learns_warning(diabetes):
    X, y = diabetes[0][:12], diabetes[1][:12]
    reg = IterativeGDRegressorCV(cv=LeaveOneOut(), max_iter=5)
    with pytest.warns(UndefinedMetricWarning, match="not well-defined") as record:
        with pytest.raises(ValueError, match="^cv: .* at least two samples"):
            reg.fit(X, y)
    assert record[0].filename == __file__  # it points at the caller's line
    # One split of one validation row among others: NaN there, so no mean is
    # finite and the choice is refused (cross_val_score gives NaN too).
    cv = [(np.arange(10), np.arange(10, 12)), (np.arange(1, 12), np.array([0]))]
    with pytest.warns(UndefinedMetricWarning):
        expected = real_scores(X, y, 0.1, 3, cv)
    assert np.isnan(expected[1]) and np.isfinite(expected[0])


def test_non_finite_scores_are_never_chosen(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="^scoring: .*scoring=None"):
        IterativeGDRegressorCV(
            learning_rates=4, max_iter=5, scoring="neg_mean_squared_error"
        ).fit(X, y * 1e200)

    def nan_for_one_rate(estimator, X_val, y_val):
        if np.isclose(estimator.learning_rate, 0.1):  # the rate R² would choose
            return np.nan
        return estimator.score(X_val, y_val)

    rates = [1e-3, 1e-2, 0.1]
    reg = IterativeGDRegressorCV(
        learning_rates=rates, max_iter=20, scoring=nan_for_one_rate
    ).fit(X, y)
    assert np.isnan(reg.cv_scores_[:, 2]).all()
    assert reg.learning_rate_ == 1e-2
    assert np.isfinite(reg.best_score_)


def test_callable_scorers_are_called_as_scikit_learn_calls_them(diabetes):
    X, y = diabetes
    weights = np.random.default_rng(0).uniform(0.5, 2.0, y.size)
    seen = {}

    def without_weights(estimator, X_val, y_val):
        assert isinstance(estimator, IterativeGDRegressor)
        seen["coef"] = estimator.coef_.shape
        seen["tol"] = estimator.get_params()["tol"]
        return -float(np.mean(np.abs(y_val - estimator.predict(X_val))))

    reg = IterativeGDRegressorCV(
        learning_rates=3, max_iter=5, cv=3, scoring=without_weights
    ).fit(X, y, sample_weight=weights)
    assert seen == {"coef": (X.shape[1],), "tol": None}
    assert np.isfinite(reg.cv_scores_).all()

    def with_weights(estimator, X_val, y_val, sample_weight=None):
        seen["weights"] = sample_weight
        return estimator.score(X_val, y_val, sample_weight=sample_weight)

    IterativeGDRegressorCV(
        learning_rates=3, max_iter=5, cv=3, scoring=with_weights
    ).fit(X, y, sample_weight=weights)
    assert seen["weights"] is not None and seen["weights"].size in (147, 148)

    def wrong(estimator, X_val, y_val):
        return "high"

    with pytest.raises(ValueError, match="scoring must return a number"):
        IterativeGDRegressorCV(learning_rates=2, max_iter=2, scoring=wrong).fit(X, y)


def test_scorer_sees_the_users_dataframe(diabetes):
    X, y = diabetes
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "X does not have valid feature names"
        reg = IterativeGDRegressorCV(
            learning_rates=3, max_iter=5, cv=3, scoring="neg_mean_absolute_error"
        ).fit(frame, y)
    assert_equals_runs(reg, frame, y, 3, (5,), scoring="neg_mean_absolute_error")


@pytest.mark.parametrize(
    "cv, message",
    [
        ([], "cv gives no split"),
        ([(np.arange(10), np.array([], dtype=int))], "cv split 0 has 0 validation"),
        ([(np.arange(10) < 5, np.arange(3) < 5)], "cv split 0: a boolean mask"),
        ([(np.arange(10), np.array([442]))], "cv split 0: index 442 is out of"),
        ([(np.arange(10), np.array([0.5, 1.0]))], "cv split 0: a part must be"),
    ],
)
def test_degenerate_splits_are_refused(diabetes, cv, message):
    X, y = diabetes
    with pytest.raises(ValueError, match=message):
        IterativeGDRegressorCV(learning_rates=2, max_iter=2, cv=cv).fit(X, y)
