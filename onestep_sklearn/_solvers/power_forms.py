"""The validation form of plain gradient descent at every iterate, in blocks.

``_solvers.path`` writes the validation sum of squares of plain GD after t
steps as ``sse(z) + uᵀρᵗ + ‖F·diag(z)·ρᵗ‖²`` per output over the directions
that move (``ρ = 1 − ηλ``; F the factor of the validation Gram in the
eigenbasis, of rank r). Scoring every rate × every iteration is then a
product of the (r + 1) × m form ``[F·diag(z); uᵀ]`` by the powers of each
iterate, the work no sweep that scores every iterate avoids. Here it is
done without forming the (rates × iterations × m) powers: with ``t = a·B +
b``, ``ρᵗ = ρᵃᴮ·ρᵇ``, so the product for iteration block ``a`` is the form
with its columns scaled by ``ρᵃᴮ`` times the (m, B) powers ``ρᵇ`` shared by
all blocks: one batched matrix product, and no pass over an array of
powers (which cost about half as much as the products and was read twice).
Where r is not below B, the (m, B) powers are scaled instead, the smaller
array then. Powers by doubling (relative rounding about log₂(t)·eps, as
before); only the order of the sums differs from one product by the whole
array of powers.
"""

import numpy as np
from scipy.linalg import lapack

# Iterations per block: the products are (r + 1) × m by m × B matrices,
# long enough for the matrix product to run at speed, few enough blocks that
# scaling the form per block stays a small part of the work.
POWER_BLOCK = 128


def blocks(n_iter):
    """``(B, A)``: iterations 1..n_iter in A blocks of B (the last one
    padded)."""
    length = min(n_iter, POWER_BLOCK)
    return length, -(-n_iter // length)


def double(values, axis):
    """Entry ``i`` along ``axis`` becomes ``xⁱ⁺¹`` from entry 0, ``x``, by
    doubling: the entries ``f + 1..2f`` are those of ``1..f`` times ``xᶠ``
    (log₂ of the length in products)."""
    size = values.shape[axis]
    lead = (slice(None),) * axis
    filled = 1
    while filled < size:
        count = min(filled, size - filled)
        np.multiply(
            values[lead + (slice(0, count),)],
            values[lead + (slice(filled - 1, filled),)],
            out=values[lead + (slice(filled, filled + count),)],
        )
        filled += count


def plain_sse(rho, at_optimum, slopes, factors, n_iter):
    """Validation SSE (J, n_iter, k) of iterates 1..n_iter of plain GD.

    ``rho`` (J, m): ``1 − ηλ`` per rate and moving direction; per output k,
    ``at_optimum[k]`` the SSE at the optimum, ``slopes[:, k]`` (m,) the
    linear term ``u`` and ``factors[k]`` (r, m) the factor ``F·diag(z)``.
    """
    n_rates, n_moving = rho.shape
    n_outputs = len(factors)
    if n_moving == 0:  # nothing moves: every iterate is w₀ = z
        shape = (n_rates, n_iter, n_outputs)
        return np.broadcast_to(np.maximum(at_optimum, 0.0), shape)
    length, n_blocks = blocks(n_iter)
    result = np.empty((n_rates, n_blocks, length, n_outputs))
    with np.errstate(over="ignore", invalid="ignore"):
        inner = np.empty(rho.shape + (length,))  # ρᵇ, b = 1..B: (J, m, B)
        inner[:, :, 0] = rho
        double(inner, axis=2)
        outer = np.empty((n_rates, n_blocks, n_moving))  # ρᵃᴮ: (J, A, m)
        outer[:, 0] = 1.0
        if n_blocks > 1:
            outer[:, 1] = inner[:, :, -1]
            double(outer[:, 1:], axis=1)
        for k, factor in enumerate(factors):
            rank = factor.shape[0]
            form = np.vstack([factor, slopes[:, k]])  # (r + 1, m)
            if rank < length:
                scaled = form * outer[:, :, None, :]  # (J, A, r + 1, m)
                product = np.matmul(scaled, inner[:, None])  # (J, A, r + 1, B)
                quadratic = product[:, :, :rank]
                total = np.einsum("jaib,jaib->jab", quadratic, quadratic)
                total += product[:, :, rank]
            else:
                # Every power at once, (m, J·A·B): one matrix product by the
                # form (160 batched ones of 128 columns ran about 10% slower at
                # m = 891, r = 240).
                powers = (
                    outer.transpose(2, 0, 1)[..., None]
                    * inner.transpose(1, 0, 2)[:, :, None, :]
                )  # (m, J, A, B)
                product = form @ powers.reshape(n_moving, -1)  # (r + 1, J·A·B)
                total = np.einsum("ic,ic->c", product[:rank], product[:rank])
                total += product[rank]
                total = total.reshape(n_rates, n_blocks, length)
            total += at_optimum[k]
            result[..., k] = np.maximum(total, 0.0)
    return result.reshape(n_rates, n_blocks * length, n_outputs)[:, :n_iter]


def gram_factor(gram, basis):
    """``F`` (r, d) with ``Fᵀ·F = basisᵀ·gram·basis`` for a positive
    semi-definite ``gram``, ``r`` its numerical rank (at most the rows
    behind it): LAPACK's pivoted Cholesky (``pstrf``), which stops where the
    pivots fall below ``d·eps`` times the largest diagonal entry (that rest
    changes a validation sum of squares by rounding only). Without a usable
    factor (non-finite entries), the symmetric square root of the Gram."""
    factor, pivots, rank, info = lapack.dpstrf(gram, lower=1)
    if info < 0 or not np.all(np.isfinite(factor)):
        values, vectors = np.linalg.eigh(basis.T @ gram @ basis)
        return (vectors * np.sqrt(np.maximum(values, 0.0))).T
    lower = np.tril(factor[:, :rank])
    return lower.T @ basis[pivots - 1]
