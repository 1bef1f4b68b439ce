"""The lesson on the learning rate in one call: 0.5/L, 1/L, 1.9/L and 2.05/L
=========================================================================

Top: each eigen-direction of the Hessian shrinks its error by ``|1 − ηλ|`` per
step; the steepest one (λ = L) sets the limit 2/L, the flattest the speed.
Below, for each rate, the loss curve and the path on the contours of two
coefficients, with one line saying what happens. Every run is the closed
form from the data's spectrum (no fit). Run ``python plot_lesson.py [figure.png]``.
"""

import sys

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from onestep_sklearn.plotting import lesson_figure

data = load_diabetes(as_frame=True)
X = StandardScaler().set_output(transform="pandas").fit_transform(data.data)
fig = lesson_figure(X, data.target, features=("bmi", "s5"), n_iter=100)
for rate, line in zip((0.5, 1.0, 1.9, 2.05), fig.lesson_verdicts_):
    print(f"η = {rate}/L: {line}")

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=90)
else:
    plt.show()
