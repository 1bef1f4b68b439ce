"""Dask training data: the data seam of ``_data.protocol`` on a cluster.

A Dask array ``X`` chunked along rows never leaves the workers:
:meth:`DaskSource.reduce` applies a question's block kernel
(``_data.questions``, the same the in-memory source runs) to each row block
where it lives and combines the results by a pairwise tree of tasks (the
exact merge of the statistics, sums, or stacked QR factors): one Dask
computation per question, whose small result is all that reaches the
client. With a ``distributed.Client`` active it runs there.

The values are validated by the first reduction, on the workers; extreme
magnitudes raise an error that says to rescale (``rescales`` is False: in
memory they are fitted in other units).
"""

from dataclasses import dataclass
from functools import partial

import numpy as np

from .checks import nonfinite_message
from .protocol import RowArrays


@dataclass(frozen=True)
class DaskSource(RowArrays):
    """Validated Dask data: ``X`` (n, d) in one column chunk, ``Y`` (n, k) and
    ``sample_weight`` (n,) in the dtype and row chunks of ``X``.

    ``persisted`` keeps the blocks in the workers' memory for repeated
    passes (``persist``). Mini-batches and validation splits need random
    access to the rows: ``row_access`` is False.
    """

    X: object
    Y: object
    sample_weight: object
    row_access = False
    sparse = False
    krylov = False
    rescales = False

    def blocks(self):
        """Row-aligned ``(X, Y, sample_weight)`` blocks as Delayed objects."""
        return zip(
            self.X.to_delayed().ravel(),
            self.Y.to_delayed().ravel(),
            self.sample_weight.to_delayed().ravel(),
        )

    def persist(self):
        """The same data with its blocks kept in the workers' memory."""
        import dask

        return DaskSource(*dask.persist(self.X, self.Y, self.sample_weight))

    def reduce(self, block_kernel, combine, *args, rows=()):
        """The kernel on every row block, combined by a pairwise tree of
        ``combine`` tasks (in row order): one computation, on the cluster.
        ``rows`` (host arrays) are shipped in the row chunks of ``X``."""
        import dask
        import dask.array as da

        apply = dask.delayed(block_kernel, pure=True)
        merge = dask.delayed(combine, pure=True)
        row_blocks = [
            da.from_array(array, chunks=(self.X.chunks[0],)).to_delayed().ravel()
            for array in rows
        ]
        parts = [
            apply(*block, *extra, *args)
            for block, *extra in zip(self.blocks(), *row_blocks)
        ]
        while len(parts) > 1:
            pairs = [merge(a, b) for a, b in zip(parts[::2], parts[1::2])]
            parts = pairs + parts[len(pairs) * 2 :]
        return dask.compute(parts[0])[0]

    def rescaled(self, units):
        """The data in other units, lazily (chunks continuing an in-memory
        ``partial_fit`` take the units chosen there)."""
        if units.changes_nothing:
            return self
        X, Y = units.applied(self.X, self.Y)
        return DaskSource(X, Y, self.sample_weight)

    def arrays(self):
        """The data fetched to the client (small data only)."""
        import dask

        X, Y, sample_weight = dask.compute(self.X, self.Y, self.sample_weight)
        return np.asarray(X), np.asarray(Y), np.asarray(sample_weight)


# --------------------------------------------------------------------------
# Prediction: lazy.


def _predict_block(X, coef, intercept):
    with np.errstate(over="ignore", invalid="ignore"):
        y_pred = X @ coef.T
        y_pred += intercept
    if not np.isfinite(y_pred).all():
        message = nonfinite_message("X", X)
        if message:
            raise ValueError(message)
        raise ValueError(
            "The predictions overflow: X is finite but too large for the "
            "fitted coefficients. Rescale X as it was during fit."
        )
    return y_pred


def predict_lazy(X, coef, intercept):
    """Lazy predictions of a validated Dask ``X``: a Dask array with its row
    chunks, of shape (n_samples,) or (n_samples, n_targets) as ``coef``."""
    dtype = np.result_type(X.dtype, coef.dtype)
    block = partial(_predict_block, coef=coef, intercept=intercept)
    if coef.ndim == 1:
        return X.map_blocks(
            block, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype=dtype)
        )
    return X.map_blocks(
        block,
        chunks=(X.chunks[0], (coef.shape[0],)),
        dtype=dtype,
        meta=np.empty((0, 0), dtype=dtype),
    )
