"""Early stopping as regularisation: the CV score over learning rate × iterations
==============================================================================

``IterativeGDRegressorCV`` scores every learning rate and every iteration
count of full-batch gradient descent by 5-fold cross-validation, exactly and
from one pass over X. On few rows and many noisy features, running to the
optimum overfits: the best score is reached after a number of iterations that
depends on the rate only through ``η·t`` (gradient descent for t steps at
rate η behaves like ridge regression with a penalty of about ``1/(ηt)``; Ali,
Kolter & Tibshirani, 2019), so the good region is a diagonal band, cut off at
the stability limit. Run ``python plot_early_stopping_as_regularisation.py
[figure.png]``.
"""

import sys

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_regression
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressorCV
from onestep_sklearn.plotting import LearningRatePathDisplay

# 120 rows, 90 features of which 10 matter, and noise: a design to overfit.
X, y = make_regression(
    n_samples=120, n_features=90, n_informative=10, noise=40.0, random_state=0
)
cv = KFold(5, shuffle=True, random_state=0)
model = make_pipeline(
    StandardScaler(), IterativeGDRegressorCV(learning_rates=24, max_iter=3000, cv=cv)
).fit(X, y)
gd = model[-1]

display = LearningRatePathDisplay.from_estimator(model)
# Runs with the same η·t as the chosen one: the band of equal regularisation.
rates = gd.learning_rates_[gd.learning_rates_ < gd.stability_limit_]
ax = display.ax_
ax.plot(
    rates,
    gd.learning_rate_ * gd.n_iter_ / rates,
    color="white",
    linestyle="--",
    linewidth=1.2,
    label="η·t = η*·t* (same regularisation)",
)
ax.set_ylim(0.7, gd.cv_scores_.shape[2] * 1.4)
ax.legend(loc="lower left", fontsize="small", framealpha=0.85)

mean = gd.cv_scores_.mean(axis=0)
j = int(np.flatnonzero(gd.learning_rates_ == gd.learning_rate_)[0])
ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.geomspace(1e-2, 1e4, 60)))
ridge_score = cross_val_score(ridge, X, y, cv=cv).mean()
print(
    f"stability limit {gd.stability_limit_:.4g}; chosen learning_rate "
    f"{gd.learning_rate_:.4g} for {gd.n_iter_} iterations: mean CV R² "
    f"{gd.best_score_:.3f} (after all {mean.shape[1]} iterations at that rate: "
    f"{mean[j, -1]:.3f}; RidgeCV: {ridge_score:.3f})"
)

if len(sys.argv) > 1:
    display.figure_.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
