"""The values of the inputs, checked where they live.

The questions that read the data first (``_data.questions``) check the
values block by block, on any source (:class:`InputCheck`): scikit-learn's
own messages for NaN or infinity, negative or all-zero weights, in the order
and words of its in-memory validation, and (for sources that do not rescale)
magnitudes past what float64 moments hold.
"""

from dataclasses import dataclass

import numpy as np
from sklearn.utils import check_array

from .._compat import _check_sample_weight
from .._kernel import xp_ops
from .._kernel.units import MomentsOverflow

# Past these magnitudes (below TINY, above 1/TINY) the in-memory estimators
# fit in rescaled units (``_kernel.units``); on sources that do not rescale
# such data raise an error that says to rescale, instead of under- or
# overflowing.
TINY = 2.0**-400
# The order in which the in-memory validation reports non-finite inputs.
_INPUTS = ("y", "sample_weight", "X")


def nonfinite_message(name, values):
    """scikit-learn's own message for NaN or infinity in ``values`` (or None).

    Its check runs on one offending value in the dtype of ``values``, so the
    words are those of the installed scikit-learn, as in memory. ``values``
    may live on a device (``_kernel.xp_ops``): it is asked two booleans.
    """
    if not hasattr(values, "dtype"):
        values = np.asarray(values)
    kind = xp_ops.nonfinite(values)
    if kind is None:
        return None
    probe = np.full(1, kind, dtype=xp_ops.numpy_dtype(values))
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


def extremes(X, columns=None):
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
        min_weight = xp_ops.min_value(sample_weight)
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
            raise_overflow("X")
        if self.tiny:
            # Sources that rescale fit such data in other units; here they
            # would silently give zero coefficients.
            raise ValueError(
                "X has a column of extreme magnitude (values below 1e-120) whose "
                "squares underflow float64: rescale X (for example with "
                f"StandardScaler) before fitting{NOT_RESCALED}"
            )


# Sources that do not rescale (Dask) say so: in memory the same data fit.
NOT_RESCALED = "; only in-memory numpy/scipy inputs are rescaled automatically."


def raise_overflow(name, rescaled=False):
    """Raise for finite ``name`` whose moments overflow float64 (``rescaled``:
    the source already fits extreme magnitudes in other units)."""
    advice = "." if rescaled else NOT_RESCALED
    raise MomentsOverflow(
        f"{name} is finite but its moments overflow float64: rescale {name} (for "
        f"example with StandardScaler) before fitting{advice}"
    )
