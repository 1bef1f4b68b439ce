"""Where (learning rate, momentum) converge: heavy ball and Nesterov
=================================================================

From the Hessian's eigenvalues of the standardised diabetes data: the colour
is the number of iterations per digit of accuracy (−1/log₁₀ρ, ρ the
asymptotic factor of the error per iteration); white diverges. The black
curves are the stability limits 2(1+μ)/L and 2(1+μ)/((1+2μ)L); the stars
are Polyak's optimal heavy-ball pair and the fastest Nesterov pair.
Run ``python plot_convergence_map.py [figure.png]``.
"""

import sys

import matplotlib.pyplot as plt
from sklearn.datasets import load_diabetes
from sklearn.preprocessing import StandardScaler

from onestep_sklearn.plotting import ConvergenceMapDisplay

X, _ = load_diabetes(return_X_y=True)
display = ConvergenceMapDisplay.from_data(StandardScaler().fit_transform(X))
for method, (rate, momentum) in display.optimal.items():
    print(f"{method}: η = {rate:.3g}/L, μ = {momentum:.3g}")

if len(sys.argv) > 1:
    display.figure_.savefig(sys.argv[1], dpi=100)
else:
    plt.show()
