"""Training data in an array API namespace (torch, CuPy, array-api-strict),
on its own device: a data source of ``_data.protocol`` (``reduce`` and a
shape), the third beside numpy and Dask.

:meth:`ArrayAPISource.reduce` runs a question's block kernel
(``_data.questions``) once, on the device arrays themselves, with the
namespace named for the kernel's primitives (``_kernel.xp_ops``): the same
kernels as numpy's, whose row blocks are chunks of about 64 MB here, their
sums formed per 4096 rows in X's dtype and added in float64; the small
results (d × k) come to the host in float64. The kernels declared
``host_only`` (the QR factor and double-double refinement of
ill-conditioned problems, column ranges) run on host copies of row chunks,
combined in row order as on any source: exact everywhere.
"""

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .._compat import _convert_to_numpy
from .._kernel import xp_ops
from .._kernel.weights import unit_weights
from .protocol import RowArrays


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

    @cached_property
    def space(self):
        """The namespace and device, as the kernel's primitives take them."""
        xp = self.xp
        return xp_ops.Device(
            xp, self.device, self.wide64, lambda array: to_host(array, xp, None)
        )

    def reduce(self, block_kernel, combine, *args, rows=()):
        """The block kernel on the device arrays (unit weights: the host's
        zero-stride view), or on host copies of row chunks, combined in row
        order, for kernels declared ``host_only``."""
        if not getattr(block_kernel, "host_only", False):
            weights = self.weights_xp
            if weights is None:
                weights = unit_weights(self.n_samples, self.dtype)
            with xp_ops.on(self.space):
                return block_kernel(self.X, self.Y, weights, *rows, *args)
        with xp_ops.on(self.space):
            chunks = list(xp_ops.chunks(self.X))
        result = None
        for chunk in chunks:
            X = to_host(self.X[chunk, ...], self.xp, self.dtype)
            Y = to_host(self.Y[chunk, ...], self.xp, self.dtype)
            weights = self.sample_weight[chunk]
            part = block_kernel(X, Y, weights, *(r[chunk] for r in rows), *args)
            result = part if result is None else combine(result, part)
        return result

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

    def on_device(self, array):
        """A host array in X's dtype on X's device."""
        return self.xp.asarray(np.asarray(array, dtype=self.dtype), device=self.device)

    def rescaled(self, units):
        if units.changes_nothing:
            return self
        X, Y = units.applied(self.X, self.Y, as_row=self.on_device)
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
