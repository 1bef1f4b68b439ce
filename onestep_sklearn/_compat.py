"""Every private scikit-learn import of the package, in one place.

These names are not part of scikit-learn's public API; if one moves between
versions, this module is the only one to change. The package supports
scikit-learn >= 1.6.

It also holds the type aliases of the public signatures, and re-exports the
few typing names the modules share (for type checkers only: none of them
exists at run time).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from sklearn.base import _fit_context
from sklearn.utils._array_api import (
    _convert_to_numpy,
    _is_numpy_namespace,
    _max_precision_float_dtype,
    get_namespace_and_device,
)
from sklearn.utils._indexing import _safe_indexing
from sklearn.utils._optional_dependencies import check_matplotlib_support
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
)
from sklearn.utils._param_validation import (
    validate_params as _validate_params,
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

    class CallbackSupportMixin:  # type: ignore[no-redef]
        """No callback API in this scikit-learn: nothing to support."""


try:  # scikit-learn >= 1.8
    from sklearn.utils._array_api import move_to
except ImportError:  # pragma: no cover - depends on the installed version

    def move_to(*arrays: Any, xp: Any, device: Any) -> Any:
        """scikit-learn's ``move_to`` (1.8): each array (None passes) in the
        namespace ``xp`` on ``device``, through numpy; float64 becomes
        float32 where the device has no float64."""
        narrow = _max_precision_float_dtype(xp, device) == xp.float32
        moved = []
        for array in arrays:
            if array is not None:
                array_xp, _, array_device = get_namespace_and_device(array)
                if array_xp is not xp or array_device != device:
                    host = _convert_to_numpy(array, array_xp)
                    if narrow and host.dtype == "float64":
                        host = host.astype("float32")
                    array = xp.asarray(host, device=device)
            moved.append(array)
        return moved[0] if len(moved) == 1 else tuple(moved)


try:  # scikit-learn >= 1.9
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # pragma: no cover - depends on the installed version

    def check_same_namespace(X: Any, estimator: Any, *, attribute: str, method: str):
        """scikit-learn's ``check_same_namespace`` (1.9), in short: ``X`` in
        the namespace and on the device of the fitted ``attribute``."""
        from sklearn import get_config

        if not get_config().get("array_api_dispatch", False):
            return
        fitted_xp, _, fitted_device = get_namespace_and_device(
            getattr(estimator, attribute)
        )
        X_xp, _, X_device = get_namespace_and_device(X)
        if _is_numpy_namespace(fitted_xp) and _is_numpy_namespace(X_xp):
            return
        if X_xp is not fitted_xp or X_device != fitted_device:
            raise ValueError(
                f"Inputs passed to {type(estimator).__name__}.{method}() must use "
                "the same namespace and the same device as those passed to fit(): "
                f"fit saw {fitted_xp.__name__} on {fitted_device}, {method} got "
                f"{X_xp.__name__} on {X_device}."
            )


Function = TypeVar("Function", bound=Callable[..., Any])


def validate_params(
    parameter_constraints: dict[str, list[Any]],
    *,
    prefer_skip_nested_validation: bool,
) -> Callable[[Function], Function]:
    """scikit-learn's ``validate_params``, typed: the function it decorates
    keeps its signature for type checkers (scikit-learn ships no types)."""
    return _validate_params(
        parameter_constraints,
        prefer_skip_nested_validation=prefer_skip_nested_validation,
    )


if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any, Protocol, TypeAlias

    import numpy as np

    # Re-exported ("as"): the typing names the modules share.
    from numpy.typing import ArrayLike as ArrayLike
    from numpy.typing import NDArray as NDArray
    from scipy.sparse import sparray, spmatrix
    from sklearn.utils import Tags as Tags
    from typing_extensions import Self as Self

    # X as the estimators and displays take it: array-likes (lists, numpy,
    # pandas, Dask), or a scipy sparse matrix or array.
    MatrixLike: TypeAlias = ArrayLike | spmatrix | sparray

    class Splitter(Protocol):
        """A cross-validation splitter (``KFold``, ``ShuffleSplit``, ...)."""

        def split(
            self, X: Any, y: Any = None, groups: Any = None
        ) -> Iterator[tuple[Any, Any]]: ...

        def get_n_splits(
            self, X: Any = None, y: Any = None, groups: Any = None
        ) -> int: ...

    # ``random_state`` as scikit-learn's ``check_random_state`` takes it.
    RandomStateLike: TypeAlias = int | np.random.RandomState | None
    # ``cv`` as scikit-learn's searches take it.
    CVLike: TypeAlias = int | Splitter | Iterable[tuple[ArrayLike, ArrayLike]] | None
    # ``scoring``: a scorer name or a callable ``scorer(estimator, X, y)``.
    ScoringLike: TypeAlias = str | Callable[..., float] | None


__all__ = [
    "CallbackSupportMixin",
    "_convert_to_numpy",
    "_is_numpy_namespace",
    "_max_precision_float_dtype",
    "check_same_namespace",
    "get_namespace_and_device",
    "move_to",
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
