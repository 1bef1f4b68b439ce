"""Warnings that point at the user's line.

A warning raised inside ``fit`` is about the user's call: its location is the
first frame outside this package and outside the libraries that call
estimators on the user's behalf (scikit-learn's searches and pipelines,
joblib), so that ``GridSearchCV(...).fit(X, y)`` is the line shown, not a
line of the package (nor of a decorator around ``fit``). Standard library
only, so that every layer (solvers included) warns the same way.
"""

import os
import sys
import warnings

_CALLERS = ("onestep_sklearn", "sklearn", "joblib")


def _internal_prefixes():
    # Only the libraries already imported can be on the stack.
    modules = (sys.modules.get(name) for name in _CALLERS)
    return tuple(
        os.path.dirname(module.__file__) + os.sep
        for module in modules
        if module is not None and getattr(module, "__file__", None)
    )


def user_stacklevel():
    """The ``stacklevel`` of the caller's caller's first frame outside the
    package and the libraries above (counted from the frame that calls
    ``warnings.warn``, as ``warnings.warn`` counts it)."""
    internal = _internal_prefixes()
    frame, level = sys._getframe(2), 2
    while frame is not None and frame.f_code.co_filename.startswith(internal):
        frame, level = frame.f_back, level + 1
    return level


def warn_user(message, category=UserWarning):
    """``warnings.warn(message, category)`` located at the user's line."""
    warnings.warn(message, category, stacklevel=user_stacklevel())
