"""The interactive learning-rate explorer, and its static fallback.

``explore(X, y)`` (or ``explore(estimator, X, y)``) draws the loss curve
``f − f*`` and the path on the contours of two coefficients for a learning
rate (in units of ``1/L``), a momentum and a number of iterations, redrawn
from the closed form of ``_closed_form`` as the sliders move: no fit, no
pass over ``X``. The sliders are ipywidgets' (``pip install
'onestep_sklearn[interactive]'``); where widgets cannot render (some
JupyterLab or Colab set-ups, a static page), :meth:`Explorer.small_multiples`
draws the same story as a grid of fixed settings.
"""

import numpy as np

from .._compat import check_matplotlib_support
from ._closed_form import Quadratic
from ._display_common import unwrap
from ._lesson import (
    LESSON_RATES,
    RATE_COLOURS,
    feature_pair,
    frame,
    rate_title,
    slice_contours,
    verdict,
)


def widgets_available():
    """Whether ipywidgets can be imported (the front end may still fail)."""
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


class Explorer:
    """Learning rate, momentum and iterations of gradient descent on one data
    set, each setting drawn from the closed form (see the module).

    Build it with :func:`explore`. Attributes: ``quadratic`` (the objective's
    spectrum), ``features`` (the two coefficient indices), ``feature_names``,
    ``rate`` (in units of ``1/L``), ``momentum``, ``nesterov``, ``n_iter``;
    after :meth:`plot`, ``figure_``, ``loss_ax_``, ``path_ax_``, ``run_``
    and ``verdict_``.
    """

    def __init__(
        self,
        quadratic,
        features,
        feature_names,
        *,
        rate=1.0,
        momentum=0.0,
        nesterov=False,
        n_iter=100,
        max_iter=500,
    ):
        self.quadratic = quadratic
        self.features = features
        self.feature_names = feature_names
        self.rate = rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.n_iter = n_iter
        self.max_iter = max_iter

    def describe(self):
        """The current setting in words: the rate in data units and as a
        multiple of ``1/L`` and of the limit that applies."""
        lipschitz = self.quadratic.lipschitz
        rate = self.rate / lipschitz
        limit, name = self.quadratic.limit(self.momentum, self.nesterov)
        return (
            f"η = {rate:.4g} = {self.rate:.3g}/L = {rate / limit:.3g}·({name}); "
            f"{verdict(self.quadratic, rate, self.momentum, self.nesterov)}"
        )

    def plot(self, *, rate=None, momentum=None, nesterov=None, n_iter=None, axes=None):
        """Draw the loss curve and the path at the given setting (the
        current one for what is not given) and keep it as current."""
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt

        for key, value in (
            ("rate", rate),
            ("momentum", momentum),
            ("nesterov", nesterov),
            ("n_iter", n_iter),
        ):
            if value is not None:
                setattr(self, key, value)
        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(11, 4.5), layout="constrained")
        loss_ax, path_ax = np.ravel(axes)
        lipschitz = self.quadratic.lipschitz
        self.run_ = self.quadratic.run(
            self.rate / lipschitz,
            int(self.n_iter),
            momentum=self.momentum,
            nesterov=bool(self.nesterov),
        )
        self.verdict_ = self.describe()
        colour = (
            RATE_COLOURS[3]
            if self.run_.diverged or "diverges" in self.verdict_
            else RATE_COLOURS[0]
        )
        excess = np.maximum(self.run_.excess, np.finfo(np.float64).tiny)
        loss_ax.semilogy(np.arange(1, excess.size + 1), excess, color=colour)
        loss_ax.set_xlabel("iteration")
        loss_ax.set_ylabel("f − f* (log scale)")
        loss_ax.set_title(self.verdict_, fontsize="small")
        self._draw_path(path_ax, self.run_, colour)
        path_ax.set_title(
            f"{rate_title(self.rate, self.momentum, self.nesterov)}: the path from 0 "
            f"towards w* (✕)",
            fontsize="small",
        )
        self.figure_, self.loss_ax_, self.path_ax_ = loss_ax.figure, loss_ax, path_ax
        return self

    def _draw_path(self, ax, run, colour):
        pair = list(self.features)
        shown = run.coefs[:, pair]
        bounds = frame(shown, self.quadratic.optimum_coef[pair])
        slice_contours(ax, self.quadratic, pair, bounds)
        ax.plot(
            shown[:, 0],
            shown[:, 1],
            marker="o",
            markersize=2.5,
            linewidth=1.2,
            color=colour,
        )
        ax.set_xlabel(f"coefficient of {self.feature_names[0]}")
        ax.set_ylabel(f"coefficient of {self.feature_names[1]}")

    def small_multiples(
        self, *, rates=LESSON_RATES, momenta=(0.0, 0.5, 0.9), n_iter=None
    ):
        """The static fallback: the path for every rate (columns, in units of
        ``1/L``) and momentum (rows), each titled with what happens."""
        check_matplotlib_support(f"{type(self).__name__}.small_multiples")
        import matplotlib.pyplot as plt

        n_iter = int(self.n_iter if n_iter is None else n_iter)
        figure, axes = plt.subplots(
            len(momenta),
            len(rates),
            figsize=(3.6 * len(rates), 3.3 * len(momenta)),
            layout="constrained",
            squeeze=False,
        )
        lipschitz = self.quadratic.lipschitz
        for row, momentum in zip(axes, momenta):
            for ax, scaled in zip(row, rates):
                rate = scaled / lipschitz
                run = self.quadratic.run(
                    rate, n_iter, momentum=momentum, nesterov=self.nesterov
                )
                line = verdict(self.quadratic, rate, momentum, self.nesterov)
                colour = RATE_COLOURS[3] if "diverges" in line else RATE_COLOURS[0]
                self._draw_path(ax, run, colour)
                ax.set_title(
                    f"{rate_title(scaled, momentum, self.nesterov)}\n{line}",
                    fontsize="small",
                )
        figure.suptitle(
            f"paths of {n_iter} iterations from 0 towards w* (✕): learning rate "
            f"across, momentum down ({'Nesterov' if self.nesterov else 'heavy ball'})"
        )
        return figure

    def widget(self):
        """The sliders and the figure they redraw (an ipywidgets VBox)."""
        import ipywidgets as widgets
        import matplotlib.pyplot as plt

        limit_hint = "η·L: 1 is 1/L (always downhill), 2 is 2/L (the limit)"
        controls = {
            "rate": widgets.FloatSlider(
                value=self.rate,
                min=0.05,
                max=4.0,
                step=0.05,
                description="η · L",
                readout_format=".2f",
            ),
            "momentum": widgets.FloatSlider(
                value=self.momentum,
                min=0.0,
                max=0.95,
                step=0.05,
                description="momentum μ",
            ),
            "nesterov": widgets.Checkbox(
                value=bool(self.nesterov), description="Nesterov"
            ),
            "n_iter": widgets.IntSlider(
                value=int(self.n_iter),
                min=1,
                max=int(self.max_iter),
                description="iterations",
            ),
        }

        def redraw(**setting):
            self.plot(**setting)
            plt.show()

        output = widgets.interactive_output(redraw, controls)
        hint = widgets.HTML(f"<small>{limit_hint}</small>")
        return widgets.VBox(
            [
                widgets.HBox(list(controls.values())[:2]),
                widgets.HBox(list(controls.values())[2:]),
                hint,
                output,
            ]
        )

    def _ipython_display_(self):
        from IPython.display import display

        if widgets_available():
            display(self.widget())
        else:
            display(self.small_multiples())


def explore(
    estimator,
    X=None,
    y=None,
    *,
    features=(0, 1),
    learning_rate=1.0,
    momentum=None,
    nesterov=None,
    n_iter=100,
    max_iter=500,
    sample_weight=None,
    alpha=0.0,
    fit_intercept=True,
):
    """An :class:`Explorer` of gradient descent on ``(X, y)``.

    ``explore(X, y)`` or ``explore(estimator, X, y)``: an estimator (an
    ``IterativeGDRegressor``, ``IterativeGDRegressorCV`` or a wrapper around
    one, fitted or not) gives its ``alpha``, ``fit_intercept``, ``momentum``
    and ``nesterov``, and ``X`` goes through a fitted pipeline's earlier
    steps. In a notebook the explorer shows itself: sliders where ipywidgets
    is installed, else :meth:`Explorer.small_multiples`.

    Parameters
    ----------
    estimator : estimator instance or array-like
        The estimator, or ``X`` itself (then pass ``y`` second).
    X : array-like of shape (n_samples, n_features)
        Training data (its columns names label the axes).
    y : array-like of shape (n_samples,)
        Target values.
    features : tuple of two int or str, default=(0, 1)
        The coefficients of the path (indices or column names).
    learning_rate : float, default=1.0
        The first rate, in units of ``1/L``.
    momentum : float, default=None
        The first momentum (the estimator's, else 0).
    nesterov : bool, default=None
        Nesterov's form (the estimator's, else False).
    n_iter : int, default=100
        The first number of iterations; ``max_iter`` is the slider's end.
    sample_weight, alpha, fit_intercept
        The objective, as in ``IterativeGDRegressor`` (an estimator's
        ``alpha`` and ``fit_intercept`` win).

    Returns
    -------
    explorer : Explorer
    """
    if y is None and not hasattr(estimator, "get_params"):
        estimator, X, y = None, estimator, X
    if estimator is not None:
        final = estimator
        if hasattr(estimator, "steps") or hasattr(estimator, "best_estimator_"):
            # A wrapper: fitted, so that X goes through the pipeline's steps.
            final, X, y = unwrap(estimator, X, y, stop=lambda e: hasattr(e, "alpha"))
        alpha = getattr(final, "alpha", alpha)
        fit_intercept = getattr(final, "fit_intercept", fit_intercept)
        if momentum is None:  # the momentum the fit used ("auto" decided)
            momentum = getattr(final, "momentum_", getattr(final, "momentum", 0.0))
            momentum = 0.0 if momentum == "auto" else momentum
        nesterov = getattr(final, "nesterov", False) if nesterov is None else nesterov
    names = getattr(X, "columns", None)
    quadratic = Quadratic.from_data(
        X, y, sample_weight=sample_weight, alpha=alpha, fit_intercept=fit_intercept
    )
    pair = feature_pair(features, names, quadratic.basis.shape[0])
    labels = tuple(str(names[i]) if names is not None else f"feature {i}" for i in pair)
    return Explorer(
        quadratic,
        pair,
        labels,
        rate=learning_rate,
        momentum=momentum or 0.0,
        nesterov=bool(nesterov),
        n_iter=n_iter,
        max_iter=max_iter,
    )
