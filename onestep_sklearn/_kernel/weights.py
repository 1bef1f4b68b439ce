"""Sample weights without an n-sized vector of ones.

Unit weights (no ``sample_weight`` given) are a read-only, zero-stride view
of a single 1 (:func:`unit_weights`): the kernels slice it by row blocks as
any weights, and test it by its stride (:func:`all_ones`), so the default
fit never holds n ones (5% of a dense X at d = 20, a quarter of a 1%-dense
CSR matrix). Products over all rows (``Xᵀs``, ``sᵀY``) with such a view
would run outside BLAS or copy it: :func:`weighted_sum` and
:func:`column_sums` take the unweighted sums instead.
"""

import numpy as np
import scipy.sparse as sp

from . import xp_ops


def unit_weights(n_samples, dtype=np.float64):
    """Weights of one for ``n_samples`` rows, in O(1) memory: a read-only
    view of a single 1 with stride 0 (made directly: ``np.broadcast_to``
    costs tens of µs, a share of a small fit)."""
    one = np.ones(1, dtype=dtype)
    view = np.ndarray((n_samples,), dtype=one.dtype, buffer=one, strides=(0,))
    view.flags.writeable = False
    return view


def is_unit_view(sample_weight):
    """Whether ``sample_weight`` is a zero-stride view of one value of 1."""
    return (
        isinstance(sample_weight, np.ndarray)
        and sample_weight.ndim == 1
        and sample_weight.size > 0
        and sample_weight.strides[0] == 0
        and sample_weight[0] == 1
    )


def all_ones(sample_weight):
    """Whether every weight is 1 (from the stride alone for unit views)."""
    if is_unit_view(sample_weight):
        return True
    if not xp_ops.is_numpy(sample_weight):
        return xp_ops.every(sample_weight == 1)
    return bool(np.all(sample_weight == 1))


def as_float64(sample_weight):
    """The weights in float64: unit views stay views, float64 arrays are
    not copied; on a device, X's dtype (its sums are float64)."""
    if not xp_ops.is_numpy(sample_weight):
        return sample_weight
    if sample_weight.dtype != np.float64 and is_unit_view(sample_weight):
        return unit_weights(sample_weight.shape[0])
    return np.asarray(sample_weight, dtype=np.float64)


def weighted_sq_sums(values, weights):
    """``Σᵢ sᵢ·valuesᵢⱼ²`` per column, in float64 (unit views: no product
    with the weights, which einsum would run outside its fast loop)."""
    if not xp_ops.is_numpy(values):
        return xp_ops.colsum(xp_ops.scale_rows(values * values, weights))
    if is_unit_view(weights):
        return np.einsum("ij,ij->j", values, values, dtype=np.float64)
    return np.einsum("ij,ij,i->j", values, values, weights, dtype=np.float64)


def weighted_sum(sample_weight, values):
    """``sᵀ·values`` (float64) for ``values`` of shape (n, k)."""
    if not xp_ops.is_numpy(values):
        return _device_sums(values, sample_weight)
    if is_unit_view(sample_weight):
        return values.sum(axis=0, dtype=np.float64)
    return np.asarray(sample_weight @ values, dtype=np.float64)


# Stored entries summed at a time by the sparse column sums (their float64
# weights are a copy of that many values).
CHUNK_ENTRIES = 1 << 17


def column_sums(X, sample_weight):
    """``Xᵀs`` (float64, shape (d,)); dense or sparse X, never copied."""
    if not xp_ops.is_numpy(X):
        return _device_sums(X, sample_weight)
    if not is_unit_view(sample_weight):
        return np.asarray(X.T @ sample_weight, dtype=np.float64).ravel()
    if not sp.issparse(X):
        return X.sum(axis=0, dtype=np.float64)
    n_features = X.shape[1]
    if X.format == "csc":
        sums = np.zeros(n_features)
        nonempty = np.flatnonzero(np.diff(X.indptr))
        if nonempty.size:
            sums[nonempty] = np.add.reduceat(
                X.data, X.indptr[nonempty], dtype=np.float64
            )
        return sums
    sums = np.zeros(n_features)
    for start in range(0, X.nnz, CHUNK_ENTRIES):
        chunk = slice(start, start + CHUNK_ENTRIES)
        sums += np.bincount(X.indices[chunk], X.data[chunk], minlength=n_features)
    return sums


def _device_sums(values, sample_weight):
    """``sᵀ·values`` on a device, a chunk of weighted rows at a time."""
    sums = np.zeros(values.shape[1])
    for rows in xp_ops.chunks(values):
        block = xp_ops.take_rows(values, rows)
        weights = xp_ops.take_rows(sample_weight, rows)
        sums += xp_ops.colsum(xp_ops.weighted_rows(block, weights))
    return sums
