"""TrajectoryDisplay: the iterates of a fit on the contours of the objective
over two coefficients."""

import numpy as np

from .. import OneStepRegressor
from .._compat import check_matplotlib_support
from ._animation import AnimateMixin, line_track
from ._display_common import (
    RUN_GID,
    call_label,
    continue_palette,
    new_axes,
    next_colour,
    place_legend,
    statistics,
    unique_legend,
    unwrap,
)
from ._display_other import is_sgd
from ._lesson import feature_pair
from ._paths import fitted_path, is_model, is_shown, objective_alpha

GRID_SIZE = 120
MARGIN = 0.15  # of the span of the points shown, on each side


def _path_label(name, steps, unit="step"):
    if not name:
        return None
    if steps == 0:
        return name
    return f"{name} ({steps} {unit}{'' if steps == 1 else 's'})"


class TrajectoryDisplay(AnimateMixin):
    """The path of a fit on the contours of its objective over two coefficients.

    It is recommended to use :meth:`from_estimator` to create a
    ``TrajectoryDisplay``. All parameters are stored as attributes.

    The filled contours are the objective of ``onestep_sklearn._kernel.objective``
    as a function of the two coefficients shown, the intercept at its best
    value; with more than two features the other coefficients are held at
    their optimum ``w*``, so the contours are that slice through the optimum
    and the path is the projection of the iterates onto the pair (its other
    coefficients move too, so it need not cross the slice's contours at
    right angles). Contour levels are logarithmic in ``f − f*``.

    Parameters
    ----------
    path : ndarray of shape (n_points, 2)
        The two coefficients of every iterate, start first.
    features : tuple of int
        The indices of the two coefficients.
    optimum : ndarray of shape (2,)
        The optimum's two coefficients.
    grid : tuple of ndarray, default=None
        ``(w_first, w_second, excess)``: the grid and ``f − f*`` on it, for
        the contours; ``None`` draws none.
    coef : ndarray of shape (2,), default=None
        The estimator's ``coef_`` pair, marked when it is not the last point
        (a diverged run keeps its best iterate).
    estimator_name : str, default=None
        Name of the estimator, used in the legend.
    feature_names : tuple of str, default=None
        Names of the two features, for the axis labels.
    step_name : str, default="step"
        What one point of the path is, for the legend ("epoch" for SGD). A
        path of one point (a model with no path, such as ``Ridge``) is
        drawn as a marker.

    Attributes
    ----------
    line_ : matplotlib Line2D
        The path (its data are ``path``).
    contour_ : matplotlib QuadContourSet or None
        The filled contours (None when the axes already had them).
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    LossCurveDisplay : The objective per iteration.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from onestep_sklearn import IterativeGDRegressor, OneStepRegressor
    >>> from onestep_sklearn.plotting import TrajectoryDisplay
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2)) * [1.0, 3.0]
    >>> y = X @ [2.0, -1.0] + rng.normal(size=100)
    >>> gd = IterativeGDRegressor().fit(X, y)
    >>> display = TrajectoryDisplay.from_estimator(gd, X, y, name="GD, 1/L")
    >>> path = display.line_.get_xydata()
    >>> bool(np.all(path[0] == 0)), bool(np.allclose(path[-1], gd.coef_))
    (True, True)
    >>> newton = OneStepRegressor().fit(X, y)
    >>> display = TrajectoryDisplay.from_estimator(newton, X, y, ax=display.ax_)
    >>> len(display.line_.get_xdata())  # start and the single step
    2
    >>> plt.close("all")
    """

    def __init__(
        self,
        *,
        path,
        features,
        optimum,
        grid=None,
        coef=None,
        estimator_name=None,
        feature_names=None,
        step_name="step",
    ):
        self.path = path
        self.features = features
        self.optimum = optimum
        self.grid = grid
        self.coef = coef
        self.estimator_name = estimator_name
        self.feature_names = feature_names
        self.step_name = step_name

    def plot(
        self, ax=None, *, name=None, levels_per_decade=2, contour_kw=None, **kwargs
    ):
        """Draw the contours (once per axes) and the path.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes. On axes
            that already show contours only the path is added.
        name : str, default=None
            Name for the legend; ``None`` uses ``estimator_name``.
        levels_per_decade : int, default=2
            Contour levels per decade of ``f − f*``.
        contour_kw : dict, default=None
            Keyword arguments of matplotlib's ``contourf``.
        **kwargs : dict
            Keyword arguments of matplotlib's ``plot`` for the path.

        Returns
        -------
        display : TrajectoryDisplay
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        from matplotlib.colors import LogNorm

        ax = new_axes(ax)
        self.contour_ = None
        drawn = getattr(ax, "_onestep_contours", None)
        if self.grid is not None and drawn is None:
            first, second, excess = self.grid
            positive = excess[excess > 0]
            top = excess.max() if positive.size else 1.0
            floor = max(positive.min() if positive.size else 1.0, top * 1e-6)
            excess = np.maximum(excess, floor)
            # Levels every 1/levels_per_decade of a decade, ticks on decades.
            low, high = np.floor(np.log10(floor)), np.ceil(np.log10(top))
            exponents = np.arange(low, high + 1e-9, 1.0 / levels_per_decade)
            style = {"cmap": "Greys", "alpha": 0.6, **(contour_kw or {})}
            self.contour_ = ax.contourf(
                first, second, excess, levels=10.0**exponents, norm=LogNorm(), **style
            )
            ax._onestep_contours = self.contour_
            bar = ax.figure.colorbar(
                self.contour_, ax=ax, ticks=10.0 ** np.arange(low, high + 1)
            )
            bar.set_label("objective above its minimum, f − f* (log scale)")
            ax.plot(
                *self.optimum,
                marker="X",
                color="black",
                markersize=11,
                markeredgecolor="white",
                linestyle="none",
                label="optimum w*",
            )
        name = self.estimator_name if name is None else name
        path = np.asarray(self.path)
        style = {
            "color": next_colour(ax),
            "marker": "o",
            "markersize": 3.5,
            "linewidth": 1.6,
            "label": _path_label(name, len(path) - 1, self.step_name),
            **kwargs,
        }
        if len(path) == 1:  # a model without a path: its coef_ as a point
            style.update(marker="P", markersize=12, markeredgecolor="black")
        (self.line_,) = ax.plot(path[:, 0], path[:, 1], **style)
        self.line_.set_gid(RUN_GID)
        if self.coef is not None and not np.allclose(self.coef, path[-1]):
            ax.plot(
                *self.coef,
                marker="D",
                color=self.line_.get_color(),
                markeredgecolor="black",
                linestyle="none",
                label=f"{name}: coef_ (best iterate)"
                if self.step_name == "step"
                else f"{name}: coef_ of its fit (shuffled epochs: not this replay)",
            )
        first, second = self.feature_names or [f"feature {i}" for i in self.features]
        ax.set_xlabel(f"coefficient of {first}")
        ax.set_ylabel(f"coefficient of {second}")
        place_legend(unique_legend(ax, fontsize="small", framealpha=0.9), ax)
        continue_palette(ax)
        self.ax_, self.figure_ = ax, ax.figure
        return self

    def _tracks(self):
        """The path grows in :meth:`animate`: point ``n`` is iterate ``n``."""
        return [line_track(self.line_, 0)]

    @classmethod
    def from_estimator(
        cls,
        estimator,
        X,
        y,
        *,
        features=(0, 1),
        sample_weight=None,
        coef_init=None,
        bounds=None,
        ax=None,
        name=None,
        **kwargs,
    ):
        """The path of a fitted estimator from its start point to ``coef_``.

        Parameters
        ----------
        estimator : estimator instance
            A fitted ``IterativeGDRegressor`` (by ``fit`` or ``partial_fit``),
            ``IterativeGDRegressorCV`` (its refit), ``OneStepRegressor`` or
            ``SGDRegressor`` (its epochs through ``partial_fit``, on the
            objective of this package, see ``_display_other``), or any other
            fitted linear model (``LinearRegression``, ``Ridge``: its
            ``coef_`` as a point, named by its call), or a fitted
            ``Pipeline``, ``GridSearchCV``/``RandomizedSearchCV`` or
            ``TransformedTargetRegressor`` around one.
        X : array-like of shape (n_samples, n_features)
            Its training data (transformed by a pipeline's earlier steps).
        y : array-like of shape (n_samples,)
            Its training targets.
        features : tuple of two int or str, default=(0, 1)
            The coefficients shown: indices of the final estimator's
            features, or names of its ``feature_names_in_`` (a model fitted
            on a DataFrame).
        sample_weight : array-like of shape (n_samples,), default=None
            The sample weights of the fit.
        coef_init : array-like of shape (n_features,), default=None
            The start point of the fit (default: zeros).
        bounds : tuple, default=None
            ``((xmin, xmax), (ymin, ymax))`` of the contours; ``None`` frames
            the path and the optimum.
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        name : str, default=None
            Name for the legend; ``None`` uses the estimator's class name.
        **kwargs : dict
            Keyword arguments of :meth:`plot` (``levels_per_decade``,
            ``contour_kw``) and of matplotlib's ``plot`` for the path.

        Returns
        -------
        display : TrajectoryDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        final, X, y = unwrap(estimator, X, y, stop=is_shown)
        if not is_shown(final):
            raise TypeError(
                f"{cls.__name__}.from_estimator needs a fitted linear regressor "
                "(a run of IterativeGDRegressor, IterativeGDRegressorCV, "
                "OneStepRegressor or SGDRegressor, or any model with coef_ as a "
                f"point), or a wrapper around one; got {type(final).__name__}."
            )
        names = getattr(final, "feature_names_in_", None)
        features = feature_pair(features, names, final.n_features_in_)
        path = fitted_path(
            final, X, y, sample_weight=sample_weight, coef_init=coef_init
        )
        fit_intercept = getattr(final, "fit_intercept", True)
        n_samples = path.shape[0] if X is None else np.shape(X)[0]
        alpha = objective_alpha(final, sample_weight, n_samples)
        stats = statistics(X, y, sample_weight, fit_intercept)
        newton = OneStepRegressor(alpha=alpha, fit_intercept=fit_intercept)
        newton.fit(X, y, sample_weight=sample_weight)
        optimum = np.asarray(newton.coef_, dtype=np.float64)
        pair = list(features)
        shown = path[:, pair]
        if bounds is None:
            points = np.vstack([shown, optimum[pair]])
            low, high = points.min(axis=0), points.max(axis=0)
            span = np.maximum(high - low, 1e-3 * max(np.abs(points).max(), 1.0))
            bounds = tuple(zip(low - MARGIN * span, high + MARGIN * span))
        first, second = np.meshgrid(
            np.linspace(*bounds[0], GRID_SIZE), np.linspace(*bounds[1], GRID_SIZE)
        )
        # Every grid point as one column of coefficients: the kernel's
        # objective evaluates them all at once (the slice through w*).
        coefs = np.repeat(optimum[:, None], first.size, axis=1)
        coefs[pair[0]], coefs[pair[1]] = first.ravel(), second.ravel()
        excess = stats.loss_per_output(coefs, alpha) - newton.loss_
        display = cls(
            path=shown,
            features=features,
            optimum=optimum[pair],
            grid=(first, second, excess.reshape(first.shape)),
            coef=np.ravel(final.coef_)[pair],
            estimator_name=(
                type(final).__name__
                if is_model(final) and not is_sgd(final)
                else call_label(final)
            ),
            feature_names=None if names is None else tuple(names[pair]),
            step_name="epoch" if is_sgd(final) else "step",
        )
        return display.plot(ax=ax, name=name, **kwargs)
