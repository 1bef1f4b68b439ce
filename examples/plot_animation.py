"""A run animated: the loss curve and the path grow together
=========================================================

``LossCurveDisplay.animate(path_display)`` returns a matplotlib animation
(``to_jshtml()`` in a notebook, ``save("run.gif")`` with Pillow). The figure
shows four of its frames (after 1, 4, 15 and 60 iterations at 1.9/L, where
the steep direction zig-zags); ``python plot_animation.py figure.png`` also
writes the whole animation beside it, as ``figure.gif``.
"""

import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from onestep_sklearn import IterativeGDRegressor, suggest_learning_rate
from onestep_sklearn.plotting import LossCurveDisplay, TrajectoryDisplay

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 2)) @ [[1.0, 0.5], [0.0, 0.6]]
y = X @ [2.0, -1.5] + 0.3 * rng.normal(size=200)
rate = 1.9 * suggest_learning_rate(X).auto
model = IterativeGDRegressor(learning_rate=rate, max_iter=60, tol=None).fit(X, y)

# The whole run sets the limits of every frame, as in the animation.
whole = TrajectoryDisplay.from_estimator(model, X, y).ax_
bounds = (whole.get_xlim(), whole.get_ylim())
y_range = LossCurveDisplay.from_estimator(model, X, y, kind="suboptimality").ax_
y_range = y_range.get_ylim()
plt.close("all")
fig, axes = plt.subplots(2, 4, figsize=(18, 8), layout="constrained")
for (loss_ax, path_ax), count in zip(axes.T, (1, 4, 15, 60)):
    frame = IterativeGDRegressor(learning_rate=rate, max_iter=count, tol=None)
    frame.fit(X, y)  # the first `count` iterations of the same run
    LossCurveDisplay.from_estimator(frame, X, y, kind="suboptimality", ax=loss_ax)
    TrajectoryDisplay.from_estimator(frame, X, y, ax=path_ax, bounds=bounds)
    loss_ax.set(xlim=(0.8, 61), ylim=y_range)
    for ax in (loss_ax, path_ax):  # the titles say it; legends would crowd
        ax.get_legend().remove()
    loss_ax.set_title(f"frame: after {count} iteration{'s' * (count > 1)}")
    path_ax.set_title("the path so far, η = 1.9/L")

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=80)
    movie, (loss_ax, path_ax) = plt.subplots(
        1, 2, figsize=(10, 4.2), layout="constrained"
    )
    curve = LossCurveDisplay.from_estimator(
        model, X, y, kind="suboptimality", ax=loss_ax
    )
    path = TrajectoryDisplay.from_estimator(model, X, y, ax=path_ax)
    loss_ax.set_title("f − f* so far (dotted: the bound ρ²ᵗ)")
    path_ax.set_title("the path so far, η = 1.9/L")
    for ax in (loss_ax, path_ax):
        ax.get_legend().remove()
    curve.animate(path, frames=40).save(Path(sys.argv[1]).with_suffix(".gif"), dpi=60)
    plt.close(movie)
else:
    plt.show()
