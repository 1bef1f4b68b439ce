"""What the displays of ``plotting`` share: unwrapping fitted wrappers,
the statistics of the data shown, colours, axes and legends."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from .._kernel.stats import SufficientStats

# Okabe & Ito's palette (black first dropped): distinguishable with every
# common colour-vision deficiency, unlike matplotlib's "tab10".
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)
# Marks the artists of one run (the n-th run on an axes gets the n-th colour).
RUN_GID = "onestep-run"


def unwrap(estimator, X=None, y=None, *, stop=None):
    """The fitted estimator that holds the fit, with the data it saw.

    Walks through a fitted ``GridSearchCV``/``RandomizedSearchCV`` (any
    object with ``best_estimator_``), ``TransformedTargetRegressor`` (any
    object with ``regressor_``; ``y`` goes through its ``transformer_``) and
    ``Pipeline`` (the last step; ``X`` goes through the earlier ones), until
    ``stop(estimator)`` is true or nothing is left to unwrap. Returns
    ``(estimator, X, y)``; raises ``NotFittedError`` if it is not fitted.
    """
    stop = stop or (lambda _: False)
    while not stop(estimator):
        if isinstance(estimator, Pipeline):
            if X is not None and len(estimator) > 1:
                X = estimator[:-1].transform(X)
            estimator = estimator[-1]
        elif hasattr(estimator, "best_estimator_"):
            estimator = estimator.best_estimator_
        elif hasattr(estimator, "regressor_") and hasattr(estimator, "transformer_"):
            if y is not None:
                y = _transform_target(estimator.transformer_, y)
            estimator = estimator.regressor_
        else:
            break
    check_is_fitted(estimator)
    return estimator, X, y


def _transform_target(transformer, y):
    """``y`` as ``TransformedTargetRegressor`` fitted its regressor on it."""
    y = np.asarray(y)
    one_d = y.ndim == 1
    transformed = transformer.transform(y.reshape(-1, 1) if one_d else y)
    transformed = np.asarray(transformed)
    if one_d and transformed.ndim == 2 and transformed.shape[1] == 1:
        transformed = transformed[:, 0]
    return transformed


def statistics(X, y, sample_weight, fit_intercept):
    """Sufficient statistics of ``(X, y)`` (``_kernel.stats``): the objective
    of any coefficients on these data in O(d²), as the solvers see it."""
    X = check_array(X, accept_sparse=["csr", "csc"], dtype=[np.float64, np.float32])
    if sample_weight is None:
        sample_weight = np.ones(X.shape[0], dtype=X.dtype)
    sample_weight = check_array(
        sample_weight, ensure_2d=False, dtype=X.dtype, input_name="sample_weight"
    )
    if y is None:
        Y = np.zeros((X.shape[0], 1))
    else:
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        Y = y.reshape(X.shape[0], -1)
    return SufficientStats.from_data(X, Y.astype(X.dtype), sample_weight, fit_intercept)


def new_axes(ax):
    """``ax``, or new axes on a constrained-layout figure (labels never clipped)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(layout="constrained")
    return ax


def next_colour(ax):
    """The Okabe–Ito colour of the next run drawn on ``ax``."""
    runs = sum(line.get_gid() == RUN_GID for line in ax.get_lines())
    return OKABE_ITO[runs % len(OKABE_ITO)]


def continue_palette(ax):
    """Leave ``ax``'s colour cycle at the next Okabe–Ito colour, so that what
    a caller draws afterwards with default colours neither falls back to
    matplotlib's palette nor repeats the colour of a run already drawn."""
    runs = sum(line.get_gid() == RUN_GID for line in ax.get_lines())
    start = runs % len(OKABE_ITO)
    ax.set_prop_cycle(color=OKABE_ITO[start:] + OKABE_ITO[:start])


def call_label(estimator):
    """The estimator as it was called (``Ridge(alpha=10)``), on one line."""
    return " ".join(repr(estimator).split())


def refit_equivalent(estimator):
    """The ``IterativeGDRegressor`` whose ``fit`` is the refit of a fitted
    ``IterativeGDRegressorCV`` (its chosen rate, exactly its ``n_iter_``
    iterations), or ``estimator`` itself for anything else."""
    if not hasattr(estimator, "cv_scores_"):
        return estimator
    from .. import IterativeGDRegressor

    return IterativeGDRegressor(
        learning_rate=estimator.learning_rate_,
        max_iter=estimator.n_iter_,
        tol=None,
        alpha=estimator.alpha,
        fit_intercept=estimator.fit_intercept,
        momentum=estimator.momentum,
        nesterov=estimator.nesterov,
    )


def unique_legend(ax, sources=None, **kwargs):
    """One legend entry per label (the first artist with it), on ``ax``,
    from the artists of ``sources`` (default: ``ax``; an axes and its twin)."""
    entries = {}
    for axes in sources or (ax,):
        for handle, label in zip(*axes.get_legend_handles_labels()):
            if label and not label.startswith("_"):
                entries.setdefault(label, handle)
    if entries:
        legend = ax.legend(list(entries.values()), list(entries), **kwargs)
        legend.set_zorder(10)
        return legend
    return None


LEGEND_PLACES = (
    "upper right",
    "upper left",
    "lower left",
    "lower right",
    "center right",
    "upper center",
    "lower center",
    "center left",
)


def place_legend(legend, *axes):
    """Move ``legend`` to a place inside the axes where it covers no line of
    ``axes`` (a curve, a path, the optimum's marker), or below the axes when
    there is none. Its size is measured by a renderer, so long entries count
    as long."""
    if legend is None:
        return None
    figure = legend.axes.figure
    try:
        renderer = figure.canvas.get_renderer()
    except AttributeError:  # a canvas that cannot measure: matplotlib's choice
        return legend
    for ax in axes:  # limits are autoscaled lazily: bring them up to date
        ax.get_xlim(), ax.get_ylim()
    lines = [
        ax.transData.transform(line.get_xydata())
        for ax in axes
        for line in ax.get_lines()
        if len(line.get_xdata())
    ]
    best, best_score = None, None
    for place in LEGEND_PLACES:
        legend.set_loc(place)
        box = legend.get_window_extent(renderer)
        crossed, points = 0, 0
        for pixels in lines:
            inside = (
                (pixels[:, 0] >= box.x0)
                & (pixels[:, 0] <= box.x1)
                & (pixels[:, 1] >= box.y0)
                & (pixels[:, 1] <= box.y1)
            )
            crossed += bool(inside.any())
            points += int(inside.sum())
        if best_score is None or (crossed, points) < best_score:
            best, best_score = place, (crossed, points)
    if best_score[0]:  # no free place inside: below the axes, clear of all
        legend.set_loc("upper center")
        legend.set_bbox_to_anchor((0.5, -0.16), transform=legend.axes.transAxes)
    else:
        legend.set_loc(best)
    return legend


def rate_text(rate, limit, limit_name):
    """``η = 0.2547 = 1.025·(2/L)``: the rate and its multiple of the limit,
    with enough digits to tell 1.025 from 1."""
    text = f"η = {rate:.4g}"
    if limit is not None and np.isfinite(limit) and limit > 0:
        text += f" = {rate / limit:.4g}·({limit_name})"
    return text
