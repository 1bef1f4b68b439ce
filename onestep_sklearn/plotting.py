"""Plots for gradient descent: loss curves and learning-rate sweeps.

matplotlib is an optional dependency (``pip install 'onestep_sklearn[plot]'``);
it is imported only when something is drawn. :class:`LossCurveDisplay`
follows scikit-learn's Display API (``from_estimator``, ``plot``, attributes
``figure_``, ``ax_``, ``line_``). Learning-rate sweeps are scikit-learn's own
``ValidationCurveDisplay``; :func:`plot_learning_rate_sweep` only adds the
stability limit ``2/L`` to it.
"""

import numpy as np
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._compat import check_matplotlib_support
from ._display_lr_path import LearningRatePathDisplay
from ._learning_rate import suggest_learning_rate

__all__ = ["LearningRatePathDisplay", "LossCurveDisplay", "plot_learning_rate_sweep"]


def _final_estimator(estimator):
    """The last step of a Pipeline, or the estimator itself."""
    return estimator[-1] if isinstance(estimator, Pipeline) else estimator


def _log_safe(values):
    """``values`` with entries <= 0 raised to the smallest positive one."""
    values = np.asarray(values, dtype=np.float64)
    positive = values[values > 0]
    floor = positive.min() if positive.size else np.finfo(np.float64).tiny
    return np.maximum(values, floor)


class LossCurveDisplay:
    """Objective per iteration of a gradient-descent fit, on a log scale.

    It is recommended to use :meth:`from_estimator` to create a
    ``LossCurveDisplay``. All parameters are stored as attributes.

    The objective is the one of ``onestep_sklearn._kernel.objective`` (mean squared
    error plus ``alpha·‖w‖²``), after each iteration. An objective can reach
    0 exactly (data the model fits perfectly); so that the log scale stays
    defined, values <= 0 are drawn at the smallest positive value of the
    curve. ``loss_curve`` itself is kept unchanged.

    Parameters
    ----------
    loss_curve : array-like of shape (n_iter,)
        Objective after each iteration (``loss_curve_`` of the estimator).
    validation_scores : array-like of shape (n_iter,), default=None
        Validation R² after each iteration (``validation_scores_``, present
        when early stopping ran), drawn on a second y axis.
    estimator_name : str, default=None
        Name of the estimator, used in the legend.
    learning_rate : float, default=None
        Base step size of the run (``learning_rate_``), shown in the legend.
    max_stable : float, default=None
        Stability limit ``2/L`` of the data; with ``learning_rate`` the legend
        shows the step as a multiple of it.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The loss curve.
    validation_line_ : matplotlib Line2D or None
        The validation scores, or ``None`` without them.
    ax_ : matplotlib Axes
        Axes of the loss curve (log-scaled y axis).
    figure_ : matplotlib Figure
        Figure containing the curves.

    See Also
    --------
    plot_learning_rate_sweep : Cross-validated score over learning rates.
    sklearn.model_selection.ValidationCurveDisplay : Score over a parameter.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from onestep_sklearn import IterativeGDRegressor
    >>> from onestep_sklearn.plotting import LossCurveDisplay
    >>> X, y = load_diabetes(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), IterativeGDRegressor()).fit(X, y)
    >>> display = LossCurveDisplay.from_estimator(model)
    >>> display.ax_.get_yscale(), display.ax_.get_xlabel()
    ('log', 'iteration')
    >>> len(display.line_.get_ydata()) == model[-1].n_iter_
    True
    >>> plt.close("all")
    """

    def __init__(
        self,
        *,
        loss_curve,
        validation_scores=None,
        estimator_name=None,
        learning_rate=None,
        max_stable=None,
    ):
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.learning_rate = learning_rate
        self.max_stable = max_stable

    def _label(self, name):
        if self.learning_rate is None:
            return name
        rate = f"η = {self.learning_rate:.3g}"
        if self.max_stable is not None and np.isfinite(self.max_stable):
            rate += f" = {self.learning_rate / self.max_stable:.2g}·(2/L)"
        return rate if name is None else f"{name}, {rate}"

    def plot(self, ax=None, *, name=None, **kwargs):
        """Plot the loss curve (and the validation scores, if any).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        name : str, default=None
            Name for the legend; ``None`` uses ``estimator_name``.
        **kwargs : dict
            Keyword arguments passed to matplotlib's ``plot`` for the loss
            curve (e.g. ``color``, ``linestyle``, ``label``).

        Returns
        -------
        display : LossCurveDisplay
            Object that stores the computed values and artists.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots()
        name = self.estimator_name if name is None else name
        loss = _log_safe(self.loss_curve)
        iterations = np.arange(1, loss.size + 1)
        line_kwargs = {"label": self._label(name), **kwargs}
        (self.line_,) = ax.plot(iterations, loss, **line_kwargs)
        ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_ylabel("objective (log scale)")

        handles, labels = ax.get_legend_handles_labels()
        self.validation_line_ = None
        if self.validation_scores is not None and len(self.validation_scores):
            scores = np.asarray(self.validation_scores, dtype=np.float64)
            twin = ax.twinx()
            (self.validation_line_,) = twin.plot(
                np.arange(1, scores.size + 1),
                scores,
                linestyle="--",
                color=self.line_.get_color(),
                alpha=0.7,
                label="validation R²",
            )
            twin.set_ylabel("validation R²")
            handles.append(self.validation_line_)
            labels.append("validation R²")
        if any(label and not label.startswith("_") for label in labels):
            ax.legend(handles, labels)

        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, **kwargs):
        """Plot the loss curve of a fitted gradient-descent estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~onestep_sklearn.IterativeGDRegressor` (or any
            estimator with ``loss_curve_``), or a fitted Pipeline whose last
            step is one.
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        name : str, default=None
            Name for the legend; ``None`` uses the estimator's class name.
        **kwargs : dict
            Keyword arguments passed to matplotlib's ``plot`` for the loss
            curve.

        Returns
        -------
        display : LossCurveDisplay
            Object that stores the computed values and artists.

        Raises
        ------
        NotFittedError
            If the estimator (the pipeline's last step) is not fitted.
        TypeError
            If it keeps no loss curve (e.g. ``OneStepRegressor``, which takes
            a single step; its objective after it is ``loss_``).
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        final = _final_estimator(estimator)
        check_is_fitted(final)
        if not hasattr(final, "loss_curve_"):
            hint = ""
            if hasattr(final, "loss_"):
                hint = (
                    f" {type(final).__name__} takes a single step; its objective "
                    "after it is loss_."
                )
            raise TypeError(
                f"{cls.__name__}.from_estimator needs an estimator with a "
                f"loss_curve_ attribute, such as a fitted IterativeGDRegressor; "
                f"{type(final).__name__} has none.{hint}"
            )
        lipschitz = getattr(final, "lipschitz_", None)
        max_stable = 2.0 / lipschitz if lipschitz else None
        display = cls(
            loss_curve=final.loss_curve_,
            validation_scores=getattr(final, "validation_scores_", None),
            estimator_name=type(final).__name__,
            learning_rate=getattr(final, "learning_rate_", None),
            max_stable=max_stable,
        )
        return display.plot(ax=ax, name=name, **kwargs)


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
    **kwargs,
):
    """Cross-validated score over learning rates, with the limit 2/L marked.

    A thin layer over scikit-learn's
    ``ValidationCurveDisplay.from_estimator(..., param_name="learning_rate")``:
    it picks the parameter name (prefixed with the last step's name for a
    Pipeline), uses a log x axis and draws ``2/L``, the stability limit of
    full-batch gradient descent from :func:`~onestep_sklearn.suggest_learning_rate`,
    as a vertical dashed line. For a Pipeline, ``2/L`` is computed on ``X``
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
    **kwargs : dict
        Further keyword arguments of ``ValidationCurveDisplay.from_estimator``
        (e.g. ``n_jobs``, ``score_type``, ``std_display_style``, ``line_kw``).

    Returns
    -------
    display : sklearn.model_selection.ValidationCurveDisplay
        scikit-learn's display, with two extra attributes: ``max_stable_``
        (``2/L``) and ``max_stable_line_`` (the vertical line, ``None`` when
        ``2/L`` is infinite).

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
    facts = suggest_learning_rate(
        X_final,
        alpha=getattr(final, "alpha", 0.0),
        fit_intercept=getattr(final, "fit_intercept", True),
    )
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
    ax.set_xlabel("learning_rate")
    display.max_stable_ = facts.max_stable
    display.max_stable_line_ = None
    if np.isfinite(facts.max_stable):
        display.max_stable_line_ = ax.axvline(
            facts.max_stable,
            color="tab:red",
            linestyle="--",
            label="2/L (stability limit)",
        )
    ax.legend()
    return display
