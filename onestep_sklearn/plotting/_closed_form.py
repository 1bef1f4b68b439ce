"""Every constant-rate run on ``(X, y)`` from the spectrum, without a fit.

The objective of ``onestep_sklearn._kernel.objective`` is quadratic: with the
Hessian ``H = Q·diag(λ)·Qᵀ`` (from the sufficient statistics, one pass over
``X``) and ``c = Qᵀw``, each eigen-direction of a constant-rate run evolves on
its own (``γ = λ(c − c*)`` its gradient coordinate, ``v`` its velocity)::

    plain and heavy ball   v ← μ·v − η·γ,   c ← c + v
    Nesterov (look-ahead)  v ← μ·v − η·γ,   c ← c + μ·v − η·γ

the update rules of ``IterativeGDRegressor`` (``momentum``, ``nesterov``).
The objective is ``f* + ½·Σ λ(c − c*)²`` (no cancellation near the optimum).
So any rate, momentum and iteration count is O(d) per iteration: what the
explorer redraws while a slider moves, with no fit and no pass over ``X``.
Only the kernel is used (statistics, spectrum, rates), no solver.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg as la

from .._kernel.rates import contraction, optimal_heavy_ball, stability_limit
from .._kernel.spectrum import active_mask
from ._display_common import statistics

# A run whose excess passes this many times its start has diverged: it is
# cut there (the next iterations would only overflow).
BLOW_UP = 1e12


@dataclass(frozen=True)
class Run:
    """One run: ``coefs`` (n_points, d) from the start, ``excess`` (n_iter,)
    ``f − f*`` after each iteration, ``diverged`` whether it was cut."""

    coefs: np.ndarray
    excess: np.ndarray
    diverged: bool


@dataclass(frozen=True)
class Quadratic:
    """The objective on one data set, as its spectrum (see the module)."""

    eigenvalues: np.ndarray
    basis: np.ndarray
    optimum_coords: np.ndarray
    optimum: float
    alpha: float

    @classmethod
    def from_data(cls, X, y, *, sample_weight=None, alpha=0.0, fit_intercept=True):
        stats = statistics(X, y, sample_weight, fit_intercept)
        evals, basis = la.eigh(stats.hessian(alpha), check_finite=False)
        rhs = basis.T @ ((2.0 / stats.sw_sum) * stats.xy[:, 0])
        active = active_mask(evals)
        # The minimum-norm optimum: directions of zero curvature never move.
        coords = np.where(active, rhs / np.where(active, evals, 1.0), 0.0)
        w_star = basis @ coords
        optimum = float(stats.loss_per_output(w_star[:, None], alpha)[0])
        return cls(np.where(active, evals, 0.0), basis, coords, optimum, alpha)

    @property
    def lipschitz(self):
        return float(max(self.eigenvalues.max(initial=0.0), 0.0))

    @property
    def smallest(self):
        positive = self.eigenvalues[self.eigenvalues > 0]
        return float(positive.min()) if positive.size else 0.0

    @property
    def optimum_coef(self):
        return self.basis @ self.optimum_coords

    def limit(self, momentum=0.0, nesterov=False):
        """The stability limit and its formula (``_kernel.rates``)."""
        return stability_limit(self.lipschitz, momentum, nesterov)

    def contraction(self, rate, momentum=0.0, nesterov=False):
        """The asymptotic factor of the error per iteration."""
        return contraction(
            rate, self.eigenvalues[self.eigenvalues > 0], momentum, nesterov
        )

    def optimal_heavy_ball(self):
        return optimal_heavy_ball(self.lipschitz, self.smallest)

    def excess(self, coords):
        """``f − f*`` of coordinates (..., d) in the eigenbasis."""
        return 0.5 * np.sum(self.eigenvalues * (coords - self.optimum_coords) ** 2, -1)

    def run(self, rate, n_iter, *, momentum=0.0, nesterov=False, coef_init=None):
        """The run from ``coef_init`` (default 0): ``n_iter`` iterations, cut
        where it diverges (see ``BLOW_UP``)."""
        start = np.zeros(self.basis.shape[0]) if coef_init is None else coef_init
        coords = np.empty((int(n_iter) + 1, start.size))
        coords[0] = self.basis.T @ np.asarray(start, dtype=np.float64)
        velocity = np.zeros(start.size)
        first = self.excess(coords[0])
        ceiling = BLOW_UP * max(first, np.finfo(np.float64).tiny)
        last = int(n_iter)
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(int(n_iter)):
                grad = self.eigenvalues * (coords[t] - self.optimum_coords)
                velocity = momentum * velocity - rate * grad
                move = momentum * velocity - rate * grad if nesterov else velocity
                coords[t + 1] = coords[t] + move
                if not self.excess(coords[t + 1]) <= ceiling:
                    last = t + 1
                    break
        coords = coords[: last + 1]
        diverged = last < int(n_iter)
        return Run(coords @ self.basis.T, self.excess(coords[1:]), diverged)
