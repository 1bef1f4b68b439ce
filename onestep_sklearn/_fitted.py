"""Solver results turned into fitted attributes (the estimators' last step).

Results are in the units of the data source the solver ran on; here they go
back to the units of the data (``_kernel.units``) and into scikit-learn's
coefficient layout.
"""

import numpy as np

from ._solvers.descent import RunningMeans, active_recorder
from ._solvers.gd import GDState
from ._solvers.messages import RunFacts, stop_message
from ._solvers.minibatch import minibatch_message
from ._stream import StreamState

# stop_reason_ for the internal stop events of ``_solvers.gd.descend``.
STOP_REASONS = {
    None: "max_iter",
    "converged": "converged",
    "early_stopping": "early_stopping",
    "plateau": "plateau",
    "unstable": "unstable",
    "diverged": "diverged",
    "rate": "rate_floor",
    "callback": "callback",
}


def in_range(coef, intercept, dtype):
    """``coef`` (in the data's units), or the error that says it cannot be:
    coefficients past the range of the output dtype (X varies too little for
    the size of y) are not a result."""
    limit = np.finfo(dtype).max
    with np.errstate(invalid="ignore"):
        largest = max(np.max(np.abs(coef), initial=0.0), np.max(np.abs(intercept)))
    if not largest <= limit:
        raise ValueError(
            f"The fitted coefficients exceed the range of {np.dtype(dtype).name} "
            f"(|coef| > {limit:.3g}): X varies too little for the size of y. "
            "Rescale X or y (for example with StandardScaler)."
        )
    return coef


def public_coef(coef, intercept, *, fit_intercept, y_ndim, dtype):
    """``coef_`` and ``intercept_`` in scikit-learn's layout and dtype from a
    (d, k) ``coef`` and a (k,) ``intercept``."""
    if not fit_intercept:
        intercept = np.zeros_like(intercept)
    if y_ndim == 1:
        return coef[:, 0].astype(dtype), dtype.type(intercept[0])
    return np.ascontiguousarray(coef.T, dtype=dtype), intercept.astype(dtype)


def descent_attributes(
    result,
    plan,
    units,
    coef0=None,
    *,
    fit_intercept,
    y_ndim,
    dtype,
    early_stopping=False,
):
    """The fitted attributes of ``IterativeGDRegressor.fit`` (and the stream
    state ``partial_fit`` continues from) for a ``DescentResult``.

    ``coef0`` and ``early_stopping`` are not needed (constant columns end at
    0, the validation attributes come with ``plan.scorer``); the CV refit
    still passes them."""
    coef = result.coef
    objective = plan.objective
    if plan.frozen is not None:
        # Constant columns never move (their minimum-norm coefficient is 0);
        # the eigenbasis would add rounding.
        coef[plan.frozen] = 0.0
    with np.errstate(over="ignore", under="ignore"):
        curve = np.asarray(result.loss_curve) * np.float64(units.y_scale) ** -2
    curve = curve.tolist()
    internal = coef.copy()
    intercept = units.intercept_to_data(objective.intercept(coef))
    coef = in_range(units.coef_to_data(coef), intercept, dtype)
    coef_, intercept_ = public_coef(
        coef, intercept, fit_intercept=fit_intercept, y_ndim=y_ndim, dtype=dtype
    )
    stop = STOP_REASONS[result.stop]
    recorder = active_recorder()
    if recorder is not None:
        recorder.path = [
            _public_path_point(point, plan, units, y_ndim, dtype)
            for point in recorder.coefs
        ]
    attributes = {
        "coef_": coef_,
        "intercept_": intercept_,
        "n_iter_": result.n_iter,
        "t_": result.t,
        "loss_curve_": curve,
        "lipschitz_": units.curvature_to_data(plan.lipschitz),
        "learning_rate_": units.rate_to_data(plan.learning_rate),
        "momentum_": plan.moves.momentum,
        "stop_reason_": stop,
        # partial_fit continues from here (in the units of this fit), with
        # these running means.
        "_stream": StreamState(
            units,
            fit_intercept,
            gd=GDState(coef=internal, velocity=np.zeros_like(internal), t=result.t),
            means=RunningMeans(objective.sw_sum, objective.x_mean, objective.y_mean),
            loss_curve=tuple(curve),
            n_iter=result.n_iter,
        ),
    }
    if plan.scorer is not None:
        attributes["validation_scores_"] = result.validation_scores
        attributes["best_validation_score_"] = result.best_validation_score
    return attributes


def _public_path_point(coef, plan, units, y_ndim, dtype):
    """One recorded iterate as ``coef_`` would hold it."""
    coef = coef.copy()
    if plan.frozen is not None:
        coef[plan.frozen] = 0.0
    coef = units.coef_to_data(coef)
    return coef[:, 0].astype(dtype) if y_ndim == 1 else coef.T.astype(dtype)


def chunk_attributes(result, stream, fit_intercept, y_ndim, dtype):
    """The fitted attributes of ``IterativeGDRegressor.partial_fit`` (and the
    next stream state) for a ``ChunkResult`` in the units of the stream."""
    units = stream.units
    intercept = units.intercept_to_data(result.intercept)
    coef = in_range(units.coef_to_data(result.state.point), intercept, dtype)
    coef_, intercept_ = public_coef(
        coef, intercept, fit_intercept=fit_intercept, y_ndim=y_ndim, dtype=dtype
    )
    curve = stream.loss_curve + (units.loss_to_data(result.loss),)
    return {
        "coef_": coef_,
        "intercept_": intercept_,
        "n_iter_": stream.n_iter + 1,
        "t_": result.state.t,
        "loss_curve_": list(curve),
        "lipschitz_": units.curvature_to_data(result.lipschitz),
        "learning_rate_": units.rate_to_data(result.learning_rate),
        "stop_reason_": "partial_fit",
        "_stream": StreamState(
            stream.units,
            stream.fit_intercept,
            gd=result.state,
            means=result.means,
            loss_curve=curve,
            n_iter=stream.n_iter + 1,
        ),
    }


# The estimator parameters the warning text quotes.
MESSAGE_SETTINGS = (
    "momentum",
    "nesterov",
    "max_iter",
    "tol",
    "n_iter_no_change",
    "batch_size",
    "schedule",
)


def descent_message(result, plan, units, params):
    """The ``ConvergenceWarning`` text of a run (None if it converged);
    ``params`` are the estimator's parameters (``get_params``)."""
    settings = {name: params[name] for name in MESSAGE_SETTINGS}
    settings["momentum"] = plan.moves.momentum  # "auto" decided
    facts = RunFacts(
        learning_rate=plan.learning_rate,
        lipschitz=plan.curvature.lipschitz,
        smallest=plan.curvature.smallest,
        units=units,
        column_spread=plan.curvature.column_spread,
        unresolved=getattr(plan.curvature, "unresolved", 0.0),
        **settings,
    )
    if facts.batch_size is not None:
        return minibatch_message(
            result.stop,
            result.rule,
            facts,
            auto_rate=plan.auto_rate,
            safe_rate=plan.safe_rate,
            rate_scale=result.rate_scale,
        )
    return stop_message(result.stop, result.rule, facts, result.rate_scale)
