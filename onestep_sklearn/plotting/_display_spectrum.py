"""SpectrumDisplay: the Hessian's eigenvalues, which decide the step sizes
and the speed of gradient descent."""

import numpy as np

from .. import suggest_learning_rate
from .._compat import check_matplotlib_support
from .._kernel.spectrum import active_mask
from ._display_common import RUN_GID, new_axes, next_colour, unique_legend, unwrap


class SpectrumDisplay:
    """The eigenvalues of the Hessian of the objective, on a log axis.

    It is recommended to use :meth:`from_data` or :meth:`from_estimator` to
    create a ``SpectrumDisplay``. All parameters are stored as attributes.

    The objective of ``onestep_sklearn._kernel.objective`` is quadratic with
    the constant Hessian ``H = 2·(XcᵀSXc/Σs) + 2·alpha·I``. Its largest
    eigenvalue ``L`` sets the stable step sizes (``1/L`` is always safe,
    ``2/L`` the limit) and its smallest positive one ``ℓ`` the slowest
    direction: plain gradient descent at ``1/L`` shrinks the error along it
    by ``1 − ℓ/L`` per iteration, so the condition number ``κ = L/ℓ`` is
    about the number of iterations per digit of accuracy. Standardising the
    columns of ``X`` usually pulls the eigenvalues together (smaller ``κ``);
    momentum makes the count about ``√κ``. Eigenvalues that are zero up to
    rounding (a singular Hessian) cannot be drawn on the log axis and are
    left out (``eigenvalues`` keeps them).

    Parameters
    ----------
    eigenvalues : ndarray of shape (n_features,)
        The Hessian's eigenvalues.
    estimator_name : str, default=None
        Name for the legend.

    Attributes
    ----------
    lipschitz_ : float
        ``L``, the largest eigenvalue.
    smallest_ : float
        ``ℓ``, the smallest positive eigenvalue.
    condition_number_ : float
        ``L/ℓ``.
    line_ : matplotlib Line2D
        The eigenvalues, largest first.
    limit_line_ : matplotlib Line2D
        The horizontal line at ``L``, labelled with ``1/L`` and ``2/L``.
    ax_ : matplotlib Axes
    figure_ : matplotlib Figure

    See Also
    --------
    onestep_sklearn.suggest_learning_rate : The same facts as numbers.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import StandardScaler
    >>> from onestep_sklearn.plotting import SpectrumDisplay
    >>> X, _ = load_diabetes(return_X_y=True)
    >>> X_raw = X * [1, 10, 1, 1, 1, 1, 1, 1, 1, 100]  # columns in other units
    >>> raw = SpectrumDisplay.from_data(X_raw, name="raw")
    >>> scaled = SpectrumDisplay.from_data(
    ...     StandardScaler().fit_transform(X), name="standardised", ax=raw.ax_
    ... )
    >>> bool(scaled.condition_number_ < raw.condition_number_)
    True
    >>> plt.close("all")
    """

    def __init__(self, *, eigenvalues, estimator_name=None):
        self.eigenvalues = eigenvalues
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, name=None, **kwargs):
        """Plot the eigenvalues, largest first, and the line at ``L``.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        name : str, default=None
            Name for the legend; ``None`` uses ``estimator_name``.
        **kwargs : dict
            Keyword arguments of matplotlib's ``plot`` for the eigenvalues.

        Returns
        -------
        display : SpectrumDisplay
        """
        check_matplotlib_support(f"{type(self).__name__}.plot")
        ax = new_axes(ax)
        evals = np.sort(np.asarray(self.eigenvalues, dtype=np.float64))[::-1]
        top = max(evals[0], 0.0) if evals.size else 0.0
        positive = evals[active_mask(evals)]
        self.lipschitz_ = float(top)
        self.smallest_ = float(positive[-1]) if positive.size else 0.0
        self.condition_number_ = (
            self.lipschitz_ / self.smallest_ if self.smallest_ > 0 else np.inf
        )
        name = self.estimator_name if name is None else name
        label = f"κ = L/ℓ = {self.condition_number_:.3g}"
        style = {
            "color": next_colour(ax),
            "marker": "o",
            "label": label if name is None else f"{name}: {label}",
            **kwargs,
        }
        (self.line_,) = ax.plot(np.arange(1, positive.size + 1), positive, **style)
        self.line_.set_gid(RUN_GID)
        limit = 2.0 / top if top > 0 else np.inf
        self.limit_line_ = ax.axhline(
            top,
            color=self.line_.get_color(),
            linestyle="--",
            linewidth=1,
            label=f"L = {top:.3g}: 1/L = {1 / top:.3g}, 2/L = {limit:.3g}",
        )
        from matplotlib.ticker import MaxNLocator

        ax.set_yscale("log")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("eigenvalue rank (largest first)")
        ax.set_ylabel("Hessian eigenvalue λ (log scale)")
        unique_legend(ax, fontsize="small")
        self.ax_, self.figure_ = ax, ax.figure
        return self

    @classmethod
    def from_data(
        cls,
        X,
        *,
        sample_weight=None,
        alpha=0.0,
        fit_intercept=True,
        ax=None,
        name=None,
        **kwargs,
    ):
        """The Hessian's spectrum of the objective on ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (at most 2000 features, 500 when sparse: the
            Hessian is formed exactly).
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.
        alpha : float, default=0.0
            L2 strength (adds ``2·alpha`` to every eigenvalue).
        fit_intercept : bool, default=True
            Whether the intercept is fitted (the Hessian of centred data).
        ax : matplotlib Axes, default=None
            Axes to plot on; ``None`` creates a new figure and axes.
        name : str, default=None
            Name for the legend.
        **kwargs : dict
            Keyword arguments of matplotlib's ``plot`` for the eigenvalues.

        Returns
        -------
        display : SpectrumDisplay
        """
        check_matplotlib_support(f"{cls.__name__}.from_data")
        facts = suggest_learning_rate(
            X, sample_weight=sample_weight, alpha=alpha, fit_intercept=fit_intercept
        )
        if facts.eigenvalues is None and not facts.lipschitz > 0:
            raise ValueError(
                f"{cls.__name__}: the Hessian of the objective on X is zero (every "
                "column of X is constant"
                + (
                    ", and centred away with fit_intercept=True"
                    if fit_intercept
                    else ""
                )
                + "): the objective is flat in the coefficients, every step size "
                "is stable and there is no spectrum to draw."
            )
        if facts.eigenvalues is None:
            raise ValueError(
                f"{cls.__name__} needs the exact Hessian: X has "
                f"{np.shape(X)[1]} features, more than suggest_learning_rate forms "
                "exactly (2000 dense, 500 sparse)."
            )
        return cls(eigenvalues=facts.eigenvalues, estimator_name=name).plot(
            ax=ax, **kwargs
        )

    @classmethod
    def from_estimator(
        cls, estimator, X, *, sample_weight=None, ax=None, name=None, **kwargs
    ):
        """The spectrum of the objective a fitted estimator minimised on ``X``.

        ``estimator`` is a fitted ``IterativeGDRegressor`` or
        ``OneStepRegressor``, or a ``Pipeline``, ``GridSearchCV`` or
        ``TransformedTargetRegressor`` around one (``X`` then goes through
        the pipeline's earlier steps); its ``alpha`` and ``fit_intercept``
        are used. Other parameters as in :meth:`from_data`.

        Returns
        -------
        display : SpectrumDisplay
        """
        final, X, _ = unwrap(estimator, X, stop=lambda e: hasattr(e, "alpha"))
        return cls.from_data(
            X,
            sample_weight=sample_weight,
            alpha=getattr(final, "alpha", 0.0),
            fit_intercept=getattr(final, "fit_intercept", True),
            ax=ax,
            name=type(final).__name__ if name is None else name,
            **kwargs,
        )
