"""The 2/L cliff: just below the stability limit gradient descent converges,
just past it it diverges, and divergence="record" lets you watch it.

Left: f − f* on the diabetes data at rates around 2/L (the dotted lines are
ρ²ᵗ, ρ = maxᵢ|1 − ηλᵢ|: below 1 it converges, above 1 it explodes). Right:
the iterates on a two-feature problem, zig-zagging in and out.
Run ``python plot_divergence_cliff.py [figure.png]``.
"""

import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor, suggest_learning_rate
from onestep_sklearn.plotting import LossCurveDisplay, TrajectoryDisplay

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
rng = np.random.default_rng(0)  # a two-feature problem for the trajectories
X2 = rng.normal(size=(200, 2)) @ [[1.0, 0.4], [0.0, 0.5]]
y2 = X2 @ [1.5, -2.0] + 0.3 * rng.normal(size=200)

fig, (loss_ax, path_ax) = plt.subplots(1, 2, figsize=(13, 5.5), layout="constrained")
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
        model, X, y, kind="suboptimality", name="", ax=loss_ax
    )
loss_ax.set_title("diabetes (standardised): f − f* around the limit 2/L")
loss_ax.legend(fontsize="small", loc="upper left")
# The diverging run first: its path sets the frame of the contours.

limit2 = suggest_learning_rate(X2).max_stable
for multiple in (1.1, 0.9):
    model = IterativeGDRegressor(
        learning_rate=multiple * limit2, divergence="record", tol=None, max_iter=15
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X2, y2)
    TrajectoryDisplay.from_estimator(
        model, X2, y2, ax=path_ax, name=f"η = {multiple}·(2/L)"
    )
path_ax.set_title("two features: 15 steps below and past 2/L")

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
