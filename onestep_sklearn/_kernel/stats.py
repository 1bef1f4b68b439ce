"""Sufficient statistics of the weighted least-squares objective.

Part of the kernel (the objective is defined in ``_kernel.objective``): Σs,
weighted means, centred ``XᵀSX``, ``XᵀS(y − ȳ)`` and ``Σ s (y − ȳ)²``. One
streaming pass forms them; :meth:`SufficientStats.merge` combines the
statistics of separate chunks exactly (Chan, Golub & LeVeque), which serves
``partial_fit`` and distributed reductions. Afterwards every loss, gradient
or Hessian costs O(d²), independent of ``n_samples``. No scikit-learn import;
``X`` is never copied (only a row block at a time, in a reused buffer).
"""

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from .factor import merge_factors, qr_factor
from .moments import dense_moments, pilot_mean, raw_moments
from .refine import add_moments
from .sparse_ops import sparse_moments
from .weights import all_ones, as_float64, weighted_sum
from .xp_ops import total, widens


@dataclass(frozen=True)
class SufficientStats:
    """Sufficient statistics of the weighted least-squares problem.

    Attributes: ``sw_sum`` (Σs), ``x_mean`` (d,), ``y_mean`` (k,), ``xx``
    (d, d) = centred XᵀSX, ``xy`` (d, k) = centred XᵀS(y − ȳ), ``yy`` (k,) =
    Σ s (y − ȳ)², ``n_samples``. Without an intercept the means are zero and
    the moments are raw. All float64. ``factor`` (optional) is the QR factor
    of the same rows, ``exact`` (optional) their raw moments in double-double
    (``refine.exact_moments``); both merge exactly. ``shifts`` (optional)
    is ``(c, c_y, x_delta, y_delta)``: the means as ``c + x_delta`` and
    ``c_y + y_delta``, kept as offsets from the shifts the pass used, so that
    chunks computed with the same shifts merge their offsets (of the size of
    the spread), not their means (of the size of the offset of the data).
    """

    sw_sum: float
    x_mean: np.ndarray
    y_mean: np.ndarray
    xx: np.ndarray
    xy: np.ndarray
    yy: np.ndarray
    n_samples: int
    fit_intercept: bool
    factor: np.ndarray | None = None
    exact: tuple | None = None
    shifts: tuple | None = None

    @classmethod
    def empty(cls, n_features, n_outputs, fit_intercept):
        return cls(
            0.0,
            np.zeros(n_features),
            np.zeros(n_outputs),
            np.zeros((n_features, n_features)),
            np.zeros((n_features, n_outputs)),
            np.zeros(n_outputs),
            0,
            fit_intercept,
        )

    @classmethod
    def from_data(cls, X, Y, sample_weight, fit_intercept, shifts=None):
        """The statistics of ``(X, Y, s)`` in one streaming pass over ``X``.

        See :func:`stream_moments`; the result is float64 whatever the dtype
        of ``X``. Non-finite input gives non-finite statistics (callers test
        ``finite``), never an exception.
        """
        return stream_moments(X, Y, sample_weight, fit_intercept, shifts)

    @property
    def finite(self):
        return bool(
            np.isfinite(self.xx).all()
            and np.isfinite(self.xy).all()
            and np.isfinite(self.x_mean).all()
        )

    # Blocks of extreme magnitude overflow here to inf (a column at 1e200
    # beside ordinary ones, on Dask): the first questions' checks then word
    # the error, never a numpy RuntimeWarning.
    @np.errstate(over="ignore", invalid="ignore")
    def merge(self, other):
        """Exact pairwise merge (Chan, Golub & LeVeque, weighted)."""
        if other.sw_sum == 0:
            return self._replace_n(self.n_samples + other.n_samples)
        if self.sw_sum == 0:
            return other._replace_n(self.n_samples + other.n_samples)
        sw_sum = self.sw_sum + other.sw_sum
        xx, xy, yy = self.xx + other.xx, self.xy + other.xy, self.yy + other.yy
        x_mean, y_mean = self.x_mean, self.y_mean
        shift = shifts = None
        if self.fit_intercept:
            share = other.sw_sum / sw_sum
            weight = self.sw_sum * other.sw_sum / sw_sum
            if _same_shifts(self.shifts, other.shifts):
                # Offsets from the common shifts: no digits lost to them.
                c, c_y, x_delta, y_delta = self.shifts
                dx, dy = other.shifts[2] - x_delta, other.shifts[3] - y_delta
                x_delta, y_delta = x_delta + dx * share, y_delta + dy * share
                x_mean, y_mean = c + x_delta, c_y + y_delta
                shifts = (c, c_y, x_delta, y_delta)
            else:
                dx, dy = other.x_mean - self.x_mean, other.y_mean - self.y_mean
                x_mean = self.x_mean + dx * share
                y_mean = self.y_mean + dy * share
            xx += weight * np.outer(dx, dx)
            xy += weight * np.outer(dx, dy)
            yy += weight * dy**2
            shift = np.concatenate([dx, dy])
        factor = None
        if self.factor is not None and other.factor is not None:
            factor = merge_factors(
                self.factor, other.factor, self.sw_sum, other.sw_sum, shift
            )
        exact = None
        if self.exact is not None and other.exact is not None:
            exact = add_moments(self.exact, other.exact)
        return SufficientStats(
            sw_sum,
            x_mean,
            y_mean,
            xx,
            xy,
            yy,
            self.n_samples + other.n_samples,
            self.fit_intercept,
            factor,
            exact,
            shifts,
        )

    @property
    def pass_shifts(self):
        """``(c, c_y)`` for the next chunk's pass (None: choose its own)."""
        return None if self.shifts is None else self.shifts[:2]

    def _replace_n(self, n_samples):
        return replace(self, n_samples=n_samples)

    def with_factor(self, X, Y, sample_weight):
        """These statistics with the triangular factor of the same rows.

        The factor (see ``factor.qr_factor``) merges exactly like the
        moments, and keeps the digits the Gram loses on ill-conditioned
        data: ``partial_fit`` solves from it when the Gram is not good enough.
        """
        factor = qr_factor(X, Y, sample_weight, self.x_mean, self.y_mean)
        return replace(self, factor=factor)

    def intercept(self, coef):
        return self.y_mean - self.x_mean @ coef

    def restricted(self, active):
        """The statistics with the columns outside ``active`` flattened.

        Their centred moments are set to 0 (they are rounding noise of
        constant columns), so no gradient or curvature comes from them.
        """
        if active.all():
            return self
        keep = active.astype(np.float64)
        return replace(
            self, xx=self.xx * np.outer(keep, keep), xy=self.xy * keep[:, None]
        )

    def loss_per_output(self, coef, l2_reg_strength):
        """Objective per output from the statistics: O(d² k)."""
        quad = np.sum(coef * (self.xx @ coef), axis=0)
        sse = self.yy - 2.0 * np.sum(coef * self.xy, axis=0) + quad
        # Cancellation can leave a tiny negative number at an exact fit.
        sse = np.maximum(sse, 0.0)
        return sse / self.sw_sum + l2_reg_strength * np.sum(coef**2, axis=0)

    def loss_gradient(self, coef, l2_reg_strength):
        """Objective (summed over outputs) and gradient: O(d² k)."""
        xx_coef = self.xx @ coef
        sse = self.yy.sum() - 2.0 * np.sum(coef * self.xy) + np.sum(coef * xx_coef)
        loss = max(sse, 0.0) / self.sw_sum + l2_reg_strength * np.sum(coef**2)
        grad = (2.0 / self.sw_sum) * (xx_coef - self.xy) + 2.0 * l2_reg_strength * coef
        return float(loss), grad

    def hessian(self, l2_reg_strength):
        """H = 2·(XcᵀSXc/Σs) + 2·alpha·I."""
        hess = (2.0 / self.sw_sum) * self.xx
        hess[np.diag_indices_from(hess)] += 2.0 * l2_reg_strength
        return hess

    def hessp(self, vec, l2_reg_strength):
        return (2.0 / self.sw_sum) * (self.xx @ vec) + 2.0 * l2_reg_strength * vec

    def sse(self, coef, intercept):
        """Σ s (y − Xw − b)² per output, for any (not only the best) ``b``.

        Raw statistics (``fit_intercept=False``) serve ``b = 0`` only: they
        do not keep the sums Σsx and Σsy the cross term of another ``b`` needs.
        """
        if not self.fit_intercept and np.any(intercept != 0):
            raise ValueError(
                "sse with a non-zero intercept needs statistics built with "
                "fit_intercept=True"
            )
        quad = np.sum(coef * (self.xx @ coef), axis=0)
        centred = self.yy - 2.0 * np.sum(coef * self.xy, axis=0) + quad
        offset = self.y_mean - self.x_mean @ coef - intercept
        return np.maximum(centred, 0.0) + self.sw_sum * offset**2


def _same_shifts(first, second):
    if first is None or second is None:
        return False
    return np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])


def stream_moments(X, Y, sample_weight, fit_intercept, shifts=None):
    """:func:`_stream_moments` without floating-point warnings.

    Non-finite input gives non-finite statistics, which callers test; numpy's
    RuntimeWarnings on the way would only bury the error they then raise.
    """
    with np.errstate(all="ignore"):
        return _stream_moments(X, Y, sample_weight, fit_intercept, shifts)


def _stream_moments(X, Y, sample_weight, fit_intercept, shifts=None):
    """One pass of symmetric rank-k updates on augmented, shifted row blocks.

    Each dense block becomes ``√s·[x − c, y − ȳ, 1]`` in a reused float64
    buffer (``c`` the mean of the first block, a pilot estimate of x̄; the √s
    only when weights are not all one), and ``bufᵀ·buf`` (BLAS ``syrk``: half
    the flops of a general product, and one call per block) accumulates
    ``Σ s (x − c)(x − c)ᵀ``, ``Σ s (x − c)(y − ȳ)``, ``Σ s (x − c)`` and
    ``Σ s (y − ȳ)²`` at once. The exact centring ``G − m·mᵀ/Σs`` then removes
    only a small remainder, so no digits are lost to the offset of un-centred
    data. Sparse blocks are not shifted (that would densify them): their raw
    moments are centred algebraically.

    ``shifts`` ``(c, c_y)`` imposes the shifts of X and y (those of an earlier
    chunk, for ``partial_fit``): the statistics then keep the means as exact
    offsets from them (``x_delta``, ``y_delta``), and the merge subtracts
    offsets of order one instead of means of order 1e9.

    X on a device (``_kernel.xp_ops``) takes the same steps: a pilot of its
    first rows on the host, the moments in X's dtype per 4096 rows.
    """
    n_samples, n_features = X.shape
    n_outputs = Y.shape[1]
    sw = as_float64(sample_weight)
    sw_sum = float(total(sw))
    if sw_sum == 0:
        empty = SufficientStats.empty(n_features, n_outputs, fit_intercept)
        return empty._replace_n(n_samples)
    y_mean = np.zeros(n_outputs)
    if fit_intercept and shifts is not None:
        y_mean = np.asarray(shifts[1], dtype=np.float64)
    elif fit_intercept:
        y_mean = weighted_sum(sw, Y) / sw_sum
    unit = all_ones(sw)
    if sp.issparse(X):
        augmented = sparse_moments(X, Y, sw, y_mean, unit)
        shift = np.zeros(n_features)
    elif fit_intercept and shifts is not None:
        shift = np.asarray(shifts[0], dtype=np.float64)
        augmented = dense_moments(X, Y, sw, shift, y_mean, unit)
    else:
        shift, spread = np.zeros(n_features), np.zeros(n_features)
        if fit_intercept:
            shift, spread = pilot_mean(X, sw)
        if unit and not widens(X) and np.all(np.abs(shift) <= spread):
            # Data about centred already: raw moments lose at most a bit to
            # the final centring, and X's own blocks go straight to syrk
            # (no copy into a buffer). Not for float32 numpy rows, which
            # gain digits from the float64 buffer.
            shift = np.zeros(n_features)
            augmented = raw_moments(X, Y, y_mean)
        else:
            augmented = dense_moments(X, Y, sw, shift, y_mean, unit)
    width = n_features + n_outputs
    gram = augmented[:n_features, :n_features]
    xy = augmented[:n_features, n_features:width]
    moment = augmented[:n_features, width]  # Σ s (x − c)
    yy = np.diag(augmented)[n_features:width].copy()
    x_mean = np.zeros(n_features)
    x_delta, y_delta = np.zeros(n_features), np.zeros(n_outputs)
    if fit_intercept:
        x_delta = moment / sw_sum
        x_mean = shift + x_delta
        y_sum = augmented[n_features:width, width]  # Σ s (y − c_y)
        y_delta = y_sum / sw_sum
        y_centre, y_mean = y_mean, y_mean + y_delta
        gram = gram - np.outer(moment, moment) / sw_sum
        xy = xy - np.outer(moment, y_sum) / sw_sum
        yy -= y_sum**2 / sw_sum
    else:
        y_centre = y_mean
    return SufficientStats(
        sw_sum,
        x_mean,
        y_mean,
        np.ascontiguousarray(gram),
        np.ascontiguousarray(xy),
        yy,
        n_samples,
        fit_intercept,
        shifts=(shift, y_centre, x_delta, y_delta),
    )
