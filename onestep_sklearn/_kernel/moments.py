"""The block passes behind the sufficient statistics (``_kernel.stats``).

Each returns the augmented moments ``[X, Y, 1]ᵀS[X, Y, 1]`` of its route,
about a shift for un-centred data (so that no digits are lost to the
offset), in cache-sized row blocks: X's own blocks when they can go to syrk
as they are, a reused buffer otherwise. No scikit-learn import; X is never
copied beyond one block. On a device (``xp_ops``) the same passes run on
chunks of about 64 MB, their products in X's dtype summed per 4096 rows
and added in float64.
"""

import threading

import numpy as np

from . import objective, threads, xp_ops
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
    the intercept of offset designs a digit: Norris 13.3 → 12.2). On a
    device the buffer keeps X's dtype (float32 products, float64 sums).

    A large dense numpy X has its blocks shifted and multiplied on several
    threads (``threads.in_row_order``), each with its own buffer: the copy is
    then not one thread's work beside a threaded syrk (1.7 times the bare
    ``X.T @ X`` at d = 50 with offsets, 1.05 on two threads). The products
    are summed in row order, as on one thread.
    """
    n_features, n_outputs = X.shape[1], Y.shape[1]
    width = n_features + n_outputs + 1
    blocks = xp_ops.row_slices(X, _block_rows(X.shape[0], width, copy=True))
    rows = blocks[0].stop - blocks[0].start if blocks else 0
    augmented = np.zeros((width, width))
    root = None if unit else xp_ops.sqrt(sw)
    x_part, y_part = slice(0, n_features), slice(n_features, -1)
    local = threading.local()  # one buffer per thread

    def block_moments(block):
        buffer = getattr(local, "buffer", None)
        if buffer is None:
            buffer = xp_ops.row_buffer(rows, width, X, np.float64)
            buffer[:, -1] = 1.0
            local.buffer = buffer
        buf = xp_ops.first_rows(buffer, block.stop - block.start)
        xp_ops.subtract_into(xp_ops.take_rows(X, block), shift, buf, x_part)
        xp_ops.subtract_into(xp_ops.take_rows(Y, block), y_mean, buf, y_part)
        if not unit:
            buf[:, -1] = 1.0
            buf = xp_ops.scale_rows(buf, xp_ops.take_rows(root, block))
        return xp_ops.cross(buf, buf)

    with np.errstate(over="ignore", invalid="ignore"):
        for product in threads.in_row_order(block_moments, blocks, X, 8 * width**2):
            augmented += product
    return augmented


def raw_moments(X, Y, y_mean):
    """The augmented moments of unit-weight data, unshifted, in X's own
    dtype (float64 numpy rows; any dtype on a device).

    ``Xᵦᵀ·Xᵦ`` on X's own row blocks (numpy runs it as syrk: no copy of X at
    all) and ``Xᵦᵀ·[y − ȳ, 1]`` while the block is in cache.
    """
    n_features, n_outputs = X.shape[1], Y.shape[1]
    blocks = xp_ops.row_slices(X, _block_rows(X.shape[0], n_features, copy=False))
    rows = blocks[0].stop - blocks[0].start if blocks else 0
    moments = _Moments(n_features, n_outputs)
    local = threading.local()  # one buffer of the columns per thread

    def block_products(block_rows):
        columns = getattr(local, "columns", None)
        if columns is None:
            columns = xp_ops.row_buffer(rows, n_outputs + 1, X, np.float64)
            columns[:, n_outputs] = 1.0
            local.columns = columns
        block = xp_ops.take_rows(X, block_rows)
        cols = xp_ops.first_rows(columns, block.shape[0])
        target = xp_ops.take_rows(Y, block_rows)
        xp_ops.subtract_into(target, y_mean, cols, slice(0, n_outputs))
        return moments.products(block, cols)

    width = n_features + n_outputs + 1
    with np.errstate(over="ignore", invalid="ignore"):
        for products in threads.in_row_order(block_products, blocks, X, 8 * width**2):
            moments.add(products)
    return moments.augmented()


class _Moments:
    """Running sums of ``[B, C]ᵀ[B, C]`` for row blocks ``B`` (d columns) and
    ``C`` (k + 1 columns): the Gram by syrk, the rest by small products."""

    def __init__(self, n_features, n_outputs):
        width = n_features + n_outputs + 1
        self.n_features = n_features
        self.total = np.zeros((width, width))

    @staticmethod
    def products(block, cols):
        """``(BᵀB, BᵀC, CᵀC)`` of one block."""
        # (Cᵀ·B)ᵀ: k + 1 columns, a small share of the syrk's d. Blocks are
        # cache-sized up to d ≈ 360; past that the syrk's d² per row dwarfs
        # re-reading the block (slicing it costs more: 18% against 8% of the
        # syrk at d = 500).
        return (
            xp_ops.cross(block, block),
            xp_ops.cross(cols, block).T,
            xp_ops.cross(cols, cols),
        )

    def add(self, products):
        d = self.n_features
        gram, cross, cols_gram = products
        self.total[:d, :d] += gram
        self.total[:d, d:] += cross
        self.total[d:, d:] += cols_gram

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
