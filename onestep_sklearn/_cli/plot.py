"""The CLI's ``--plot FILE``: loss curves and a learning-rate sweep, in one figure.

matplotlib is optional (the ``plot`` extra): the path and the import are
checked before any fitting, and the figure is drawn without pyplot.
"""

import math
import os
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor
from onestep_sklearn._cli.read import DataError
from onestep_sklearn._cli.table import N_FOLDS, demo_cv

NEEDS_MATPLOTLIB = "--plot needs matplotlib: pip install 'onestep_sklearn[plot]'"


def check_plot_path(path):
    """Fail early, before any fitting, if ``--plot PATH`` cannot be written.

    Raises ``DataError`` without matplotlib, for an image format matplotlib
    does not know, or when the directory of ``path`` does not exist.
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise DataError(NEEDS_MATPLOTLIB) from None
    from matplotlib.backend_bases import FigureCanvasBase

    formats = FigureCanvasBase.get_supported_filetypes()
    extension = os.path.splitext(path)[1].lstrip(".").lower()
    if extension not in formats:
        raise DataError(
            f"--plot {path}: unknown image format {extension!r} "
            f"(use one of: {', '.join(sorted(formats))})"
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise DataError(f"--plot {path}: directory {directory} does not exist")


def plot_figure(X, y, preprocessor, facts, path):
    """Write the two-panel figure to ``path``.

    Left: the objective per iteration of gradient descent at 1/L (auto),
    1.9/L and 0.2/L on the preprocessed data, and the objective after the
    single step of each one-step method, at iteration 1. Right: the CV R²
    of ``make_pipeline(preprocessor, IterativeGDRegressor())`` over
    learning rates around 2/L, with 2/L marked. ``facts`` is
    ``suggest_learning_rate`` of the preprocessed data, or ``None``.
    """
    from matplotlib.figure import Figure

    from onestep_sklearn.plotting import LossCurveDisplay, plot_learning_rate_sweep

    X_scaled = clone(preprocessor).fit_transform(X)
    # A figure without pyplot: no GUI backend, nothing left open.
    fig = Figure(figsize=(13, 5), layout="constrained")
    loss_ax, sweep_ax = fig.subplots(1, 2)
    stable = facts is not None and math.isfinite(facts.max_stable)
    rates = ["auto", 1.9 * facts.auto, 0.2 * facts.auto] if stable else ["auto"]
    curves = []
    with warnings.catch_warnings():
        # 0.2/L may reach max_iter; the curve shows it.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for rate in rates:
            model = IterativeGDRegressor(learning_rate=rate, momentum=0.0)
            model.fit(X_scaled, y)
            LossCurveDisplay.from_estimator(model, ax=loss_ax, name="gradient descent")
            curves.extend(model.loss_curve_)
    one_steps = [
        (
            "one gradient step, η = 0.01",
            "o",
            6,
            {"solver": "gradient", "learning_rate": 0.01},
        ),
        ("one gradient step, exact line search", "s", 6, {"solver": "gradient"}),
        ("one Newton step: the optimum", "*", 12, {"solver": "newton"}),
    ]
    losses = [OneStepRegressor(**p).fit(X_scaled, y).loss_ for *_, p in one_steps]
    # An exact fit has objective 0: draw it at the lowest positive value shown,
    # as LossCurveDisplay does, so that it stays on the log axis.
    positive = [v for v in curves + losses if v > 0]
    floor = min(positive) if positive else 1.0
    for (label, marker, size, _), loss in zip(one_steps, losses):
        if not loss > 0:
            label += " (objective 0)"
        (point,) = loss_ax.plot(
            [1], [max(loss, floor)], marker=marker, ms=size, ls="none", label=label
        )
    # The optimum, which gradient descent approaches.
    loss_ax.axhline(max(loss, floor), color=point.get_color(), ls=":", lw=1)
    loss_ax.set_xscale("log")
    loss_ax.legend(fontsize="small")
    loss_ax.set_title("objective per iteration (preprocessed X)")

    scale = facts.max_stable if stable else 1.0
    with warnings.catch_warnings():
        # Rates past 2/L stop at their best iterate with a warning: expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        plot_learning_rate_sweep(
            make_pipeline(clone(preprocessor), IterativeGDRegressor()),
            X,
            y,
            param_range=np.geomspace(1e-3, 3.0, 16) * scale,
            cv=demo_cv(),
            ax=sweep_ax,
        )
    sweep_ax.set_title(
        f"{N_FOLDS}-fold CV R² over learning_rate\n"
        "(rates past 2/L stop at their best iterate; warnings silenced)"
    )
    fig.savefig(path, dpi=110)
