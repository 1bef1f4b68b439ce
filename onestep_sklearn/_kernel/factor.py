"""The mergeable triangular factor of the weighted, centred augmented data.

Part of the kernel (the objective is defined in ``_kernel.objective``).
``R`` of ``[Xc·√s | yc·√s]`` has ``RᵀR`` equal to the augmented Gram, with
the conditioning of the data rather than its square; two chunks' factors
merge exactly, like the sufficient statistics, so ``partial_fit`` and
distributed reductions keep the digits of a QR solve.
"""

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from . import objective
from .objective import row_blocks


def merge_factors(first, second, first_sw, second_sw, mean_shift):
    """The factor of two chunks' rows together: exact, like the Chan merge.

    ``Σ(v − v̄)(v − v̄)ᵀ`` over the union is both chunks' centred sums plus
    ``(s₁s₂/(s₁+s₂))·δδᵀ`` with δ the difference of their means: stacking
    both factors and the row ``√(s₁s₂/(s₁+s₂))·δ`` gives a matrix with
    exactly that Gram, whose R factor is the union's (``mean_shift`` None
    without an intercept: raw rows, nothing to correct).
    """
    rows = [first, second]
    if mean_shift is not None and first_sw > 0 and second_sw > 0:
        weight = np.sqrt(first_sw * second_sw / (first_sw + second_sw))
        rows.append(weight * np.asarray(mean_shift)[None, :])
    return qr_r(np.vstack(rows))


def qr_factor(X, Y, sample_weight, x_mean, y_mean):
    """R of the weighted, centred augmented data ``[Xc·√s | yc·√s]``.

    Streamed block by block (a QR of the previous R stacked on each block),
    so only one block is ever copied; ``RᵀR`` is the augmented Gram, with the
    conditioning of the data rather than its square.
    """
    n_features = X.shape[1]
    n_outputs = Y.shape[1]
    width = n_features + n_outputs
    factor = np.zeros((0, width))
    block_rows = max(width, objective.BLOCK_BYTES // (8 * width))
    if sp.issparse(X) and X.format != "csr":
        X = X.tocsr()  # row blocks need CSR; copies the sparse arrays only
    for outer in row_blocks(X, block_bytes=8 * width * block_rows):
        X_block = X[outer]
        X_block = X_block.toarray() if sp.issparse(X_block) else X_block
        block = np.empty((X_block.shape[0], width))
        np.subtract(X_block, x_mean, out=block[:, :n_features])
        np.subtract(Y[outer], y_mean, out=block[:, n_features:])
        # √s per block: no n-sized vector (unit weights are a view).
        block *= np.sqrt(sample_weight[outer].astype(np.float64))[:, None]
        factor = qr_r(np.vstack([factor, block]))
    return factor


def qr_r(matrix):
    return la.qr(matrix, mode="r", overwrite_a=True, check_finite=False)[0][
        : min(matrix.shape)
    ]


def stack_factors(top, bottom):
    """The factor of two factors' rows together (the TSQR merge)."""
    matrix = np.vstack([top, bottom])
    return qr_r(matrix) if matrix.shape[0] else matrix
