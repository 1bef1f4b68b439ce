"""The learning-rate explorer's static fallback: the same story as its sliders
===========================================================================

In a notebook, ``explore(X, y)`` shows sliders over the learning rate (in
units of 1/L), the momentum and the iterations, redrawn from the closed form
(``pip install ipywidgets``). Where widgets cannot render, this grid says
the same: rates across (below 1/L, at 1/L, just below and just past 2/L),
heavy-ball momentum down. Momentum moves the limit to 2(1+μ)/L, so 2.05/L
converges with it. Run ``python plot_explorer.py [figure.png]``.
"""

import sys

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from onestep_sklearn.plotting import explore

data = load_diabetes(as_frame=True)
X = StandardScaler().set_output(transform="pandas").fit_transform(data.data)
explorer = explore(X, data.target, features=("bmi", "s5"), n_iter=60)
fig = explorer.small_multiples(momenta=(0.0, 0.5, 0.9))
print(explorer.plot(rate=1.9).describe())
plt.close(explorer.figure_)  # the slider view; the grid is the figure here

if len(sys.argv) > 1:
    fig.savefig(sys.argv[1], dpi=80)
else:
    plt.show()
