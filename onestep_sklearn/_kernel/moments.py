"""The block passes behind the sufficient statistics (``_kernel.stats``).

Each returns the augmented moments ``[X, Y, 1]ᵀS[X, Y, 1]`` of its route,
about a shift for un-centred data (so that no digits are lost to the
offset), in cache-sized row blocks: X's own blocks when they can go to syrk
as they are, a reused buffer otherwise. No scikit-learn import; X is never
copied beyond one block. On a device (``xp_ops``) the same moments come
from cross products of each shifted chunk in X's dtype, summed per 4096
rows and added in float64 (:func:`device_moments`).
"""

import numpy as np

from . import objective, xp_ops
from .objective import row_blocks


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


def dense_moments(X, Y, sw, shift, y_mean, unit):
    """The augmented moments of ``√s·[x − c, y − ȳ, 1]``, block by block.

    Each block is shifted (weighted, cast to float64) into a reused buffer
    of all ``d + k + 1`` columns and one syrk forms every moment: the cross
    moments then round as the Gram does (separate products for them cost
    the intercept of offset designs a digit: Norris 13.3 → 12.2).
    """
    if not xp_ops.is_numpy(X):
        return device_moments(X, Y, sw, shift, y_mean, unit)
    n_features, n_outputs = X.shape[1], Y.shape[1]
    width = n_features + n_outputs + 1
    rows = _block_rows(X.shape[0], width, copy=True)
    buffer = np.empty((rows, width))
    buffer[:, -1] = 1.0
    augmented = np.zeros((width, width))
    root = None if unit else np.sqrt(sw)
    with np.errstate(over="ignore", invalid="ignore"):
        for start in range(0, X.shape[0], rows):
            stop = min(start + rows, X.shape[0])
            buf = buffer[: stop - start]
            np.subtract(X[start:stop], shift, out=buf[:, :n_features])
            np.subtract(Y[start:stop], y_mean, out=buf[:, n_features:-1])
            if not unit:
                buf[:, -1] = 1.0
                buf *= root[start:stop, None]
            augmented += buf.T @ buf
    return augmented


def raw_moments(X, Y, y_mean):
    """The augmented moments of unit-weight float64 data, unshifted.

    ``Xᵦᵀ·Xᵦ`` on X's own row blocks (numpy runs it as syrk: no copy of X at
    all) and ``Xᵦᵀ·[y − ȳ, 1]`` while the block is in cache.
    """
    if not xp_ops.is_numpy(X):
        return device_moments(X, Y, None, np.zeros(X.shape[1]), y_mean, True)
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


def device_moments(X, Y, sw, shift, y_mean, unit):
    """:func:`dense_moments` for X on a device: each chunk shifted by
    ``c`` (one copy, none when ``c`` is 0), its Gram and its products with
    the few columns ``[y − c_y, 1]`` (``xp_ops.cross``: X's dtype per 4096
    rows, float64 sums). The same moments, float32 products kept."""
    n_features = X.shape[1]
    width = n_features + Y.shape[1] + 1
    c = xp_ops.in_dtype_of(np.reshape(shift, (1, -1)), X)
    c_y = xp_ops.in_dtype_of(np.reshape(y_mean, (1, -1)), X)
    shifted = bool(np.any(shift))
    augmented = np.zeros((width, width))
    gram, cross_moments = augmented[:n_features], augmented[n_features:]
    for rows in row_blocks(X):
        block = xp_ops.take_rows(X, rows)
        block = block - c if shifted else block
        ones = xp_ops.ones_column(block.shape[0], block)
        W = xp_ops.concat_columns([xp_ops.take_rows(Y, rows) - c_y, ones])
        XS, WS = block, W
        if not unit:
            weights = xp_ops.take_rows(sw, rows)
            XS, WS = xp_ops.scale_rows(block, weights), xp_ops.scale_rows(W, weights)
        gram[:, :n_features] += xp_ops.cross(block, XS)
        gram[:, n_features:] += xp_ops.cross(block, WS)
        cross_moments[:, n_features:] += xp_ops.cross(W, WS)
    augmented[n_features:, :n_features] = augmented[:n_features, n_features:].T
    return augmented


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


def pilot_mean(X, sw):
    """The weighted mean of the first row block with positive weight.

    A pilot estimate of x̄ to shift by: rows of zero weight must not pull it
    away from the rows that count, or their small differences would be lost
    against a large shift.
    Returns it with the pilot's weighted standard deviation per column.
    """
    for rows in xp_ops.pilot_blocks(X, row_blocks(X)):
        weights = xp_ops.to_host64(xp_ops.take_rows(sw, rows))
        total = weights.sum()
        if total > 0:
            block = xp_ops.to_host64(xp_ops.take_rows(X, rows))
            mean = (weights @ block) / total
            spread = np.sqrt(np.maximum((weights @ block**2) / total - mean**2, 0))
            return mean, spread
    return np.zeros(X.shape[1]), np.zeros(X.shape[1])
