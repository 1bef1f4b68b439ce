"""The CLI's comparison: every estimator cross-validated in one pipeline, one table.

Each row names the estimator call that produced it (scikit-learn's ``repr``,
which shows the parameters that differ from the defaults, so the cell can be
pasted into code) beside a label in plain words. The learning rate of the
full-batch gradient rows is read from the estimators fitted in the folds
(``cross_validate(return_estimator=True)``), not from a refit. A row whose
fits fail shows the reason instead of stopping the run.
"""

import sys
import textwrap
import time
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline

from onestep_sklearn import (
    IterativeGDRegressor,
    IterativeGDRegressorCV,
    OneStepRegressor,
)

N_FOLDS = 5
# Runs shorter than this print nothing but the table.
PROGRESS_AFTER_SECONDS = 2.0
COLUMNS = [
    "CV R² (mean ± std)",
    "fit (ms)",
    "learning rate",
    "2/L",
    "iterations",
]
# The table's width at most (the estimator calls and notes go below it).
MAX_WIDTH = 120
MAX_REASON_CHARS = 200
# The learning-rate cell of a row whose rate and iteration count the
# estimator chooses by its own cross-validation (inside each outer fold).
CHOSEN_BY_CV = "chosen by CV"
# Marks after a row's label, explained under the table.
NOT_CONVERGED = "*"
NEAR_SINGULAR = "†"


def demo_models():
    """Rows: (label, estimator, learning-rate cell or None for a fitted one).

    ``None`` marks the full-batch gradient rows: their cell is the mean
    ``learning_rate_`` of the fold estimators and they also show the stability
    limit 2/L. ``CHOSEN_BY_CV`` marks the row of ``IterativeGDRegressorCV``:
    its cell is the mean rate and the mean iteration count it chose in the
    folds.
    """
    sgd = SGDRegressor(random_state=0)
    return [
        (
            "one gradient step, eta=0.01",
            OneStepRegressor(solver="gradient", learning_rate=0.01),
            None,
        ),
        (
            "one gradient step, exact line search",
            OneStepRegressor(solver="gradient"),
            None,
        ),
        ("one Newton step", OneStepRegressor(), "1 (Newton)"),
        ("gradient descent (1/L, auto momentum)", IterativeGDRegressor(), None),
        ("gradient descent, tuned by CV", IterativeGDRegressorCV(), CHOSEN_BY_CV),
        ("LinearRegression (sklearn)", LinearRegression(), "-"),
        ("SGDRegressor (sklearn)", sgd, f"{sgd.eta0:g} ({sgd.learning_rate})"),
    ]


def demo_cv():
    """The folds every row is scored on."""
    return KFold(n_splits=N_FOLDS, shuffle=True, random_state=0)


class Progress:
    """Progress lines on stderr, once a run has taken a couple of seconds.

    Parameters
    ----------
    start : float, default=None
        ``time.perf_counter()`` when the run began; ``None`` means now.
    """

    def __init__(self, start=None):
        self.start = time.perf_counter() if start is None else start

    def elapsed(self):
        """Seconds since the run began."""
        return time.perf_counter() - self.start

    def report(self, message):
        """Print ``message`` with the elapsed time, if the run is a slow one."""
        elapsed = self.elapsed()
        if elapsed >= PROGRESS_AFTER_SECONDS:
            print(f"{message} ({elapsed:.1f} s elapsed)", file=sys.stderr, flush=True)


def _failure_reason(exc):
    lines = str(exc).strip().splitlines() or [""]
    reason = f"{type(exc).__name__}: {lines[0]}"
    if len(reason) > MAX_REASON_CHARS:
        reason = reason[: MAX_REASON_CHARS - 1] + "…"
    return reason


def _show_warnings(warned):
    """Print each warning the fits raised once, with the models that raised it."""
    for (category, message), calls in warned.items():
        print(
            f"warning: {category.__name__}: {message} (in {', '.join(calls)})",
            file=sys.stderr,
        )


def _scored_cells(pipeline, X, y, rate, max_stable):
    """The cells of one row, from ``cross_validate``; raises what a fit raises.

    ``rate`` is the learning-rate cell, or ``None`` for a full-batch gradient
    row (its rate is read from the fold estimators, and it shows 2/L), or
    ``CHOSEN_BY_CV`` (the rate and iteration count chosen, and 2/L).
    """
    result = cross_validate(
        pipeline,
        X,
        y,
        cv=demo_cv(),
        scoring="r2",
        error_score="raise",
        return_estimator=True,
    )
    score = result["test_score"]
    finals = [fitted[-1] for fitted in result["estimator"]]
    full_batch_gradient = rate is None or rate == CHOSEN_BY_CV
    iterations = _iterations_cell(finals)
    if full_batch_gradient:
        if rate == CHOSEN_BY_CV:
            chosen = np.mean([model.n_iter_ for model in finals])
            iterations = f"chosen: {chosen:.0f} iterations"
        rate = f"{np.mean([model.learning_rate_ for model in finals]):.4g}"
    show_limit = full_batch_gradient and max_stable is not None
    n_undefined = int(np.count_nonzero(~np.isfinite(score)))
    return {
        "CV R² (mean ± std)": f"{_short(score.mean())} ± {_short(score.std())}",
        "fit (ms)": f"{1000 * result['fit_time'].mean():.2f}",
        "learning rate": rate,
        "2/L": f"{max_stable:.4g}" if show_limit else "-",
        "iterations": iterations,
        "note": (
            f"R² not finite in {n_undefined} of {len(score)} test folds"
            if n_undefined
            else ""
        ),
        "failed": False,
    }


def _short(value):
    """A score in at most about 9 characters: 4 decimals while it is small."""
    if not np.isfinite(value) or abs(value) < 10:
        return f"{value:.4f}"
    return f"{value:.1f}" if abs(value) < 1e5 else f"{value:.2e}"


def _iterations_cell(finals):
    """Iterations of the fold fits (their mean) and why they stopped (the
    commonest ``stop_reason_``), for the estimators that record them."""
    if not all(hasattr(model, "stop_reason_") for model in finals):
        return "-"
    reasons = [model.stop_reason_ for model in finals]
    commonest = max(set(reasons), key=reasons.count)
    return f"{np.mean([model.n_iter_ for model in finals]):.0f} ({commonest})"


def _failed_cells(exc):
    """The cells of a row whose fits raised ``exc``."""
    cells = dict.fromkeys(COLUMNS, "-")
    cells.update(
        {"CV R² (mean ± std)": "failed", "note": _failure_reason(exc), "failed": True}
    )
    return cells


def exact_fit(model):
    """Whether ``model`` fits the exact least-squares solution (no penalty)."""
    if isinstance(model, LinearRegression):
        return True
    return (
        isinstance(model, OneStepRegressor)
        and model.solver == "newton"
        and model.alpha == 0
        and model.learning_rate in ("auto", 1, 1.0)
    )


def compare(X, y, preprocessor, models, max_stable, progress=None, near_singular=False):
    """Cross-validate ``make_pipeline(preprocessor, model)`` for every model.

    Parameters
    ----------
    X : {ndarray, pandas.DataFrame} of shape (n_samples, n_columns)
        The feature columns, as ``preprocessor`` takes them.
    y : ndarray of shape (n_samples,)
        The target.
    preprocessor : estimator
        Transformer fitted in each fold before the model (cloned per row).
    models : list of tuple
        Rows as returned by :func:`demo_models`.
    max_stable : float or None
        The 2/L to show on the full-batch gradient rows; ``None`` if unknown.
    progress : Progress, default=None
        Where to report each row as it starts.
    near_singular : bool, default=False
        Whether a training fold's design is near-singular: the rows of exact
        fits (:func:`exact_fit`) are then marked ``†``.

    Returns
    -------
    pandas.DataFrame
        One row per model, indexed by (label, estimator call), with the
        columns of ``COLUMNS`` as strings, a ``note`` column (why a row failed
        or scored a non-finite R²) and a boolean ``failed`` column. The label
        ends in ``*`` when a ``ConvergenceWarning`` was raised, in ``†`` for
        an exact fit on near-singular folds.
    """
    progress = Progress() if progress is None else progress
    records = []
    # ConvergenceWarnings mark their row; others are printed once at the end.
    warned = {}
    for i, (label, model, rate) in enumerate(models, start=1):
        call = repr(model)
        progress.report(f"[{i}/{len(models)}] cross-validating {call}")
        pipeline = make_pipeline(clone(preprocessor), model)
        record = {"model": label, "estimator": call}
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                record.update(_scored_cells(pipeline, X, y, rate, max_stable))
            except Exception as exc:  # any fit failure: reported in its row
                record.update(_failed_cells(exc))
        marks = ""
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                marks = NOT_CONVERGED
            else:
                calls = warned.setdefault((w.category, str(w.message)), [])
                if call not in calls:
                    calls.append(call)
        if near_singular and exact_fit(model) and not record["failed"]:
            marks += NEAR_SINGULAR
        record["model"] = label + marks
        records.append(record)
    _show_warnings(warned)
    return pd.DataFrame.from_records(records).set_index(["model", "estimator"])


def format_table(results, near_singular=None):
    """The table as text, at most ``MAX_WIDTH`` wide, then what it needs said.

    Below the table: each row's estimator call (scikit-learn's ``repr``, code
    that builds it), the notes of rows that failed or scored a non-finite R²,
    and what the marks after a label mean. ``near_singular`` is the footnote
    of :func:`_cli.collinear.near_singular_note` (rows of exact fits marked
    ``†``), or None.
    """
    labels = [label for label, _ in results.index]
    header = ["model", *COLUMNS]
    body = [
        [label, *(results.loc[(label, call), column] for column in COLUMNS)]
        for label, call in results.index
    ]
    widths = [max(len(str(row[i])) for row in [header, *body]) for i in range(6)]
    lines = []
    for row in [header, *body]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join(cells).rstrip())
    label_width = max(map(len, labels))
    lines += ["", "estimators:"]
    for label, call in results.index:
        lines.append(f"  {label.ljust(label_width)}  {call}")
    notes = [(label, note) for (label, _), note in zip(results.index, results["note"])]
    notes = [(label, note) for label, note in notes if note]
    if notes:
        lines += ["", "notes:"]
        for label, note in notes:
            lines += _wrapped(f"  {label}: {note}")
    marked = "".join(label[-2:] for label in labels)
    near_singular = near_singular if NEAR_SINGULAR in marked else None
    if NOT_CONVERGED in marked or near_singular:
        lines.append("")
    if NOT_CONVERGED in marked:
        lines.append(f"{NOT_CONVERGED} did not converge (a ConvergenceWarning)")
    if near_singular:
        lines += _wrapped(f"{NEAR_SINGULAR} {near_singular}")
    return "\n".join(lines)


def _wrapped(text):
    """``text`` in lines of at most ``MAX_WIDTH``, continued with an indent."""
    return textwrap.wrap(
        text, MAX_WIDTH, subsequent_indent="    ", break_on_hyphens=False
    )
