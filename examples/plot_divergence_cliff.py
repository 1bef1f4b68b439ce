"""The 2/L cliff
=============

Just below the stability limit gradient descent converges,
just past it it diverges; divergence="record" lets you watch it. Left: f − f*
on the diabetes data around 2/L (dotted: ρ²ᵗ, ρ = maxᵢ|1 − ηλᵢ|). Right: the
iterates on two features. Run ``python plot_divergence_cliff.py [figure.png]``.
"""

import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor, suggest_learning_rate
from onestep_sklearn.plotting import OKABE_ITO, LossCurveDisplay, TrajectoryDisplay

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
rng = np.random.default_rng(0)  # a two-feature problem for the trajectories
X2 = rng.normal(size=(200, 2)) @ [[1.0, 0.4], [0.0, 0.5]]
y2 = X2 @ [1.5, -2.0] + 0.3 * rng.normal(size=200)

fig, (loss_ax, path_ax) = plt.subplots(1, 2, figsize=(13, 6.5), layout="constrained")
# One meaning per colour in both panels: blues converge, the others diverge.
blue, sky, orange, red = (OKABE_ITO[i] for i in (0, 5, 4, 1))
colours = {0.9: blue, 0.95: blue, 0.995: sky, 1.01: orange, 1.025: red, 1.1: red}
for multiple in (0.95, 0.995, 1.01, 1.025):
    limit = suggest_learning_rate(X).max_stable
    model = IterativeGDRegressor(
        learning_rate=multiple * limit, divergence="record", tol=None, max_iter=400
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # past 2/L: expected
        model.fit(X, y)
    print(f"{multiple}·(2/L): {model.stop_reason_:9} after {model.n_iter_} iterations")
    LossCurveDisplay.from_estimator(
        model,
        X,
        y,
        kind="suboptimality",
        name="",
        ax=loss_ax,
        color=colours[multiple],
    )
loss_ax.set_title("diabetes (standardised): f − f* around the limit 2/L")
# The diverging run first: its path sets the frame of the contours.
limit2 = suggest_learning_rate(X2).max_stable
for multiple in (1.1, 0.9):
    model = IterativeGDRegressor(
        learning_rate=multiple * limit2, divergence="record", tol=None, max_iter=15
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X2, y2)
    name, colour = f"η = {multiple}·(2/L)", colours[multiple]
    TrajectoryDisplay.from_estimator(model, X2, y2, ax=path_ax, name=name, color=colour)
path_ax.set_title("two features: 15 steps below and past 2/L")
for ax in (loss_ax, path_ax):  # legends below the axes, clear of the curves
    ax.legend(fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.12))

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
