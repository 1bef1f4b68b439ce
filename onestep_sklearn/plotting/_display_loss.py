"""LossCurveDisplay: the objective, or its excess over the optimum with the
theoretical rate beside it, per iteration of a gradient-descent fit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from .._compat import check_matplotlib_support
from .._kernel.rates import stability_limit
from ._animation import AnimateMixin, Track, line_track
from ._display_common import (
    RUN_GID,
    continue_palette,
    new_axes,
    next_colour,
    place_legend,
    rate_text,
    unique_legend,
    unwrap,
)
from ._display_other import is_sgd
from ._loss_sources import (
    early_action,
    log_safe,
    optimum_and_rate,
    sgd_display,
    theory_line,
    twin_of,
    validation_line,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from sklearn.base import BaseEstimator

    from .._compat import ArrayLike, MatrixLike, Self

KINDS = ("objective", "suboptimality")
# Curves this short are drawn with a marker on every point.
SHORT_CURVE = 30


class LossCurveDisplay(AnimateMixin):
    """Objective per iteration of a gradient-descent fit, on a log scale.

    It is recommended to use :meth:`from_estimator` to create a
    ``LossCurveDisplay``. All parameters are stored as attributes.

    The objective is the one of ``onestep_sklearn._kernel.objective`` (mean
    squared error plus ``alpha·‖w‖²``), after each iteration. With
    ``kind="suboptimality"`` the curve is ``f − f*``, the excess over the
    least value ``optimum``, and ``contraction`` ``ρ`` (the per-iteration
    factor of the error) is drawn beside it as ``(f₁ − f*)·ρ^{2(t−1)}``: for
    plain gradient descent at a constant rate ``η``, ``ρ = maxᵢ|1 − ηλᵢ|``
    over the Hessian's eigenvalues and this line is a guaranteed bound; with
    momentum it is the asymptotic rate. So that the log scale stays defined,
    values <= 0 are drawn at the smallest positive value of the curve;
    ``loss_curve`` itself is kept unchanged.

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
        Stability limit of the run (``2/L`` without momentum); with
        ``learning_rate`` the legend shows the step as a multiple of it.
    limit_name : str, default="2/L"
        The formula of ``max_stable``, for the legend (``"2(1+μ)/L"`` with
        heavy-ball momentum).
    optimum : float, default=None
        ``f*``, the least value of the objective; needed by
        ``kind="suboptimality"``.
    contraction : float, default=None
        ``ρ``, the per-iteration factor of the error (see above); ``None``
        draws no theoretical line.
    bound : bool, default=True
        Whether the theoretical line is a guaranteed bound (plain gradient
        descent) rather than an asymptotic rate (momentum); for the legend.
    x_label : str, default="iteration"
        Label of the x axis ("epoch" for mini-batches).
    diverged : bool, default=False
        Whether the run stopped because its objective rose (a rate past the
        limit, ``stop_reason_ == "diverged"``): its last point is marked with
        a cross and the legend says so, so that a run stopped after one or
        two iterations is not an invisible stub beside the others.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The loss curve.
    theory_line_ : matplotlib Line2D or None
        The theoretical rate (``kind="suboptimality"`` with ``contraction``).
    validation_line_ : matplotlib Line2D or None
        The validation scores, or ``None`` without them.
    ax_ : matplotlib Axes
        Axes of the loss curve (log-scaled y axis).
    figure_ : matplotlib Figure
        Figure containing the curves.

    See Also
    --------
    plot_learning_rate_sweep : Cross-validated score over learning rates.
    TrajectoryDisplay : The iterates on the contours of the objective.

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
    >>> display.ax_.get_yscale(), display.ax_.get_xlabel()  # 243 iterations
    ('log', 'iteration')
    >>> len(display.line_.get_ydata()) == model[-1].n_iter_
    True
    >>> display = LossCurveDisplay.from_estimator(model, X, y, kind="suboptimality")
    >>> display.ax_.get_ylabel()
    'suboptimality f − f* (log scale)'
    >>> plt.close("all")
    """

    def __init__(
        self,
        *,
        loss_curve: ArrayLike,
        validation_scores: ArrayLike | None = None,
        estimator_name: str | None = None,
        learning_rate: float | None = None,
        max_stable: float | None = None,
        limit_name: str = "2/L",
        optimum: float | None = None,
        contraction: float | None = None,
        bound: bool = True,
        x_label: str = "iteration",
        diverged: bool = False,
    ) -> None:
        self.loss_curve = loss_curve
        self.validation_scores = validation_scores
        self.estimator_name = estimator_name
        self.learning_rate = learning_rate
        self.max_stable = max_stable
        self.limit_name = limit_name
        self.optimum = optimum
        self.contraction = contraction
        self.bound = bound
        self.x_label = x_label
        self.diverged = diverged

    def _label(self, name: str | None) -> str | None:
        if self.learning_rate is None:
            return name
        rate = rate_text(self.learning_rate, self.max_stable, self.limit_name)
        return f"{name}, {rate}" if name else rate

    def plot(
        self,
        ax: Axes | None = None,
        *,
        kind: Literal["objective", "suboptimality"] = "objective",
        name: str | None = None,
        xscale: Literal["auto", "linear", "log"] = "auto",
        **kwargs: Any,
    ) -> Self:
        """Plot the loss curve (and the validation scores, if any).

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        kind : {"objective", "suboptimality"}, default="objective"
            The objective itself, or ``f − f*`` with the theoretical rate.
        name : str, default=None
            Name for the legend; ``None`` uses ``estimator_name``.
        xscale : {"auto", "linear", "log"}, default="auto"
            Scale of the iteration axis. "auto" uses a log axis when a long
            curve (over 100 iterations) does nine tenths of its fall in its
            first tenth, where a linear axis would show a drop at the left
            edge and a flat line; a log axis chosen by an earlier run on the
            same axes is kept.
        **kwargs : dict
            Keyword arguments passed to matplotlib's ``plot`` for the loss
            curve (e.g. ``color``, ``linestyle``, ``label``).

        Returns
        -------
        display : LossCurveDisplay
            Object that stores the computed values and artists.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got kind={kind!r}.")
        if kind == "suboptimality" and self.optimum is None:
            raise ValueError(
                "kind='suboptimality' needs optimum (f*); pass optimum= or use "
                "from_estimator(estimator, X, y, kind='suboptimality')."
            )
        ax = new_axes(ax)
        name = self.estimator_name if name is None else name
        values = np.asarray(self.loss_curve, dtype=np.float64)
        if kind == "suboptimality" and self.optimum is not None:
            values = values - self.optimum
        values = log_safe(values)
        iterations = np.arange(1, values.size + 1)
        label = self._label(name)
        if self.diverged:
            label = f"{label}: diverged, stopped at {self.x_label} {values.size}"
        line_kwargs = {"label": label, "color": next_colour(ax), **kwargs}
        if values.size <= SHORT_CURVE:  # a few points: each one visible
            line_kwargs.setdefault("marker", "o")
            line_kwargs.setdefault("markersize", 4)
        (self.line_,) = ax.plot(iterations, values, **line_kwargs)
        self.line_.set_gid(RUN_GID)
        self.divergence_marker_ = None
        if self.diverged and values.size:
            (self.divergence_marker_,) = ax.plot(
                iterations[-1:],
                values[-1:],
                marker="X",
                markersize=11,
                markeredgecolor="black",
                color=self.line_.get_color(),
                linestyle="none",
                label="objective rose: the run stopped (divergence='record' "
                "follows the blow-up)",
            )
        self.theory_line_ = None
        if kind == "suboptimality" and self.contraction is not None and values.size:
            self.theory_line_ = theory_line(ax, self, iterations, values, name)
        ax.set_yscale("log")
        scale = xscale if xscale != "auto" else "log" if early_action(values) else None
        if scale is not None:
            ax.set_xscale(scale)
        ax.set_xlabel(
            f"{self.x_label} (log scale)" if ax.get_xscale() == "log" else self.x_label
        )
        quantity = "objective" if kind == "objective" else "suboptimality f − f*"
        ax.set_ylabel(f"{quantity} (log scale)")
        self.validation_line_ = None
        twin = twin_of(ax)
        if self.validation_scores is not None and np.size(self.validation_scores):
            self.validation_line_, twin = validation_line(
                ax, self.validation_scores, self.line_.get_color()
            )
        # On the twin (drawn last) the legend is above every curve.
        if twin is not None:
            if (legend := ax.get_legend()) is not None:
                legend.remove()
            place_legend(unique_legend(twin, sources=(ax, twin)), ax, twin)
        else:
            place_legend(unique_legend(ax), ax)
        continue_palette(ax)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _tracks(self) -> list[Track]:
        """The artists that grow in :meth:`animate`: curve, validation
        scores and the divergence cross, by iteration."""
        tracks = [line_track(self.line_, 1)]
        if self.validation_line_ is not None:
            tracks.append(line_track(self.validation_line_, 1))
        if self.divergence_marker_ is not None:
            tracks.append(line_track(self.divergence_marker_, np.size(self.loss_curve)))
        return tracks

    @classmethod
    def from_estimator(
        cls,
        estimator: BaseEstimator,
        X: MatrixLike | None = None,
        y: ArrayLike | None = None,
        *,
        kind: Literal["objective", "suboptimality"] = "objective",
        sample_weight: ArrayLike | None = None,
        ax: Axes | None = None,
        name: str | None = None,
        **kwargs: Any,
    ) -> Self:
        """Plot the loss curve of a fitted gradient-descent estimator.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~onestep_sklearn.IterativeGDRegressor` (or any
            estimator with ``loss_curve_``), or a fitted ``Pipeline``,
            ``GridSearchCV``/``RandomizedSearchCV`` (its ``best_estimator_``)
            or ``TransformedTargetRegressor`` around one.
        X : array-like of shape (n_samples, n_features), default=None
            The training data (transformed by a pipeline's earlier steps).
            Needed by ``kind="suboptimality"`` only.
        y : array-like of shape (n_samples,), default=None
            The training targets (transformed by a
            ``TransformedTargetRegressor``). Needed with ``X``.
        kind : {"objective", "suboptimality"}, default="objective"
            The objective, or ``f − f*`` on a log scale with the theoretical
            rate of the run beside it. ``f*`` is one Newton solve
            (``OneStepRegressor().fit(X, y).loss_``); the rate comes from the
            Hessian's eigenvalues (:func:`~onestep_sklearn.suggest_learning_rate`).
            No theoretical line for mini-batches or a varying schedule.
        sample_weight : array-like of shape (n_samples,), default=None
            The sample weights of the fit.
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        name : str, default=None
            Name for the legend; ``None`` uses the estimator's class name
            (an ``SGDRegressor`` is named by its call, ``SGDRegressor(...)``).
        **kwargs : dict
            Keyword arguments of :meth:`plot` (``xscale``) and of
            matplotlib's ``plot`` for the loss curve.

        Returns
        -------
        display : LossCurveDisplay
            Object that stores the computed values and artists.

        Notes
        -----
        A fitted ``SGDRegressor`` has no loss curve; it is drawn epoch by
        epoch from a replay through ``partial_fit`` (``X`` and ``y`` are then
        needed), its curve the objective of this package after each epoch
        (``alpha`` = SGD's ``alpha`` with ``penalty="l2"``, else 0; see
        ``plotting._display_other``): the same quantity as the curves of
        gradient descent beside it, not SGD's own loss.

        Raises
        ------
        NotFittedError
            If the estimator (the pipeline's last step) is not fitted.
        TypeError
            If it keeps no loss curve (e.g. ``OneStepRegressor``, which takes
            a single step; its objective after it is ``loss_``).
        ValueError
            If ``kind="suboptimality"`` lacks ``X`` and ``y``, or the curve is
            not the objective of ``X`` (early stopping, another estimator).
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}; got kind={kind!r}.")
        final, X, y = unwrap(
            estimator, X, y, stop=lambda e: hasattr(e, "loss_curve_") or is_sgd(e)
        )
        if is_sgd(final):
            return sgd_display(cls, final, X, y, sample_weight, kind).plot(
                ax=ax, kind=kind, name=name, **kwargs
            )
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
        # The momentum the fit used (``momentum="auto"`` decided).
        momentum = getattr(final, "momentum_", getattr(final, "momentum", 0.0))
        nesterov = getattr(final, "nesterov", False)
        lipschitz = getattr(final, "lipschitz_", None)
        max_stable, limit_name = None, "2/L"
        if lipschitz:
            max_stable, limit_name = stability_limit(lipschitz, momentum, nesterov)
        batch_size = getattr(final, "batch_size", None)
        display = cls(
            loss_curve=final.loss_curve_,
            validation_scores=getattr(final, "validation_scores_", None),
            estimator_name=type(final).__name__,
            learning_rate=getattr(final, "learning_rate_", None),
            max_stable=max_stable,
            limit_name=limit_name,
            bound=momentum == 0,
            x_label="iteration" if batch_size is None else "epoch",
            # A run recorded past its blow-up (divergence="record") shows it.
            diverged=getattr(final, "stop_reason_", None) == "diverged"
            and getattr(final, "divergence", None) != "record",
        )
        if kind == "suboptimality":
            display.optimum, display.contraction = optimum_and_rate(
                final, X, y, sample_weight
            )
        return display.plot(ax=ax, kind=kind, name=name, **kwargs)
