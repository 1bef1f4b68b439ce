"""What ``partial_fit`` carries between calls: one object, one owner.

A :class:`StreamState` is created by ``fit`` or by the first ``partial_fit``
and replaced (never mutated) by each later call, under the estimator's lock,
so concurrent ``partial_fit`` calls on one object lose no chunk and
concurrent ``fit`` calls end in the state of one of them.
"""

import threading
import weakref
from dataclasses import dataclass

import numpy as np

from ._kernel.stats import SufficientStats
from ._kernel.units import Units
from ._solvers.descent import RunningMeans
from ._solvers.gd import GDState

_LOCKS: weakref.WeakKeyDictionary[object, threading.RLock] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()


def lock_for(estimator):
    """The re-entrant lock of one estimator object (created on first use;
    kept outside the object so that it pickles and clones as before)."""
    with _LOCKS_GUARD:
        lock = _LOCKS.get(estimator)
        if lock is None:
            lock = _LOCKS[estimator] = threading.RLock()
        return lock


@dataclass(frozen=True)
class StreamState:
    """The carried state of a streamed fit.

    ``units``: the units every chunk is fitted in (``_kernel.units``),
    chosen on the first chunk. ``fit_intercept``: as when the stream began.
    ``stats``: the merged statistics of all rows so far (``OneStepRegressor``;
    None when the rows fitted by ``fit`` left none, see ``resumable``).
    ``gd``, ``means``, ``loss_curve``, ``n_iter``: the iterate, the running
    means and the history of ``IterativeGDRegressor``.
    """

    units: Units
    fit_intercept: bool
    stats: SufficientStats | None = None
    gd: GDState | None = None
    means: RunningMeans | None = None
    loss_curve: tuple = ()
    n_iter: int = 0
    #: Why a later partial_fit cannot continue from these rows (or None).
    not_resumable: str | None = None
    #: The largest |x| per column seen (per-column units of ``partial_fit``).
    magnitudes: np.ndarray | None = None

    @classmethod
    def for_descent(cls, n_features, n_outputs, fit_intercept, units):
        """The state before the first chunk of gradient descent: θ = 0."""
        coef = np.zeros((n_features, n_outputs))
        return cls(
            units,
            fit_intercept,
            gd=GDState(coef=coef, velocity=np.zeros_like(coef)),
            means=RunningMeans.empty(n_features, n_outputs),
        )
