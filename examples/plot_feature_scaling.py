"""Why scaling the features helps gradient descent
===============================================

The same regression with the features in their raw units and standardised.
Left: the Hessian's eigenvalues. Raw units spread them over decades (a large
condition number κ = L/ℓ); the step must stay below 2/L, set by the largest,
so the directions of the smallest crawl. Right: the paths of gradient descent
at 1/L for 100 iterations, raw and standardised, over the same two features.
Run ``python plot_feature_scaling.py [figure.png]``.
"""

import sys

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor
from onestep_sklearn.plotting import SpectrumDisplay, TrajectoryDisplay

rng = np.random.default_rng(0)
units = np.array([1.0, 4.0, 0.5, 2.0, 10.0])  # e.g. metres, grams, years …
X = rng.normal(size=(300, 5)) * units
y = X @ (np.array([1.0, -2.0, 0.5, 1.5, -1.0]) / units) + 0.2 * rng.normal(size=300)

fig, (spectrum_ax, raw_ax, scaled_ax) = plt.subplots(
    1, 3, figsize=(16, 5), layout="constrained"
)
SpectrumDisplay.from_data(X, ax=spectrum_ax, name="raw units")
SpectrumDisplay.from_data(
    StandardScaler().fit_transform(X), ax=spectrum_ax, name="standardised"
)
spectrum_ax.set_title("Hessian spectrum")

# The same budget for both, plain steps.
budget = {"tol": None, "max_iter": 100, "momentum": 0.0}
raw = IterativeGDRegressor(**budget).fit(X, y)
scaled = make_pipeline(StandardScaler(), IterativeGDRegressor(**budget)).fit(X, y)
for model, ax, title in (
    (raw, raw_ax, "raw units"),
    (scaled, scaled_ax, "standardised features"),
):
    # The pair (0, 1): the features whose units differ most among the first two.
    display = TrajectoryDisplay.from_estimator(
        model, X, y, features=(0, 1), ax=ax, name="GD at 1/L"
    )
    final = model[-1] if hasattr(model, "steps") else model
    ax.set_title(f"{title}: 100 steps at 1/L, R² = {model.score(X, y):.3f}")
    print(
        f"{title:12}  L = {final.lipschitz_:.4g}  R² after 100 steps "
        f"{model.score(X, y):.4f}"
    )

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
