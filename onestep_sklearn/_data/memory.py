"""In-memory training data: numpy arrays, CSR/CSC matrices, memory maps.

A data source of ``_data.protocol``: :meth:`ArraySource.reduce` runs a
question's block kernel once, on the arrays themselves: the kernels stream
them in cache-sized row blocks (``_kernel.objective.row_blocks``), sums in
float64, rows of weight 0 exact zeros, and never copy ``X`` (which a split
into blocks here would, for sparse X). ``X`` is never copied or modified,
except when its units change (extreme magnitudes, see ``_kernel.units``).
Rows are addressable: mini-batches and validation splits.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .._kernel.objective import BLOCK_BYTES
from .._kernel.sparse_ops import use_krylov
from .._kernel.weights import is_unit_view
from .protocol import RowArrays

ACCEPT_SPARSE = ["csr", "csc"]


@dataclass(frozen=True)
class ArraySource(RowArrays):
    """Validated in-memory data: ``X`` (n, d), ``Y`` (n, k) in X's dtype,
    ``sample_weight`` (n,) and ``sw_sum`` = Σs > 0."""

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray
    sw_sum: float
    row_access = True
    rescales = True

    @property
    def sparse(self):
        return sp.issparse(self.X)

    @property
    def krylov(self):
        return use_krylov(self.X)

    def reduce(self, block_kernel, combine, *args, rows=()):
        # One block: the kernels tile X for the cache themselves.
        return block_kernel(self.X, self.Y, self.sample_weight, *rows, *args)

    def arrays(self):
        return self.X, self.Y, self.sample_weight

    def rescaled(self, units):
        if units.changes_nothing:
            return self
        X, Y = units.applied(self.X, self.Y)
        return ArraySource(X, Y, self.sample_weight, self.sw_sum)

    def with_weights(self, sample_weight):
        """The same rows with other weights (validation splits: no copy of X)."""
        sw_sum = float(sample_weight.sum(dtype=np.float64))
        return ArraySource(self.X, self.Y, sample_weight, sw_sum)

    def batches(self, batch_size, rng):
        """Mini-batch sources over the rows of positive weight (shuffled when
        ``rng`` is given). Contiguous batches are views of ``X``; shuffled
        ones copy only the batch. Batches of zero weight are skipped."""
        for rows in self._batch_rows(batch_size, rng):
            weights = self.sample_weight[rows]
            sw_sum = float(weights.sum(dtype=np.float64))
            if sw_sum > 0:
                yield ArraySource(self.X[rows], self.Y[rows], weights, sw_sum)

    def gathered_batches(self, batch_size, rng):
        """The batches of :meth:`batches` (the same rows, order and ``rng``
        draws) in groups of consecutive batches gathered at once: yields
        ``(X, Y, weights, spans)``, ``spans`` the ``(start, stop, sw_sum)``
        row ranges of those arrays (``weights`` None when every weight is
        1). Rows in order are views of ``X``; shuffled ones are copied a
        group of about BLOCK_BYTES at a time (never a copy of ``X``)."""
        X, Y, weights = self.X, self.Y, self.sample_weight
        # Weights of 1 in X's dtype leave every product as it is: skipped.
        unit = is_unit_view(weights) and weights.dtype == X.dtype
        order = self._batch_order(rng)
        groups = [order]
        if isinstance(order, np.ndarray):
            row_bytes = X.dtype.itemsize * max(X.shape[1], 1)
            step = batch_size * max(1, BLOCK_BYTES // (batch_size * row_bytes))
            groups = [
                order[start : start + step] for start in range(0, order.size, step)
            ]
        for rows in groups:
            if rows is None:
                X_g, Y_g, w_g = X, Y, weights
            else:
                X_g, Y_g, w_g = X[rows], Y[rows], weights[rows]
            size, spans = Y_g.shape[0], []
            for start in range(0, size, batch_size):
                stop = min(start + batch_size, size)
                # A sum of ones is the count, exactly.
                sw_sum = float(stop - start)
                if not unit:
                    sw_sum = float(w_g[start:stop].sum(dtype=np.float64))
                if sw_sum > 0:
                    spans.append((start, stop, sw_sum))
            yield X_g, Y_g, None if unit else w_g, spans

    def _batch_order(self, rng):
        """The rows the batches take, in order: None (all, as stored), a
        slice (contiguous rows: views of ``X``) or row numbers."""
        unit = is_unit_view(self.sample_weight)
        if unit and rng is None:
            return None
        if unit:
            # The one n-sized array is the order (the same order as
            # shuffling the row numbers).
            return rng.permutation(self.n_samples)
        indices = np.flatnonzero(self.sample_weight > 0)
        if rng is not None:
            return rng.permutation(indices)
        if np.all(np.diff(indices) == 1):
            return slice(int(indices[0]), int(indices[-1]) + 1)
        return indices

    def _batch_rows(self, batch_size, rng):
        order = self._batch_order(rng)
        if isinstance(order, np.ndarray):
            for start in range(0, order.size, batch_size):
                yield order[start : start + batch_size]
            return
        # Rows in order: slices (views of X), no n-sized index array.
        first, stop = (
            (0, self.n_samples) if order is None else (order.start, order.stop)
        )
        for start in range(first, stop, batch_size):
            yield slice(start, min(start + batch_size, stop))
