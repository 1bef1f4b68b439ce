"""Training data in an array API namespace (torch, CuPy, array-api-strict),
on its own device: a data source of ``_data.protocol`` (``reduce`` and a
shape), the third beside numpy and Dask.

The questions whose work grows with ``n_samples`` (means, the statistics
``XᵀSX`` about a shift, the data passes, squared norms, magnitudes) run in
X's namespace on X's device: :meth:`ArrayAPISource.reduce` answers their
block kernels (``_data.questions``) with kernels of its own, written against
the array API, whose results (``n_features`` rows, float64) are those of the
numpy kernels. Every other block kernel (the QR factor and double-double
refinement of ill-conditioned problems, fold statistics, ...) runs on host
copies of row chunks, combined as on any source: exact everywhere.

Precision: every sum over rows is formed per block of :data:`BLOCK` rows in
X's dtype (one batched product for all the blocks of a chunk), and the block
sums are added in float64 (on the device when it has float64). Rows are
shifted by the mean of the first rows before the Gram is formed. float32
data thus keep float32 products with sums whose rounding grows with
√BLOCK, not √n_samples.
"""

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .._compat import _convert_to_numpy
from .._kernel.weights import unit_weights
from .protocol import RowArrays

#: Rows summed in X's dtype before the float64 accumulation.
BLOCK = 4096
#: Bytes of X read per chunk (one batched product over its blocks); the
#: chunk's shifted copy is of this size.
CHUNK_BYTES = 64 << 20


def to_host(array, xp, dtype=np.float64):
    """``array`` as a numpy array of ``dtype`` (None: its own; a copy off
    the device)."""
    try:
        host = _convert_to_numpy(array, xp)
    except RuntimeError:  # array-api-strict's second device, scikit-learn < 1.8
        host = np.asarray(array.to_device(xp.Device("CPU_DEVICE")))
    return np.asarray(host, dtype=dtype)


def numpy_dtype(xp, dtype):
    """The numpy dtype of an array API floating dtype (float32 or float64)."""
    return np.dtype(np.float32 if dtype == xp.float32 else np.float64)


@dataclass(frozen=True)
class ArrayAPISource(RowArrays):
    """Validated data in namespace ``xp`` on ``device``: ``X`` (n, d), ``Y``
    (n, k) in X's dtype, ``weights_xp`` (n,) in X's dtype or None (all ones,
    never materialised on the device), ``sw_sum`` = Σs > 0, ``wide64``
    whether the device holds float64 (block sums are added there, else on
    the host)."""

    X: object
    Y: object
    weights_xp: object
    sw_sum: float
    xp: object
    device: object
    wide64: bool
    row_access = True
    rescales = True
    sparse = False
    krylov = False

    @property
    def dtype(self):
        return numpy_dtype(self.xp, self.X.dtype)

    def reduce(self, block_kernel, combine, *args, rows=()):
        """The question's device kernel where ``_data.array_api_kernels`` has
        one (it declines hard cases with NotImplemented); else the block
        kernel on host copies of row chunks, combined in row order."""
        from .array_api_kernels import DEVICE_KERNELS

        on_device = DEVICE_KERNELS.get(block_kernel)
        if on_device is not None:
            result = on_device(self, *rows, *args)
            if result is not NotImplemented:
                return result
        result = None
        for chunk in self.chunks():
            X = to_host(self.X[chunk, ...], self.xp, self.dtype)
            Y = to_host(self.Y[chunk, ...], self.xp, self.dtype)
            weights = self.sample_weight[chunk]
            part = block_kernel(X, Y, weights, *(r[chunk] for r in rows), *args)
            result = part if result is None else combine(result, part)
        return result

    def chunks(self):
        """Row slices of about CHUNK_BYTES, whole blocks each."""
        n_samples, width = self.X.shape
        per_row = self.dtype.itemsize * (width + self.n_outputs + 1)
        rows = max(BLOCK, (CHUNK_BYTES // per_row) // BLOCK * BLOCK)
        for start in range(0, n_samples, rows):
            yield slice(start, min(start + rows, n_samples))

    @cached_property
    def _host_arrays(self):
        return (
            to_host(self.X, self.xp, self.dtype),
            to_host(self.Y, self.xp, self.dtype),
            self.sample_weight,
        )

    def arrays(self):
        """Host copies (small data: the wide dual; made once)."""
        return self._host_arrays

    @cached_property
    def sample_weight(self):
        """The weights as a host array in X's dtype."""
        if self.weights_xp is None:
            return unit_weights(self.n_samples, self.dtype)  # no n-sized vector
        return to_host(self.weights_xp, self.xp, self.dtype)

    def to_host_rows(self, array, rows):
        """``array[rows]`` as float64 on the host."""
        return to_host(array[rows, ...], self.xp)

    def on_device(self, array):
        """A host array in X's dtype on X's device."""
        return self.xp.asarray(np.asarray(array, dtype=self.dtype), device=self.device)

    def rescaled(self, units):
        columns = units.columns
        if units.identity and columns is None:
            return self
        X, Y = self.X, self.Y
        if units.x_scale != 1.0:
            X = X * units.x_scale
        if columns is not None:
            X = X * self.on_device(np.reshape(columns, (1, -1)))
        if units.y_scale != 1.0:
            Y = Y * units.y_scale
        return replace(self, X=X, Y=Y)

    def with_weights(self, sample_weight):
        """The same rows with other (host) weights: a validation split."""
        sw_sum = float(np.sum(sample_weight, dtype=np.float64))
        return replace(self, weights_xp=self.on_device(sample_weight), sw_sum=sw_sum)

    def batches(self, batch_size, rng):
        """Mini-batch sources over the rows of positive weight (shuffled when
        ``rng`` is given), gathered on the device."""
        indices = np.flatnonzero(self.sample_weight > 0)
        if rng is not None:
            indices = rng.permutation(indices)
        for start in range(0, indices.size, batch_size):
            rows = indices[start : start + batch_size]
            weights = self.sample_weight[rows]
            sw_sum = float(weights.sum(dtype=np.float64))
            if sw_sum > 0:
                take = self.xp.asarray(rows, device=self.device)
                yield replace(
                    self,
                    X=self.xp.take(self.X, take, axis=0),
                    Y=self.xp.take(self.Y, take, axis=0),
                    weights_xp=self.on_device(weights),
                    sw_sum=sw_sum,
                )

    # ------------------------------------------------------------------
    # Sums over rows in X's dtype per block, added in float64.

    def weights_of(self, rows, ones=False):
        """The weights of ``rows`` as a column (n_rows, 1), or None (all
        ones; a column of ones with ``ones``)."""
        if self.weights_xp is None:
            return self.ones(rows.stop - rows.start) if ones else None
        return self.xp.reshape(self.weights_xp[rows], (-1, 1))

    def ones(self, n_rows):
        return self.xp.ones((n_rows, 1), dtype=self.X.dtype, device=self.device)

    def _sum64(self, parts):
        """The sum over axis 0 of ``parts`` in float64, on the host."""
        xp = self.xp
        if parts.dtype == xp.float64:
            return to_host(xp.sum(parts, axis=0), xp)
        if self.wide64:
            return to_host(xp.sum(xp.astype(parts, xp.float64), axis=0), xp)
        return to_host(parts, xp).sum(axis=0)

    def cross(self, A, B):
        """``AᵀB`` (float64, host): in X's dtype per block of BLOCK rows, the
        block products added in float64."""
        xp = self.xp
        n_rows = A.shape[0]
        if A.dtype == xp.float64 or n_rows <= BLOCK:
            return self._sum64(xp.reshape(A.T @ B, (1, A.shape[1], B.shape[1])))
        head = n_rows // BLOCK * BLOCK
        blocks_A = xp.reshape(A[:head, ...], (-1, BLOCK, A.shape[1]))
        blocks_B = xp.reshape(B[:head, ...], (-1, BLOCK, B.shape[1]))
        total = self._sum64(xp.matmul(xp.permute_dims(blocks_A, (0, 2, 1)), blocks_B))
        if head < n_rows:
            total = total + self.cross(A[head:, ...], B[head:, ...])
        return total

    def colsum(self, A):
        """Column sums of ``A`` (float64, host), per block as :meth:`cross`
        (by the namespace's ``sum``: pairwise in numpy and torch, more
        accurate than a product with ones)."""
        xp = self.xp
        n_rows = A.shape[0]
        if A.dtype == xp.float64 or n_rows <= BLOCK:
            return self._sum64(xp.sum(A, axis=0, keepdims=True))
        head = n_rows // BLOCK * BLOCK
        blocks = xp.reshape(A[:head, ...], (-1, BLOCK, A.shape[1]))
        total = self._sum64(xp.sum(blocks, axis=1))
        if head < n_rows:
            total = total + self.colsum(A[head:, ...])
        return total
