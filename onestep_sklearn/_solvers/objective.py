"""The objective of ``_kernel.objective``, evaluated for the solvers.

One class, two ways to evaluate: data passes over any data source of
``_data`` (in memory or Dask: the source decides where the pass runs), or
the sufficient statistics (O(d²) per call, independent of ``n_samples``).
Solvers call the same methods either way; the iterates agree up to rounding.
"""

from dataclasses import dataclass

import numpy as np

from .._data import questions
from .._kernel.objective import drop_rounding
from .._kernel.stats import SufficientStats


@dataclass(frozen=True)
class Objective:
    """``f(w) = (1/Σs) Σ s (y − Xw − b(w))² + alpha·‖w‖²`` with ``b(w) = ȳ − x̄ᵀw``.

    ``x_mean``/``y_mean`` fix the profiled intercept (zeros without one; a
    mini-batch uses the full data's). Exactly one of ``source`` (evaluate by
    data passes) and ``stats`` (evaluate from the statistics) is set.
    ``l2_reg_strength`` is ``alpha``.
    """

    x_mean: np.ndarray
    y_mean: np.ndarray
    sw_sum: float
    l2_reg_strength: float
    source: object = None
    stats: SufficientStats | None = None

    @classmethod
    def on_data(cls, source, sw_sum, x_mean, y_mean, l2_reg_strength):
        return cls(x_mean, y_mean, sw_sum, l2_reg_strength, source=source)

    @classmethod
    def on_stats(cls, stats, l2_reg_strength):
        return cls(
            stats.x_mean, stats.y_mean, stats.sw_sum, l2_reg_strength, stats=stats
        )

    @property
    def n_features(self):
        return self.x_mean.shape[0]

    def intercept(self, coef):
        return self.y_mean - self.x_mean @ coef

    def _penalty(self, coef, axis=None):
        return self.l2_reg_strength * np.sum(coef**2, axis=axis)

    def loss_per_output(self, coef):
        if self.stats is not None:
            return self.stats.loss_per_output(coef, self.l2_reg_strength)
        sq, _, _ = questions.data_pass(
            self.source, coef, self.intercept(coef), gradient=False
        )
        return sq / self.sw_sum + self._penalty(coef, axis=0)

    def loss(self, coef):
        return float(self.loss_per_output(coef).sum())

    def _centred(self, sq, xtr, rsum):
        """``XcᵀSr = XᵀSr − x̄·Σsr``: on the full data ``Σsr`` is zero up to
        rounding (the term removes that rounding), on a mini-batch it is not;
        entries that are rounding noise of constant columns are dropped."""
        xtr = xtr - np.outer(self.x_mean, rsum)
        source = self.source
        return drop_rounding(
            xtr, self.x_mean, sq, self.sw_sum, source.n_samples, source.dtype
        )

    def loss_gradient(self, coef):
        """Objective (summed over outputs) and its gradient at ``coef``."""
        if self.stats is not None:
            return self.stats.loss_gradient(coef, self.l2_reg_strength)
        sq, xtr, rsum = questions.data_pass(self.source, coef, self.intercept(coef))
        xtr = self._centred(sq, xtr, rsum)
        loss = float(sq.sum() / self.sw_sum + self._penalty(coef))
        return loss, (2.0 / self.sw_sum) * xtr + (2.0 * self.l2_reg_strength) * coef

    def batch_gradient(self, coef):
        """The gradient alone, on a mini-batch's source (one block)."""
        sq, xtr, rsum = questions.batch_products(
            self.source, coef, self.intercept(coef)
        )
        xtr = self._centred(sq, xtr, rsum)
        return (2.0 / self.sw_sum) * xtr + (2.0 * self.l2_reg_strength) * coef

    def hessp(self, vec):
        """Hessian-vector product ``H v`` (a data pass with ``y = 0``)."""
        if self.stats is not None:
            return self.stats.hessp(vec, self.l2_reg_strength)
        sq, xtr, rsum = questions.data_pass(
            self.source, vec, -(self.x_mean @ vec), with_y=False
        )
        xtr = self._centred(sq, xtr, rsum)
        return (2.0 / self.sw_sum) * xtr + (2.0 * self.l2_reg_strength) * vec

    def curvature(self, vec):
        """``vᵀHv`` (summed over outputs): one pass without an ``Xᵀ`` product."""
        if self.stats is not None:
            return float(np.sum(vec * self.hessp(vec)))
        sq = questions.sq_norms(self.source, vec, self.x_mean @ vec)
        return 2.0 * float(sq.sum()) / self.sw_sum + 2.0 * float(self._penalty(vec))

    def sparse_hessian(self):
        """The Hessian as two sparse products with X itself (sources whose
        ``hessian_operator`` has one), else None: Lanczos then runs on
        :meth:`hessp`."""
        source = self.source
        if source is None or not getattr(source, "krylov", False):
            return None
        return questions.hessian_operator(
            source, self.x_mean, self.sw_sum, self.l2_reg_strength
        )

    def hessian(self):
        """``H`` formed (statistics only)."""
        return self.stats.hessian(self.l2_reg_strength)
