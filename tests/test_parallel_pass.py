"""Streamed passes on several threads (``_kernel.threads.ordered_map``) give
the one-thread sums bit for bit, keep the caller's floating-point state and
raise the first error."""

import warnings

import numpy as np
import pytest

from onestep_sklearn._kernel import moments, threads
from onestep_sklearn._kernel import objective as kernel
from onestep_sklearn._kernel.threads import ordered_map, pass_workers


def arrays(dtype, weighted, seed=0, n=3001, d=7, k=2):
    rng = np.random.default_rng(seed)
    X = (rng.standard_normal((n, d)) * 10.0 ** rng.uniform(-3, 3, d)).astype(dtype)
    Y = rng.standard_normal((n, k)).astype(dtype)
    sw = np.ones(n, dtype=dtype)
    if weighted:
        sw = rng.uniform(0, 2, n).astype(dtype)
        sw[rng.random(n) < 0.2] = 0
    return X, Y, sw


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weighted", [False, True])
def test_threaded_passes_are_the_sequential_ones_bit_for_bit(
    monkeypatch, dtype, weighted
):
    X, Y, sw = arrays(dtype, weighted)
    y_mean = Y.mean(axis=0, dtype=np.float64)
    vec = np.random.default_rng(1).standard_normal((X.shape[1], 2))
    monkeypatch.setattr(kernel, "BLOCK_BYTES", 2048)  # dozens of blocks
    results = {}
    for workers in (1, 3):
        monkeypatch.setattr(threads, "pass_workers", lambda nbytes, w=workers: w)
        results[workers] = (
            *kernel.moments_at_zero(X, Y, sw, y_mean),
            kernel.weighted_sq_norms(X, vec, 0.5, sw),
        )
    for one, many in zip(results[1], results[3]):
        assert one.dtype == many.dtype and np.array_equal(one, many)


@pytest.mark.parametrize("weighted", [False, True])
def test_threaded_statistics_are_the_sequential_ones_bit_for_bit(monkeypatch, weighted):
    """The Gram passes (shifted copy and X's own blocks) on several threads,
    BLAS on one thread each, in groups of blocks: the one-thread sums."""
    X, Y, sw = arrays(np.float64, weighted, d=9)
    X += np.linspace(-3.0, 3.0, X.shape[1])  # offsets: the shifted route
    y_mean = Y.mean(axis=0, dtype=np.float64)
    shift = X[:100].mean(axis=0)
    monkeypatch.setattr(kernel, "BLOCK_BYTES", 2048)  # dozens of blocks
    monkeypatch.setattr(threads, "HELD_BYTES", 4096)  # several groups
    results = {}
    for workers in (1, 3):
        monkeypatch.setattr(threads, "pass_workers", lambda nbytes, w=workers: w)
        results[workers] = (
            moments.dense_moments(X, Y, sw, shift, y_mean, unit=not weighted),
            moments.raw_moments(X, Y, y_mean),
        )
        assert threads._active["depth"] == 0  # the BLAS limit is restored
    for one, many in zip(results[1], results[3]):
        assert np.array_equal(one, many)


def test_ordered_map_keeps_order_context_and_errors():
    assert ordered_map(lambda i: i * i, range(50), 4) == [i * i for i in range(50)]

    def overflow(i):
        return np.float64(1e308) * (i + 2)  # inf, warned unless ignored

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):
            assert all(np.isinf(ordered_map(overflow, range(20), 3)))

    def fail(i):
        if i == 7:
            raise KeyError(i)
        return i

    with pytest.raises(KeyError):
        ordered_map(fail, range(30), 3)


def test_small_passes_and_single_threaded_fits_use_one_thread():
    assert pass_workers(threads.PARALLEL_PASS_BYTES - 1) == 1
    with threads.single_threaded_blas():
        assert pass_workers(threads.PARALLEL_PASS_BYTES) == 1
    assert 1 <= pass_workers(threads.PARALLEL_PASS_BYTES) <= threads.MAX_PASS_WORKERS
