"""Dask inputs: conversion to row-chunked Dask arrays.

Part of the Dask data source (``_data.dask``). Conversion reads only shapes,
dtypes and chunks; the values are checked on the workers by the first
reduction (``_data.checks``). Nothing here imports Dask until an input
already is a Dask collection.
"""

import sys

import numpy as np


def is_dask_collection(obj):
    """Whether ``obj`` is a Dask collection (array, DataFrame, Series).

    Never imports Dask: an object cannot be a Dask collection unless Dask is
    already imported.
    """
    if "dask" not in sys.modules:
        return False
    import dask

    return dask.is_dask_collection(obj)


def as_dask_array(obj, name, row_chunks=None):
    """A Dask array from a Dask array/DataFrame/Series or an array-like."""
    import dask.array as da

    if is_dask_collection(obj) and hasattr(obj, "to_dask_array"):
        obj = obj.to_dask_array(lengths=True)  # counts rows on the workers
    if not isinstance(obj, da.Array):
        if is_dask_collection(obj):
            raise TypeError(
                f"{name} is a {type(obj).__name__}; only Dask arrays, DataFrames "
                "and Series are supported."
            )
        array = np.asarray(obj)
        chunks = "auto"
        if row_chunks and array.ndim and array.shape[0] == sum(row_chunks):
            chunks = (row_chunks,) + tuple((size,) for size in array.shape[1:])
        obj = da.from_array(array, chunks=chunks)
    if any(np.isnan(size) for sizes in obj.chunks for size in sizes):
        raise ValueError(
            f"{name} has unknown chunk sizes (shape {obj.shape}); call "
            f"{name}.compute_chunk_sizes() (or to_dask_array(lengths=True) on a "
            "DataFrame) before fitting."
        )
    return obj


def dask_weights(sample_weight, X):
    import dask.array as da

    row_chunks = X.chunks[0]
    if sample_weight is None or np.ndim(sample_weight) == 0:
        value = 1.0 if sample_weight is None else float(sample_weight)
        return da.full(X.shape[0], value, dtype=X.dtype, chunks=(row_chunks,))
    sample_weight = as_dask_array(sample_weight, "sample_weight", row_chunks)
    if sample_weight.ndim != 1:
        raise ValueError("Sample weights must be 1D array or scalar")
    if sample_weight.shape[0] != X.shape[0]:
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected {(X.shape[0],)}!"
        )
    return sample_weight.astype(X.dtype).rechunk({0: row_chunks})
