"""Extreme eigenvalues of the Hessian of the objective (``_kernel.objective``).

The objective is quadratic with Hessian ``H = 2·(XcᵀSXc/Σs) + 2·alpha·I``;
its largest eigenvalue ``L`` decides the stable step sizes. Exact from a
formed Hessian, or by Lanczos on Hessian-vector products (data passes, any
backend). Pure functions; no scikit-learn import.
"""

import numpy as np
import scipy.linalg as la
from scipy.sparse.linalg import LinearOperator

from .sparse_ops import extreme_eigenvalue


def active_mask(evals):
    """The eigenvalues above eps·d·L: the others are rounding of zero (the
    directions gradient descent never moves along)."""
    evals = np.asarray(evals, dtype=np.float64)
    top = max(evals.max(initial=0.0), 0.0)
    return evals > np.finfo(np.float64).eps * evals.size * top


def active_extremes(evals):
    """``(L, ℓ)``: the largest eigenvalue (0 if none is positive) and the
    smallest active one (0 if none is)."""
    evals = np.asarray(evals, dtype=np.float64)
    active = evals[active_mask(evals)]
    top = float(max(evals.max(initial=0.0), 0.0))
    return top, float(active.min()) if active.size else 0.0


def hessian_extremes(hessian):
    """Largest and smallest eigenvalue of a symmetric matrix (exact)."""
    evals = la.eigvalsh(hessian, check_finite=False)
    return float(evals[-1]), float(max(evals[0], 0.0))


def hessian_as_operator(hessp, n_features):
    """``hessp`` as a symmetric :class:`~scipy.sparse.linalg.LinearOperator`."""
    return LinearOperator(
        (n_features, n_features),
        matvec=lambda v: hessp(np.reshape(v, (-1, 1))).ravel(),
        dtype=np.float64,
    )


# Up to this many features the Hessian is formed exactly from d products (a
# Hessian-vector product with the identity as k = d right-hand sides).
DENSE_HESSIAN_MAX_FEATURES = 64


def largest_eigenvalue(hessp, n_features, operator=None):
    """``L`` from Hessian-vector products: exact for small d, else Lanczos
    (on ``operator`` when given: a faster form of the same products)."""
    if n_features <= DENSE_HESSIAN_MAX_FEATURES:
        hessian = hessp(np.eye(n_features))
        return hessian_extremes((hessian + hessian.T) / 2)[0]
    if operator is None:
        operator = hessian_as_operator(hessp, n_features)
    return extreme_eigenvalue(operator, "LA")
