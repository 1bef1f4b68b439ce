"""Property: ``cv_scores_`` equals ``cross_val_score`` of the real runs.

Hypothesis draws the splitter (k-fold, shuffle splits, leave-one-out,
repeated k-fold, bootstrap pairs with repeated rows, overlapping pairs,
boolean masks, negative indices), the weights, the scale of the target
(1, 1e200, 1e-200) and the scorer (built-in, scikit-learn's, callables that
read ``coef_``); every score of every rate and iteration is compared with
``cross_val_score`` (``cross_validate`` with metadata routing when weights
are given, so that the scorer receives the validation rows' weights) of
``IterativeGDRegressor(learning_rate=η, max_iter=t, tol=None)``.

``r2_score`` itself over- or underflows on targets of size 1e±200 (its sums
of squares leave float64), so there the reference R² is ``r2_score`` of the
same predictions and targets divided by the same power of two: R² does not
depend on the scale of y. ``explained_variance_score``, which squares them
too and is called on the predictions, is drawn at scale 1 only.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning, UndefinedMetricWarning
from sklearn.metrics import get_scorer, make_scorer, mean_absolute_error, r2_score
from sklearn.model_selection import (
    KFold,
    LeaveOneOut,
    RepeatedKFold,
    ShuffleSplit,
    cross_validate,
)

from onestep_sklearn import IterativeGDRegressor, IterativeGDRegressorCV

SCALES = {"unit": 1.0, "huge": 1e200, "tiny": 1e-200}


def coef_penalised_mae(estimator, X, y):
    """A callable scorer that reads the fitted model, not only predictions."""
    return -mean_absolute_error(y, estimator.predict(X)) - 1e-3 * float(
        np.sum(np.abs(estimator.coef_))
    )


def scale_free_r2(scale):
    exponent = int(np.frexp(scale)[1])

    def r2(y_true, y_pred, sample_weight=None):
        return r2_score(
            np.ldexp(y_true, -exponent),
            np.ldexp(y_pred, -exponent),
            sample_weight=sample_weight,
        )

    return make_scorer(r2)


def draw_splits(data, n):
    kind = data.draw(
        st.sampled_from(
            ["kfold", "shuffle", "loo", "repeated", "bootstrap", "overlap", "mask"]
        )
    )
    seed = data.draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    X_rows = np.zeros((n, 1))
    if kind == "kfold":
        return list(
            KFold(data.draw(st.integers(2, 5)), shuffle=True, random_state=seed).split(
                X_rows
            )
        )
    if kind == "shuffle":
        return list(ShuffleSplit(3, test_size=0.3, random_state=seed).split(X_rows))
    if kind == "loo":
        return list(LeaveOneOut().split(X_rows))
    if kind == "repeated":
        return list(
            RepeatedKFold(n_splits=3, n_repeats=2, random_state=seed).split(X_rows)
        )
    if kind == "bootstrap":
        splits = []
        for _ in range(3):
            train = rng.integers(0, n, n)
            test = np.setdiff1d(np.arange(n), train)
            test = test if test.size >= 2 else rng.integers(0, n, 3)
            splits.append((train, test))
        return splits
    if kind == "overlap":
        cut = n // 2
        return [
            (np.arange(0, cut + 4), np.arange(cut - 4, n)),
            (np.r_[np.arange(cut, n), -1, -1], np.arange(0, cut + 1)),
        ]
    masks = rng.random((2, n)) < 0.6
    masks[:, :2] = [[True, False], [False, True]]
    return [(mask, ~mask | (np.arange(n) < 3)) for mask in masks]


SCORINGS = [
    None,
    "r2",
    "neg_mean_squared_error",
    "neg_mean_absolute_error",
    "explained_variance",
    coef_penalised_mae,
]


def reference(rate, t, X, y, splits, scoring, weights, scale, params):
    estimator = IterativeGDRegressor(learning_rate=rate, max_iter=t, tol=None, **params)
    if scoring in (None, "r2") and scale != 1.0:
        scorer = scale_free_r2(scale)
    elif scoring is None or isinstance(scoring, str):
        scorer = get_scorer(scoring or "r2")
    else:
        scorer = scoring
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)  # r2_score's own overflow
        if weights is None:
            result = cross_validate(estimator, X, y, cv=splits, scoring=scorer)
        else:
            with config_context(enable_metadata_routing=True):
                if hasattr(scorer, "set_score_request"):
                    scorer = scorer.set_score_request(sample_weight=True)
                result = cross_validate(
                    estimator.set_fit_request(sample_weight=True),
                    X,
                    y,
                    cv=splits,
                    scoring=scorer,
                    params={"sample_weight": weights},
                )
    return result["test_score"]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_every_score_equals_cross_val_score(data):
    n = data.draw(st.integers(12, 30))
    d = data.draw(st.integers(1, 4))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    X = rng.normal(size=(n, d))
    X[:, 0] = rng.random(n) < 0.3  # a boolean column beside the others
    scale = SCALES[data.draw(st.sampled_from(sorted(SCALES)))]
    y = (X @ rng.normal(size=d) + rng.normal(size=n) + 2.0) * scale
    weights = data.draw(st.sampled_from([None, "integers", "floats"]))
    if weights == "integers":
        weights = rng.integers(1, 4, n).astype(float)
    elif weights == "floats":
        weights = rng.uniform(0.1, 3.0, n)
    splits = draw_splits(data, n)
    scoring = data.draw(st.sampled_from(SCORINGS))
    # explained_variance_score squares values of size 1e±200 without
    # rescaling: whether a sum over- or underflows then turns on the last
    # bit of a prediction, so neither side's score means anything there.
    assume(scale == 1.0 or scoring != "explained_variance")
    params = data.draw(
        st.sampled_from(
            [{}, {"momentum": 0.5}, {"alpha": 0.1}, {"fit_intercept": False}]
        )
    )
    max_iter = 4
    reg = IterativeGDRegressorCV(
        learning_rates=3, max_iter=max_iter, cv=splits, scoring=scoring, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        if scoring in (None, "r2", "neg_mean_squared_error"):
            # None may escape the sweep (a scikit-learn scorer called on
            # targets of size 1e200 overflows by itself, as in cross_val_score).
            warnings.simplefilter("error", RuntimeWarning)
        else:
            warnings.simplefilter("ignore", RuntimeWarning)
        try:
            reg.fit(X, y, sample_weight=weights)
        except ValueError as error:
            # Only when no point has a finite mean score: then neither does
            # the reference, at the first rate.
            assert str(error).startswith(("cv:", "scoring:")), error
            rate = 1e-3 * 2 / np.linalg.norm(X - X.mean(axis=0), 2) ** 2 * n
            expected = reference(rate, 1, X, y, splits, scoring, weights, scale, params)
            assert not np.isfinite(expected).all()
            return
    for j, rate in enumerate(reg.learning_rates_):
        for t in range(1, max_iter + 1):
            expected = reference(rate, t, X, y, splits, scoring, weights, scale, params)
            assert_allclose(reg.cv_scores_[:, j, t - 1], expected, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("scale", [1e200, 1e-200])
def test_r2_does_not_depend_on_the_scale_of_y(scale):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=40)
    kwargs = {"learning_rates": 4, "max_iter": 10, "cv": 4}
    unit = IterativeGDRegressorCV(**kwargs).fit(X, y)
    scaled = IterativeGDRegressorCV(**kwargs).fit(X, y * scale)
    assert_allclose(scaled.cv_scores_, unit.cv_scores_, rtol=1e-10, atol=1e-12)
