"""Extreme eigenvalues of the Hessian of the objective (``_kernel.objective``).

The objective is quadratic with Hessian ``H = 2·(XcᵀSXc/Σs) + 2·alpha·I``;
its largest eigenvalue ``L`` decides the stable step sizes. Exact from a
formed Hessian, or by Lanczos on Hessian-vector products (data passes, any
backend). Pure functions; no scikit-learn import.
"""

import numpy as np
import scipy.linalg as la
from scipy.sparse.linalg import LinearOperator, eigsh


def hessian_extremes(hessian):
    """Largest and smallest eigenvalue of a symmetric matrix (exact)."""
    evals = la.eigvalsh(hessian, check_finite=False)
    return float(evals[-1]), float(max(evals[0], 0.0))


def lanczos_extreme(hessp, n_features, which, tol=1e-10):
    """An extreme Hessian eigenvalue by Lanczos on products ``hessp(V)``.

    ``hessp`` maps a (d, k) array to ``H @ V``. The Ritz pair ``(θ, v)`` comes
    with its residual ``r = Hv − θv``; an eigenvalue lies within ``‖r‖`` of
    ``θ``. The largest is returned as the bound ``θ + ‖r‖`` (a step of 1/L
    never exceeds the 1/L of a slightly larger L), the smallest as
    ``max(θ − ‖r‖, 0)``.
    """
    operator = LinearOperator(
        (n_features, n_features),
        matvec=lambda v: hessp(v.reshape(-1, 1)).ravel(),
        dtype=np.float64,
    )
    start = np.random.default_rng(0).standard_normal(n_features)
    if not np.any(operator.matvec(start)):
        # H·v = 0 for a random v: H = 0 (with probability one), and ARPACK
        # would fail on the zero Krylov space.
        return 0.0
    (theta,), vectors = eigsh(operator, k=1, which=which, tol=tol, v0=start)
    vector = vectors[:, 0]
    residual = float(np.linalg.norm(operator.matvec(vector) - theta * vector))
    if which == "LA":
        return float(theta) + residual
    return max(float(theta) - residual, 0.0)


# Up to this many features the Hessian is formed exactly from d products (a
# Hessian-vector product with the identity as k = d right-hand sides).
DENSE_HESSIAN_MAX_FEATURES = 64


def largest_eigenvalue(hessp, n_features):
    """``L`` from Hessian-vector products: exact for small d, else Lanczos."""
    if n_features <= DENSE_HESSIAN_MAX_FEATURES:
        hessian = hessp(np.eye(n_features))
        return hessian_extremes((hessian + hessian.T) / 2)[0]
    return lanczos_extreme(hessp, n_features, "LA")
