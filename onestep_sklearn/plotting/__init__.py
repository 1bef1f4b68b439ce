"""Plots for gradient descent: loss curves, trajectories, spectra, sweeps.

matplotlib is an optional dependency (``pip install 'onestep_sklearn[plot]'``);
it is imported only when something is drawn. The displays follow
scikit-learn's Display API (``from_estimator``, ``plot``, attributes
``figure_``, ``ax_``, ``line_``; several runs on one axes through ``ax=``):

* :class:`LossCurveDisplay`: the objective per iteration, or ``f − f*``
  with the theoretical rate of the run (``kind="suboptimality"``);
* :class:`TrajectoryDisplay`: the iterates on the contours of the objective
  over two coefficients;
* :class:`SpectrumDisplay`: the Hessian's eigenvalues, ``L``, ``2/L``, ``κ``;
* :func:`explore`: sliders over the learning rate (in units of ``1/L``),
  momentum and iterations, redrawn from the closed form (ipywidgets, an
  optional extra), with a static small-multiples fallback;
* :func:`lesson_figure`: the rates 0.5/L, 1/L, 1.9/L and 2.05/L as loss
  curves and paths, the limits marked, one line per panel;
* :class:`ConvergenceMapDisplay`: where (learning rate, momentum) converge
  for heavy ball and Nesterov, from the data's spectrum.

The loss-curve and trajectory displays have ``animate()`` (a matplotlib
animation, ``to_jshtml()`` and ``save("run.gif")`` ready) and accept
``SGDRegressor`` (its epochs on this package's objective) and, for the
trajectory, any fitted linear model as a point.

Every ``from_estimator`` accepts a fitted ``Pipeline``,
``GridSearchCV``/``RandomizedSearchCV`` or ``TransformedTargetRegressor``
around the estimator. Learning-rate sweeps are scikit-learn's own
``ValidationCurveDisplay``; :func:`plot_learning_rate_sweep` only adds the
stability limit ``2/L`` to it. Colours are Okabe–Ito's (colour-blind safe).
"""

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline

from .. import suggest_learning_rate
from .._compat import check_matplotlib_support
from .._kernel.rates import stability_limit
from ._convergence_map import ConvergenceMapDisplay
from ._display_common import OKABE_ITO, unique_legend
from ._display_loss import LossCurveDisplay
from ._display_lr_path import LearningRatePathDisplay
from ._display_spectrum import SpectrumDisplay
from ._display_trajectory import TrajectoryDisplay
from ._explorer import Explorer, explore
from ._lesson import lesson_figure

__all__ = [
    "OKABE_ITO",
    "ConvergenceMapDisplay",
    "Explorer",
    "LearningRatePathDisplay",
    "LossCurveDisplay",
    "SpectrumDisplay",
    "TrajectoryDisplay",
    "explore",
    "lesson_figure",
    "plot_learning_rate_sweep",
]


# Marks the limit lines of the sweeps on an axes.
LIMIT_GID = "onestep-sweep-limit"
SWEEP_GID = "onestep-sweep-line"


def _final_estimator(estimator):
    """The last step of a Pipeline, or the estimator itself."""
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def plot_learning_rate_sweep(
    estimator,
    X,
    y,
    *,
    param_range,
    param_name=None,
    ax=None,
    cv=5,
    scoring=None,
    score_name=None,
    name=None,
    **kwargs,
):
    """Cross-validated score over learning rates, with the stability limit marked.

    A thin layer over scikit-learn's
    ``ValidationCurveDisplay.from_estimator(..., param_name="learning_rate")``:
    it picks the parameter name (prefixed with the last step's name for a
    Pipeline), uses a log x axis and draws ``2/L``, the stability limit of
    full-batch gradient descent from :func:`~onestep_sklearn.suggest_learning_rate`,
    as a vertical dashed line: with the estimator's momentum, the limit that
    applies to it (``2(1+μ)/L`` heavy ball, ``2(1+μ)/((1+2μ)L)`` Nesterov).
    For a Pipeline, ``2/L`` is computed on ``X``
    transformed by clones of all steps but the last, fitted on all of ``X``
    (each CV fold's limit differs slightly). With mini-batches the limit that
    matters is smaller than this full-batch one.

    Rates past ``2/L`` stop at their best iterate with a
    ``ConvergenceWarning``; that is expected in a sweep and can be silenced
    with ``warnings.catch_warnings``.

    Parameters
    ----------
    estimator : estimator instance
        An unfitted ``IterativeGDRegressor``, ``OneStepRegressor`` or Pipeline
        ending in one; cloned for every fit.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : array-like of shape (n_samples,) or (n_samples, n_targets)
        Target values.
    param_range : array-like of shape (n_values,)
        Learning rates to evaluate.
    param_name : str, default=None
        Name of the learning-rate parameter; ``None`` uses ``"learning_rate"``
        or, for a Pipeline, ``"<last step>__learning_rate"``.
    ax : matplotlib Axes, default=None
        Axes to plot on; ``None`` creates a new figure and axes.
    cv : int, cross-validation generator or iterable, default=5
        Cross-validation splitting strategy, as in ``validation_curve``.
    scoring : str or callable, default=None
        Scoring; ``None`` is the estimator's R².
    score_name : str, default=None
        y axis label; ``None`` gives "R²" with the default scoring.
    name : str, default=None
        Name of this sweep for the legend ("name: Train", "name: Test"), so
        that two sweeps on one axes are told apart; the limit line is drawn
        once when both have the same.
    **kwargs : dict
        Further keyword arguments of ``ValidationCurveDisplay.from_estimator``
        (e.g. ``n_jobs``, ``score_type``, ``std_display_style``, ``line_kw``).

    Returns
    -------
    display : sklearn.model_selection.ValidationCurveDisplay
        scikit-learn's display, with two extra attributes: ``max_stable_``
        (the stability limit of the estimator: ``2/L`` without momentum) and
        ``max_stable_line_`` (the vertical line, ``None`` when the limit is
        infinite).

    See Also
    --------
    LossCurveDisplay : Objective per iteration of one fit.

    Examples
    --------
    >>> import warnings
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from onestep_sklearn import IterativeGDRegressor
    >>> from onestep_sklearn.plotting import plot_learning_rate_sweep
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), IterativeGDRegressor())
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # rates past 2/L warn, as expected
    ...     display = plot_learning_rate_sweep(
    ...         model, X, y, param_range=np.geomspace(1e-3, 1.0, 8), cv=3
    ...     )
    >>> display.test_scores.shape
    (8, 3)
    >>> round(float(display.max_stable_), 4)
    0.2485
    >>> plt.close("all")
    """
    check_matplotlib_support("plot_learning_rate_sweep")
    from sklearn.model_selection import ValidationCurveDisplay

    final = _final_estimator(estimator)
    if param_name is None:
        param_name = "learning_rate"
        if isinstance(estimator, Pipeline):
            param_name = f"{estimator.steps[-1][0]}__learning_rate"
    if param_name not in estimator.get_params():
        raise ValueError(
            f"{type(estimator).__name__} has no parameter {param_name!r}; pass "
            "param_name= (the name of the learning-rate parameter)."
        )
    X_final = X
    if isinstance(estimator, Pipeline) and len(estimator) > 1:
        X_final = clone(estimator[:-1]).fit_transform(X, y)
    momentum = getattr(final, "momentum", 0.0)
    # The sweep sets float rates, and momentum="auto" means plain steps there.
    momentum = 0.0 if momentum == "auto" else momentum
    nesterov = getattr(final, "nesterov", False)
    facts = suggest_learning_rate(
        X_final,
        alpha=getattr(final, "alpha", 0.0),
        fit_intercept=getattr(final, "fit_intercept", True),
        momentum=momentum,
        nesterov=nesterov,
    )
    limit_name = stability_limit(facts.lipschitz, momentum, nesterov)[1]
    if score_name is None and scoring is None:
        score_name = "R²"
    display = ValidationCurveDisplay.from_estimator(
        estimator,
        X,
        y,
        param_name=param_name,
        param_range=param_range,
        cv=cv,
        scoring=scoring,
        score_name=score_name,
        ax=ax,
        **kwargs,
    )
    ax = display.ax_
    ax.set_xscale("log")
    ax.set_xlabel("learning_rate (log scale)")
    # Okabe–Ito colours (scikit-learn draws matplotlib's default cycle), a new
    # pair for each sweep on the axes.
    drawn = sum(line.get_gid() == SWEEP_GID for line in ax.get_lines())
    for index, line in enumerate(display.lines_ or ()):
        colour = OKABE_ITO[(drawn + index) % len(OKABE_ITO)]
        line.set_color(colour)
        line.set_gid(SWEEP_GID)
        if display.fill_between_:
            display.fill_between_[index].set_facecolor(colour)
    if name is not None:
        for artist in display.lines_ or display.errorbar_ or ():
            artist.set_label(f"{name}: {artist.get_label()}")
    display.max_stable_ = facts.max_stable
    display.max_stable_line_ = None
    if np.isfinite(facts.max_stable):
        label = f"{limit_name} (stability limit)"
        drawn = [
            line
            for line in ax.get_lines()
            if line.get_gid() == LIMIT_GID
            and np.isclose(line.get_xdata()[0], facts.max_stable, rtol=1e-9)
        ]
        if drawn:  # the same limit from an earlier sweep: one line
            display.max_stable_line_ = drawn[0]
        else:
            display.max_stable_line_ = ax.axvline(
                facts.max_stable,
                color="black",
                linestyle="--",
                label=label if name is None else f"{name}: {label}",
                gid=LIMIT_GID,
            )
    unique_legend(ax)
    return display
