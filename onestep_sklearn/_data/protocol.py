"""The data seam: the training data ``(X, Y, s)`` as the kernel needs it.

A data source is a shape, one reduction primitive and a few declared
capabilities. Every question the solvers ask of the data (means, sufficient
statistics, a data pass, the exact gradient, a QR factor, ...) is written
once, in ``_data.questions``, as a block kernel and an exact combine, and
runs on every source through :meth:`DataSource.reduce`. A new backend is
``reduce`` plus a shape: :class:`~.memory.ArraySource` (numpy, CSR/CSC,
memory maps), :class:`~.dask.DaskSource` and
:class:`~.array_api.ArrayAPISource` (torch, CuPy, array-api-strict: the same
block kernels on X's device, through ``_kernel.xp_ops``) are the three here.

Values are validated by the first question that reads them (``means`` or
``statistics``): non-finite or negative inputs raise scikit-learn's usual
messages there; later questions assume validated data.
"""

from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np

from .._kernel.units import Units


class DataSource(Protocol):
    """Weighted training data ``(X, Y, s)``: shapes (n, d), (n, k), (n,)."""

    n_samples: int
    n_features: int
    n_outputs: int
    dtype: np.dtype

    #: Capabilities. ``sparse``: X is a sparse matrix; ``krylov``: X is
    #: sparse and wide enough for the Krylov routes (LSQR, sparse Hessian
    #: products on :meth:`arrays`) rather than a formed d × d matrix;
    #: ``row_access``: row subsets (mini-batches, validation splits) through
    #: :class:`RowAccess`; ``rescales``: extreme magnitudes are fitted in
    #: other units (in memory) rather than refused by the first reduction.
    sparse: bool
    krylov: bool
    row_access: bool
    rescales: bool

    def reduce(
        self, block_kernel: Callable, combine: Callable, *args, rows: tuple = ()
    ) -> Any:
        """``block_kernel(X_b, Y_b, s_b, *rows_b, *args)`` on every block of
        rows, the results combined pairwise by ``combine(left, right)`` in
        row order (exactly: sums, Chan merges, stacked QR factors). ``rows``
        are host arrays aligned with the rows (labels), split like ``X``.
        Blocks are of any size: the kernels stream them in cache-sized row
        blocks themselves, so an in-memory source passes its arrays whole.
        ``s_b`` may be a zero-stride view of 1 (unit weights,
        ``_kernel.weights``), never a vector of n ones."""

    def rescaled(self, units: Units) -> "DataSource":
        """The same data in other units (``_kernel.units``: ``x_scale``,
        ``y_scale`` and per-column ``columns``); a copy only when they
        change."""

    def arrays(self) -> tuple:
        """``(X, Y, s)`` as in-memory numpy/scipy arrays: for small data (the
        wide dual, n < d) and the Krylov routes; a remote source fetches them."""


class RowAccess(DataSource, Protocol):
    """A source with ``row_access``: rows addressed by index, for
    mini-batches and validation splits (never a copy of the whole X)."""

    sample_weight: np.ndarray
    #: Σs of these rows (a mini-batch's own normalisation).
    sw_sum: float

    def with_weights(self, sample_weight: np.ndarray) -> "RowAccess":
        """The same rows with other weights (a validation split)."""

    def batches(self, batch_size: int, rng) -> Iterator["RowAccess"]:
        """Mini-batch sources over the rows of positive weight (shuffled
        when ``rng`` is given), skipping batches of zero weight."""


class RowArrays:
    """Shape and dtype of a source holding ``X``, ``Y`` and ``sample_weight``
    as arrays with rows (shared by the implementations)."""

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_outputs(self):
        return self.Y.shape[1]

    @property
    def dtype(self):
        return self.X.dtype
