"""The shared mean-squared-error kernel.

The objective, written once and quoted everywhere else in the package::

    f(w, b) = (1/Σsᵢ) Σ sᵢ (yᵢ − xᵢᵀw − b)²  +  alpha·‖w‖²
    ∇_w f   = (2/Σsᵢ) Xᵀ S (Xw + b − y)      +  2·alpha·w

``s`` is ``sample_weight``. With several outputs the objective is the sum of
the per-output objectives, so each output takes exactly its own textbook
gradient step. The intercept is profiled out: for any ``w`` the best ``b`` is
``ȳ − x̄ᵀw`` (weighted means), which makes ∂f/∂b vanish and turns the gradient
into the centred one without ever centring ``X`` in memory.

Two interchangeable evaluations of that one objective live here:

* the data pass (:func:`data_pass`): residual and ``Xᵀ S r`` row block by
  row block, so ``X`` streams through memory once per gradient;
* the sufficient statistics (:class:`SufficientStats`): Σs, weighted means,
  centred ``XᵀSX``, ``XᵀS(y − ȳ)`` and ``Σ s (y − ȳ)²`` from one blockwise
  pass, merged exactly (Chan, Golub & LeVeque). Afterwards every loss,
  gradient or Hessian costs O(d²), independent of ``n_samples``.

The objective is evaluated on top of these kernels by
``onestep_sklearn._solvers.objective.Objective``, on any data source of
``onestep_sklearn._data``.

Everything here is a pure function of arrays: no estimator state and no
scikit-learn import. ``X`` (dense, CSR or CSC, float32 or float64) is never
copied or modified; only row blocks of a few hundred KiB are ever
materialised. The same functions run on arrays of an array API namespace on
their device, through the primitives of ``_kernel.xp_ops`` (there a row
block is a chunk of about 64 MB). Shapes: ``X`` (n, d), ``Y`` (n, k), ``coef`` (d, k),
``sample_weight`` (n,).
"""

import functools
import threading

import numpy as np
import scipy.sparse as sp

from . import xp_ops
from .threads import in_row_order
from .weights import is_unit_view, weighted_sq_sums

# Row blocks of about this many bytes of X stay in the L2 cache between the
# residual and the Xᵀr product of the same block.
BLOCK_BYTES = 1 << 20
# Stored bytes of a sparse row block (a copy) below which X is not split further.
SPARSE_MIN_BLOCK_BYTES = BLOCK_BYTES // 4


def row_blocks(X, block_bytes=None, *, stored=False):
    """Yield slices of rows of ``X`` of about ``block_bytes`` (default
    ``BLOCK_BYTES``, read at call time).

    CSC matrices cannot be sliced by rows cheaply, so they come as one block.
    ``stored=True`` (for callers that keep sparse blocks sparse) counts the
    bytes of a CSR block's stored entries, not of its dense width: wide CSR
    blocks of a few dozen rows would make a pass hundreds of slices.
    Arrays on a device come in chunks (``xp_ops.chunks``: one batched
    product each, whatever the cache).
    """
    if not xp_ops.is_numpy(X):
        yield from xp_ops.chunks(X)
        return
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    n_samples, n_features = X.shape
    if sp.issparse(X) and X.format != "csr":
        yield slice(0, n_samples)
        return
    row_bytes = n_features * X.dtype.itemsize
    if stored and sp.issparse(X):
        # A block is a copy of its rows: at most 1/16 of X's stored bytes,
        # but never under SPARSE_MIN_BLOCK_BYTES (each block costs scipy
        # about 50 µs of bookkeeping: 16 blocks of a small X cost more than
        # its arithmetic).
        stored_bytes = X.nnz * (X.dtype.itemsize + X.indices.itemsize)
        block_bytes = min(block_bytes, max(stored_bytes // 16, SPARSE_MIN_BLOCK_BYTES))
        row_bytes = stored_bytes // max(1, n_samples) + 8  # + the residual
    rows = max(16, block_bytes // max(1, row_bytes))
    for start in range(0, n_samples, rows):
        yield slice(start, min(start + rows, n_samples))


def weighted_means(X, Y, sample_weight, sw_sum):
    """Weighted column means x̄ = Xᵀs/Σs (float64) and ȳ (k,)."""
    with np.errstate(over="ignore", invalid="ignore"):
        x_mean = np.asarray(X.T @ sample_weight, dtype=np.float64) / sw_sum
    y_mean = np.asarray(sample_weight @ Y, dtype=np.float64) / sw_sum
    return x_mean.ravel(), y_mean.ravel()


def data_pass(X, Y, coef, intercept, sample_weight, *, gradient=True):
    """Weighted squared residuals and ``XᵀSr`` in one streaming pass.

    ``r = X @ coef + intercept − Y`` (``Y=None`` means zeros, which turns the
    pass into a Hessian-vector product). Returns ``(sq, xtr, rsum)``: ``sq``
    of shape (k,) holds ``Σ sᵢ rᵢⱼ²`` per output, ``xtr`` (d, k) holds
    ``Xᵀ S r`` (``None`` when ``gradient=False``) and ``rsum`` (k,) holds
    ``Σ sᵢ rᵢⱼ``, all accumulated in float64. The products themselves run in
    the dtype of ``X``.
    """
    coef_x = xp_ops.in_dtype_of(coef, X)
    intercept_x = xp_ops.in_dtype_of(intercept, X)
    sq = np.zeros(coef.shape[1], dtype=np.float64)
    xtr = np.zeros(coef.shape, dtype=np.float64) if gradient else None
    rsum = np.zeros(coef.shape[1], dtype=np.float64)
    for rows in row_blocks(X, stored=True):
        # One block of all rows is X itself (slicing a sparse X copies it).
        X_block = X if rows == slice(0, X.shape[0]) else xp_ops.take_rows(X, rows)
        resid = X_block @ coef_x
        resid += intercept_x
        if Y is not None:
            resid -= xp_ops.take_rows(Y, rows)
        weights = xp_ops.take_rows(sample_weight, rows)
        # Rows of weight 0 contribute exact zeros, even with a huge residual
        # (never inf·0).
        unit = is_unit_view(weights)
        if not unit:
            resid = xp_ops.zero_rows(resid, weights)
        sq += weighted_sq_sums(resid, weights)
        if not unit:
            resid = xp_ops.scale_rows(resid, weights)  # now S·r
        rsum += xp_ops.colsum(resid)
        if gradient:
            xtr += xp_ops.cross(X_block, resid)
    return sq, xtr, rsum


def batch_products(X, Y, coef, intercept, sample_weight):
    """:func:`data_pass` for a mini-batch: ``(sq, xtr, rsum)`` in one block
    (a batch is a few rows, all of positive weight), the products in X's
    dtype, the results float64; fewer calls per row than the streaming pass.
    """
    resid = X @ xp_ops.in_dtype_of(coef, X)
    resid += xp_ops.in_dtype_of(intercept, X) - Y
    weighted = xp_ops.weighted_rows(resid, sample_weight)
    sq = xp_ops.colsum(weighted * resid)
    xtr = np.asarray(xp_ops.cross(X, weighted), dtype=np.float64)
    return sq, xtr, xp_ops.colsum(weighted)


@functools.cache
def _eps(dtype):
    """``finfo(dtype).eps``, looked up once (mini-batches ask every batch)."""
    return np.finfo(dtype).eps


def drop_rounding(xtr, x_mean, sq, sw_sum, n_samples, dtype):
    """Zero the entries of ``XcᵀSr = XᵀSr − x̄·Σsr`` that are rounding noise.

    Both terms carry an error of about eps·|x̄ⱼ|·Σs|r| (at most
    eps·|x̄ⱼ|·√(Σs·Σsr²)); a column that is constant up to rounding gives an
    entry no larger than that, and a step along it would be a step along
    noise. Entries below √n times that bound carry no information: zero.
    ``dtype`` is that of ``X`` (its products carry its rounding).
    """
    eps = _eps(np.dtype(dtype))
    with np.errstate(all="ignore"):
        bound = 4 * eps * np.sqrt(n_samples) * np.abs(x_mean)[:, None]
        xtr[np.abs(xtr) <= bound * np.sqrt(sw_sum * sq)[None, :]] = 0.0
    return xtr


def weighted_sq_norms(X, vec, offset, sample_weight):
    """``Σ sᵢ (xᵢᵀv − c)²`` per column of ``vec``: one pass, no ``Xᵀ`` product.

    The curvature ``gᵀHg`` of a step direction costs this one pass. Dense
    blocks are views of about BLOCK_BYTES: each product is then small enough
    for BLAS to run it on one thread (OpenBLAS threads a product past about
    460,000 entries), so no call waits for a descheduled thread. Blocks of
    1/16 of X (threaded calls) took 3.3 times one ``X @ v`` on a loaded
    2-core machine, cache-sized ones 0.8 times. Sparse blocks are copies of
    4·BLOCK_BYTES of dense width.
    """
    vec_x = xp_ops.in_dtype_of(vec, X)
    offset_x = xp_ops.in_dtype_of(offset, X)
    sq = np.zeros(vec.shape[1], dtype=np.float64)
    block_bytes = 4 * BLOCK_BYTES if sp.issparse(X) else BLOCK_BYTES

    def block_sums(rows):
        product = xp_ops.take_rows(X, rows) @ vec_x
        product -= offset_x
        return weighted_sq_sums(product, xp_ops.take_rows(sample_weight, rows))

    # Blocks on several threads for a large dense numpy X, added in order.
    blocks = list(row_blocks(X, block_bytes=block_bytes))
    for part in in_row_order(block_sums, blocks, X, sq.nbytes):
        sq += part
    return sq


@np.errstate(all="ignore")
def moments_at_zero(X, Y, sample_weight, y_mean):
    """The sums behind the gradient at w = 0, from one pass over ``X``.

    At w = 0 the profiled residual is ``−(y − ȳ)``, so ``∇f = −(2/Σs)·XcᵀS(y −
    ȳ)`` and ``x̄ = Xᵀs/Σs`` are the two columns of one product ``Xᵀ[S(y −
    ȳ), s]``. Returns ``(moments, weighted_sum, sq)``: that product (d, k+1),
    ``Σ s(y − ȳ)`` and ``Σ s (y − ȳ)²`` (k,). Sums over row blocks add up, so
    a distributed pass sums them; :func:`gradient_terms_at_zero` finishes.

    The columns ``[s(y − ȳ), s]`` are built several row blocks at a time in
    a reused buffer of about BLOCK_BYTES (no n-sized copy; few numpy calls
    per block), in the dtype of ``X`` so that the products run at the speed
    of the data; every sum accumulates in float64. Blocks of BLOCK_BYTES:
    small products, which BLAS runs on one thread, each reading its block
    once.
    """
    n_outputs = Y.shape[1]
    moments = np.zeros((X.shape[1], n_outputs + 1))
    weighted_sum = np.zeros(n_outputs)
    sq = np.zeros(n_outputs)
    blocks = list(row_blocks(X, stored=True))
    # Blocks per group: the columns of a group fill about BLOCK_BYTES.
    block_rows = blocks[0].stop - blocks[0].start if blocks else 1
    itemsize = xp_ops.numpy_dtype(X).itemsize
    per_group = BLOCK_BYTES // (itemsize * (n_outputs + 1) * block_rows)
    per_group = max(1, per_group)
    local = threading.local()  # one columns buffer per thread

    def group_sums(first):
        group = blocks[first : first + per_group]
        rows = slice(group[0].start, group[-1].stop)
        weights = xp_ops.take_rows(sample_weight, rows)
        buffer = getattr(local, "buffer", None)
        if buffer is None or buffer.shape[0] < weights.shape[0]:
            buffer = xp_ops.row_buffer(weights.shape[0], n_outputs + 1, X)
            local.buffer = buffer
        columns = xp_ops.first_rows(buffer, weights.shape[0])
        target = xp_ops.take_rows(Y, rows)
        centred = xp_ops.subtract_into(target, y_mean, columns, slice(0, n_outputs))
        # Rows of weight 0 add exact zeros, even with a huge y (never inf·0).
        unit = is_unit_view(weights)
        if not unit:
            centred = xp_ops.zero_rows(centred, weights)
        sq_part = weighted_sq_sums(centred, weights)
        if not unit:
            centred = xp_ops.scale_rows(centred, weights)
        columns = xp_ops.with_weights(columns, centred, weights)
        sum_part = xp_ops.colsum(centred)
        products = []
        for block in group:
            offset = block.start - rows.start
            part = slice(offset, offset + block.stop - block.start)
            x_block = xp_ops.take_rows(X, block)
            products.append(xp_ops.cross(x_block, xp_ops.take_rows(columns, part)))
        return sq_part, sum_part, products

    # Groups on several threads for a large dense numpy X; every sum is taken
    # in the order of the rows, as one thread would.
    starts = range(0, len(blocks), per_group)
    held = per_group * moments.nbytes
    for sq_part, sum_part, products in in_row_order(group_sums, starts, X, held):
        sq += sq_part
        weighted_sum += sum_part
        for product in products:
            moments += product
    return moments, weighted_sum, sq


def gradient_terms_at_zero(
    moments, weighted_sum, sq, sw_sum, fit_intercept, n_samples, dtype
):
    """``(x_mean, xty)`` from the sums of :func:`moments_at_zero`.

    ``xty = XcᵀS(y − ȳ)``, rounding-level entries of constant columns dropped
    (see :func:`drop_rounding`).
    """
    n_features = moments.shape[0]
    x_mean = moments[:, -1] / sw_sum if fit_intercept else np.zeros(n_features)
    with np.errstate(all="ignore"):
        xty = moments[:, :-1] - np.outer(x_mean, weighted_sum)
    drop_rounding(xty, x_mean, sq, sw_sum, n_samples, dtype)
    return x_mean, xty


def max_row_sq_norm(X, sample_weight, x_mean):
    """``maxᵢ ‖xᵢ − x̄‖²`` over the rows of positive weight (0 if none).

    The per-sample curvature bound of mini-batch gradient descent.
    """
    largest = 0.0
    for rows in row_blocks(X):
        block = xp_ops.take_rows(X, rows)
        if sp.issparse(block):
            sq_norms = np.asarray(block.multiply(block).sum(axis=1)).ravel()
            sq_norms = sq_norms - 2.0 * (block @ x_mean) + x_mean @ x_mean
        else:
            sq_norms = xp_ops.row_sq_norms(block, x_mean)
        weights = xp_ops.take_rows(sample_weight, rows)
        sq_norms = xp_ops.positive_rows(sq_norms, weights)
        if sq_norms.shape[0]:
            largest = max(largest, float(xp_ops.column_max(sq_norms)))
    return largest


def column_bounds(X, sample_weight):
    """``(min, max)`` per column over the rows of positive weight, blockwise
    (``max − min`` is 0 exactly for a constant column, whatever its
    magnitude); ``(inf, -inf)`` where no row has positive weight."""
    low = np.full(X.shape[1], np.inf)
    high = np.full(X.shape[1], -np.inf)
    for rows in row_blocks(X):
        block = X[rows][sample_weight[rows] > 0]
        if not block.shape[0]:
            continue
        block = block.toarray() if sp.issparse(block) else block
        low = np.minimum(low, block.min(axis=0))
        high = np.maximum(high, block.max(axis=0))
    return low, high


def max_abs_columns(X, sample_weight):
    """Largest |x| per column over the rows of positive weight, blockwise."""
    largest = np.zeros(X.shape[1])
    for rows in row_blocks(X):
        weights = xp_ops.take_rows(sample_weight, rows)
        block = xp_ops.positive_rows(xp_ops.take_rows(X, rows), weights)
        if not block.shape[0]:
            continue
        block = abs(block)
        peak = xp_ops.column_max(block)
        peak = np.asarray(peak.todense()).ravel() if sp.issparse(peak) else peak
        largest = np.maximum(largest, peak)
    return largest
