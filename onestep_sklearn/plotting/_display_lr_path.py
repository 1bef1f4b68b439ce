"""LearningRatePathDisplay: the CV score over (learning rate, iteration).

The display of :class:`~onestep_sklearn.IterativeGDRegressorCV`, exposed by
``onestep_sklearn.plotting``. It follows scikit-learn's Display API
(``from_estimator``, ``plot``, ``figure_``, ``ax_``); matplotlib is imported
only when something is drawn.
"""

import numpy as np

from .._compat import check_matplotlib_support
from ._display_common import unwrap


def _log_edges(centres):
    """Cell edges on a log axis around sorted positive ``centres``."""
    centres = np.asarray(centres, dtype=np.float64)
    if centres.size == 1:
        return centres[0] * np.array([0.8, 1.25])
    logs = np.log(centres)
    middle = (logs[1:] + logs[:-1]) / 2
    first, last = 2 * logs[0] - middle[0], 2 * logs[-1] - middle[-1]
    return np.exp(np.concatenate(([first], middle, [last])))


class LearningRatePathDisplay:
    """Mean cross-validation score over learning rate and iteration count.

    It is recommended to use :meth:`from_estimator` to create a
    ``LearningRatePathDisplay``. All parameters are stored as attributes.

    The heat map shows the mean over the splits of ``cv_scores`` on log
    axes (learning rate across, iterations up); the stability limit is a
    vertical line, the rates past it (or past the limit of a training fold)
    are hatched: their runs stop at their best iterate, so their scores are
    finite, but they are never chosen. The chosen point is marked. Beside
    it, optionally, the validation curve at the chosen iteration: the mean
    score against the learning rate, with the spread (one standard
    deviation) over the splits. The diagonal bands
    of equal colour are early stopping acting as regularisation: runs with
    the same ``η·t`` end at about the same point.

    Parameters
    ----------
    learning_rates : array-like of shape (n_learning_rates,)
        The rates scored, ascending (``learning_rates_``).
    cv_scores : array-like of shape (n_splits, n_learning_rates, max_iter)
        The validation scores (``cv_scores_``).
    stability_limit : float
        The largest stable rate of the data (``stability_limit_``).
    learning_rate : float, default=None
        The chosen rate (``learning_rate_``), marked.
    n_iter : int, default=None
        The chosen number of iterations (``n_iter_``), marked.
    diverged : array-like of shape (n_learning_rates,), default=None
        Rates whose run stopped on a rise of the objective on some training
        fold (``diverged_.any(axis=0)``): below the full data's limit, but
        past a fold's. Drawn as unstable too.
    score_name : str, default="R²"
        Name of the score, for the colour bar and the curve.
    estimator_name : str, default=None
        Name of the estimator, used in the title.

    Attributes
    ----------
    mesh_ : matplotlib QuadMesh
        The heat map.
    colorbar_ : matplotlib Colorbar
        Its colour bar.
    limit_line_ : matplotlib Line2D or None
        The stability limit on the heat map (None when it is infinite: a
        flat objective).
    chosen_ : matplotlib Line2D or None
        The marker of the chosen point.
    curve_ax_ : matplotlib Axes or None
        Axes of the validation curve.
    curve_line_ : matplotlib Line2D or None
        The validation curve at the chosen iteration.
    ax_ : matplotlib Axes
        Axes of the heat map.
    figure_ : matplotlib Figure
        Figure containing the plot.

    See Also
    --------
    LossCurveDisplay : Objective per iteration of one fit.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import scale
    >>> from onestep_sklearn import IterativeGDRegressorCV
    >>> from onestep_sklearn.plotting import LearningRatePathDisplay
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = IterativeGDRegressorCV(max_iter=300).fit(scale(X), y)
    >>> display = LearningRatePathDisplay.from_estimator(reg)
    >>> display.colorbar_.ax.get_ylabel()
    'mean CV R²'
    >>> plt.close("all")
    """

    def __init__(
        self,
        *,
        learning_rates,
        cv_scores,
        stability_limit,
        learning_rate=None,
        n_iter=None,
        diverged=None,
        score_name="R²",
        estimator_name=None,
    ):
        self.learning_rates = learning_rates
        self.cv_scores = cv_scores
        self.stability_limit = stability_limit
        self.learning_rate = learning_rate
        self.n_iter = n_iter
        self.diverged = diverged
        self.score_name = score_name
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, validation_curve=True, cmap="viridis"):
        """Draw the heat map (and the validation curve beside it).

        Parameters
        ----------
        ax : matplotlib Axes or array of two Axes, default=None
            Axes for the heat map, or for the heat map and the curve; None
            creates a figure with one or two axes.
        validation_curve : bool, default=True
            Whether to draw the validation curve at the chosen iteration
            (needs two axes when ``ax`` is given).
        cmap : str or Colormap, default="viridis"
            Colour map of the heat map.

        Returns
        -------
        display : LearningRatePathDisplay
            Object that stores the computed values and artists.
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        rates = np.asarray(self.learning_rates, dtype=np.float64)
        scores = np.asarray(self.cv_scores, dtype=np.float64)
        mean = scores.mean(axis=0)
        if ax is None:
            if validation_curve:
                _, (ax, curve_ax) = plt.subplots(
                    1, 2, figsize=(11, 4.5), width_ratios=(3, 2), layout="constrained"
                )
            else:
                _, ax = plt.subplots(figsize=(7, 4.5), layout="constrained")
                curve_ax = None
        elif np.ndim(ax):
            ax, curve_ax = np.ravel(ax)[:2]
        else:
            curve_ax = None
        iterations = np.arange(1, mean.shape[1] + 1)
        # The scores of the first iterations can be far below the rest:
        # the colours span the upper 95% so that the good region is legible.
        low, high = np.percentile(mean, 5), mean.max()
        if not high > low:
            low, high = low - 0.5, high + 0.5
        self.mesh_ = ax.pcolormesh(
            _log_edges(rates),
            _log_edges(iterations),
            mean.T,
            cmap=cmap,
            vmin=low,
            vmax=high,
            shading="flat",
        )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("learning rate η (log scale)")
        ax.set_ylabel("iterations t (log scale)")
        self.colorbar_ = ax.figure.colorbar(self.mesh_, ax=ax)
        self.colorbar_.set_label(f"mean CV {self.score_name}")
        limit = self.stability_limit
        edges = _log_edges(rates)
        self.limit_line_ = None
        if np.isfinite(limit):  # infinite for a flat objective (constant X)
            self.limit_line_ = ax.axvline(
                limit,
                color="crimson",
                linewidth=2,
                label=f"stability limit {limit:.3g}",
            )
        unstable = self._unstable(rates)
        # Hatched: the cells of unstable rates, and everything past the limit.
        # A cell left of the line is a rate below the full data's limit that
        # diverged on a training fold (whose limit is lower): said in the label.
        spans = [(edges[i], edges[i + 1]) for i in np.flatnonzero(unstable)]
        if limit < edges[-1]:
            spans.append((limit, edges[-1]))
        fold_only = bool(np.any(unstable & (rates < limit)))
        label = "unstable (never chosen)"
        if fold_only:
            label = "unstable on the data or a training fold (never chosen)"
        for left, right in spans:
            ax.axvspan(
                left,
                right,
                facecolor="none",
                edgecolor="white",
                hatch="//",
                linewidth=0,
                label=label,
            )
            label = None
        self.chosen_ = None
        if self.learning_rate is not None and self.n_iter is not None:
            (self.chosen_,) = ax.plot(
                [self.learning_rate],
                [self.n_iter],
                marker="*",
                markersize=16,
                color="white",
                markeredgecolor="black",
                linestyle="none",
                # Chosen at max_iter it sits on the top edge: drawn whole.
                clip_on=False,
                zorder=5,
                label=f"chosen: η = {self.learning_rate:.3g}, t = {self.n_iter}",
            )
        ax.legend(loc="lower left", fontsize="small", framealpha=0.85)
        title = "CV score over learning rate and iterations"
        if self.estimator_name:
            title = f"{self.estimator_name}: {title}"
        ax.set_title(title, fontsize="medium")

        self.curve_ax_ = self.curve_line_ = None
        if validation_curve and curve_ax is not None:
            self._plot_curve(curve_ax, rates, scores, iterations)
        self.ax_ = ax
        self.figure_ = ax.figure
        return self

    def _unstable(self, rates):
        """Rates past the limit, or past a training fold's."""
        unstable = rates >= self.stability_limit
        if self.diverged is not None:
            unstable = unstable | np.asarray(self.diverged, dtype=bool)
        return unstable

    def _plot_curve(self, ax, rates, scores, iterations):
        """The mean score against the rate at the chosen (or last) iteration."""
        t = self.n_iter if self.n_iter is not None else iterations[-1]
        at_t = scores[:, :, t - 1]
        mean, spread = at_t.mean(axis=0), at_t.std(axis=0)
        (self.curve_line_,) = ax.plot(
            rates, mean, marker="o", markersize=4, label=f"mean over the splits, t={t}"
        )
        ax.fill_between(
            rates, mean - spread, mean + spread, alpha=0.25, label="± 1 s.d."
        )
        if np.isfinite(self.stability_limit):
            ax.axvline(self.stability_limit, color="crimson", linewidth=2)
        unstable = self._unstable(rates)
        if unstable.any():
            ax.plot(
                rates[unstable],
                mean[unstable],
                marker="x",
                color="crimson",
                linestyle="none",
                label="unstable (never chosen)",
            )
        if self.learning_rate is not None:
            chosen = int(np.argmin(np.abs(np.log(rates / self.learning_rate))))
            ax.plot(
                [rates[chosen]],
                [mean[chosen]],
                marker="*",
                markersize=14,
                color="gold",
                markeredgecolor="black",
                linestyle="none",
            )
        ax.set_xscale("log")
        ax.set_xlabel("learning rate η (log scale)")
        ax.set_ylabel(f"CV {self.score_name} after {t} iterations")
        ax.set_title("validation curve at the chosen iteration", fontsize="medium")
        ax.legend(fontsize="small")
        self.curve_ax_ = ax

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, validation_curve=True, **kwargs):
        """Draw the path of a fitted ``IterativeGDRegressorCV``.

        Parameters
        ----------
        estimator : estimator instance
            A fitted :class:`~onestep_sklearn.IterativeGDRegressorCV`, or a
            fitted ``Pipeline``, ``GridSearchCV``/``RandomizedSearchCV`` (its
            ``best_estimator_``) or ``TransformedTargetRegressor`` around one.
        ax : matplotlib Axes or array of two Axes, default=None
            See :meth:`plot`.
        validation_curve : bool, default=True
            Whether to draw the validation curve beside the heat map.
        **kwargs : dict
            Passed to :meth:`plot` (``cmap``).

        Returns
        -------
        display : LearningRatePathDisplay
            Object that stores the computed values and artists.

        Raises
        ------
        NotFittedError
            If the estimator (the pipeline's last step) is not fitted.
        TypeError
            If it has no ``cv_scores_`` (it is not an
            ``IterativeGDRegressorCV``).
        """
        check_matplotlib_support(f"{cls.__name__}.from_estimator")
        final = unwrap(estimator, stop=lambda e: hasattr(e, "cv_scores_"))[0]
        if not hasattr(final, "cv_scores_"):
            raise TypeError(
                f"{cls.__name__}.from_estimator needs a fitted "
                f"IterativeGDRegressorCV (with cv_scores_); got "
                f"{type(final).__name__}."
            )
        scoring = getattr(final, "scoring", None)
        score_name = "R²" if scoring in (None, "r2") else "score"
        if isinstance(scoring, str) and scoring != "r2":
            score_name = scoring
        display = cls(
            learning_rates=final.learning_rates_,
            cv_scores=final.cv_scores_,
            stability_limit=final.stability_limit_,
            learning_rate=final.learning_rate_,
            n_iter=final.n_iter_,
            diverged=final.diverged_.any(axis=0),
            score_name=score_name,
            estimator_name=type(final).__name__,
        )
        return display.plot(ax=ax, validation_curve=validation_curve, **kwargs)
