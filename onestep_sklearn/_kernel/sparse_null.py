"""Null vectors of a sparse design read off its sparsity pattern.

The null space of a one-hot design with an intercept is structural: each
block of indicator columns that partitions the rows sums to the column of
ones (the dummy trap, a null vector of the centred ``X``), and a rare level
of one block often covers exactly the rows of a rare level of another (two
equal columns). Finding these by Krylov probes costs one least-squares solve
per direction; here they are read from a few passes over the stored entries
(CSR or CSC, never copied):

* equal columns (``X[:, j] = X[:, i]`` gives ``eᵢ − eⱼ``);
* runs of consecutive columns, each constant on its stored rows, whose rows
  are disjoint and cover every row (``Σ X[:, j]/cⱼ = 1``): the vector of
  ``1/cⱼ`` on the run, and the differences of runs (null without an
  intercept too).

These are *candidates*: the caller keeps only those its own operator maps
to rounding, and certifies that nothing is missing (``_solvers.sparse_lsq``).
Pure functions of arrays: numpy and scipy only.
"""

import numpy as np

# A run of columns whose counts add up to the rows but that does not cover
# each row once costs a sparse product to rule out: at most this many.
MAX_FAILED_RUNS = 64
# Stored entries read at a time (CSR): temporaries near 1 MiB.
CHUNK_ENTRIES = 1 << 16


def _column_summary(X):
    """Stored entries, smallest and largest stored value of each column of
    CSR or CSC ``X`` (no copy of ``X``: O(d) memory)."""
    n_features = X.shape[1]
    low = np.full(n_features, np.inf)
    high = np.full(n_features, -np.inf)
    if X.format == "csr":
        # In chunks: the index casts and temporaries stay near 1 MiB.
        counts = np.zeros(n_features, dtype=np.int64)
        for start in range(0, X.nnz, CHUNK_ENTRIES):
            columns = X.indices[start : start + CHUNK_ENTRIES]
            values = X.data[start : start + CHUNK_ENTRIES]
            counts += np.bincount(columns, minlength=n_features)
            np.minimum.at(low, columns, values)
            np.maximum.at(high, columns, values)
    else:
        counts = np.diff(X.indptr)
        stored = counts > 0
        starts = X.indptr[:-1][stored]
        low[stored] = np.minimum.reduceat(X.data, starts)
        high[stored] = np.maximum.reduceat(X.data, starts)
    return counts, low, high


def _equal_columns(X, counts):
    """``(i, j)`` pairs of equal columns (the first of each group with the
    others), from two random sums of each column: equal columns give equal
    sums bit for bit (the same products added in the same order)."""
    rng = np.random.default_rng(0)
    first = X.T @ rng.standard_normal(X.shape[0])
    second = X.T @ rng.standard_normal(X.shape[0])
    first_of, pairs = {}, []
    for j in np.flatnonzero(counts):
        i = first_of.setdefault((counts[j], first[j], second[j]), j)
        if i != j:
            pairs.append((i, j))
    return pairs


def _partitioning_runs(X, counts, low, high):
    """Runs ``[lo, hi)`` of consecutive columns, each constant on its stored
    rows, that cover every row once: ``X[:, lo:hi] @ (1/c) = 1``.

    Within each stretch of constant columns, a run starting at ``lo`` must
    end where the counts add up to the rows (prefix sums: at most one
    ``hi``); that run is then checked by one sparse product.
    """
    n_rows, n_features = X.shape
    constant = (counts > 0) & (low == high)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], constant, [0]])))
    runs, failed = [], 0
    for begin, end in zip(edges[::2], edges[1::2]):
        prefix = np.concatenate([[0], np.cumsum(counts[begin:end])])
        lo = 0
        while lo < end - begin and failed < MAX_FAILED_RUNS:
            hi = int(np.searchsorted(prefix, prefix[lo] + n_rows))
            if hi > end - begin:
                break
            if prefix[hi] == prefix[lo] + n_rows:
                values = np.zeros(n_features)
                values[begin + lo : begin + hi] = 1.0 / high[begin + lo : begin + hi]
                if np.all(np.abs(X @ values - 1.0) <= 1e-12):
                    runs.append(values)
                    lo = hi
                    continue
                failed += 1
            lo += 1
    return runs


def structural_null_candidates(X, max_candidates):
    """Candidate null vectors of the centred ``X`` (and of ``X`` itself when
    they are differences of runs), as the columns of a dense (d, m) array,
    the runs first and at most ``max_candidates`` in all; None when there
    are none (the caller probes for what is missing).

    ``X`` is a scipy sparse matrix (CSR or CSC are read in place, other
    formats converted to CSR). The first run's vector is null only for the
    centred ``X`` (an intercept); the others are differences from it.
    """
    if X.format not in ("csr", "csc"):
        X = X.tocsr()
    counts, low, high = _column_summary(X)
    pairs = _equal_columns(X, counts)
    runs = _partitioning_runs(X, counts, low, high)
    runs = runs[:max_candidates]
    pairs = pairs[: max_candidates - len(runs)]
    if not runs and not pairs:
        return None
    candidates = np.zeros((X.shape[1], len(runs) + len(pairs)))
    for r, values in enumerate(runs):
        candidates[:, r] = values - (runs[0] if r > 0 else 0.0)
    for k, (i, j) in enumerate(pairs, start=len(runs)):
        candidates[i, k], candidates[j, k] = 1.0, -1.0
    return candidates
