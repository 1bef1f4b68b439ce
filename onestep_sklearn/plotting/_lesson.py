"""The one-call lesson figure: gradient descent below, at and past its limits.

``lesson_figure(X, y)`` draws, for the rates ``0.5/L, 1/L, 1.9/L, 2.05/L``
(``L`` the Hessian's largest eigenvalue, from the data), the worst
per-iteration factor of the error against the rate with ``1/L`` and ``2/L``
marked, then for each rate its loss curve ``f − f*`` and its path on the
contours of two coefficients, each column with one line saying what happens.
Every run is the closed form of ``_closed_form`` (no fit).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .._compat import check_matplotlib_support
from ._closed_form import Quadratic, Run
from ._display_common import OKABE_ITO, Bounds, unwrap

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from sklearn.base import BaseEstimator

    from .._compat import ArrayLike, MatrixLike

LESSON_RATES = (0.5, 1.0, 1.9, 2.05)
# Blue, green, orange, vermillion: the last (past the limit) reads as danger.
RATE_COLOURS = tuple(OKABE_ITO[i] for i in (0, 2, 4, 1, 3, 5, 7))


def verdict(
    quadratic: Quadratic, rate: float, momentum: float = 0.0, nesterov: bool = False
) -> str:
    """One line on what a constant rate does on this objective."""
    lipschitz = quadratic.lipschitz
    rho = quadratic.contraction(rate, momentum, nesterov)
    scaled = rate * lipschitz
    if rho >= 1:
        return f"diverges: the error grows ×{rho:.3g} a step"
    speed = f"×{rho:.4g} a step"
    if momentum > 0:
        return f"converges: error {speed}"
    if scaled < 1 - 1e-9:
        return f"always downhill, slower: {speed}"
    if scaled <= 1 + 1e-9:
        return f"always downhill, the default: {speed}"
    return f"zig-zags, yet converges: {speed}"


def rate_title(rate_in_l: float, momentum: float = 0.0, nesterov: bool = False) -> str:
    text = f"η = {rate_in_l:g}/L"
    if momentum:
        text += f", {'Nesterov' if nesterov else 'heavy ball'} μ = {momentum:g}"
    return text


def slice_contours(
    ax: Axes,
    quadratic: Quadratic,
    pair: Sequence[int],
    bounds: Bounds,
    n_levels: int = 12,
) -> None:
    """Contour lines of ``f − f*`` on the slice through ``w*`` over ``pair``."""
    hessian = (quadratic.basis * quadratic.eigenvalues) @ quadratic.basis.T
    block = hessian[np.ix_(pair, pair)]
    optimum = quadratic.optimum_coef[list(pair)]
    (x_low, x_high), (y_low, y_high) = bounds
    first, second = np.meshgrid(
        np.linspace(x_low, x_high, 160), np.linspace(y_low, y_high, 160)
    )
    delta = np.stack([first - optimum[0], second - optimum[1]], axis=-1)
    excess = 0.5 * np.einsum("...i,ij,...j->...", delta, block, delta)
    top = max(float(excess.max()), float(np.finfo(np.float64).tiny))
    levels = np.geomspace(top * 1e-4, top, n_levels)
    ax.contour(first, second, excess, levels=levels, colors="0.6", linewidths=0.8)
    ax.plot(
        *optimum,
        marker="X",
        color="black",
        markersize=10,
        markeredgecolor="white",
        linestyle="none",
        label="optimum w*",
    )


def frame(points: np.ndarray, optimum: np.ndarray, margin: float = 0.15) -> Bounds:
    """Bounds around the points and the optimum."""
    points = np.vstack([points, optimum])
    low, high = points.min(axis=0), points.max(axis=0)
    span = np.maximum(high - low, 1e-3 * max(np.abs(points).max(), 1.0))
    lows, highs = low - margin * span, high + margin * span
    return (lows[0], highs[0]), (lows[1], highs[1])


def feature_pair(
    features: Sequence[int | str],
    names: Sequence[str] | np.ndarray | None,
    n_features: int,
) -> tuple[int, int]:
    """Indices of two features given by index or by name."""
    indices = []
    for feature in features:
        if isinstance(feature, str):
            if names is None or feature not in list(names):
                raise ValueError(
                    f"feature {feature!r} is not a column name of the data "
                    f"(names: {None if names is None else list(names)}); pass "
                    "indices, or a DataFrame with that column."
                )
            feature = list(names).index(feature)
        indices.append(int(feature))
    if (
        len(indices) != 2
        or indices[0] == indices[1]
        or not all(0 <= i < n_features for i in indices)
    ):
        raise ValueError(
            f"features must be two different indices in [0, {n_features}) or "
            f"column names; got features={tuple(features)}."
        )
    return indices[0], indices[1]


def lesson_figure(
    X: MatrixLike,
    y: ArrayLike,
    *,
    features: tuple[int | str, int | str] = (0, 1),
    rates: Sequence[float] = LESSON_RATES,
    n_iter: int = 100,
    sample_weight: ArrayLike | None = None,
    alpha: float = 0.0,
    fit_intercept: bool = True,
    estimator: BaseEstimator | None = None,
) -> Figure:
    """The lesson on the learning rate in one figure (see the module).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Training data (standardise it first for a readable lesson).
    y : array-like of shape (n_samples,)
        Target values.
    features : tuple of two int or str, default=(0, 1)
        The coefficients of the paths (indices, or column names of a
        DataFrame ``X``).
    rates : tuple of float, default=(0.5, 1.0, 1.9, 2.05)
        The learning rates in units of ``1/L``.
    n_iter : int, default=100
        Iterations of each run.
    sample_weight, alpha, fit_intercept
        The objective, as in ``IterativeGDRegressor``.
    estimator : estimator instance, default=None
        A fitted (or unfitted) ``IterativeGDRegressor`` or wrapper whose
        ``alpha`` and ``fit_intercept`` are used instead.

    Returns
    -------
    figure : matplotlib Figure
        With the attribute ``lesson_runs_`` (the run of each rate, from
        ``_closed_form``) and ``lesson_verdicts_`` (the line of each panel).
    """
    check_matplotlib_support("lesson_figure")
    import matplotlib.pyplot as plt

    if estimator is not None:
        final = unwrap(estimator, stop=lambda e: hasattr(e, "alpha"))[0]
        alpha, fit_intercept = final.alpha, final.fit_intercept
    names = getattr(X, "columns", None)
    quadratic = Quadratic.from_data(
        X, y, sample_weight=sample_weight, alpha=alpha, fit_intercept=fit_intercept
    )
    pair = feature_pair(features, names, quadratic.basis.shape[0])
    labels = [str(names[i]) if names is not None else f"feature {i}" for i in pair]
    lipschitz = quadratic.lipschitz
    figure = plt.figure(figsize=(4 * len(rates), 10.5), layout="constrained")
    grid = figure.add_gridspec(3, len(rates), height_ratios=(1.3, 2, 2.4))
    factor_ax = figure.add_subplot(grid[0, :])
    scaled = np.linspace(0.01, max(2.3, 1.1 * max(rates)), 400)
    smallest = quadratic.smallest / lipschitz
    factor_ax.plot(
        scaled,
        np.abs(1 - scaled),
        color="0.2",
        linewidth=2,
        label="steepest |1 − ηL|: it sets the limit",
    )
    factor_ax.plot(
        scaled,
        np.abs(1 - scaled * smallest),
        color="0.2",
        linestyle="-.",
        label=f"flattest |1 − ηℓ|: it sets the speed (κ = L/ℓ = {1 / smallest:.3g})",
    )
    factor_ax.axhline(1.0, color="0.5", linestyle=":", linewidth=1)
    factor_ax.axvline(1.0, color="0.5", linestyle="--", label="1/L: always downhill")
    factor_ax.axvline(
        2.0, color="black", linestyle="--", label="2/L: the stability limit"
    )
    factor_ax.axvspan(2.0, scaled[-1], color=OKABE_ITO[1], alpha=0.12, label="diverges")
    factor_ax.set_ylim(0, 1.35)
    runs: list[Run] = []
    verdicts: list[str] = []
    figure.lesson_runs_ = runs  # type: ignore[attr-defined]
    figure.lesson_verdicts_ = verdicts  # type: ignore[attr-defined]
    for column, (rate_in_l, colour) in enumerate(zip(rates, RATE_COLOURS)):
        rate = rate_in_l / lipschitz
        factor_ax.plot(
            [rate_in_l],
            [quadratic.contraction(rate)],
            marker="o",
            markersize=9,
            color=colour,
            linestyle="none",
            label=rate_title(rate_in_l),
        )
        run = quadratic.run(rate, n_iter)
        line = verdict(quadratic, rate)
        runs.append(run)
        verdicts.append(line)
        loss_ax = figure.add_subplot(grid[1, column])
        loss_ax.semilogy(
            np.arange(1, run.excess.size + 1),
            np.maximum(run.excess, 1e-300),
            color=colour,
        )
        loss_ax.set_title(f"{rate_title(rate_in_l)}\n{line}", fontsize="small")
        loss_ax.set_xlabel("iteration")
        loss_ax.set_ylabel("f − f* (log scale)")
        path_ax = figure.add_subplot(grid[2, column])
        shown = run.coefs[:, list(pair)]
        bounds = frame(shown, quadratic.optimum_coef[list(pair)])
        slice_contours(path_ax, quadratic, pair, bounds)
        path_ax.plot(
            shown[:, 0],
            shown[:, 1],
            marker="o",
            markersize=2.5,
            linewidth=1.2,
            color=colour,
            label="iterates from 0",
        )
        path_ax.set_title(
            f"the path from 0 (dots) towards w* (✕), {run.excess.size} iterations",
            fontsize="small",
        )
        path_ax.set_xlabel(f"coefficient of {labels[0]}")
        path_ax.set_ylabel(f"coefficient of {labels[1]}")
    factor_ax.set_xlabel("learning rate η in units of 1/L")
    factor_ax.set_ylabel("error factor per step")
    factor_ax.set_title(
        "each eigen-direction λ of the Hessian shrinks its error by |1 − ηλ| a "
        f"step (L = {lipschitz:.4g} the largest λ, ℓ the smallest)",
        fontsize="medium",
    )
    factor_ax.legend(  # beside the panel: nothing of it is hidden
        fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5)
    )
    return figure
