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

import inspect
import numbers
from contextlib import suppress

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.model_selection import check_cv

from ._compat import _safe_indexing
from ._data.dask_checks import is_dask_collection
from ._fitted import in_range, public_coef
from ._kernel.user_warnings import warn_user
from ._solvers.folds import as_indices

R2_UNDEFINED = "R^2 score is not well-defined with less than two samples"


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
