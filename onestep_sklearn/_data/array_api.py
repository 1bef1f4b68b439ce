"""Training data in an array API namespace (torch, CuPy, array-api-strict),
on its own device.

The work that grows with ``n_samples`` (the statistics ``XᵀSX`` about a
shift, the data passes, ``X @ v``) runs in X's namespace on X's device; only
results of ``n_features`` rows travel to the host, in float64.

Precision: every sum over rows is formed per block of :data:`BLOCK` rows in
X's dtype (one batched product for all the blocks of a chunk), and the block
sums are added in float64 (on the device when it has float64). Rows are
shifted by the mean of the first rows before the Gram is formed. float32
data thus keep float32 products with sums whose rounding grows with
√BLOCK, not √n_samples.

Questions asked only on hard data (the QR factor and double-double
refinement of ill-conditioned problems, fold statistics) are answered by the
in-memory source on a host copy of the data, made once, on first use.
"""

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .._kernel.stats import SufficientStats
from .._kernel.units import Units, powers_of_two
from .memory import ArraySource, centre_row_gram
from .protocol import RowArrays

#: Rows summed in X's dtype before the float64 accumulation.
BLOCK = 4096
#: Bytes of X read per chunk (one batched product over its blocks); the
#: chunk's shifted copy is of this size.
CHUNK_BYTES = 64 << 20
#: Rows of the pilot (the shift, the units of extreme magnitudes).
PILOT = 1024


def to_host(array, xp):
    """``array`` as a float64 numpy array (a copy off the device)."""
    from .._compat import _convert_to_numpy

    return np.asarray(_convert_to_numpy(array, xp), dtype=np.float64)


def numpy_dtype(xp, dtype):
    """The numpy dtype of an array API floating dtype (float32 or float64)."""
    return np.dtype(np.float32 if dtype == xp.float32 else np.float64)


@dataclass(frozen=True)
class ArrayAPISource(RowArrays):
    """Validated data in namespace ``xp`` on ``device``: ``X`` (n, d), ``Y``
    (n, k) in X's dtype, ``weights`` (n,) in X's dtype or None (all ones,
    never materialised), ``sw_sum`` = Σs > 0, ``wide64`` whether the device
    holds float64 (the block sums are added there, else on the host)."""

    X: object
    Y: object
    weights_xp: object
    sw_sum: float
    xp: object
    device: object
    wide64: bool
    row_access = True
    sparse = False
    krylov = False

    @property
    def dtype(self):
        return numpy_dtype(self.xp, self.X.dtype)

    # ------------------------------------------------------------------
    # Rows, blocks and float64 sums.

    def _chunks(self):
        """Row slices of about CHUNK_BYTES, whole blocks each."""
        n_samples, width = self.X.shape
        per_row = self.dtype.itemsize * (width + self.n_outputs + 1)
        rows = max(BLOCK, (CHUNK_BYTES // per_row) // BLOCK * BLOCK)
        for start in range(0, n_samples, rows):
            yield slice(start, min(start + rows, n_samples))

    def _weights(self, rows, ones=False):
        """The weights of ``rows`` as a column (n_rows, 1), or None (all
        ones; a column of ones with ``ones``)."""
        if self.weights_xp is None:
            return self._ones(rows.stop - rows.start) if ones else None
        return self.xp.reshape(self.weights_xp[rows], (-1, 1))

    def _sum64(self, parts):
        """The sum over axis 0 of ``parts`` in float64, on the host."""
        xp = self.xp
        if parts.dtype == xp.float64:
            return to_host(xp.sum(parts, axis=0), xp)
        if self.wide64:
            return to_host(xp.sum(xp.astype(parts, xp.float64), axis=0), xp)
        return to_host(parts, xp).sum(axis=0)

    def _cross(self, A, B):
        """``AᵀB`` (float64, host): in X's dtype per block of BLOCK rows, the
        block products added in float64."""
        xp = self.xp
        n_rows = A.shape[0]
        if A.dtype == xp.float64 or n_rows <= BLOCK:
            return self._sum64(xp.reshape(A.T @ B, (1, A.shape[1], B.shape[1])))
        head = n_rows // BLOCK * BLOCK
        blocks_A = xp.reshape(A[:head, ...], (-1, BLOCK, A.shape[1]))
        blocks_B = xp.reshape(B[:head, ...], (-1, BLOCK, B.shape[1]))
        total = self._sum64(xp.matmul(xp.permute_dims(blocks_A, (0, 2, 1)), blocks_B))
        if head < n_rows:
            total = total + self._cross(A[head:, ...], B[head:, ...])
        return total

    def _colsum(self, A):
        """Column sums of ``A`` (float64, host), per block as :meth:`_cross`."""
        return self._cross(A, self._ones(A.shape[0]))[:, 0]

    def _ones(self, n_rows):
        return self.xp.ones((n_rows, 1), dtype=self.X.dtype, device=self.device)

    def _on_device(self, array):
        """A host array in X's dtype on X's device."""
        return self.xp.asarray(np.asarray(array, dtype=self.dtype), device=self.device)

    @cached_property
    def host(self):
        """The in-memory source on a host copy of the data (rare questions)."""
        xp = self.xp
        X = to_host(self.X, xp).astype(self.dtype)
        Y = to_host(self.Y, xp).astype(self.dtype)
        return ArraySource(X, Y, self.sample_weight, self.sw_sum)

    @cached_property
    def sample_weight(self):
        """The weights as a host array in X's dtype."""
        if self.weights_xp is None:
            return np.ones(self.n_samples, dtype=self.dtype)
        return to_host(self.weights_xp, self.xp).astype(self.dtype)

    # ------------------------------------------------------------------
    # The data questions asked on the device.

    def _pilot_shift(self, fit_intercept):
        """``(c, c_y)``: weighted means of the first rows of positive weight
        (zeros without an intercept)."""
        if not fit_intercept:
            return np.zeros(self.n_features), np.zeros(self.n_outputs)
        rows = slice(0, min(PILOT, self.n_samples))
        weights = self.sample_weight[rows].astype(np.float64)
        if not weights.sum() > 0:
            return np.zeros(self.n_features), np.zeros(self.n_outputs)
        X, Y = to_host(self.X[rows, ...], self.xp), to_host(self.Y[rows, ...], self.xp)
        return weights @ X / weights.sum(), weights @ Y / weights.sum()

    def _augmented(self, fit_intercept, shifts):
        """``Σ s·zzᵀ`` over the rows, ``z = [x − c, y − c_y, 1]``: one pass."""
        xp = self.xp
        shift, y_shift = shifts
        c, c_y = self._on_device(shift), self._on_device(y_shift)
        width = self.n_features + self.n_outputs + 1
        total = np.zeros((width, width))
        for rows in self._chunks():
            X, Y = self.X[rows, ...], self.Y[rows, ...]
            Z = xp.concat([X - c, Y - c_y, self._ones(X.shape[0])], axis=1)
            weights = self._weights(rows)
            total += self._cross(Z, Z if weights is None else Z * weights)
        return total

    def statistics(self, fit_intercept, *, with_factor=False, shifts=None):
        if shifts is None or not fit_intercept:
            shifts = self._pilot_shift(fit_intercept)
        shift = np.asarray(shifts[0], dtype=np.float64)
        y_shift = np.asarray(shifts[1], dtype=np.float64)
        augmented = self._augmented(fit_intercept, (shift, y_shift))
        stats = _finish(
            augmented,
            shift,
            y_shift,
            self.sw_sum,
            self.n_samples,
            self.n_features,
            fit_intercept,
        )
        if not stats.finite:
            self.host.statistics(fit_intercept)  # raises the in-memory error
        if with_factor:
            stats = stats.with_factor(self.host.X, self.host.Y, self.sample_weight)
        return stats

    def means(self, fit_intercept):
        if not fit_intercept:
            zeros = np.zeros(self.n_features), np.zeros(self.n_outputs)
            return self.sw_sum, *zeros
        x_sum, y_sum = np.zeros(self.n_features), np.zeros(self.n_outputs)
        for rows in self._chunks():
            weights = self._weights(rows, ones=True)
            x_sum += self._cross(self.X[rows, ...], weights)[:, 0]
            y_sum += self._cross(self.Y[rows, ...], weights)[:, 0]
        return self.sw_sum, x_sum / self.sw_sum, y_sum / self.sw_sum

    def _residuals(self, rows, coef, intercept, with_y):
        """``X·coef + b − y`` on ``rows``, in X's dtype."""
        resid = self.X[rows, ...] @ coef + intercept
        return resid - self.Y[rows, ...] if with_y else resid

    def data_pass(self, coef, intercept, *, with_y=True, gradient=True):
        coef_x = self._on_device(coef)
        intercept_x = self._on_device(np.reshape(intercept, (1, -1)))
        n_outputs = coef.shape[1]
        sq, rsum = np.zeros(n_outputs), np.zeros(n_outputs)
        xtr = np.zeros(coef.shape) if gradient else None
        for rows in self._chunks():
            resid = self._residuals(rows, coef_x, intercept_x, with_y)
            weights = self._weights(rows)
            weighted = resid if weights is None else resid * weights
            sq += self._colsum(weighted * resid)
            rsum += self._colsum(weighted)
            if gradient:
                xtr += self._cross(self.X[rows, ...], weighted)
        return sq, xtr, rsum

    def batch_products(self, coef, intercept):
        return self.data_pass(coef, intercept)

    def sq_norms(self, vec, offset):
        vec_x = self._on_device(vec)
        offset_x = self._on_device(np.reshape(offset, (1, -1)))
        sq = np.zeros(vec.shape[1])
        for rows in self._chunks():
            product = self.X[rows, ...] @ vec_x - offset_x
            weights = self._weights(rows)
            weighted = product if weights is None else product * weights
            sq += self._colsum(weighted * product)
        return sq

    def moments_at_zero(self, fit_intercept):
        xp = self.xp
        y_mean = self.means(fit_intercept)[2]
        y_mean_x = self._on_device(np.reshape(y_mean, (1, -1)))
        moments = np.zeros((self.n_features, self.n_outputs + 1))
        weighted_sum, sq = np.zeros(self.n_outputs), np.zeros(self.n_outputs)
        for rows in self._chunks():
            centred = self.Y[rows, ...] - y_mean_x
            weights = self._weights(rows, ones=True)
            weighted = centred * weights
            sq += self._colsum(weighted * centred)
            weighted_sum += self._colsum(weighted)
            columns = xp.concat([weighted, weights], axis=1)
            moments += self._cross(self.X[rows, ...], columns)
        if not np.isfinite(moments).all():
            self.host.moments_at_zero(fit_intercept)  # raises the in-memory error
        return self.sw_sum, y_mean, moments, weighted_sum, sq

    def max_row_sq_norm(self, x_mean):
        xp = self.xp
        centre = self._on_device(np.reshape(x_mean, (1, -1)))
        largest = 0.0
        for rows in self._chunks():
            centred = self.X[rows, ...] - centre
            norms = xp.sum(centred * centred, axis=1)
            weights = self._weights(rows)
            if weights is not None:
                norms = xp.where(weights[:, 0] > 0, norms, xp.zeros_like(norms))
            largest = max(largest, float(xp.max(norms)))
        return largest

    def column_magnitudes(self, *, every_row=False):
        """Largest |x| per column over the first rows of positive weight, or
        over ``every_row``."""
        xp = self.xp
        rows = slice(0, self.n_samples if every_row else min(PILOT, self.n_samples))
        magnitudes = xp.abs(self.X[rows, ...])
        weights = self._weights(rows)
        if weights is not None:
            magnitudes = xp.where(weights > 0, magnitudes, xp.zeros_like(magnitudes))
        return to_host(xp.max(magnitudes, axis=0), xp)

    def extreme_units(self, *, scale_x=True):
        xp = self.xp
        magnitudes = xp.abs(self.Y)
        weights = self._weights(slice(0, self.n_samples))
        if weights is not None:
            magnitudes = xp.where(weights > 0, magnitudes, xp.zeros_like(magnitudes))
        y_max = float(xp.max(magnitudes))
        x_scale = 1.0
        if scale_x:
            x_scale = float(powers_of_two(self.column_magnitudes().max(initial=0.0)))
        return Units(x_scale, float(powers_of_two(y_max)))

    def rescaled(self, units):
        if units.identity:
            return self
        X, Y = self.X, self.Y
        if units.x_scale != 1.0:
            X = X * units.x_scale
        if units.y_scale != 1.0:
            Y = Y * units.y_scale
        return replace(self, X=X, Y=Y)

    def column_scaled(self, columns):
        return replace(self, X=self.X * self._on_device(np.reshape(columns, (1, -1))))

    def with_weights(self, sample_weight):
        """The same rows with other (host) weights: the validation split."""
        sw_sum = float(np.sum(sample_weight, dtype=np.float64))
        return replace(self, weights_xp=self._on_device(sample_weight), sw_sum=sw_sum)

    def batches(self, batch_size, rng):
        """Mini-batch sources over the rows of positive weight (shuffled when
        ``rng`` is given), gathered on the device."""
        indices = np.flatnonzero(self.sample_weight > 0)
        if rng is not None:
            indices = rng.permutation(indices)
        for start in range(0, indices.size, batch_size):
            rows = indices[start : start + batch_size]
            weights = self.sample_weight[rows]
            sw_sum = float(weights.sum(dtype=np.float64))
            if sw_sum > 0:
                take = self.xp.asarray(rows, device=self.device)
                yield replace(
                    self,
                    X=self.xp.take(self.X, take, axis=0),
                    Y=self.xp.take(self.Y, take, axis=0),
                    weights_xp=self._on_device(weights),
                    sw_sum=sw_sum,
                )

    def matvec(self, coef):
        return to_host(self.X @ self._on_device(coef), self.xp)

    def rmatvec(self, columns):
        return self._cross(self.X, self._on_device(columns))

    def row_gram(self, x_mean):
        gram = to_host(self.X @ self.X.T, self.xp)
        root = np.sqrt(self.sample_weight.astype(np.float64))
        shifted = self.matvec(np.reshape(x_mean, (-1, 1)))[:, 0]
        return centre_row_gram(gram, shifted, x_mean, root)

    def weights(self):
        return self.sample_weight.astype(np.float64)

    def targets(self):
        return to_host(self.Y, self.xp)

    # ------------------------------------------------------------------
    # Rare questions, on hard data only: the in-memory source on a host copy.

    def hessian_operator(self, x_mean, sw_sum, l2_reg_strength):
        return None


def _on_host(name):
    def question(self, *args, **kwargs):
        return getattr(self.host, name)(*args, **kwargs)

    question.__name__ = question.__qualname__ = name
    return question


HOST_QUESTIONS = (
    "group_statistics",
    "centred_gradient",
    "exact_gradient",
    "exact_moments",
    "qr_factor",
    "column_ranges",
)
for _name in HOST_QUESTIONS:
    setattr(ArrayAPISource, _name, _on_host(_name))


def _finish(augmented, shift, y_shift, sw_sum, n_samples, n_features, fit_intercept):
    """The :class:`SufficientStats` of the moments ``Σ s·zzᵀ`` about the
    shifts ``(c, c_y)``: centred exactly (``G − m·mᵀ/Σs``) in float64, as
    ``_kernel.stats`` finishes its own pass."""
    width = augmented.shape[0] - 1
    gram = augmented[:n_features, :n_features]
    xy = augmented[:n_features, n_features:width]
    yy = np.diag(augmented)[n_features:width].copy()
    x_mean, y_mean = np.zeros(n_features), np.zeros(width - n_features)
    x_delta, y_delta = x_mean.copy(), y_mean.copy()
    if fit_intercept:
        moment = augmented[:n_features, width]  # Σ s (x − c)
        y_sum = augmented[n_features:width, width]  # Σ s (y − c_y)
        x_delta, y_delta = moment / sw_sum, y_sum / sw_sum
        x_mean, y_mean = shift + x_delta, y_shift + y_delta
        gram = gram - np.outer(moment, moment) / sw_sum
        xy = xy - np.outer(moment, y_sum) / sw_sum
        yy = yy - y_sum**2 / sw_sum
    gram, xy = np.ascontiguousarray(gram), np.ascontiguousarray(xy)
    shifts = (shift, y_shift, x_delta, y_delta)
    return SufficientStats(
        sw_sum, x_mean, y_mean, gram, xy, yy, n_samples, fit_intercept, shifts=shifts
    )
