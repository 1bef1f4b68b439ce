"""scikit-learn's callback API (1.9, experimental) for IterativeGDRegressor.

With a scikit-learn that has ``sklearn.callback``, ``set_callbacks`` works
and callbacks such as ``ScoringMonitor`` or ``ProgressBar`` see every
iteration; with an older one the mixin is empty and nothing else changes.
"""

from ._compat import CallbackSupportMixin

__all__ = ["CallbackSupportMixin", "FitHooks"]


class FitHooks:
    """The callback context of one ``fit``: the root task and its iterations.

    ``public(coef)`` turns an internal iterate into the fitted attributes a
    callback's estimator copy needs (``coef_``, ``intercept_``).
    """

    def __init__(self, estimator, X, y, sample_weight, public):
        self.estimator, self.X, self.y, self.public = estimator, X, y, public
        self.metadata = {"sample_weight": sample_weight}
        self.context = estimator._init_callback_context(max_subtasks=None)
        self.context.call_on_fit_task_begin(
            estimator=estimator, X=X, y=y, metadata=self.metadata
        )
        # Per-iteration tasks only when someone listens (callbacks set here or
        # propagated by a meta-estimator): they cost one iteration per engine
        # call. A meta-estimator's context alone (GridSearchCV passes one
        # down) is no listener.
        self.per_iteration = bool(getattr(estimator, "_skl_callbacks", None))

    @classmethod
    def start(cls, estimator, X, y, sample_weight, public):
        if not hasattr(estimator, "_init_callback_context"):
            return None
        listened = getattr(estimator, "_skl_callbacks", None)
        if not listened and not hasattr(estimator, "_parent_callback_ctx"):
            return None  # no callbacks anywhere: no context to keep
        return cls(estimator, X, y, sample_weight, public)

    def iteration(self, before, after):
        """Begin and end one iteration's task; True if a callback asks to stop."""
        task = self.context.subcontext(task_name="iteration")
        common = {"estimator": self.estimator, "X": self.X, "y": self.y}
        task.call_on_fit_task_begin(
            **common,
            metadata=self.metadata,
            reconstruction_attributes=self.public(before),
        )
        return bool(
            task.call_on_fit_task_end(
                **common,
                metadata=self.metadata,
                reconstruction_attributes=self.public(after),
            )
        )

    def finish(self):
        self.context.call_on_fit_task_end(
            estimator=self.estimator,
            X=self.X,
            y=self.y,
            metadata=self.metadata,
            reconstruction_attributes={},
        )
