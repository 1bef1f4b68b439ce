"""The splits and the scores of ``IterativeGDRegressorCV``, as
``cross_val_score`` defines them.

``cross_val_score`` fits on ``X[train]`` and scores on ``X[test]``
(``_safe_indexing``: integer indices, negative ones from the end, repeated
ones repeated, or boolean masks), calls the scorer as
``scorer(estimator, X_test, y_test, **score_params)`` and keeps what it
returns: NaN where the metric is undefined (R² of one sample, with
scikit-learn's ``UndefinedMetricWarning``), ±inf where it overflows. Here
the same splits and scores; a NaN or infinite mean score is never chosen.
"""

from __future__ import annotations

import inspect
import numbers
from contextlib import suppress
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import check_scoring
from sklearn.model_selection import check_cv

from ._compat import _safe_indexing
from ._data.dask_checks import is_dask_collection
from ._fitted import in_range, public_coef
from ._iterative import IterativeGDRegressor
from ._kernel.user_warnings import warn_user
from ._solvers.folds import as_indices

if TYPE_CHECKING:
    from ._kernel.units import Units
    from ._solvers.path import FoldPath
    from ._validation import FitData

R2_UNDEFINED = "R^2 score is not well-defined with less than two samples"
# The scores the path computes from the validation statistics, and how.
BUILT_IN = {
    "r2": ("r2", 1.0),
    "neg_mean_squared_error": ("mse", -1.0),
}


def read_splits(cv, X, y, groups, n_samples, n_features):
    """``cv``'s ``(train, test)`` pairs as intp row indices (repetitions
    kept), each part non-empty, at least one pair."""
    cv = check_cv(cv, y, classifier=False)
    if is_dask_collection(X):
        # Splitters need the number of rows only (and groups).
        X = np.broadcast_to(np.float64(0), (n_samples, 1))
        y = None
    splits = []
    for number, (train, test) in enumerate(cv.split(X, y, groups)):
        try:
            parts = [as_indices(part, n_samples) for part in (train, test)]
        except ValueError as error:
            raise ValueError(f"cv split {number}: {error}.") from None
        for name, part in zip(("training", "validation"), parts):
            if part.size == 0:
                raise ValueError(
                    f"cv split {number} has 0 {name} samples: Found array with 0 "
                    f"sample(s) (shape=(0, {n_features})) while a minimum of 1 is "
                    "required by IterativeGDRegressor. Every split needs at least "
                    "one training and one validation sample."
                )
        splits.append(tuple(parts))
    if not splits:
        raise ValueError(
            "cv gives no split: pass an int, a splitter or a non-empty list of "
            "(train, test) index arrays."
        )
    return splits


def in_data_units(values, y_scale, power):
    """``values·y_scale^power`` elementwise, without an overflowing factor
    (a mean squared error of 0 stays 0 whatever the units)."""
    values = np.asarray(values, dtype=np.float64)
    factor = np.float64(y_scale) ** np.sign(power)
    with np.errstate(over="ignore", under="ignore"):
        for _ in range(abs(power)):
            values = values * factor
    return values


def warn_undefined_r2(splits):
    """scikit-learn's warning for splits of one validation sample, whose R²
    is NaN (as ``r2_score`` gives it)."""
    single = [number for number, (_, test) in enumerate(splits) if test.size < 2]
    if single:
        shown = ", ".join(map(str, single[:5])) + (", ..." if len(single) > 5 else "")
        warn_user(
            f"{R2_UNDEFINED}: cv split(s) {shown} have one validation sample, so "
            "their R² scores are NaN, as cross_val_score gives them. Use a cv "
            "whose validation parts hold at least two samples.",
            UndefinedMetricWarning,
        )
    return single


def accepts_sample_weight(scorer):
    """Whether ``scorer`` takes a ``sample_weight`` keyword (scikit-learn's
    scorers do; a plain function only if its signature says so)."""
    try:
        parameters = inspect.signature(scorer).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.name == "sample_weight" or p.kind is inspect.Parameter.VAR_KEYWORD
        for p in parameters
    )


def as_number(score, scorer):
    """What ``cross_val_score`` keeps of a scorer's return value."""
    if hasattr(score, "item"):
        with suppress(ValueError):
            score = score.item()
    if not isinstance(score, numbers.Number):
        raise ValueError(
            f"scoring must return a number, got {score!r} ({type(score)}) "
            f"instead. (scorer={scorer})"
        )
    return score


def built_in_scores(
    scoring: str | None, paths: list[FoldPath], splits: list[Any], units: Units
) -> np.ndarray:
    """``cv_scores_`` of R² (``scoring=None``) or minus the MSE, from the
    statistics (NaN for the R² of one validation sample, with scikit-learn's
    warning)."""
    kind, sign = BUILT_IN[scoring or "r2"]
    scores = sign * np.array([path.scores(kind) for path in paths])
    if kind == "mse":
        return in_data_units(scores, units.y_scale, -2)
    single = warn_undefined_r2(splits)
    scores[single] = np.nan
    return scores


def scores_of_runs(
    estimator: BaseEstimator,
    paths: list[FoldPath],
    splits: list[Any],
    rates: np.ndarray,
    units: Units,
    data: FitData,
    given: tuple[Any, Any, Any],
) -> np.ndarray:
    """``cv_scores_`` by the user's scorer (``estimator.scoring``) on the
    estimator of each run: ``IterativeGDRegressor`` with the parameters of
    ``estimator`` at rate ``rates[j]`` (in X's units) and ``max_iter = t``.
    ``given``: ``(X, y, sample_weight)`` as the user passed them."""
    params = estimator.get_params()
    scoring = params["scoring"]
    if is_dask_collection(data.X):
        raise ValueError(
            f"scoring={scoring!r} needs the predictions of every run, "
            "which is supported on in-memory data only; on Dask arrays use "
            "scoring=None (R²) or 'neg_mean_squared_error'."
        )
    X, y, sample_weight = given
    run_params = {
        name: value
        for name, value in params.items()
        if name not in ("learning_rates", "cv", "scoring", "max_iter")
    }
    fitted = {
        name: getattr(estimator, name)
        for name in ("n_features_in_", "feature_names_in_")
        if hasattr(estimator, name)
    }

    def run(j: int, t: int, coef_: np.ndarray, intercept_: Any) -> IterativeGDRegressor:
        """The estimator ``cross_val_score`` fits for rate ``j`` and
        ``max_iter = t``, with the coefficients of that run."""
        model = IterativeGDRegressor(
            learning_rate=float(rates[j]), max_iter=t, tol=None, **run_params
        )
        for name, value in fitted.items():
            setattr(model, name, value)
        model.coef_, model.intercept_ = coef_, intercept_
        return model

    layout = {
        "X": X,
        "y": y,
        "sample_weight": sample_weight,
        "units": units,
        "dtype": data.source.dtype,
        "y_ndim": data.y_ndim,
        "fit_intercept": params["fit_intercept"],
    }
    scorer = check_scoring(estimator, scoring=scoring)
    return scores_by_scorer(scorer, paths, splits, run, layout)


def scores_by_scorer(scorer, paths, splits, run, data):
    """``cv_scores_`` from the user's scorer, called as ``cross_val_score``
    calls it on every run: ``scorer(model, X[test], y[test])``, plus
    ``sample_weight=sample_weight[test]`` when weights were given and the
    scorer takes them. ``run(rate_index, t, coef, intercept)`` builds the
    fitted model of one run; ``data`` holds the user's ``X``, ``y`` and
    ``sample_weight`` and the public layout (``y_ndim``, ``dtype``,
    ``units``, ``fit_intercept``)."""
    weights = data["sample_weight"]
    with_weights = weights is not None and accepts_sample_weight(scorer)
    units = data["units"]
    scores = np.empty((len(paths), paths[0].rates.size, paths[0].max_iter))
    for i, (path, (_, test)) in enumerate(zip(paths, splits)):
        X_val = _safe_indexing(data["X"], test)
        y_val = _safe_indexing(data["y"], test)
        extra = {"sample_weight": _safe_indexing(weights, test)} if with_weights else {}
        for j in range(path.rates.size):
            coefs, intercepts = path.coef_path(j)
            for t, iterate in enumerate(path.iterates(j)):
                intercept = units.intercept_to_data(intercepts[iterate])
                coef = in_range(
                    units.coef_to_data(coefs[iterate]), intercept, data["dtype"]
                )
                coef_, intercept_ = public_coef(
                    coef,
                    intercept,
                    fit_intercept=data["fit_intercept"],
                    y_ndim=data["y_ndim"],
                    dtype=data["dtype"],
                )
                model = run(j, t + 1, coef_, intercept_)
                scores[i, j, t] = as_number(
                    scorer(model, X_val, y_val, **extra), scorer
                )
    return scores


def choose(scores, stable):
    """The (rate index, iteration index) of the best finite mean score among
    the ``stable`` rates, and the mean scores (n_rates, max_iter); raises a
    ``ValueError`` naming ``cv`` or ``scoring`` when no point has one."""
    with np.errstate(invalid="ignore", over="ignore"):
        mean = scores.mean(axis=0)
    eligible = stable[:, None] & np.isfinite(mean)
    if not eligible.any():
        nan_splits = np.flatnonzero(np.isnan(scores).all(axis=(1, 2)))
        if nan_splits.size:
            raise ValueError(
                f"cv: the scores of split(s) {nan_splits[:5].tolist()} are NaN "
                "at every rate and iteration (R² of fewer than two validation "
                "samples is undefined, and a scorer may return NaN), so no mean "
                "score is finite. Pass a cv whose validation parts hold at least "
                "two samples, or another scoring."
            )
        raise ValueError(
            "scoring: no stable rate has a finite mean validation score at any "
            "iteration (the scores are infinite or NaN: the metric overflows "
            "float64 on this data). Use scoring=None (R², which does not depend "
            "on the scale of y), or rescale y."
        )
    masked = np.where(eligible, mean, -np.inf)
    best_rate, best_t = np.unravel_index(int(np.argmax(masked)), masked.shape)
    return int(best_rate), int(best_t), mean
