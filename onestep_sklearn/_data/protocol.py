"""The data seam: the training data as the kernel needs it.

A data source answers the kernel's questions about ``(X, Y, s)`` for the
objective of ``_kernel.objective``; solvers ask them and never see arrays of
``n_samples`` rows. Two implementations: :class:`~.memory.ArraySource`
(numpy, CSR/CSC, memory maps) and :class:`~.dask.DaskSource`, where every
method is one reduction of the SAME block kernel over the row blocks.

Values are validated by the first method that reads them (``means`` or
``statistics``): non-finite or negative inputs raise scikit-learn's usual
messages there; later methods assume validated data.
"""

from typing import Protocol

import numpy as np

from .._kernel.stats import SufficientStats
from .._kernel.units import Units


class DataSource(Protocol):
    """Weighted training data ``(X, Y, s)``: shapes (n, d), (n, k), (n,)."""

    n_samples: int
    n_features: int
    n_outputs: int
    dtype: np.dtype
    #: Whether X is a sparse matrix.
    sparse: bool
    #: Whether row subsets (mini-batches, validation splits) are supported.
    row_access: bool

    def means(self, fit_intercept: bool) -> tuple[float, np.ndarray, np.ndarray]:
        """``(Σs, x̄, ȳ)``; zero means without an intercept."""

    def statistics(
        self, fit_intercept: bool, *, with_factor: bool = False, shifts=None
    ) -> SufficientStats:
        """The sufficient statistics of all rows (and their QR factor), about
        the given ``shifts`` ``(c, c_y)`` when set (``partial_fit``)."""

    def group_statistics(self, labels, n_groups: int) -> list[SufficientStats]:
        """Centred statistics of each row group (``labels[i]`` in
        ``range(n_groups)``, or -1: in none), in one pass over X."""

    def data_pass(
        self, coef, intercept, *, with_y: bool = True, gradient: bool = True
    ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """``(Σ s r², XᵀS r, Σ s r)`` with ``r = X·coef + intercept − y``
        (``y`` taken as 0 when ``with_y`` is False: a Hessian product)."""

    def batch_products(self, coef, intercept) -> tuple:
        """:meth:`data_pass` in one block, for a mini-batch's few rows
        (sources with ``row_access`` only)."""

    def sq_norms(self, vec, offset) -> np.ndarray:
        """``Σ s (xᵀv − c)²`` per column of ``vec``: no ``Xᵀ`` product."""

    def moments_at_zero(self, fit_intercept: bool) -> tuple:
        """``(Σs, ȳ, moments, Σs(y − ȳ), Σs(y − ȳ)²)``: the sums of
        ``_kernel.objective.moments_at_zero`` over all rows (validated)."""

    def centred_gradient(self, x_mean, y_mean, coef) -> np.ndarray:
        """``XcᵀS(Xc·w − (y − ȳ))`` in centred arithmetic (refinement)."""

    def exact_gradient(self, coef, intercept, low=None) -> tuple:
        """``(XᵀS(y − Xw − b), Σ s(y − Xw − b))`` in double-double, rounded
        once (``_kernel.refine``): the refinement's accurate gradient."""

    def exact_moments(self) -> tuple:
        """The raw moments of all rows in double-double (``_kernel.refine``)."""

    def qr_factor(self, x_mean, y_mean) -> np.ndarray:
        """R of ``[Xc·√s | yc·√s]`` (``_kernel.factor``)."""

    def max_row_sq_norm(self, x_mean) -> float:
        """``maxᵢ ‖xᵢ − x̄‖²`` over the rows of positive weight."""

    def extreme_units(self, *, scale_x: bool = True) -> Units:
        """Units bringing extreme magnitudes near 1 (``_kernel.units``)."""

    def column_magnitudes(self) -> np.ndarray | None:
        """Largest |x| per column, or None when the backend does not rescale."""

    def rescaled(self, units: Units) -> "DataSource":
        """The same data in other units (a copy only when they change)."""

    def column_scaled(self, columns) -> "DataSource":
        """The data with column j multiplied by ``columns[j]``."""

    def row_gram(self, x_mean) -> np.ndarray:
        """``√S·Xc·Xcᵀ·√S`` (n × n), for wide data."""

    def matvec(self, coef) -> np.ndarray:
        """``X @ coef`` as float64 (n, k)."""

    def rmatvec(self, columns) -> np.ndarray:
        """``Xᵀ @ columns`` as float64 (d, k)."""

    def weights(self) -> np.ndarray:
        """The sample weights as a float64 array (wide data only)."""

    def targets(self) -> np.ndarray:
        """``Y`` as a float64 array (wide data only)."""


class RowArrays:
    """Shape and dtype of a source holding ``X``, ``Y`` and ``sample_weight``
    as arrays with rows (shared by the implementations)."""

    @property
    def n_samples(self):
        return self.X.shape[0]

    @property
    def n_features(self):
        return self.X.shape[1]

    @property
    def n_outputs(self):
        return self.Y.shape[1]

    @property
    def dtype(self):
        return self.X.dtype
