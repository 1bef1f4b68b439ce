"""Sufficient statistics of the weighted least-squares objective.

Part of the kernel (the objective is defined in ``_kernel.objective``): Σs,
weighted means, centred ``XᵀSX``, ``XᵀS(y − ȳ)`` and ``Σ s (y − ȳ)²``. One
streaming pass forms them; :meth:`SufficientStats.merge` combines the
statistics of separate chunks exactly (Chan, Golub & LeVeque), which serves
``partial_fit`` and distributed reductions. Afterwards every loss, gradient
or Hessian costs O(d²), independent of ``n_samples``. No scikit-learn import;
``X`` is never copied (only a row block at a time, in a reused buffer).
"""

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from . import objective
from .factor import merge_factors, qr_factor
from .objective import row_blocks


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
    factor: np.ndarray | None = None

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
        shift = None
        if self.fit_intercept:
            dx, dy = other.x_mean - self.x_mean, other.y_mean - self.y_mean
            weight = self.sw_sum * other.sw_sum / sw_sum
            x_mean = self.x_mean + dx * (other.sw_sum / sw_sum)
            y_mean = self.y_mean + dy * (other.sw_sum / sw_sum)
            xx += weight * np.outer(dx, dx)
            xy += weight * np.outer(dx, dy)
            yy += weight * dy**2
            shift = np.concatenate([dx, dy])
        factor = None
        if self.factor is not None and other.factor is not None:
            factor = merge_factors(
                self.factor, other.factor, self.sw_sum, other.sw_sum, shift
            )
        return SufficientStats(
            sw_sum,
            x_mean,
            y_mean,
            xx,
            xy,
            yy,
            self.n_samples + other.n_samples,
            self.fit_intercept,
            factor,
        )

    def _replace_n(self, n_samples):
        return replace(self, n_samples=n_samples)

    def with_factor(self, X, Y, sample_weight):
        """These statistics with the triangular factor of the same rows.

        The factor (see ``factor.qr_factor``) merges exactly like the
        moments, and keeps the digits the Gram loses on ill-conditioned
        data: ``partial_fit`` solves from it when the Gram is not good enough.
        """
        factor = qr_factor(X, Y, sample_weight, self.x_mean, self.y_mean)
        return replace(self, factor=factor)

    def intercept(self, coef):
        return self.y_mean - self.x_mean @ coef

    def restricted(self, active):
        """The statistics with the columns outside ``active`` flattened.

        Their centred moments are set to 0 (they are rounding noise of
        constant columns), so no gradient or curvature comes from them.
        """
        if active.all():
            return self
        keep = active.astype(np.float64)
        return replace(
            self, xx=self.xx * np.outer(keep, keep), xy=self.xy * keep[:, None]
        )

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


def stream_moments(X, Y, sample_weight, fit_intercept):
    """:func:`_stream_moments` without floating-point warnings.

    Non-finite input gives non-finite statistics, which callers test; numpy's
    RuntimeWarnings on the way would only bury the error they then raise.
    """
    with np.errstate(all="ignore"):
        return _stream_moments(X, Y, sample_weight, fit_intercept)


def _stream_moments(X, Y, sample_weight, fit_intercept):
    """One pass of symmetric rank-k updates on augmented, shifted row blocks.

    Each dense block becomes ``√s·[x − c, y − ȳ, 1]`` in a reused float64
    buffer (``c`` the mean of the first block, a pilot estimate of x̄; the √s
    only when weights are not all one), and ``bufᵀ·buf`` (BLAS ``syrk``: half
    the flops of a general product, and one call per block) accumulates
    ``Σ s (x − c)(x − c)ᵀ``, ``Σ s (x − c)(y − ȳ)``, ``Σ s (x − c)`` and
    ``Σ s (y − ȳ)²`` at once. The exact centring ``G − m·mᵀ/Σs`` then removes
    only a small remainder, so no digits are lost to the offset of un-centred
    data. Sparse blocks are not shifted (that would densify them): their raw
    moments are centred algebraically.
    """
    n_samples, n_features = X.shape
    n_outputs = Y.shape[1]
    sw = np.asarray(sample_weight, dtype=np.float64)
    sw_sum = float(sw.sum())
    if sw_sum == 0:
        empty = SufficientStats.empty(n_features, n_outputs, fit_intercept)
        return empty._replace_n(n_samples)
    y_mean = np.zeros(n_outputs)
    if fit_intercept:
        y_mean = np.asarray(sw @ Y, dtype=np.float64) / sw_sum
    unit = bool(np.all(sw == 1))
    if sp.issparse(X):
        augmented = _sparse_moments(X, Y, sw, y_mean, unit)
        shift = np.zeros(n_features)
    else:
        shift, spread = np.zeros(n_features), np.zeros(n_features)
        if fit_intercept:
            shift, spread = _pilot_mean(X, sw)
        if unit and X.dtype == np.float64 and np.all(np.abs(shift) <= spread):
            # Data about centred already: raw moments lose at most a bit to
            # the final centring, and X's own blocks go straight to syrk
            # (no copy into a buffer).
            shift = np.zeros(n_features)
            augmented = _raw_moments(X, Y, y_mean)
        else:
            augmented = _dense_moments(X, Y, sw, shift, y_mean, unit)
    width = n_features + n_outputs
    gram = augmented[:n_features, :n_features]
    xy = augmented[:n_features, n_features:width]
    moment = augmented[:n_features, width]  # Σ s (x − c)
    yy = np.diag(augmented)[n_features:width].copy()
    x_mean = np.zeros(n_features)
    if fit_intercept:
        x_mean = shift + moment / sw_sum
        y_sum = augmented[n_features:width, width]  # Σ s (y − ȳ) ≈ 0
        gram = gram - np.outer(moment, moment) / sw_sum
        xy = xy - np.outer(moment, y_sum) / sw_sum
        yy -= y_sum**2 / sw_sum
    return SufficientStats(
        sw_sum,
        x_mean,
        y_mean,
        np.ascontiguousarray(gram),
        np.ascontiguousarray(xy),
        yy,
        n_samples,
        fit_intercept,
    )


def _cached_rows(n_features):
    """Rows of about ``BLOCK_BYTES`` (a core's L2 cache)."""
    return max(16, objective.BLOCK_BYTES // (8 * n_features))


def _block_rows(n_samples, n_features, *, copy):
    """Rows per ``syrk`` call of the dense statistics pass.

    At least the cached rows and 16·d rows (each call then amortises its
    d × d update, and few calls wait for the BLAS threads); a shifted copy
    (``copy``) holds no more than 2% of the rows past the cached size.
    """
    cached = _cached_rows(n_features)
    rows = max(cached, 16 * n_features)
    if copy:
        rows = min(rows, max(cached, n_samples // 50))
    return min(rows, n_samples)


def _dense_moments(X, Y, sw, shift, y_mean, unit):
    """The augmented moments of ``√s·[x − c, y − ȳ, 1]``, block by block.

    Each block of X is shifted (and weighted, and cast to float64) into a
    reused buffer of d columns; ``bufᵀ·buf`` (syrk) and ``bufᵀ·cols`` with
    the small ``cols = √s·[y − ȳ, 1]`` then both read it from cache.
    """
    n_features, n_outputs = X.shape[1], Y.shape[1]
    rows = _block_rows(X.shape[0], n_features, copy=True)
    buffer = np.empty((rows, n_features))
    columns = np.empty((rows, n_outputs + 1))
    moments = _Moments(n_features, n_outputs)
    root = None if unit else np.sqrt(sw)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, X.shape[0], rows):
            stop = min(start + rows, X.shape[0])
            block, cols = buffer[: stop - start], columns[: stop - start]
            np.subtract(X[start:stop], shift, out=block)
            np.subtract(Y[start:stop], y_mean, out=cols[:, :n_outputs])
            cols[:, n_outputs] = 1.0
            if not unit:
                weights = root[start:stop, None]
                block *= weights
                cols *= weights
            moments.add(block, cols)
    return moments.augmented()


def _raw_moments(X, Y, y_mean):
    """The augmented moments of unit-weight float64 data, unshifted.

    ``Xᵦᵀ·Xᵦ`` on X's own row blocks (numpy runs it as syrk: no copy of X at
    all) and ``Xᵦᵀ·[y − ȳ, 1]`` while the block is in cache.
    """
    n_features, n_outputs = X.shape[1], Y.shape[1]
    rows = _block_rows(X.shape[0], n_features, copy=False)
    columns = np.empty((rows, n_outputs + 1))
    columns[:, n_outputs] = 1.0
    moments = _Moments(n_features, n_outputs)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, X.shape[0], rows):
            block = X[start : start + rows]
            cols = columns[: block.shape[0]]
            np.subtract(Y[start : start + rows], y_mean, out=cols[:, :n_outputs])
            moments.add(block, cols)
    return moments.augmented()


class _Moments:
    """Running sums of ``[B, C]ᵀ[B, C]`` for row blocks ``B`` (d columns) and
    ``C`` (k + 1 columns): the Gram by syrk, the rest by small products."""

    def __init__(self, n_features, n_outputs):
        width = n_features + n_outputs + 1
        self.n_features = n_features
        self.total = np.zeros((width, width))

    def add(self, block, cols):
        d = self.n_features
        self.total[:d, :d] += block.T @ block
        # (Cᵀ·B)ᵀ: k + 1 columns, a small share of the syrk's d. Blocks are
        # cache-sized up to d ≈ 360; past that the syrk's d² per row dwarfs
        # re-reading the block (slicing it costs more: 18% against 8% of the
        # syrk at d = 500).
        self.total[:d, d:] += (cols.T @ block).T
        self.total[d:, d:] += cols.T @ cols

    def augmented(self):
        d = self.n_features
        self.total[d:, :d] = self.total[:d, d:].T
        return self.total


def _sparse_moments(X, Y, sw, y_mean, unit):
    n_features, n_outputs = X.shape[1], Y.shape[1]
    width = n_features + n_outputs + 1
    augmented = np.zeros((width, width))
    if X.format != "csr":
        X = X.tocsr()  # row blocks need CSR; copies the sparse arrays only
    dense_cols = np.empty((0, n_outputs + 1))
    with np.errstate(over="ignore", invalid="ignore"):
        for rows in row_blocks(X, stored=True):
            block = X[rows].astype(np.float64)
            s = sw[rows]
            dense_cols = np.column_stack([Y[rows] - y_mean, np.ones(s.size)])
            weighted_cols = dense_cols * s[:, None]
            weighted_block = block if unit else block.multiply(s[:, None]).tocsr()
            augmented[:n_features, :n_features] += (block.T @ weighted_block).toarray()
            augmented[:n_features, n_features:] += block.T @ weighted_cols
            augmented[n_features:, n_features:] += dense_cols.T @ weighted_cols
    augmented[n_features:, :n_features] = augmented[:n_features, n_features:].T
    return augmented


def _pilot_mean(X, sw):
    """The weighted mean of the first row block with positive weight.

    A pilot estimate of x̄ to shift by: rows of zero weight must not pull it
    away from the rows that count, or their small differences would be lost
    against a large shift.
    Returns it with the pilot's weighted standard deviation per column.
    """
    for rows in row_blocks(X):
        weights = sw[rows]
        total = weights.sum()
        if total > 0:
            block = np.asarray(X[rows], dtype=np.float64)
            mean = (weights @ block) / total
            spread = np.sqrt(np.maximum((weights @ block**2) / total - mean**2, 0))
            return mean, spread
    return np.zeros(X.shape[1]), np.zeros(X.shape[1])
