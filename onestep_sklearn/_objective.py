"""The shared mean-squared-error kernel.

The objective, written once and quoted everywhere else in the package::

    f(w, b) = (1/Σsᵢ) Σ sᵢ (yᵢ − xᵢᵀw − b)²  +  alpha·‖w‖²
    ∇_w f   = (2/Σsᵢ) Xᵀ S (Xw + b − y)      +  2·alpha·w

``s`` is ``sample_weight``. With several outputs the objective is the sum of
the per-output objectives, so each output takes exactly its own textbook
gradient step. The intercept is profiled out: for any ``w`` the best ``b`` is
``ȳ − x̄ᵀw`` (weighted means), which makes ∂f/∂b vanish and turns the gradient
into the centred one without ever centring ``X`` in memory.

Two interchangeable evaluations of that one objective live here:

* the data pass (:func:`data_pass`): residual and ``Xᵀ S r`` row block by
  row block, so ``X`` streams through memory once per gradient;
* the sufficient statistics (:class:`SufficientStats`): Σs, weighted means,
  centred ``XᵀSX``, ``XᵀS(y − ȳ)`` and ``Σ s (y − ȳ)²`` from one blockwise
  pass, merged exactly (Chan, Golub & LeVeque). Afterwards every loss,
  gradient or Hessian costs O(d²), independent of ``n_samples``.

Everything here is a pure function of arrays: no estimator state and no
scikit-learn import. ``X`` (dense, CSR or CSC, float32 or float64) is never
copied or modified; only row blocks of a few hundred KiB are ever
materialised. Shapes: ``X`` (n, d), ``Y`` (n, k), ``coef`` (d, k),
``sample_weight`` (n,).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# Row blocks of about this many bytes of X stay in the L2 cache between the
# residual and the Xᵀr product of the same block.
BLOCK_BYTES = 1 << 18


def row_blocks(X, block_bytes=None):
    """Yield slices of rows of ``X`` of about ``block_bytes`` (default
    ``BLOCK_BYTES``, read at call time).

    CSC matrices cannot be sliced by rows cheaply, so they come as one block.
    """
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    n_samples, n_features = X.shape
    if sp.issparse(X) and X.format != "csr":
        yield slice(0, n_samples)
        return
    rows = max(16, block_bytes // max(1, n_features * X.dtype.itemsize))
    for start in range(0, n_samples, rows):
        yield slice(start, min(start + rows, n_samples))


def weighted_means(X, Y, sample_weight, sw_sum):
    """Weighted column means x̄ = Xᵀs/Σs (float64) and ȳ (k,)."""
    x_mean = np.asarray(X.T @ sample_weight, dtype=np.float64) / sw_sum
    y_mean = np.asarray(sample_weight @ Y, dtype=np.float64) / sw_sum
    return x_mean.ravel(), y_mean.ravel()


def data_pass(X, Y, coef, intercept, sample_weight, *, gradient=True):
    """Weighted squared residuals and ``XᵀSr`` in one streaming pass.

    ``r = X @ coef + intercept − Y`` (``Y=None`` means zeros, which turns the
    pass into a Hessian-vector product). Returns ``(sq, xtr, rsum)``: ``sq``
    of shape (k,) holds ``Σ sᵢ rᵢⱼ²`` per output, ``xtr`` (d, k) holds
    ``Xᵀ S r`` (``None`` when ``gradient=False``) and ``rsum`` (k,) holds
    ``Σ sᵢ rᵢⱼ``, all accumulated in float64. The products themselves run in
    the dtype of ``X``.
    """
    coef_x = np.asarray(coef, dtype=X.dtype)
    intercept_x = np.asarray(intercept, dtype=X.dtype)
    sq = np.zeros(coef.shape[1], dtype=np.float64)
    xtr = np.zeros(coef.shape, dtype=np.float64) if gradient else None
    rsum = np.zeros(coef.shape[1], dtype=np.float64)
    for rows in row_blocks(X):
        X_block = X[rows]
        resid = X_block @ coef_x
        resid += intercept_x
        if Y is not None:
            resid -= Y[rows]
        weighted = resid * sample_weight[rows, None]
        sq += np.einsum("ij,ij->j", weighted, resid, dtype=np.float64)
        rsum += weighted.sum(axis=0, dtype=np.float64)
        if gradient:
            xtr += X_block.T @ weighted
    return sq, xtr, rsum


@dataclass(frozen=True)
class DataObjective:
    """The objective evaluated by data passes over ``X``.

    ``x_mean``/``y_mean`` fix the profiled intercept ``b = ȳ − x̄ᵀw`` (zeros
    without an intercept). ``l2_reg_strength`` is ``alpha``.
    """

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray
    sw_sum: float
    x_mean: np.ndarray
    y_mean: np.ndarray
    l2_reg_strength: float

    def intercept(self, coef):
        return self.y_mean - self.x_mean @ coef

    def loss_per_output(self, coef):
        sq, _, _ = data_pass(
            self.X,
            self.Y,
            coef,
            self.intercept(coef),
            self.sample_weight,
            gradient=False,
        )
        return sq / self.sw_sum + self.l2_reg_strength * np.sum(coef**2, axis=0)

    def loss(self, coef):
        return float(self.loss_per_output(coef).sum())

    def loss_gradient(self, coef):
        """Objective (summed over outputs) and its gradient at ``coef``.

        The gradient is that of the profiled objective, ``XcᵀSr`` with
        ``Xc = X − x̄``, obtained as ``XᵀSr − x̄·Σsr``: on the full data
        ``Σsr`` is zero up to rounding (the term removes that rounding), on a
        mini-batch it is not.
        """
        sq, xtr, rsum = data_pass(
            self.X, self.Y, coef, self.intercept(coef), self.sample_weight
        )
        xtr -= np.outer(self.x_mean, rsum)
        l2 = self.l2_reg_strength
        loss = float(sq.sum() / self.sw_sum + l2 * np.sum(coef**2))
        return loss, (2.0 / self.sw_sum) * xtr + (2.0 * l2) * coef

    def hessp(self, vec):
        """Hessian-vector product ``H v``: a data pass with ``y = 0``."""
        _, xtr, rsum = data_pass(
            self.X, None, vec, -(self.x_mean @ vec), self.sample_weight
        )
        xtr -= np.outer(self.x_mean, rsum)
        return (2.0 / self.sw_sum) * xtr + (2.0 * self.l2_reg_strength) * vec


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
        """One blockwise pass over ``X``; blocks merged exactly."""
        stats = cls.empty(X.shape[1], Y.shape[1], fit_intercept)
        for rows in row_blocks(X):
            block = _block_stats(X[rows], Y[rows], sample_weight[rows], fit_intercept)
            stats = stats.merge(block)
        return stats

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


def _block_stats(X_block, Y_block, sw_block, fit_intercept):
    n_rows, n_features = X_block.shape
    sw_sum = float(sw_block.sum(dtype=np.float64))
    if sw_sum == 0:
        empty = SufficientStats.empty(n_features, Y_block.shape[1], fit_intercept)
        return empty._replace_n(n_rows)
    sw64 = sw_block.astype(np.float64, copy=False)
    Y64 = Y_block.astype(np.float64, copy=False)
    if fit_intercept:
        x_mean, y_mean = weighted_means(X_block, Y64, sw64, sw_sum)
    else:
        x_mean, y_mean = np.zeros(n_features), np.zeros(Y64.shape[1])
    Y_centred = Y64 - y_mean
    weighted_y = Y_centred * sw64[:, None]
    yy = np.einsum("ij,ij->j", weighted_y, Y_centred)
    if sp.issparse(X_block):
        # Sparse blocks are not centred (that would densify them): the block
        # mean is removed algebraically, within the block only.
        X64 = X_block.astype(np.float64)
        xx = np.asarray((X64.T @ X64.multiply(sw64[:, None])).todense())
        xx -= sw_sum * np.outer(x_mean, x_mean)
        xy = np.asarray(X64.T @ weighted_y)
    else:
        X_centred = X_block.astype(np.float64) - x_mean
        xy = X_centred.T @ weighted_y
        X_centred *= np.sqrt(sw64)[:, None]
        xx = X_centred.T @ X_centred
    return SufficientStats(sw_sum, x_mean, y_mean, xx, xy, yy, n_rows, fit_intercept)


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
