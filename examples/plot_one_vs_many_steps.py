"""One gradient step vs many (gradient descent) vs one Newton step.

Same standardised data for all; the objective each reaches, the coefficients
each finds and their test R². Run ``python plot_one_vs_many_steps.py [figure.png]``.
"""

import sys

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor
from onestep_sklearn.plotting import LossCurveDisplay

data = load_diabetes()
X_train, X_test, y_train, y_test = train_test_split(
    data.data, data.target, random_state=0
)
scaler = StandardScaler().fit(X_train)  # a learning rate means more on scaled X
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)

models = {  # name: (model, marker of its single step)
    "one gradient step, η = 0.01": (
        OneStepRegressor(solver="gradient", learning_rate=0.01),
        "o",
    ),
    "one gradient step, exact line search": (OneStepRegressor(solver="gradient"), "s"),
    "gradient descent": (IterativeGDRegressor(), None),  # η = 1/L
    "one Newton step (the exact optimum)": (OneStepRegressor(), "*"),
}
fig, (loss_ax, coef_ax) = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
width = 0.8 / len(models)
for i, (name, (model, marker)) in enumerate(models.items()):
    model.fit(X_train, y_train)
    r2 = model.score(X_test, y_test)
    print(f"{name:38}  iterations {model.n_iter_:4}  test R² {r2:.3f}")
    if hasattr(model, "loss_curve_"):  # gradient descent: one point per iteration
        LossCurveDisplay.from_estimator(model, ax=loss_ax, name=name, color=f"C{i}")
    else:  # a single step: the objective after it, at iteration 1
        loss_ax.plot(1, model.loss_, marker, color=f"C{i}", ms=10, label=name)
    positions = np.arange(X_train.shape[1]) + (i - 1.5) * width
    coef_ax.bar(positions, model.coef_, width, color=f"C{i}", label=f"test R² {r2:.3f}")
loss_ax.set(xscale="log", title="objective (training data)")
loss_ax.legend(fontsize="small")
coef_ax.set_xticks(range(X_train.shape[1]), data.feature_names)
coef_ax.set(title="coefficients (colours as on the left)", xlabel="feature")
coef_ax.legend(fontsize="small")

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
