"""ConvergenceMapDisplay: where (learning rate, momentum) converge, from the
data's own spectrum, for heavy ball and Nesterov."""

import numpy as np

from .._compat import check_matplotlib_support
from ._closed_form import Quadratic

# Curvatures used for the worst factor: all when few, else the extremes and
# quantiles (the factor is largest at an end of the spectrum; the quantiles
# are a margin).
MAX_CURVATURES = 64


def contraction_grid(rates, momenta, curvatures, nesterov):
    """The spectral radius of one iteration (``_kernel.rates``'s recurrence),
    worst over ``curvatures``, on the grid: (n_momenta, n_rates)."""
    h = rates[None, :, None] * curvatures[None, None, :]
    mu = momenta[:, None, None]
    if nesterov:
        trace, det = (1 + mu) * (1 - h), mu * (1 - h)
    else:
        trace, det = 1 + mu - h, mu + 0 * h
    root = np.sqrt((trace**2 - 4 * det).astype(complex))
    radius = np.maximum(np.abs((trace + root) / 2), np.abs((trace - root) / 2))
    return radius.max(axis=-1)


def _curvatures(quadratic):
    positive = np.sort(quadratic.eigenvalues[quadratic.eigenvalues > 0])
    if positive.size <= MAX_CURVATURES:
        return positive
    return np.quantile(positive, np.linspace(0, 1, MAX_CURVATURES))


class ConvergenceMapDisplay:
    """Convergence of heavy ball and Nesterov over (learning rate, momentum).

    It is recommended to use :meth:`from_data` to create a
    ``ConvergenceMapDisplay``. All parameters are stored as attributes.

    For each pair the colour is the number of iterations per digit of
    accuracy, ``−1/log₁₀ρ``, with ``ρ`` the asymptotic factor of the error per
    iteration (the spectral radius of the momentum recurrence, worst over the
    Hessian's eigenvalues, as in ``_kernel.rates``); white where ``ρ ≥ 1``
    (the run diverges). The stability limit of each method is drawn as a
    curve (``η = 2(1+μ)/L``, and ``2(1+μ)/((1+2μ)L)`` for Nesterov), Polyak's
    optimal heavy-ball pair and the fastest Nesterov pair of the grid are
    marked. Rates are in units of ``1/L``.

    Parameters
    ----------
    rates : ndarray of shape (n_rates,)
        Learning rates in units of ``1/L``.
    momenta : ndarray of shape (n_momenta,)
        Momentum values.
    contraction : dict
        ``{"heavy ball": ρ, "Nesterov": ρ}``, arrays (n_momenta, n_rates).
    optimal : dict
        ``{"heavy ball": (η·L, μ), "Nesterov": (η·L, μ)}``.
    condition_number : float
        ``κ = L/ℓ``, for the title.

    Attributes
    ----------
    axes_ : ndarray of two matplotlib Axes
    meshes_ : list of matplotlib QuadMesh
    colorbar_ : matplotlib Colorbar
    figure_ : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.preprocessing import scale
    >>> from onestep_sklearn.plotting import ConvergenceMapDisplay
    >>> X, _ = load_diabetes(return_X_y=True)
    >>> display = ConvergenceMapDisplay.from_data(scale(X))
    >>> rate, momentum = display.optimal["heavy ball"]
    >>> bool(0 < momentum < 1 and 0 < rate < 2 * (1 + momentum))
    True
    >>> plt.close("all")
    """

    def __init__(self, *, rates, momenta, contraction, optimal, condition_number):
        self.rates = rates
        self.momenta = momenta
        self.contraction = contraction
        self.optimal = optimal
        self.condition_number = condition_number

    def plot(self, axes=None, *, cmap="viridis_r"):
        """Draw the two maps side by side (on ``axes``, two Axes, if given)."""
        check_matplotlib_support(f"{type(self).__name__}.plot")
        import matplotlib.pyplot as plt
        from matplotlib.colors import LogNorm

        if axes is None:
            _, axes = plt.subplots(
                1, 2, figsize=(12, 5), sharey=True, layout="constrained"
            )
        axes = np.ravel(axes)
        per_digit = {
            name: np.where(rho < 1, -1.0 / np.log10(np.minimum(rho, 1 - 1e-16)), np.nan)
            for name, rho in self.contraction.items()
        }
        finite = np.concatenate([v[np.isfinite(v)] for v in per_digit.values()])
        norm = LogNorm(max(finite.min(), 1e-1), finite.max())
        self.meshes_ = []
        limits = {
            "heavy ball": 2 * (1 + self.momenta),
            "Nesterov": 2 * (1 + self.momenta) / (1 + 2 * self.momenta),
        }
        for ax, (name, values) in zip(axes, per_digit.items()):
            mesh = ax.pcolormesh(
                self.rates,
                self.momenta,
                values,
                cmap=cmap,
                norm=norm,
                shading="nearest",
            )
            self.meshes_.append(mesh)
            ax.plot(
                limits[name],
                self.momenta,
                color="black",
                linewidth=2,
                label="stability limit: diverges to the right",
            )
            rate, momentum = self.optimal[name]
            rho = self.contraction[name]
            ax.plot(
                [rate],
                [momentum],
                marker="*",
                markersize=16,
                color="white",
                markeredgecolor="black",
                linestyle="none",
                clip_on=False,
                label=f"{'optimal' if name == 'heavy ball' else 'fastest'}: "
                f"η = {rate:.3g}/L, μ = {momentum:.3g}",
            )
            plain = rho[0].min()
            ax.set_title(
                f"{name}: iterations per digit (white: diverges)\n"
                f"best {-1 / np.log10(np.nanmin(rho)):.3g} with momentum, "
                f"{-1 / np.log10(plain):.3g} without",
                fontsize="medium",
            )
            ax.set_xlabel("learning rate η in units of 1/L")
            ax.set_ylabel("momentum μ")
            ax.set_xlim(self.rates[0], self.rates[-1])
            # Below the axes: no part of the map is hidden.
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize="small")
        self.colorbar_ = axes[0].figure.colorbar(self.meshes_[0], ax=list(axes))
        self.colorbar_.set_label(
            f"iterations per digit of accuracy (κ = {self.condition_number:.3g})"
        )
        self.axes_, self.figure_ = axes, axes[0].figure
        return self

    @classmethod
    def from_data(
        cls,
        X,
        *,
        sample_weight=None,
        alpha=0.0,
        fit_intercept=True,
        resolution=201,
        axes=None,
        **kwargs,
    ):
        """The map of the objective on ``X`` (its Hessian; ``y`` is not needed).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        sample_weight, alpha, fit_intercept
            The objective, as in ``IterativeGDRegressor``.
        resolution : int, default=201
            Grid points along each axis.
        axes : array of two matplotlib Axes, default=None
            Where to draw; ``None`` creates a figure.
        **kwargs : dict
            Passed to :meth:`plot` (``cmap``).
        """
        check_matplotlib_support(f"{cls.__name__}.from_data")
        quadratic = Quadratic.from_data(
            X,
            None,
            sample_weight=sample_weight,
            alpha=alpha,
            fit_intercept=fit_intercept,
        )
        lipschitz = quadratic.lipschitz
        if not lipschitz > 0:
            raise ValueError(
                "The objective on X is flat (every column is constant, after "
                "centring when fit_intercept=True): every rate is stable and "
                "there is nothing to map."
            )
        curvatures = _curvatures(quadratic) / lipschitz
        rates = np.linspace(0.02, 4.2, resolution)
        momenta = np.linspace(0.0, 0.98, resolution)
        contraction = {
            name: contraction_grid(rates, momenta, curvatures, nesterov)
            for name, nesterov in (("heavy ball", False), ("Nesterov", True))
        }
        step, mu = quadratic.optimal_heavy_ball()
        best = np.unravel_index(np.argmin(contraction["Nesterov"]), (resolution,) * 2)
        optimal = {
            "heavy ball": (step * lipschitz, mu),
            "Nesterov": (rates[best[1]], momenta[best[0]]),
        }
        display = cls(
            rates=rates,
            momenta=momenta,
            contraction=contraction,
            optimal=optimal,
            condition_number=lipschitz / quadratic.smallest,
        )
        return display.plot(axes, **kwargs)
