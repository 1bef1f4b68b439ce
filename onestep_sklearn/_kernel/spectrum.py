"""Extreme eigenvalues of the Hessian of the objective (``_kernel.objective``).

The objective is quadratic with Hessian ``H = 2·(XcᵀSXc/Σs) + 2·alpha·I``;
its largest eigenvalue ``L`` decides the stable step sizes. Exact from a
formed Hessian, or by Lanczos on Hessian-vector products (data passes, any
backend). :class:`Spectrum` is the full eigendecomposition as gradient
descent iterates in it. Pure functions; no scikit-learn import.
"""

from dataclasses import dataclass

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


@dataclass(frozen=True)
class Spectrum:
    """The Hessian ``Q·diag(λ)·Qᵀ`` as full-batch gradient descent sees it:
    the one set-up shared by the spectral engine (``_solvers.spectral``) and
    the cross-validation path (``_solvers.path``), so that both iterate the
    same directions.

    ``evals`` are 0 outside ``active`` (rounding of zero: directions descent
    never moves along), ``inv_evals`` their inverses (0 there too), ``basis``
    is ``Q`` and ``lipschitz`` is ``L`` (0 if no eigenvalue is positive).
    """

    evals: np.ndarray
    basis: np.ndarray
    active: np.ndarray
    inv_evals: np.ndarray
    lipschitz: float

    @classmethod
    def of(cls, eigh):
        """From ``(eigenvalues, eigenvectors)`` as ``scipy.linalg.eigh``
        returns them (ascending)."""
        evals, basis = eigh
        active = active_mask(evals)
        return cls(
            evals=np.where(active, evals, 0.0),
            basis=basis,
            active=active,
            inv_evals=np.where(active, 1.0 / np.where(active, evals, 1), 0),
            lipschitz=float(max(evals[-1], 0.0)),
        )

    def gradient_coordinates(self, gradient):
        """``γ = Qᵀ∇f`` (d, k), 0 along the inactive directions."""
        return (self.basis.T @ gradient) * self.active[:, None]

    def excess(self, gammas):
        """``f − f* = ½·Σ γ²/λ`` of gradients in the eigenbasis (..., d, k)."""
        return 0.5 * np.einsum("...ij,i->...", gammas**2, self.inv_evals)

    def excess_weights(self, gamma):
        """``½·Σₖ γ²/λ`` per direction (d,): the excess of ``gamma`` scaled
        by ``ρᵢ²ᵗ`` direction by direction is ``weights @ ρ²ᵗ`` (plain GD)."""
        return 0.5 * np.sum(gamma**2, axis=1) * self.inv_evals

    def optimum_shift(self, gamma):
        """``z* − z = −γ/λ``: the move to the optimum from a point whose
        gradient in the eigenbasis is ``gamma`` (d, k)."""
        return -gamma * self.inv_evals[:, None]
