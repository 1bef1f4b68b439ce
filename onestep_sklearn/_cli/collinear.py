"""Whether an exact least-squares fit is unstable on the CLI's folds.

The exact fit (``OneStepRegressor()``, ``LinearRegression()``) inverts every
direction of the design that is not exactly dependent: a direction with
singular value σ gets a coefficient of order 1/σ. Directions at or below the
rank cutoff ``max(n, d)·eps·σ₁`` count as exact dependencies (a one-hot block
beside the intercept) and get no coefficient (minimum norm), which is stable.
A direction kept but with ``σ < NEAR_SINGULAR·σ₁`` (condition number above
1e6) is near-collinear: its coefficient amplifies noise a million times more
than the best-determined one, and a test fold that leaves that direction by a
little scores R² far below zero. Measured on the training folds as the models
see them (after the preprocessing), centred (the intercept is fitted).
"""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp
from sklearn.base import clone

from onestep_sklearn._kernel.threads import single_threaded_blas

# Relative singular value below which a kept direction is near-collinear.
NEAR_SINGULAR = 1e-6
# Designs with more entries are not checked (an SVD of each fold would cost
# more than the fits it explains).
MAX_CHECKED_ENTRIES = 4_000_000
MAX_NAMED_COLUMNS = 4
# A column is named when its weight in the near-null direction is at least
# this fraction of the largest weight.
NAMED_WEIGHT = 0.2


def _centred_factor(design):
    """A matrix with the singular values and right singular vectors of the
    centred ``design``: its R factor when it is tall, else itself."""
    dense = design.toarray() if sp.issparse(design) else np.asarray(design, float)
    centred = dense - dense.mean(axis=0)
    if centred.shape[0] > centred.shape[1]:
        with single_threaded_blas():
            centred = la.qr(centred, mode="r", check_finite=False)[0]
        centred = centred[: centred.shape[1]]
    return centred


def fold_spectrum(design):
    """Singular values and right singular vectors of the centred ``design``."""
    with single_threaded_blas():
        _, singular, vt = la.svd(
            _centred_factor(design), full_matrices=False, check_finite=False
        )
    return singular, vt


def near_null_direction(design):
    """``(smallest kept σ, σ₁, direction)`` if ``design`` is near-singular.

    The singular values alone first (a third of the cost of the vectors: on
    a 1,200 × 895 one-hot fold 0.1 s against 0.4 s), the vectors only for a
    near-singular fold.
    """
    factor = _centred_factor(design)
    with single_threaded_blas():
        singular = la.svdvals(factor, check_finite=False)
    if singular.size == 0 or not singular[0] > 0:
        return None
    cutoff = max(design.shape) * np.finfo(np.float64).eps * singular[0]
    kept = np.flatnonzero(singular > cutoff)
    last = kept[-1]
    if singular[last] >= NEAR_SINGULAR * singular[0]:
        return None
    with single_threaded_blas():
        _, singular, vt = la.svd(factor, full_matrices=False, check_finite=False)
    return singular[last], singular[0], vt[last]


def _feature_names(preprocessor, n_features, columns):
    try:
        names = [str(name) for name in preprocessor.get_feature_names_out()]
    except (AttributeError, ValueError):
        return [str(name) for name in columns][:n_features] or None
    # ColumnTransformer prefixes the group: "numeric__age" reads as "age".
    names = [name.split("__", 1)[-1] for name in names]
    if len(names) == len(columns) and all(n.startswith("x") for n in names):
        names = [str(name) for name in columns]  # array input: the CSV's names
    return names if len(names) == n_features else None


def near_singular_note(X, y, preprocessor, cv, columns):
    """The footnote for exact fits when a training fold is near-singular.

    Parameters
    ----------
    X : {ndarray, pandas.DataFrame} of shape (n_samples, n_columns)
        The feature columns, as ``preprocessor`` takes them.
    y : ndarray of shape (n_samples,)
    preprocessor : estimator
        Unfitted; fitted on each training fold as in the comparison.
    cv : cross-validation splitter
        The folds of the comparison.
    columns : list of str
        The names of ``X``'s columns (for array input).

    Returns
    -------
    str or None
        ``"near-collinear columns: …; the exact least-squares fit is
        unstable here, …"``, or None when no fold is near-singular (or the
        design is too large to check).
    """
    worst = None
    for fold, (train, _) in enumerate(cv.split(X, y), start=1):
        rows = X.iloc[train] if hasattr(X, "iloc") else X[train]
        fitted = clone(preprocessor)
        design = fitted.fit_transform(rows)
        if design.shape[0] * design.shape[1] > MAX_CHECKED_ENTRIES:
            return None
        found = near_null_direction(design)
        if found is None:
            continue
        smallest, largest, direction = found
        if worst is None or smallest / largest < worst[1] / worst[2]:
            worst = (fold, smallest, largest, direction, fitted, design.shape[1])
    if worst is None:
        return None
    fold, smallest, largest, direction, fitted, n_features = worst
    names = _feature_names(fitted, n_features, columns)
    weight = np.abs(direction)
    order = [j for j in np.argsort(-weight) if weight[j] >= NAMED_WEIGHT * weight.max()]
    named = [names[j] if names else f"feature {j}" for j in order[:MAX_NAMED_COLUMNS]]
    if len(order) > MAX_NAMED_COLUMNS:
        named.append(f"… ({len(order) - MAX_NAMED_COLUMNS} more)")
    return (
        f"near-collinear columns: {', '.join(named)} (training fold {fold}: "
        f"smallest singular value {smallest:.2g} against a largest of "
        f"{largest:.3g}, condition number {largest / smallest:.2g} > "
        f"{1 / NEAR_SINGULAR:.0g}); the exact least-squares fit is unstable "
        "here, try alpha>0 or IterativeGDRegressorCV"
    )
