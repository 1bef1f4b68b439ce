"""The array primitives the kernels are written with, one branch each.

The kernels (``objective``, ``stats``, ``moments``, ``row_groups``,
``weights``, ``units``) hold the logic of every data question once: the
row blocks, the shifts and centring, the weights, the float64 finish. They
reach the arrays through the primitives here, which branch on the namespace
once. numpy arrays and scipy sparse matrices take numpy's own calls (the
same calls, in the same order, as before the array API: bit for bit);
arrays of another namespace (torch, CuPy, array-api-strict), on their own
device, take the array API.

The kernel imports no scikit-learn, so it does not look namespaces up
itself: the data seam (``_data.array_api``) names the namespace, the device
and the way to the host with :func:`on` around a reduction. On a device the
weights are arrays of that namespace, or the host's zero-stride view of 1
(unit weights, ``weights.unit_weights``): never multiplied, never copied.

Precision on a device: a row block is a chunk of about :data:`CHUNK_BYTES`
of X; every sum over its rows (:func:`cross`, :func:`colsum`) is formed per
:data:`BLOCK` rows in X's dtype (one batched product) and the block sums
added in float64 (on the device when it has float64, else on the host).
float32 data keep float32 products with sums whose rounding grows with
√BLOCK, not √n_samples. Results of a few rows (d × k) come to the host in
float64, where the kernels finish them as for numpy.
"""

import contextvars
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

#: Rows summed in X's dtype before the float64 accumulation (device).
BLOCK = 4096
#: Bytes of X per row block on a device (one batched product over its
#: BLOCKs); a shifted or weighted copy of a block is of this size.
CHUNK_BYTES = 64 << 20
#: Rows of a pilot read on the host (the shift of the statistics, the units).
PILOT = 1024


@dataclass(frozen=True)
class Device:
    """An array API namespace ``xp`` on ``device``: ``wide64`` whether it
    holds float64, ``to_host(array)`` a numpy copy of ``array``'s dtype."""

    xp: Any
    device: Any
    wide64: bool
    to_host: Callable


_CURRENT: contextvars.ContextVar[Device | None] = contextvars.ContextVar(
    "onestep_sklearn_device", default=None
)


@contextmanager
def on(device: Device):
    """Run the kernels of the block on arrays of ``device``."""
    token = _CURRENT.set(device)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def is_numpy(array) -> bool:
    """Whether ``array`` takes numpy's path (numpy arrays, scipy sparse)."""
    return isinstance(array, np.ndarray) or sp.issparse(array)


def _device() -> Device:
    device = _CURRENT.get()
    if device is None:
        raise TypeError(
            "An array of another namespace than numpy reached the kernel "
            "outside the data seam, which names its namespace (_data.array_api)."
        )
    return device


def numpy_dtype(array) -> np.dtype:
    """The numpy dtype of a floating array of any namespace."""
    if is_numpy(array) or _CURRENT.get() is None:
        return np.dtype(array.dtype)
    return np.dtype(np.float32 if array.dtype == _device().xp.float32 else np.float64)


# --------------------------------------------------------------------------
# Rows and transfers.


def chunks(X):
    """Row slices of a device array of about CHUNK_BYTES, whole BLOCKs each."""
    n_samples, width = X.shape[0], X.shape[1] if X.ndim > 1 else 1
    per_row = numpy_dtype(X).itemsize * (width + 2)
    rows = max(BLOCK, (CHUNK_BYTES // per_row) // BLOCK * BLOCK)
    for start in range(0, n_samples, rows):
        yield slice(start, min(start + rows, n_samples))


def pilot_blocks(X, numpy_blocks):
    """The row blocks a pilot reads in turn: ``numpy_blocks`` for numpy,
    slices of PILOT rows on a device (each may come to the host)."""
    if is_numpy(X):
        return numpy_blocks
    return (
        slice(start, min(start + PILOT, X.shape[0]))
        for start in range(0, X.shape[0], PILOT)
    )


def take_rows(array, rows):
    """``array[rows]`` (a slice or host row numbers); unit weights beside
    device arrays stay a unit view."""
    if isinstance(array, np.ndarray):
        if array.ndim > 1 or array.strides[0] or _CURRENT.get() is None:
            return array[rows]
        # A zero-stride view (unit weights): a shorter view, even for rows
        # given by number.
        index = range(array.shape[0])[rows] if isinstance(rows, slice) else rows
        return array[: len(index)]
    if sp.issparse(array):
        return array[rows]
    if isinstance(rows, slice):  # within bounds: the array API asks it
        return array[slice(*rows.indices(array.shape[0])), ...]
    device = _device()
    return device.xp.take(array, device.xp.asarray(rows, device=device.device), axis=0)


def to_host(array):
    """``array`` as numpy, of its own dtype (numpy: itself)."""
    if is_numpy(array):
        return array
    return np.asarray(_device().to_host(array))


def to_host64(array):
    """``array`` as a float64 numpy array (numpy float64: not copied)."""
    return np.asarray(to_host(array), dtype=np.float64)


def in_dtype_of(value, X):
    """A host array (coefficients, shifts) in X's dtype, where X lives."""
    if is_numpy(X):
        return np.asarray(value, dtype=X.dtype)
    device = _device()
    host = np.asarray(value, dtype=numpy_dtype(X))
    return device.xp.asarray(host, device=device.device)


# --------------------------------------------------------------------------
# Sums over rows, in float64.


def _sum64(parts):
    """The sum over axis 0 of ``parts`` (device) as float64 on the host."""
    device = _device()
    xp = device.xp
    if parts.dtype == xp.float64:
        return to_host64(xp.sum(parts, axis=0))
    if device.wide64:
        return to_host64(xp.sum(xp.astype(parts, xp.float64), axis=0))
    return to_host64(parts).sum(axis=0)


def cross(A, B):
    """``AᵀB``: numpy's product in X's dtype (callers add it to float64);
    on a device float64 on the host, summed per BLOCK rows in A's dtype."""
    if isinstance(A, np.ndarray) and isinstance(B, np.ndarray):
        # np.dot, not `@`: numpy's matmul holds the GIL through this BLAS
        # call (numpy 2.4: two threads' row blocks took 2.4 passes of X,
        # as one thread; np.dot 1.2), and gives the same bits.
        return np.dot(A.T, B)
    if is_numpy(A):
        return A.T @ B
    xp = _device().xp
    n_rows = A.shape[0]
    if A.dtype == xp.float64 or n_rows <= BLOCK:
        return _sum64(xp.reshape(A.T @ B, (1, A.shape[1], B.shape[1])))
    head = n_rows // BLOCK * BLOCK
    blocks_A = xp.reshape(A[:head, ...], (-1, BLOCK, A.shape[1]))
    blocks_B = xp.reshape(B[:head, ...], (-1, BLOCK, B.shape[1]))
    total = _sum64(xp.matmul(xp.permute_dims(blocks_A, (0, 2, 1)), blocks_B))
    if head < n_rows:
        total = total + cross(A[head:, ...], B[head:, ...])
    return total


def colsum(A):
    """Column sums of ``A`` (n, k) in float64 (numpy's pairwise sum; on a
    device per BLOCK rows in A's dtype by the namespace's ``sum``)."""
    if is_numpy(A):
        return A.sum(axis=0, dtype=np.float64)
    xp = _device().xp
    n_rows = A.shape[0]
    if A.dtype == xp.float64 or n_rows <= BLOCK:
        return _sum64(xp.sum(A, axis=0, keepdims=True))
    head = n_rows // BLOCK * BLOCK
    total = _sum64(xp.sum(xp.reshape(A[:head, ...], (-1, BLOCK, A.shape[1])), axis=1))
    if head < n_rows:
        total = total + colsum(A[head:, ...])
    return total


def total(values):
    """``Σ values`` (1-D) in float64."""
    if is_numpy(values):
        return values.sum(dtype=np.float64)
    return np.float64(colsum(_device().xp.reshape(values, (-1, 1)))[0])


# --------------------------------------------------------------------------
# Weights on rows (device weights: arrays of X's namespace, or a host unit
# view, which is 1 and never multiplied).


def _unit_on_device(weights):
    return isinstance(weights, np.ndarray)


def zero_rows(values, weights):
    """``values`` (n, k) with the rows of zero weight exactly 0 (never
    inf·0), in place where the namespace allows."""
    if is_numpy(values):
        values[weights == 0] = 0
        return values
    if _unit_on_device(weights):
        return values
    xp = _device().xp
    return xp.where(xp.reshape(weights, (-1, 1)) == 0, xp.zeros_like(values), values)


def scale_rows(values, weights):
    """``S·values``, in place."""
    if is_numpy(values):
        values *= weights[:, None]
        return values
    if not _unit_on_device(weights):
        values *= _device().xp.reshape(weights, (-1, 1))
    return values


def weighted_rows(values, weights):
    """``S·values`` as a new array (numpy multiplies by unit weights too)."""
    if is_numpy(values):
        return values * weights[:, None]
    if _unit_on_device(weights):
        return values
    return values * _device().xp.reshape(weights, (-1, 1))


def row_slices(X, rows):
    """Slices of ``rows`` rows (numpy: the caller's cache-sized blocks), or
    the chunks of a device."""
    if is_numpy(X):
        n_samples = X.shape[0]
        return [
            slice(start, min(start + rows, n_samples))
            for start in range(0, n_samples, rows)
        ]
    return list(chunks(X))


def widens(X):
    """Whether :func:`row_buffer` (as the statistics use it) holds X's rows
    in a wider dtype than X's: numpy's float64 buffer for float32 rows; never
    on a device, whose buffer keeps X's dtype."""
    return is_numpy(X) and X.dtype != np.float64


def row_buffer(n_rows, width, X, dtype=None):
    """A buffer (n_rows, width) reused block after block: numpy's in
    ``dtype`` (default X's), a device's in X's dtype (its products stay
    in X's dtype)."""
    if is_numpy(X):
        return np.empty((n_rows, width), dtype=X.dtype if dtype is None else dtype)
    device = _device()
    return device.xp.empty((n_rows, width), dtype=X.dtype, device=device.device)


def first_rows(buffer, n_rows):
    """The first ``n_rows`` of a buffer, to write into and read."""
    if is_numpy(buffer):
        return buffer[:n_rows]
    return buffer if n_rows == buffer.shape[0] else buffer[:n_rows, ...]


def subtract_into(values, centre, buf, columns):
    """``values − centre`` into ``buf[:, columns]`` (numpy: formed in the
    wider dtype, rounded once into the buffer's); returns that part."""
    if is_numpy(buf):
        out = buf[:, columns]
        np.subtract(values, centre, out=out, casting="unsafe")
        return out
    buf[:, columns] = values - in_dtype_of(np.reshape(centre, (1, -1)), buf)
    return buf[:, columns]


def with_weights(buf, values, weights):
    """``[values, s]`` in ``buf``: its last column set to the weights
    (numpy: ``values`` is a view of its first columns already)."""
    if is_numpy(buf):
        buf[:, -1] = weights
        return buf
    buf[:, : values.shape[1]] = values
    if _unit_on_device(weights):
        buf[:, -1] = 1.0
    else:
        buf[:, values.shape[1] :] = _device().xp.reshape(weights, (-1, 1))
    return buf


def sqrt(values):
    """The entrywise square root."""
    if is_numpy(values):
        return np.sqrt(values)
    return _device().xp.sqrt(values)


def positive_rows(values, weights):
    """The rows of positive weight: numpy selects them; a device keeps the
    shape and sets the others to 0 (neutral for the callers: maxima of
    magnitudes and of squared norms)."""
    if is_numpy(values):
        return values[weights > 0]
    if _unit_on_device(weights):
        return values
    xp = _device().xp
    keep = weights > 0
    if values.ndim > 1:
        keep = xp.reshape(keep, (-1, 1))
    return xp.where(keep, values, xp.zeros_like(values))


# --------------------------------------------------------------------------
# Small reductions.


def every(mask):
    """Whether every entry of a boolean array is true."""
    if is_numpy(mask):
        return bool(np.all(mask))
    return bool(_device().xp.all(mask))


def min_value(values):
    """The smallest entry as a float (inf when empty)."""
    if is_numpy(values):
        return float(values.min()) if values.size else np.inf
    if not values.shape[0]:
        return np.inf
    return float(_device().xp.min(values))


def column_max(values):
    """The largest entry per column (numpy: X's dtype; a device: float64)."""
    if is_numpy(values):
        return values.max(axis=0)
    return to_host64(_device().xp.max(values, axis=0))


def max_abs(values):
    """``max |values|`` (0 for no values)."""
    if is_numpy(values):
        return max(np.max(values, initial=0.0), -np.min(values, initial=0.0))
    if 0 in values.shape:  # (torch's ``size`` is a method)
        return 0.0
    xp = _device().xp
    return float(xp.max(xp.abs(values)))


def row_sq_norms(block, centre):
    """``‖xᵢ − c‖²`` per row (numpy: float64; a device: X's dtype)."""
    if is_numpy(block):
        return np.sum((block - centre) ** 2, axis=1, dtype=np.float64)
    centred = block - in_dtype_of(np.reshape(centre, (1, -1)), block)
    return _device().xp.sum(centred * centred, axis=1)


def nonfinite(values):
    """``np.nan`` or ``np.inf`` for the first kind of non-finite value in
    ``values`` (NaN first, as scikit-learn reports), else None."""
    if is_numpy(values) or _CURRENT.get() is None:
        values = np.asarray(values)
        if np.isnan(values).any():
            return np.nan
        return np.inf if np.isinf(values).any() else None
    xp = _device().xp
    if bool(xp.any(xp.isnan(values))):
        return np.nan
    return np.inf if bool(xp.any(xp.isinf(values))) else None
