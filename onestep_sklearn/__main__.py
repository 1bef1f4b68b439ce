"""Demo: ``python -m onestep_sklearn [--csv PATH --target COLUMN] [--plot FILE]``.

Compares, by 5-fold cross-validated R² and fit time, the textbook single
gradient step (learning rate 0.01), the best single gradient step (exact line
search), the single Newton step and gradient descent with scikit-learn's
``LinearRegression`` and ``SGDRegressor``. Every model is
``make_pipeline(StandardScaler(), model)``, so the textbook step size means the
same thing on any data set. Without arguments it runs on scikit-learn's bundled
diabetes data (no download). ``--plot FILE.png`` also writes a figure: the
loss curves of the gradient methods and a learning-rate sweep with the
stability limit 2/L marked (needs matplotlib, the ``plot`` extra).
"""

import argparse
import csv
import math
import os
import sys
import warnings

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.model_selection import KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import (
    IterativeGDRegressor,
    OneStepRegressor,
    suggest_learning_rate,
)

N_FOLDS = 5
NEEDS_MATPLOTLIB = "--plot needs matplotlib: pip install 'onestep_sklearn[plot]'"


class DataError(Exception):
    """Bad user input: reported as one ``error:`` line and exit code 2."""


def load_csv(path, target):
    """Read a comma-separated file with a header row; ``target`` is y, the rest X.

    Raises ``DataError`` if the file cannot be read, ``target`` is not a column,
    or a cell is not a finite number.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a UTF-8 text file") from None
    except (OSError, csv.Error) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if not rows:
        raise DataError(f"{path} is empty")
    header = [name.strip() for name in rows[0]]
    if target not in header:
        raise DataError(
            f"column {target!r} not in {path} (columns: {', '.join(header)})"
        )
    data = np.empty((len(rows) - 1, len(header)))
    for i, row in enumerate(rows[1:]):
        if len(row) != len(header):
            raise DataError(
                f"{path}, row {i + 2}: {len(row)} fields, header has {len(header)}"
            )
        for j, cell in enumerate(row):
            try:
                data[i, j] = float(cell)
            except ValueError:
                data[i, j] = math.nan
            if not math.isfinite(data[i, j]):
                raise DataError(
                    f"column {header[j]!r} in {path} is not numeric "
                    f"(row {i + 2}: {cell.strip()!r})"
                )
    if len(header) < 2:
        raise DataError(f"{path} has no feature columns besides {target!r}")
    if len(data) < N_FOLDS:
        raise DataError(
            f"{path} has {len(data)} data rows; {N_FOLDS}-fold CV needs {N_FOLDS}"
        )
    t = header.index(target)
    return np.delete(data, t, axis=1), data[:, t]


def _models():
    """Rows: (name, estimator, learning-rate cell or None for a fitted one).

    ``None`` marks the full-batch gradient rows: their cell is the fitted
    ``learning_rate_`` and they also show the stability limit 2/L.
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
        ("gradient descent (auto = 1/L)", IterativeGDRegressor(), None),
        ("LinearRegression (sklearn)", LinearRegression(), "-"),
        ("SGDRegressor (sklearn)", sgd, f"{sgd.eta0:g} ({sgd.learning_rate})"),
    ]


def compare(X, y, max_stable):
    """Cross-validate every model on (X, y); ``max_stable`` is the 2/L to show.

    Returns one row of strings per model: name (``*`` appended if a
    ``ConvergenceWarning`` was raised), CV R², fit time (ms), learning rate, 2/L.
    """
    cv = KFold(n_splits=N_FOLDS, shuffle=True, random_state=0)
    rows = []
    for name, model, rate in _models():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            pipe = make_pipeline(StandardScaler(), model)
            res = cross_validate(pipe, X, y, cv=cv, scoring="r2")
            full_batch_gradient = rate is None
            if full_batch_gradient:
                rate = f"{clone(pipe).fit(X, y)[-1].learning_rate_:.4g}"
        unconverged = False
        for w in caught:
            if issubclass(w.category, ConvergenceWarning):
                unconverged = True
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        score = res["test_score"]
        rows.append(
            [
                name + ("*" if unconverged else ""),
                f"{score.mean():.4f} ± {score.std():.4f}",
                f"{1000 * res['fit_time'].mean():.2f}",
                rate,
                f"{max_stable:.4g}" if full_batch_gradient else "-",
            ]
        )
    return rows


def format_table(header, rows):
    """Plain fixed-width text table: first column left-aligned, others right."""
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = (c.rjust(w) for c, w in zip(cells[1:], widths[1:]))
        return "  ".join([first, *rest]).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


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


def plot_figure(X, y, facts, path):
    """Write the two-panel figure to ``path``.

    Left: the objective per iteration of gradient descent at 1/L (auto),
    1.9/L and 0.2/L on the standardised data, and the objective after the
    single step of each one-step method, at iteration 1. Right: the CV R²
    of ``make_pipeline(StandardScaler(), IterativeGDRegressor())`` over
    learning rates around 2/L, with 2/L marked.
    """
    from matplotlib.figure import Figure

    from onestep_sklearn.plotting import LossCurveDisplay, plot_learning_rate_sweep

    X_scaled = StandardScaler().fit_transform(X)
    # A figure without pyplot: no GUI backend, nothing left open.
    fig = Figure(figsize=(13, 5), layout="constrained")
    loss_ax, sweep_ax = fig.subplots(1, 2)
    stable = math.isfinite(facts.max_stable)
    rates = ["auto", 1.9 * facts.auto, 0.2 * facts.auto] if stable else ["auto"]
    curves = []
    with warnings.catch_warnings():
        # 0.2/L may reach max_iter; the curve shows it.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for rate in rates:
            model = IterativeGDRegressor(learning_rate=rate).fit(X_scaled, y)
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
    loss_ax.set_title("objective per iteration (standardised X)")

    scale = facts.max_stable if stable else 1.0
    with warnings.catch_warnings():
        # Rates past 2/L stop at their best iterate with a warning: expected.
        warnings.simplefilter("ignore", ConvergenceWarning)
        plot_learning_rate_sweep(
            make_pipeline(StandardScaler(), IterativeGDRegressor()),
            X,
            y,
            param_range=np.geomspace(1e-3, 3.0, 16) * scale,
            cv=KFold(n_splits=N_FOLDS, shuffle=True, random_state=0),
            ax=sweep_ax,
        )
    sweep_ax.set_title(
        f"{N_FOLDS}-fold CV R² over learning_rate\n"
        "(rates past 2/L stop at their best iterate; warnings silenced)"
    )
    fig.savefig(path, dpi=110)


def main(argv=None):
    """Run the comparison and print the table.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 on success, 2 on bad input (one ``error:`` line on stderr).
    """
    parser = argparse.ArgumentParser(
        prog="python -m onestep_sklearn",
        description="Single gradient / Newton steps against scikit-learn, "
        "by 5-fold CV R² (default data: diabetes).",
    )
    parser.add_argument("--csv", metavar="PATH", help="CSV file with a header row")
    parser.add_argument("--target", metavar="COLUMN", help="column to predict")
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="also write a figure (e.g. FILE.png): loss curves and a "
        "learning-rate sweep with 2/L marked; needs matplotlib",
    )
    args = parser.parse_args(argv)
    if (args.csv is None) != (args.target is None):
        parser.error("--csv and --target go together")
    if args.plot is not None:
        try:
            check_plot_path(args.plot)
        except DataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2

    if args.csv is None:
        X, y = load_diabetes(return_X_y=True)
        data_name = "diabetes (scikit-learn, bundled)"
    else:
        try:
            X, y = load_csv(args.csv, args.target)
        except DataError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        data_name = f"{args.csv}, target {args.target!r}"

    facts = suggest_learning_rate(StandardScaler().fit_transform(X))
    print(f"data: {data_name}, {X.shape[0]} samples, {X.shape[1]} features")
    print(
        f"standardised: L = {facts.lipschitz:.4g}, 1/L = {facts.auto:.4g}, "
        f"2/L = {facts.max_stable:.4g} (stability limit), "
        f"condition number = {facts.condition_number:.4g}"
    )
    print()
    rows = compare(X, y, facts.max_stable)
    header = ["model", "CV R² (mean ± std)", "fit time (ms)", "learning rate", "2/L"]
    print(format_table(header, rows))
    print()
    print(
        f"{N_FOLDS}-fold KFold(shuffle=True, random_state=0); "
        "every model is make_pipeline(StandardScaler(), model)."
    )
    if any(row[0].endswith("*") for row in rows):
        print("* did not converge (a ConvergenceWarning was raised)")
    if args.plot is not None:
        try:
            plot_figure(X, y, facts, args.plot)
        except OSError as exc:
            print(f"error: cannot write {args.plot}: {exc}", file=sys.stderr)
            return 2
        print(f"figure written to {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
