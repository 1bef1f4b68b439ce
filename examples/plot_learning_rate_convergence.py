"""The learning rate and the speed of convergence, against the theory
==================================================================

Gradient descent on least squares converges linearly: at a constant rate η
the excess objective shrinks at least like ρ^{2t}, ρ = maxᵢ|1 − ηλᵢ| over
the Hessian's eigenvalues λᵢ. Several rates on one suboptimality plot, each
beside its theoretical line. Run ``python plot_learning_rate_convergence.py
[figure.png]``.
"""

import sys

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor, suggest_learning_rate
from onestep_sklearn.plotting import LossCurveDisplay

X, y = load_diabetes(return_X_y=True)
X = StandardScaler().fit_transform(X)
facts = suggest_learning_rate(X, y)  # L, ℓ, 2/L and the optimal rate 2/(L + ℓ)
print(
    f"L = {facts.lipschitz:.4g}, ℓ = {facts.smallest_curvature:.4g}, "
    f"κ = {facts.condition_number:.4g}, 2/L = {facts.max_stable:.4g}"
)

rates = {  # legend name: learning rate
    "0.1·(2/L)": 0.1 * facts.max_stable,
    "1/L (auto)": facts.auto,
    "2/(L + ℓ) (optimal)": facts.optimal_rate,
}
fig, ax = plt.subplots(figsize=(9, 5.5), layout="constrained")
for name, rate in rates.items():
    # tol=None: the full budget, to see the straight line of linear convergence.
    model = IterativeGDRegressor(learning_rate=rate, tol=None, max_iter=800)
    model.fit(X, y)
    LossCurveDisplay.from_estimator(model, X, y, kind="suboptimality", name=name, ax=ax)
    excess = model.loss_curve_[-1] - facts.optimum
    print(f"{name:22} f − f* after 800 iterations: {excess:.3g}")
ax.set_title(
    "Gradient descent on the diabetes data (standardised): f − f* per "
    "iteration,\nsolid: the run, dotted: its theoretical bound ρ²ᵗ"
)
ax.legend(fontsize="small", loc="lower left")  # the empty corner

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
