"""Sufficient statistics of the weighted least-squares objective.

Part of the kernel of ``_objective`` (the objective is defined there): Σs,
weighted means, centred ``XᵀSX``, ``XᵀS(y − ȳ)`` and ``Σ s (y − ȳ)²``. One
streaming pass forms them; :meth:`SufficientStats.merge` combines the
statistics of separate chunks exactly (Chan, Golub & LeVeque), which serves
``partial_fit`` and distributed reductions. Afterwards every loss, gradient
or Hessian costs O(d²), independent of ``n_samples``. No scikit-learn import;
``X`` is never copied (only a row block at a time, in a reused buffer).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.linalg.blas import get_blas_funcs

from . import _objective


@dataclass(frozen=True)
class SufficientStats:
    """Sufficient statistics of the weighted least-squares problem.

    Attributes: ``sw_sum`` (Σs), ``x_mean`` (d,), ``y_mean`` (k,), ``xx``
    (d, d) = centred XᵀSX, ``xy`` (d, k) = centred XᵀS(y − ȳ), ``yy`` (k,) =
    Σ s (y − ȳ)², ``n_samples``. Without an intercept the means are zero and
    the moments are raw. All float64.
    """

    sw_sum: float
    x_mean: np.ndarray
    y_mean: np.ndarray
    xx: np.ndarray
    xy: np.ndarray
    yy: np.ndarray
    n_samples: int
    fit_intercept: bool

    @classmethod
    def empty(cls, n_features, n_outputs, fit_intercept):
        return cls(
            0.0,
            np.zeros(n_features),
            np.zeros(n_outputs),
            np.zeros((n_features, n_features)),
            np.zeros((n_features, n_outputs)),
            np.zeros(n_outputs),
            0,
            fit_intercept,
        )

    @classmethod
    def from_data(cls, X, Y, sample_weight, fit_intercept):
        """The statistics of ``(X, Y, s)`` in one streaming pass over ``X``.

        See :func:`stream_moments`; the result is float64 whatever the dtype
        of ``X``. Non-finite input gives non-finite statistics (callers test
        ``finite``), never an exception.
        """
        return stream_moments(X, Y, sample_weight, fit_intercept)

    @property
    def finite(self):
        return bool(
            np.isfinite(self.xx).all()
            and np.isfinite(self.xy).all()
            and np.isfinite(self.x_mean).all()
        )

    def merge(self, other):
        """Exact pairwise merge (Chan, Golub & LeVeque, weighted)."""
        if other.sw_sum == 0:
            return self._replace_n(self.n_samples + other.n_samples)
        if self.sw_sum == 0:
            return other._replace_n(self.n_samples + other.n_samples)
        sw_sum = self.sw_sum + other.sw_sum
        xx, xy, yy = self.xx + other.xx, self.xy + other.xy, self.yy + other.yy
        x_mean, y_mean = self.x_mean, self.y_mean
        if self.fit_intercept:
            dx, dy = other.x_mean - self.x_mean, other.y_mean - self.y_mean
            factor = self.sw_sum * other.sw_sum / sw_sum
            x_mean = self.x_mean + dx * (other.sw_sum / sw_sum)
            y_mean = self.y_mean + dy * (other.sw_sum / sw_sum)
            xx += factor * np.outer(dx, dx)
            xy += factor * np.outer(dx, dy)
            yy += factor * dy**2
        return SufficientStats(
            sw_sum,
            x_mean,
            y_mean,
            xx,
            xy,
            yy,
            self.n_samples + other.n_samples,
            self.fit_intercept,
        )

    def _replace_n(self, n_samples):
        return SufficientStats(
            self.sw_sum,
            self.x_mean,
            self.y_mean,
            self.xx,
            self.xy,
            self.yy,
            n_samples,
            self.fit_intercept,
        )

    def intercept(self, coef):
        return self.y_mean - self.x_mean @ coef

    def loss_per_output(self, coef, l2_reg_strength):
        """Objective per output from the statistics: O(d² k)."""
        quad = np.sum(coef * (self.xx @ coef), axis=0)
        sse = self.yy - 2.0 * np.sum(coef * self.xy, axis=0) + quad
        # Cancellation can leave a tiny negative number at an exact fit.
        sse = np.maximum(sse, 0.0)
        return sse / self.sw_sum + l2_reg_strength * np.sum(coef**2, axis=0)

    def loss_gradient(self, coef, l2_reg_strength):
        """Objective (summed over outputs) and gradient: O(d² k)."""
        xx_coef = self.xx @ coef
        sse = self.yy.sum() - 2.0 * np.sum(coef * self.xy) + np.sum(coef * xx_coef)
        loss = max(sse, 0.0) / self.sw_sum + l2_reg_strength * np.sum(coef**2)
        grad = (2.0 / self.sw_sum) * (xx_coef - self.xy) + 2.0 * l2_reg_strength * coef
        return float(loss), grad

    def hessian(self, l2_reg_strength):
        """H = 2·(XcᵀSXc/Σs) + 2·alpha·I."""
        hess = (2.0 / self.sw_sum) * self.xx
        hess[np.diag_indices_from(hess)] += 2.0 * l2_reg_strength
        return hess

    def hessp(self, vec, l2_reg_strength):
        return (2.0 / self.sw_sum) * (self.xx @ vec) + 2.0 * l2_reg_strength * vec

    def sse(self, coef, intercept):
        """Σ s (y − Xw − b)² per output, for any (not only the best) ``b``.

        Raw statistics (``fit_intercept=False``) serve ``b = 0`` only: they
        do not keep the sums Σsx and Σsy the cross term of another ``b`` needs.
        """
        if not self.fit_intercept and np.any(intercept != 0):
            raise ValueError(
                "sse with a non-zero intercept needs statistics built with "
                "fit_intercept=True"
            )
        quad = np.sum(coef * (self.xx @ coef), axis=0)
        centred = self.yy - 2.0 * np.sum(coef * self.xy, axis=0) + quad
        offset = self.y_mean - self.x_mean @ coef - intercept
        return np.maximum(centred, 0.0) + self.sw_sum * offset**2


@dataclass(frozen=True)
class StatsObjective:
    """The objective evaluated from :class:`SufficientStats`: O(d²) per call.

    Same methods as :class:`DataObjective`, so solvers need not know which
    one they iterate on; the iterates agree up to rounding.
    """

    stats: SufficientStats
    l2_reg_strength: float

    @property
    def x_mean(self):
        return self.stats.x_mean

    @property
    def y_mean(self):
        return self.stats.y_mean

    def intercept(self, coef):
        return self.stats.intercept(coef)

    def loss_per_output(self, coef):
        return self.stats.loss_per_output(coef, self.l2_reg_strength)

    def loss(self, coef):
        return float(self.loss_per_output(coef).sum())

    def loss_gradient(self, coef):
        return self.stats.loss_gradient(coef, self.l2_reg_strength)

    def hessp(self, vec):
        return self.stats.hessp(vec, self.l2_reg_strength)


def stream_moments(X, Y, sample_weight, fit_intercept):
    """One pass: symmetric rank-k updates of row blocks shifted by a pilot mean.

    Each dense block is shifted by ``c`` (the mean of the first block, a
    pilot estimate of x̄) into a reused float64 buffer, scaled by √s when
    weights are not all one, and accumulated with BLAS ``syrk`` (half the
    flops of ``XᵀX``) and one small product for ``Σ s (x − c)(y − ȳ)`` and
    ``Σ s (x − c)``. The exact centring ``Σ s (x − x̄)(x − x̄)ᵀ = G − m mᵀ/Σs``
    then only removes a small remainder, so no digits are lost to the offset
    of un-centred data. Sparse blocks are not shifted (that would densify
    them): their raw moments are centred algebraically.
    """
    n_samples, n_features = X.shape
    n_outputs = Y.shape[1]
    sw = np.asarray(sample_weight, dtype=np.float64)
    sw_sum = float(sw.sum())
    if sw_sum == 0:
        return SufficientStats.empty(n_features, n_outputs, fit_intercept)._replace_n(
            n_samples
        )
    Y64 = np.asarray(Y, dtype=np.float64)
    y_mean = sw @ Y64 / sw_sum if fit_intercept else np.zeros(n_outputs)
    Y_centred = Y64 - y_mean
    yy = sw @ Y_centred**2
    unit = bool(np.all(sw == 1))
    root = None if unit else np.sqrt(sw)
    # Right-hand columns: [s·(y − ȳ), s], or their √s versions for a
    # buffer already scaled by √s.
    scale = sw if unit else root
    rhs = np.empty((n_samples, n_outputs + 1))
    np.multiply(Y_centred, scale[:, None], out=rhs[:, :n_outputs])
    rhs[:, n_outputs] = scale
    sparse = sp.issparse(X)
    if sparse and X.format != "csr":
        X = X.tocsr()  # row blocks need CSR; copies the sparse arrays only
    shift = np.zeros(n_features)
    if fit_intercept and not sparse:
        first = next(_objective.row_blocks(X))
        shift = np.asarray(X[first].mean(axis=0), dtype=np.float64)
    gram = np.zeros((n_features, n_features), order="F")
    cross = np.zeros((n_features, n_outputs + 1))
    syrk = get_blas_funcs("syrk", (gram,))
    with np.errstate(over="ignore", invalid="ignore"):
        buffer = None
        for rows in _objective.row_blocks(X, block_bytes=4 * _objective.BLOCK_BYTES):
            block = X[rows]
            if sparse:
                block = block.astype(np.float64)
                weighted = block if unit else block.multiply(sw[rows, None]).tocsr()
                gram += (block.T @ weighted).toarray()
                cross += block.T @ (rhs[rows] * (1 if unit else root[rows, None]))
                continue
            if buffer is None:
                buffer = np.empty((block.shape[0], n_features))
            buf = buffer[: block.shape[0]]
            np.subtract(block, shift, out=buf)
            if not unit:
                buf *= root[rows, None]
            gram = syrk(1.0, buf.T, beta=1.0, c=gram, trans=0, lower=0, overwrite_c=1)
            cross += buf.T @ rhs[rows]
    if not sparse:
        gram = np.triu(gram) + np.triu(gram, 1).T
    moment = cross[:, n_outputs]  # Σ s (x − c)
    xy = cross[:, :n_outputs]
    x_mean = np.zeros(n_features)
    if fit_intercept:
        x_mean = shift + moment / sw_sum
        gram -= np.outer(moment, moment) / sw_sum
        xy = xy - np.outer(moment, Y_centred.T @ sw) / sw_sum
    return SufficientStats(
        sw_sum, x_mean, y_mean, gram, xy, yy, n_samples, fit_intercept
    )
