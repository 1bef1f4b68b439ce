"""Units for data of extreme magnitude: exact powers of two.

Squares of values past about 1e±120 under- or overflow float64 (the Gram,
the curvature L). Such data are fitted as ``(cₓ·X, c_y·y)`` with exact powers
of two ``cₓ``, ``c_y`` (no rounding), which is the same problem in other
units: ``w = (cₓ/c_y)·w'``, ``b = b'/c_y``, ``alpha' = alpha·cₓ²``,
``η' = η/cₓ²``, ``f = f'/c_y²``. Pure functions of arrays.
"""

from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from . import xp_ops


class MomentsOverflow(ValueError):
    """Finite X whose moments overflow float64 (values of extreme magnitude
    the magnitude pilot did not see): a solver may rescale and retry."""


# Values whose squares stay well inside float64 (about 1e±120).
TAME_LOW, TAME_HIGH = 2.0**-400, 2.0**400


@dataclass(frozen=True)
class Units:
    """The scales of one fit: data are fitted as ``(x_scale·X·D, y_scale·y)``.

    ``columns`` (optional, ``D``'s diagonal) scales column by column: only for
    the unpenalised Newton step, which is invariant under it.
    """

    x_scale: float = 1.0
    y_scale: float = 1.0
    columns: np.ndarray | None = None

    @property
    def identity(self):
        return self.x_scale == 1.0 and self.y_scale == 1.0

    @property
    def changes_nothing(self):
        return self.identity and self.columns is None

    def applied(self, X, Y, as_row=None):
        """``(x_scale·X·D, y_scale·Y)``: the data in these units, for every
        source. A sparse X takes ``D`` as a diagonal; ``as_row`` makes the
        (1, d) row of ``D`` an array of X's kind (a device's), else it
        multiplies as a host row (numpy, Dask)."""
        if self.x_scale != 1.0:
            X = X * self.x_scale
        if self.columns is not None:
            if sp.issparse(X):
                X = X @ sp.diags(self.columns)
            else:
                row = np.reshape(self.columns, (1, -1))
                X = X * (row if as_row is None else as_row(row))
        if self.y_scale != 1.0:
            Y = Y * self.y_scale
        return X, Y

    def _column_factor(self, coef):
        if self.columns is None:
            return 1.0
        return self.columns.reshape((-1,) + (1,) * (np.ndim(coef) - 1))

    def coef_to_data(self, coef):
        """Coefficients of the rescaled problem in the units of the data."""
        with np.errstate(over="ignore", invalid="ignore"):
            return coef * (self.x_scale / self.y_scale) * self._column_factor(coef)

    def coef_from_data(self, coef):
        return coef * (self.y_scale / self.x_scale) / self._column_factor(coef)

    def intercept_to_data(self, intercept):
        with np.errstate(over="ignore", invalid="ignore"):
            return intercept / self.y_scale

    def alpha(self, alpha):
        """``alpha`` in the rescaled units."""
        return in_units(alpha, self.x_scale, 2)

    def rate_from_data(self, rate):
        """A learning rate given in the data's units, in the rescaled ones."""
        return in_units(rate, self.x_scale, -2)

    def rate_to_data(self, rate):
        return in_units(rate, self.x_scale, 2)

    def curvature_to_data(self, lipschitz):
        return in_units(lipschitz, self.x_scale, -2)

    def loss_to_data(self, loss):
        return in_units(loss, self.y_scale, -2)

    def keeping_finite(self, alpha):
        """These units, or X's unscaled when ``alpha`` would overflow in them.

        A penalty that large next to a tiny X dominates the curvature: the
        problem is well posed in the data's own units (the Gram may
        underflow to 0 beside ``alpha``, without harm).
        """
        if np.isfinite(self.alpha(alpha)):
            return self
        return Units(1.0, self.y_scale)


def powers_of_two(magnitudes):
    """1, or the power of two bringing an extreme magnitude near 1 (each)."""
    magnitudes = np.asarray(magnitudes, dtype=np.float64)
    nonzero = magnitudes[magnitudes != 0]
    if nonzero.size == 0 or (nonzero.min() >= TAME_LOW and nonzero.max() <= TAME_HIGH):
        return np.ones_like(magnitudes)  # the common case, decided at once
    exponents = np.clip(np.frexp(magnitudes)[1], -1000, 1000)
    tame = (magnitudes >= TAME_LOW) & (magnitudes <= TAME_HIGH)
    tame |= ~np.isfinite(magnitudes) | (magnitudes <= 0)
    return np.where(tame, 1.0, np.ldexp(1.0, -exponents))


def tiny_means(means):
    """Columns whose mean is nonzero but below the tame range."""
    means = np.abs(np.asarray(means, dtype=np.float64))
    return (means > 0) & (means < TAME_LOW)


def underflowed(variances, means):
    """Whether a column has zero variance beside a tiny nonzero mean: values
    of extreme magnitude whose squares underflowed (or a constant tiny
    column, which a range pass tells apart)."""
    return bool(np.any((np.asarray(variances) == 0) & tiny_means(means)))


def in_units(value, scale, power):
    """``value·scale^power`` without overflow errors: 0 stays 0, extremes
    saturate to 0 or infinity."""
    if value == 0:
        return 0.0
    with np.errstate(over="ignore", under="ignore"):
        return float(np.float64(value) * np.float64(scale) ** power)


def pilot_magnitude(X, sample_weight):
    """Largest |x| per column over the first 1024 rows of positive weight
    (rows of zero weight do not enter the fit, so they do not set its units)."""
    positive = xp_ops.to_host(xp_ops.take_rows(sample_weight, slice(0, 1024))) > 0
    if not positive.any():
        return np.zeros(X.shape[1])
    rows = slice(0, positive.size) if positive.all() else np.flatnonzero(positive)
    pilot = abs(xp_ops.take_rows(X, rows))  # the first rows only: a small copy
    if sp.issparse(pilot):
        return np.asarray(pilot.max(axis=0).todense()).ravel()
    return xp_ops.column_max(pilot)


def target_magnitude(Y, sample_weight):
    """Largest |y| over the rows of positive weight."""
    if xp_ops.min_value(sample_weight) > 0:
        return xp_ops.max_abs(Y)
    return xp_ops.max_abs(xp_ops.positive_rows(Y, sample_weight))


def column_rescaled(stats, factors):
    """``SufficientStats`` for the columns multiplied by ``factors`` (exact
    powers of two, so exact): the statistics of ``X·diag(factors)``.

    ``partial_fit`` re-expresses what it has seen when a later chunk
    needs other column units.
    """
    factors = np.asarray(factors, dtype=np.float64)
    if np.all(factors == 1.0):
        return stats
    shifts = stats.shifts
    if shifts is not None:
        c, c_y, x_delta, y_delta = shifts
        shifts = (c * factors, c_y, x_delta * factors, y_delta)
    factor = stats.factor
    if factor is not None:
        d = factors.size
        factor = factor.copy()
        factor[:, :d] *= factors
    exact = stats.exact
    if exact is not None:
        rows = np.append(factors, 1.0)
        cols = np.concatenate([factors, np.ones(exact[0].shape[1] - factors.size)])
        scale = np.outer(rows, cols)
        exact = (exact[0] * scale, exact[1] * scale)
    return replace(
        stats,
        x_mean=stats.x_mean * factors,
        xx=stats.xx * np.outer(factors, factors),
        xy=stats.xy * factors[:, None],
        factor=factor,
        exact=exact,
        shifts=shifts,
    )
