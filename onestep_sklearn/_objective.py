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

Everything here is a pure function of arrays: no estimator state and no
scikit-learn import. ``X`` (dense, CSR or CSC, float32 or float64) is never
copied or modified; only row blocks of a few hundred KiB are ever
materialised. Shapes: ``X`` (n, d), ``Y`` (n, k), ``coef`` (d, k),
``sample_weight`` (n,).
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

# Row blocks of about this many bytes of X stay in the L2 cache between the
# residual and the Xᵀr product of the same block.
BLOCK_BYTES = 1 << 20


def row_blocks(X, block_bytes=None, *, stored=False):
    """Yield slices of rows of ``X`` of about ``block_bytes`` (default
    ``BLOCK_BYTES``, read at call time).

    CSC matrices cannot be sliced by rows cheaply, so they come as one block.
    ``stored=True`` (for callers that keep sparse blocks sparse) counts the
    bytes of a CSR block's stored entries, not of its dense width: wide CSR
    blocks of a few dozen rows would make a pass hundreds of slices.
    """
    block_bytes = BLOCK_BYTES if block_bytes is None else block_bytes
    n_samples, n_features = X.shape
    if sp.issparse(X) and X.format != "csr":
        yield slice(0, n_samples)
        return
    row_bytes = n_features * X.dtype.itemsize
    if stored and sp.issparse(X):
        # A block is a copy of its rows: at most 1/16 of X's stored bytes.
        stored_bytes = X.nnz * (X.dtype.itemsize + X.indices.itemsize)
        block_bytes = min(block_bytes, stored_bytes // 16)
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
    coef_x = np.asarray(coef, dtype=X.dtype)
    intercept_x = np.asarray(intercept, dtype=X.dtype)
    sq = np.zeros(coef.shape[1], dtype=np.float64)
    xtr = np.zeros(coef.shape, dtype=np.float64) if gradient else None
    rsum = np.zeros(coef.shape[1], dtype=np.float64)
    for rows in row_blocks(X, stored=True):
        X_block = X[rows]
        resid = X_block @ coef_x
        resid += intercept_x
        if Y is not None:
            resid -= Y[rows]
        weights = sample_weight[rows]
        # Rows of weight 0 contribute exact zeros, even with a huge residual
        # (never inf·0).
        resid[weights == 0] = 0
        sq += np.einsum("ij,ij,i->j", resid, resid, weights, dtype=np.float64)
        resid *= weights[:, None]  # now S·r, in place
        rsum += resid.sum(axis=0, dtype=np.float64)
        if gradient:
            xtr += X_block.T @ resid
    return sq, xtr, rsum


@dataclass(frozen=True)
class DataObjective:
    """The objective evaluated by data passes over ``X``.

    ``x_mean``/``y_mean`` fix the profiled intercept ``b = ȳ − x̄ᵀw`` (zeros
    without an intercept). ``l2_reg_strength`` is ``alpha``.
    """

    X: object
    Y: np.ndarray
    sample_weight: np.ndarray
    sw_sum: float
    x_mean: np.ndarray
    y_mean: np.ndarray
    l2_reg_strength: float

    def intercept(self, coef):
        return self.y_mean - self.x_mean @ coef

    def loss_per_output(self, coef):
        sq, _, _ = data_pass(
            self.X,
            self.Y,
            coef,
            self.intercept(coef),
            self.sample_weight,
            gradient=False,
        )
        return sq / self.sw_sum + self.l2_reg_strength * np.sum(coef**2, axis=0)

    def loss(self, coef):
        return float(self.loss_per_output(coef).sum())

    def loss_gradient(self, coef):
        """Objective (summed over outputs) and its gradient at ``coef``.

        The gradient is that of the profiled objective, ``XcᵀSr`` with
        ``Xc = X − x̄``, obtained as ``XᵀSr − x̄·Σsr``: on the full data
        ``Σsr`` is zero up to rounding (the term removes that rounding), on a
        mini-batch it is not.
        """
        sq, xtr, rsum = data_pass(
            self.X, self.Y, coef, self.intercept(coef), self.sample_weight
        )
        xtr -= np.outer(self.x_mean, rsum)
        drop_rounding(xtr, self.x_mean, sq, self.sw_sum, self.X)
        l2 = self.l2_reg_strength
        loss = float(sq.sum() / self.sw_sum + l2 * np.sum(coef**2))
        return loss, (2.0 / self.sw_sum) * xtr + (2.0 * l2) * coef

    def hessp(self, vec):
        """Hessian-vector product ``H v``: a data pass with ``y = 0``."""
        sq, xtr, rsum = data_pass(
            self.X, None, vec, -(self.x_mean @ vec), self.sample_weight
        )
        xtr -= np.outer(self.x_mean, rsum)
        drop_rounding(xtr, self.x_mean, sq, self.sw_sum, self.X)
        return (2.0 / self.sw_sum) * xtr + (2.0 * self.l2_reg_strength) * vec


def drop_rounding(xtr, x_mean, sq, sw_sum, X):
    """Zero the entries of ``XcᵀSr = XᵀSr − x̄·Σsr`` that are rounding noise.

    Both terms carry an error of about eps·|x̄ⱼ|·Σs|r| (at most
    eps·|x̄ⱼ|·√(Σs·Σsr²)); a column that is constant up to rounding gives an
    entry no larger than that, and a step along it would be a step along
    noise. Entries below √n times that bound carry no information: zero.
    """
    eps = np.finfo(X.dtype).eps
    bound = 4 * eps * np.sqrt(X.shape[0]) * np.abs(x_mean)[:, None]
    xtr[np.abs(xtr) <= bound * np.sqrt(sw_sum * sq)[None, :]] = 0.0
    return xtr


def centred_gradient(X, Y, sample_weight, x_mean, y_mean, coef):
    """``XcᵀS(Xc·w − (y − ȳ))`` with ``Xc = X − x̄``, in centred arithmetic.

    Dense blocks are centred in a small buffer so that no digits are lost to
    the offset of un-centred data (for iterative refinement of the Newton
    step); sparse blocks are centred algebraically.
    """
    grad = np.zeros(coef.shape)
    offset = x_mean @ coef
    for rows in row_blocks(X):
        block = X[rows]
        weights = sample_weight[rows, None]
        if sp.issparse(block):
            resid = block @ coef - offset - (Y[rows] - y_mean)
            weighted = resid * weights
            grad += block.T @ weighted - np.outer(x_mean, weighted.sum(axis=0))
            continue
        centred = block - x_mean
        resid = centred @ coef - (Y[rows] - y_mean)
        grad += centred.T @ (resid * weights)
    return grad


def weighted_sq_norms(X, vec, offset, sample_weight):
    """``Σ sᵢ (xᵢᵀv − c)²`` per column of ``vec``: one pass, no ``Xᵀ`` product.

    The curvature ``gᵀHg`` of a step direction costs this one pass. Blocks
    of 4·BLOCK_BYTES: each needs only one product and one reduction.
    """
    vec_x = np.asarray(vec, dtype=X.dtype)
    offset_x = np.asarray(offset, dtype=X.dtype)
    sq = np.zeros(vec.shape[1], dtype=np.float64)
    for rows in row_blocks(X, block_bytes=4 * BLOCK_BYTES):
        product = X[rows] @ vec_x
        product -= offset_x
        sq += np.einsum(
            "ij,ij,i->j", product, product, sample_weight[rows], dtype=np.float64
        )
    return sq


def cross_moments(X, columns):
    """``Xᵀ @ columns`` in one blockwise pass, accumulated in float64.

    ``columns`` (n, m) is cast to the dtype of ``X`` so that the products run
    at the speed of the data; per-block sums go into a float64 total.
    """
    columns = np.asarray(columns, dtype=X.dtype)
    total = np.zeros((X.shape[1], columns.shape[1]), dtype=np.float64)
    for rows in row_blocks(X, block_bytes=BLOCK_BYTES, stored=True):
        total += X[rows].T @ columns[rows]
    return total

