"""Dask inputs: conversion to row-chunked Dask arrays and value checks.

Part of the Dask data source (``_data.dask``). Conversion reads only shapes,
dtypes and chunks; the values are checked on the workers by the first
reduction (:class:`InputCheck`), in the order and words of scikit-learn's
in-memory validation. Nothing here imports Dask until an input already is a
Dask collection.
"""

import sys
from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_array

from .._compat import _check_sample_weight
from .._kernel.units import MomentsOverflow

# Past these magnitudes (below TINY, above 1/TINY) the in-memory estimators
# fit in rescaled units (``_kernel.units``); on Dask such data raise an
# error that says to rescale, instead of under- or overflowing.
TINY = 2.0**-400
# The order in which the in-memory validation reports non-finite inputs.
_INPUTS = ("y", "sample_weight", "X")


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


def nonfinite_message(name, values):
    """scikit-learn's own message for NaN or infinity in ``values`` (or None).

    Its check runs on one offending value in the dtype of ``values``, so the
    words are those of the installed scikit-learn, as in memory.
    """
    values = np.asarray(values)
    if np.isnan(values).any():
        probe = np.full(1, np.nan, dtype=values.dtype)
    elif np.isinf(values).any():
        probe = np.full(1, np.inf, dtype=values.dtype)
    else:
        return None
    try:
        check_array(probe, ensure_2d=False, dtype=None, input_name=name)
    except ValueError as error:
        return str(error)
    return f"Input {name} contains NaN or infinity."  # pragma: no cover


ZERO_WEIGHTS = "Sample weights must contain at least one non-zero number."


def raise_for_weights(min_weight, sw_sum):
    """Raise scikit-learn's errors for negative or all-zero sample weights.

    Its own check runs on the offending values, so the words are those of
    the installed scikit-learn; a version that accepts all-zero weights
    gets the same words from here (the fit would divide by zero).
    """
    if min_weight < 0:
        _check_sample_weight(
            np.array([min_weight]), np.zeros((1, 1)), ensure_non_negative=True
        )
    if not sw_sum > 0:
        _check_sample_weight(np.zeros(1), np.zeros((1, 1)))
        raise ValueError(ZERO_WEIGHTS)


def _extremes(X, columns=None):
    """Whether any (masked) column of a block has values of a magnitude the
    in-memory estimators rescale: below 2^-400 or above 2^400."""
    if not X.shape[0] or (columns is not None and not columns.any()):
        return False, False
    peak = np.abs(X if columns is None else X[:, columns]).max(axis=0)
    return bool(np.any((peak > 0) & (peak < TINY))), bool(np.any(peak > 1 / TINY))


@dataclass(frozen=True)
class InputCheck:
    """What a block reduction learnt about the values of the inputs.

    ``min_weight`` is the smallest sample weight; ``problems`` maps an input
    name to the message of its first non-finite value; ``tiny`` and ``huge``
    say that a column of ``X`` has values of extreme magnitude.
    """

    min_weight: float = np.inf
    problems: tuple = ()
    tiny: bool = False
    huge: bool = False

    @classmethod
    def of(cls, X, Y, sample_weight, suspect, extremes=(False, False)):
        """Inspect a block. Its values are scanned only when ``suspect`` (its
        results are not finite, or it has no weight and so no results)."""
        min_weight = float(sample_weight.min()) if sample_weight.size else np.inf
        problems = []
        if suspect:
            for name, values in (("y", Y), ("sample_weight", sample_weight), ("X", X)):
                message = nonfinite_message(name, values)
                if message:
                    problems.append((name, message))
        return cls(min_weight, tuple(problems), *extremes)

    def merge(self, other):
        problems = dict(other.problems)
        problems.update(self.problems)
        return InputCheck(
            min(self.min_weight, other.min_weight),
            tuple(problems.items()),
            self.tiny or other.tiny,
            self.huge or other.huge,
        )

    def raise_for_values(self, sw_sum):
        """Raise as the in-memory validation would (same order and words)."""
        problems = dict(self.problems)
        for name in _INPUTS[:2]:
            if name in problems:
                raise ValueError(problems[name])
        raise_for_weights(self.min_weight, sw_sum)
        if "X" in problems:
            raise ValueError(problems["X"])
        if self.huge:
            _raise_overflow("X")
        if self.tiny:
            # In memory such data are fitted in rescaled units; here they
            # would silently give zero coefficients.
            raise ValueError(
                "X has a column of extreme magnitude (values below 1e-120) whose "
                "squares underflow float64: rescale X (for example with "
                "StandardScaler) before fitting on Dask arrays."
            )


def _raise_overflow(name):
    raise MomentsOverflow(
        f"{name} is finite but its moments overflow float64: rescale {name} (for "
        "example with StandardScaler) before fitting on Dask arrays."
    )


raise_overflow = _raise_overflow
