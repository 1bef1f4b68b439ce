"""One step vs many
================

The textbook gradient step, the Cauchy step (the best
step along the gradient, by exact line search), gradient descent, and
Newton's single jump to the optimum, on the contours of the objective. Left:
each path over two coefficients. Right: f − f* of gradient descent per
iteration, with the level each single step reaches.
Run ``python plot_one_vs_many_steps.py [figure.png]``.
"""

import sys

import matplotlib.pyplot as plt
import numpy as np

from onestep_sklearn import (
    IterativeGDRegressor,
    OneStepRegressor,
    suggest_learning_rate,
)
from onestep_sklearn.plotting import OKABE_ITO, LossCurveDisplay, TrajectoryDisplay

rng = np.random.default_rng(3)
X = rng.normal(size=(300, 2)) @ [[1.0, 0.6], [0.0, 0.6]]  # correlated features
y = X @ [3.0, -2.0] + 0.3 * rng.normal(size=300)
facts = suggest_learning_rate(X, y)

models = {  # name: a fitted model
    "gradient descent at 1/L": IterativeGDRegressor(momentum=0.0).fit(X, y),
    "one textbook step, η = 0.3/L": OneStepRegressor(
        solver="gradient", learning_rate=0.3 * facts.auto
    ).fit(X, y),
    "one Cauchy step (exact line search)": OneStepRegressor(solver="gradient").fit(
        X, y
    ),
    "one Newton step (the exact optimum)": OneStepRegressor().fit(X, y),
}
fig, (path_ax, loss_ax) = plt.subplots(1, 2, figsize=(14, 6.5), layout="constrained")
for (name, model), colour in zip(models.items(), OKABE_ITO):
    # Every gradient step leaves 0 along the same ray: large end points tell
    # the single steps apart.
    size = 3.5 if hasattr(model, "loss_curve_") else 9
    TrajectoryDisplay.from_estimator(
        model, X, y, ax=path_ax, name=name, color=colour, markersize=size
    )
    if hasattr(model, "loss_curve_"):
        LossCurveDisplay.from_estimator(
            model, X, y, kind="suboptimality", ax=loss_ax, name=name, color=colour
        )
    elif model.loss_ > facts.optimum:  # a single step: the level it reaches
        excess = model.loss_ - facts.optimum
        loss_ax.axhline(excess, color=colour, ls="--", label=f"{name}: {excess:.3g}")
    else:  # Newton lands on f*: off the log axis, marked at its bottom edge
        label = f"{name}: 0, below the axis"
        loss_ax.plot([1], [1e-9], "v", ms=12, c=colour, clip_on=False, label=label)
    reached = model.loss_curve_[-1] if hasattr(model, "loss_curve_") else model.loss_
    print(f"{name:36} f − f* = {reached - facts.optimum:.3g}")
path_ax.set_title(f"paths from 0 (κ = L/ℓ = {facts.condition_number:.1f})")
loss_ax.set_title("f − f*: gradient descent per iteration, one step as a level")
loss_ax.set_ylim(1e-9, None)  # the range of gradient descent, not of rounding
loss_ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12))

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
