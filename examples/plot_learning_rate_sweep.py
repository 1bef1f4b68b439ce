"""Learning-rate sweep for gradient descent, with the stability limit 2/L
======================================================================

Pipeline + GridSearchCV over ``learning_rate``, scikit-learn's
ValidationCurveDisplay for the curve, and the loss curve of the winner.
Run ``python plot_learning_rate_sweep.py [figure.png]``.
"""

import sys
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, ValidationCurveDisplay
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor, suggest_learning_rate
from onestep_sklearn.plotting import LossCurveDisplay

X, y = load_diabetes(return_X_y=True)
pipe = make_pipeline(StandardScaler(), IterativeGDRegressor())

# 2/L, the largest stable step, known before fitting. Compute it on the data the
# regressor sees: here the standardised X.
limit = suggest_learning_rate(StandardScaler().fit_transform(X)).max_stable
rates = limit * np.geomspace(1e-3, 3, 16)  # from tiny steps to well past 2/L
param = "iterativegdregressor__learning_rate"  # <step name>__<parameter>

fig, (sweep_ax, loss_ax) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
with warnings.catch_warnings():
    # Rates past 2/L stop at their best iterate with a ConvergenceWarning, and the
    # tiniest ones run out of iterations: both expected in a sweep.
    warnings.simplefilter("ignore", ConvergenceWarning)
    search = GridSearchCV(pipe, {param: rates}, cv=5).fit(X, y)
    # The same sweep as a curve (one-liner: onestep_sklearn.plotting.
    # plot_learning_rate_sweep(pipe, X, y, param_range=rates)).
    ValidationCurveDisplay.from_estimator(
        pipe, X, y, param_name=param, param_range=rates, score_name="R²", ax=sweep_ax
    )
sweep_ax.axvline(limit, color="black", linestyle="--", label="2/L (stability limit)")
sweep_ax.set(xscale="log", xlabel="learning_rate", title="5-fold CV R²")
sweep_ax.legend()

best = search.best_estimator_
print(f"2/L = {limit:.4g}; best learning_rate = {best[-1].learning_rate:.4g}")
# The winner, refitted on all the data: its objective per iteration.
LossCurveDisplay.from_estimator(best, ax=loss_ax, name="best of the sweep")
loss_ax.set(xscale="log", title=f"best pipeline: {best[-1].n_iter_} iterations")

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
