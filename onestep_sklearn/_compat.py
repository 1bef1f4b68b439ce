"""Every private scikit-learn import of the package, in one place.

These names are not part of scikit-learn's public API; if one moves between
versions, this module is the only one to change. The package supports
scikit-learn >= 1.6.
"""

from sklearn.base import _fit_context
from sklearn.utils._indexing import _safe_indexing
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import (
    _check_feature_names,
    _check_n_features,
    _check_sample_weight,
    validate_data,
)

try:  # scikit-learn >= 1.9: the experimental callback API
    from sklearn.callback import CallbackSupportMixin
except ImportError:  # pragma: no cover - depends on the installed version

    class CallbackSupportMixin:
        """No callback API in this scikit-learn: nothing to support."""


__all__ = [
    "CallbackSupportMixin",
    "Interval",
    "StrOptions",
    "_check_feature_names",
    "_check_n_features",
    "_check_sample_weight",
    "_safe_indexing",
    "check_matplotlib_support",
    "_fit_context",
    "validate_data",
    "validate_params",
]
