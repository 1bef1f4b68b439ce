"""Momentum and Nesterov against plain gradient descent
====================================================

On an ill-conditioned problem (κ = L/ℓ large) plain gradient descent needs
about κ iterations per digit; heavy-ball momentum with Polyak's optimal pair
(η, μ) = (4/(√L+√ℓ)², ((√κ−1)/(√κ+1))²) needs about √κ. Left: f − f* with
each run's theoretical rate (dotted; for momentum the asymptotic rate). Right:
the first 40 iterates of each on the contours of two coefficients.
"""

import sys

import matplotlib.pyplot as plt
import numpy as np

from onestep_sklearn import IterativeGDRegressor, suggest_learning_rate
from onestep_sklearn.plotting import OKABE_ITO, LossCurveDisplay, TrajectoryDisplay

rng = np.random.default_rng(1)
X = rng.normal(size=(400, 2)) @ [[1.0, 0.9], [0.0, 0.2]]  # correlated features
y = X @ [2.0, -1.0] + 0.1 * rng.normal(size=400)
facts = suggest_learning_rate(X, y)
rate, momentum = facts.optimal_momentum
print(
    f"κ = {facts.condition_number:.4g}; Polyak's pair η = {rate:.4g}, "
    f"μ = {momentum:.4g}"
)

runs = {  # legend name: parameters of IterativeGDRegressor
    "plain GD": {"momentum": 0.0},
    "plain GD, optimal rate 2/(L+ℓ)": {"learning_rate": facts.optimal_rate},
    f"heavy ball, Polyak's pair (μ = {momentum:.3f})": {
        "learning_rate": rate,
        "momentum": momentum,
    },
    f"Nesterov (μ = {momentum:.3f})": {"momentum": momentum, "nesterov": True},
}
colours = dict(zip(runs, OKABE_ITO))  # the same colour for a run in both panels
fig, ((loss_ax, path_ax), legend_axes) = plt.subplots(
    2, 2, figsize=(14, 7.5), height_ratios=(3, 1.3), layout="constrained"
)
for name, params in runs.items():
    model = IterativeGDRegressor(tol=None, max_iter=150, **params).fit(X, y)
    LossCurveDisplay.from_estimator(
        model, X, y, kind="suboptimality", name=name, ax=loss_ax, color=colours[name]
    )
# Widest first (it frames the contours); plain GD over Nesterov's pale band.
order = sorted(runs, key=lambda name: ("heavy" not in name, name.startswith("plain")))
for name in order:
    short = IterativeGDRegressor(tol=None, max_iter=40, **runs[name]).fit(X, y)
    style = {"linewidth": 5, "alpha": 0.5} if "Nesterov" in name else {}
    TrajectoryDisplay.from_estimator(
        short, X, y, ax=path_ax, name=name, color=colours[name], **style
    )
loss_ax.set_title(f"f − f* per iteration (κ = L/ℓ = {facts.condition_number:.0f})")
path_ax.set_title(
    "the first 40 iterates: heavy ball swings across the valley, races along it"
)
for ax, legend_ax in zip((loss_ax, path_ax), legend_axes):  # legends below
    ax.get_legend().remove()
    legend_ax.legend(
        *ax.get_legend_handles_labels(), loc="upper center", fontsize="small"
    )
    legend_ax.axis("off")

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
