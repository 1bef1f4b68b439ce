"""Dask data for the estimators: validation and reductions over row blocks.

Part of the Dask support (see ``_dask``). Validation reads only shapes,
dtypes and chunks; the values are checked by the first reduction, on the
workers. A reduction applies a kernel of ``_objective``/``_stats`` to every
row block where it lives and combines the results by a pairwise tree of
tasks (the exact merge of the statistics, or sums): one Dask computation,
whose small result is all that reaches the client.
"""

import sys
from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import _check_feature_names, _check_n_features

from . import _objective
from ._stats import SufficientStats, _qr_r

_DTYPES = (np.dtype(np.float64), np.dtype(np.float32))
# Past these magnitudes (below _TINY, above 1/_TINY) the in-memory estimators
# fit in rescaled units (``BaseMSERegressor._rescaled``); on Dask such data
# raise an error that says to rescale, instead of under- or overflowing.
_TINY = 2.0**-400
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


# --------------------------------------------------------------------------
# Validation: shapes, dtypes and chunks, without computing anything.


@dataclass
class DaskData:
    """Validated training data: ``X`` (n, d) in one column chunk, ``Y`` (n, k)
    and ``sample_weight`` (n,) in the dtype and row chunks of ``X``."""

    X: object
    Y: object
    sample_weight: object
    y_ndim: int

    @property
    def dtype(self):
        return self.X.dtype

    def blocks(self):
        """Row-aligned ``(X, Y, sample_weight)`` blocks as Delayed objects."""
        return zip(
            self.X.to_delayed().ravel(),
            self.Y.to_delayed().ravel(),
            self.sample_weight.to_delayed().ravel(),
        )

    def persist(self):
        """Keep the blocks in the workers' memory for repeated passes (a no-op
        for blocks already persisted)."""
        import dask

        self.X, self.Y, self.sample_weight = dask.persist(
            self.X, self.Y, self.sample_weight
        )
        return self


def _as_dask_array(obj, name, row_chunks=None):
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


def validate_X(estimator, X, *, reset):
    """``X`` as a 2-D float32/float64 Dask array in one column chunk."""
    names = X
    if is_dask_collection(X) and hasattr(X, "columns"):
        import pandas as pd  # a Dask DataFrame: its columns are known, no data

        names = pd.DataFrame(columns=X.columns)
    _check_feature_names(estimator, names, reset=reset)
    X = _as_dask_array(X, "X")
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got {X.ndim}D Dask array instead (shape "
            f"{X.shape}); use X.reshape(-1, 1) for a single feature."
        )
    if X.dtype not in _DTYPES:
        if X.dtype.kind not in "biuf":
            raise ValueError(f"X has dtype {X.dtype}; a real numeric dtype is needed.")
        X = X.astype(np.float64)
    for axis, what in ((0, "sample"), (1, "feature")):
        if X.shape[axis] < 1:
            raise ValueError(
                f"Found array with 0 {what}(s) (shape={X.shape}) while a minimum "
                "of 1 is required."
            )
    if len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})  # row blocks hold whole rows
    _check_n_features(estimator, X, reset=reset)
    return X


def validate_fit_data(estimator, X, y, sample_weight, *, reset):
    """The Dask counterpart of ``BaseMSERegressor._validate_fit_data``.

    Checks what shapes and dtypes tell; the values (NaN, infinity, negative
    or all-zero weights) are checked by the first reduction,
    :func:`check_inputs`.
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target "
            "y is None."
        )
    X = validate_X(estimator, X, reset=reset)
    n_samples, row_chunks = X.shape[0], X.chunks[0]
    y = _as_dask_array(y, "y", row_chunks)
    if y.ndim not in (1, 2) or y.shape[0] != n_samples:
        if y.ndim in (1, 2):
            raise ValueError(
                "Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {y.shape[0]}]"
            )
        raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
    if y.dtype.kind not in "biuf":
        raise ValueError(f"y has dtype {y.dtype}; a real numeric dtype is needed.")
    Y = (y if y.ndim == 2 else y[:, None]).astype(X.dtype)
    Y = Y.rechunk({0: row_chunks, 1: -1})
    if not reset:
        estimator._check_target_shape(y.shape, Y.shape[1])
    return DaskData(X, Y, _weights(sample_weight, X), y.ndim)


def _weights(sample_weight, X):
    import dask.array as da

    row_chunks = X.chunks[0]
    if sample_weight is None or np.ndim(sample_weight) == 0:
        value = 1.0 if sample_weight is None else float(sample_weight)
        return da.full(X.shape[0], value, dtype=X.dtype, chunks=(row_chunks,))
    sample_weight = _as_dask_array(sample_weight, "sample_weight", row_chunks)
    if sample_weight.ndim != 1:
        raise ValueError("Sample weights must be 1D array or scalar")
    if sample_weight.shape[0] != X.shape[0]:
        raise ValueError(
            f"sample_weight.shape == {sample_weight.shape}, expected {(X.shape[0],)}!"
        )
    return sample_weight.astype(X.dtype).rechunk({0: row_chunks})


def nonfinite_message(name, values):
    """scikit-learn's message for NaN or infinity in ``values`` (or None)."""
    if np.isnan(values).any():
        return f"Input {name} contains NaN."
    if np.isinf(values).any():
        return (
            f"Input {name} contains infinity or a value too large for {values.dtype!r}."
        )
    return None


def _extremes(X, columns=None):
    """Whether any (masked) column of a block has values of a magnitude the
    in-memory estimators rescale: below 2^-400 or above 2^400."""
    if not X.shape[0] or (columns is not None and not columns.any()):
        return False, False
    peak = np.abs(X if columns is None else X[:, columns]).max(axis=0)
    return bool(np.any((peak > 0) & (peak < _TINY))), bool(np.any(peak > 1 / _TINY))


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
        if self.min_weight < 0:
            raise ValueError("Negative values in data passed to `sample_weight`")
        if not sw_sum > 0:
            raise ValueError(
                "Sample weights must contain at least one non-zero number: "
                "sample_weight sums to zero."
            )
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


# --------------------------------------------------------------------------
# Block kernels (run on the workers) and their tree reduction.


def _stats_block(X, Y, sample_weight, fit_intercept):
    stats = SufficientStats.from_data(X, Y, sample_weight, fit_intercept)
    suspect = not (stats.finite and np.isfinite(stats.yy).all()) or stats.sw_sum == 0
    # Columns with (next to) no sum of squares: constant, or underflowed.
    flat = np.diag(stats.xx) <= np.finfo(np.float64).tiny * max(stats.sw_sum, 1.0)
    tiny, _ = _extremes(X, flat)  # large values show as non-finite statistics
    return stats, InputCheck.of(X, Y, sample_weight, suspect, (tiny, False))


def _merge_checked(left, right):
    return left[0].merge(right[0]), left[1].merge(right[1])


def _means_block(X, Y, sample_weight):
    sw = sample_weight.astype(np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        sums = (
            np.asarray(sw.sum()),
            np.asarray(X.T @ sample_weight, dtype=np.float64),
            np.asarray(sample_weight @ Y, dtype=np.float64),
        )
    suspect = not all(np.isfinite(s).all() for s in sums) or not sums[0] > 0
    # The first of many passes: its magnitude scan of every column is cheap.
    return sums, InputCheck.of(X, Y, sample_weight, suspect, _extremes(X))


def _merge_sums_checked(left, right):
    return _add(left[0], right[0]), left[1].merge(right[1])


def _pass_block(X, Y, sample_weight, coef, intercept, with_y, gradient):
    return _objective.data_pass(
        X, Y if with_y else None, coef, intercept, sample_weight, gradient=gradient
    )


def _add(left, right):
    """Sum of two tuples of arrays (``None`` entries stay ``None``)."""
    return tuple(None if a is None else a + b for a, b in zip(left, right))


def _centred_gradient_block(X, Y, sample_weight, x_mean, y_mean, coef):
    return (_objective.centred_gradient(X, Y, sample_weight, x_mean, y_mean, coef),)


def _qr_block(X, Y, sample_weight, x_mean, y_mean):
    """Triangular factor of the block's ``[Xc·√s | yc·√s]`` (as ``solve_by_qr``)."""
    n_features, width = X.shape[1], X.shape[1] + Y.shape[1]
    factor = np.zeros((0, width))
    root_sw = np.sqrt(sample_weight.astype(np.float64))
    for rows in _objective.row_blocks(X):
        block = np.empty((rows.stop - rows.start, width))
        np.subtract(X[rows], x_mean, out=block[:, :n_features])
        np.subtract(Y[rows], y_mean, out=block[:, n_features:])
        block *= root_sw[rows, None]
        factor = _qr_r(np.vstack([factor, block]))
    return factor


def _stack_factors(top, bottom):
    matrix = np.vstack([top, bottom])
    return _qr_r(matrix) if matrix.shape[0] else matrix


def reduce_blocks(data, block_function, combine, *args):
    """``block_function(X, Y, s, *args)`` on every row block, combined by a
    pairwise tree of ``combine`` tasks: one computation, on the cluster."""
    import dask

    apply = dask.delayed(block_function, pure=True)
    merge = dask.delayed(combine, pure=True)
    parts = [apply(*block, *args) for block in data.blocks()]
    while len(parts) > 1:
        pairs = [merge(a, b) for a, b in zip(parts[::2], parts[1::2])]
        parts = pairs + parts[len(pairs) * 2 :]
    return dask.compute(parts[0])[0]


def reduce_stats(data, fit_intercept):
    """Validated sufficient statistics of the whole Dask data set."""
    stats, check = reduce_blocks(data, _stats_block, _merge_checked, fit_intercept)
    check.raise_for_values(stats.sw_sum)
    if not (stats.finite and np.isfinite(stats.yy).all()):
        x_finite = np.isfinite(stats.xx).all() and np.isfinite(stats.x_mean).all()
        _raise_overflow("y" if x_finite else "X")
    return stats


def _raise_overflow(name):
    raise ValueError(
        f"{name} is finite but its moments overflow float64: rescale {name} (for "
        "example with StandardScaler) before fitting on Dask arrays."
    )


def reduce_means(data, fit_intercept):
    """Validated ``(Σs, x̄, ȳ)`` (zero means without an intercept)."""
    (sw_sum, x_sum, y_sum), check = reduce_blocks(
        data, _means_block, _merge_sums_checked
    )
    sw_sum = float(sw_sum)
    check.raise_for_values(sw_sum)
    x_mean, y_mean = x_sum / sw_sum, y_sum / sw_sum
    for name, mean in (("X", x_mean), ("y", y_mean)):
        if not np.isfinite(mean).all():
            _raise_overflow(name)
    if not fit_intercept:
        return sw_sum, np.zeros_like(x_mean), np.zeros_like(y_mean)
    return sw_sum, x_mean, y_mean


def reduce_centred_gradient(data, x_mean, y_mean, coef):
    """``XcᵀS(Xc·w − (y − ȳ))`` in centred arithmetic (Newton refinement)."""
    (grad,) = reduce_blocks(data, _centred_gradient_block, _add, x_mean, y_mean, coef)
    return grad


def reduce_qr_factor(data, x_mean, y_mean):
    """Triangular factor of ``[Xc·√s | yc·√s]``: TSQR, blocks stacked in a tree."""
    return reduce_blocks(data, _qr_block, _stack_factors, x_mean, y_mean)


@dataclass(frozen=True)
class DaskDataObjective:
    """The objective by data passes over a (persisted) Dask data set.

    Same methods as :class:`_objective.DataObjective`; each evaluation is one
    Dask reduction of per-block :func:`data_pass` results.
    """

    data: DaskData
    sw_sum: float
    x_mean: np.ndarray
    y_mean: np.ndarray
    l2_reg_strength: float

    def _pass(self, coef, intercept, *, with_y=True, gradient=True):
        return reduce_blocks(
            self.data, _pass_block, _add, coef, intercept, with_y, gradient
        )

    def intercept(self, coef):
        return self.y_mean - self.x_mean @ coef

    def loss_per_output(self, coef):
        sq, _, _ = self._pass(coef, self.intercept(coef), gradient=False)
        return sq / self.sw_sum + self.l2_reg_strength * np.sum(coef**2, axis=0)

    def loss(self, coef):
        return float(self.loss_per_output(coef).sum())

    def loss_gradient(self, coef):
        sq, xtr, rsum = self._pass(coef, self.intercept(coef))
        xtr = xtr - np.outer(self.x_mean, rsum)
        l2 = self.l2_reg_strength
        loss = float(sq.sum() / self.sw_sum + l2 * np.sum(coef**2))
        return loss, (2.0 / self.sw_sum) * xtr + (2.0 * l2) * coef

    def hessp(self, vec):
        _, xtr, rsum = self._pass(vec, -(self.x_mean @ vec), with_y=False)
        xtr = xtr - np.outer(self.x_mean, rsum)
        return (2.0 / self.sw_sum) * xtr + (2.0 * self.l2_reg_strength) * vec

    def curvature(self, vec):
        """``vᵀHv`` from one pass without the ``Xᵀ`` product."""
        sq, _, _ = self._pass(vec, -(self.x_mean @ vec), with_y=False, gradient=False)
        return 2.0 * float(sq.sum()) / self.sw_sum + 2.0 * self.l2_reg_strength * (
            np.sum(vec**2)
        )
