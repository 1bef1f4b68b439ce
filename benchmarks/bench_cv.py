"""IterativeGDRegressorCV against the sweeps it replaces, as ratios from one run.

Every comparison alternates the contenders within each repeat and reports the
ratio of medians (as ``bench_speed.py``), so the noise of a shared machine
hits both sides alike.

    python benchmarks/bench_cv.py            # the issue's sizes (~3 min)
    python benchmarks/bench_cv.py --quick    # 10x fewer rows, for a smoke run

1. Standardised diabetes, 20 rates × 5 folds × max_iter=1000: the CV
   estimator against ``GridSearchCV(IterativeGDRegressor(tol=None,
   max_iter=1000))`` over the same rates and against SGDRegressor's ``eta0``
   sweep (goals: >= 50x and >= 100x faster), with the largest difference
   between its scores after 1000 iterations and GridSearchCV's.
2. 1e6 × 50: the whole 5-fold sweep of 20 rates against one
   ``OneStepRegressor().fit`` (goal: <= 2.5x), and what it is made of (the
   one pass for the fold statistics, the path per split, the refit).
"""

import argparse
import platform
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import SGDRegressor
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.preprocessing import StandardScaler
from timing import alternate  # noqa: E402 (benchmarks/ is the script folder)

from onestep_sklearn import (
    IterativeGDRegressor,
    IterativeGDRegressorCV,
    OneStepRegressor,
)
from onestep_sklearn._data import questions
from onestep_sklearn._data.memory import ArraySource
from onestep_sklearn._solvers.folds import FoldGroups, split_statistics
from onestep_sklearn._solvers.path import FoldPath
from onestep_sklearn._solvers.schedule import Momentum

warnings.simplefilter("ignore", ConvergenceWarning)


def row(label, value, goal):
    print(f"| {label} | {value} | {goal} |", flush=True)


def diabetes_sweep(repeats):
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rates = IterativeGDRegressorCV(learning_rates=20, max_iter=1).fit(X, y)
    rates = rates.learning_rates_  # the default grid: 1e-3 to 1.25 times 2/L
    runs = {}

    def store(name, fn):
        return lambda: runs.__setitem__(name, fn())

    contenders = {
        "cv": store(
            "cv",
            lambda: IterativeGDRegressorCV(
                learning_rates=rates, max_iter=1000, cv=5
            ).fit(X, y),
        ),
        "grid": store(
            "grid",
            lambda: GridSearchCV(
                IterativeGDRegressor(tol=None, max_iter=1000),
                {"learning_rate": rates},
                cv=5,
            ).fit(X, y),
        ),
        "sgd": store(
            "sgd",
            lambda: GridSearchCV(
                SGDRegressor(random_state=0, max_iter=1000), {"eta0": rates}, cv=5
            ).fit(X, y),
        ),
    }
    t = alternate(contenders, repeats)
    cv, grid = runs["cv"], runs["grid"]
    after_1000 = cv.cv_scores_[:, :, -1].mean(axis=0)
    gap = np.max(np.abs(after_1000 - grid.cv_results_["mean_test_score"]))
    row(
        "diabetes, 20 rates x 5 folds x 1000 iterations: GridSearchCV(IterativeGD) "
        "/ IterativeGDRegressorCV",
        f"{t['grid'] / t['cv']:.0f}x faster",
        ">= 50x",
    )
    row(
        "  same: GridSearchCV(SGDRegressor, eta0) / IterativeGDRegressorCV",
        f"{t['sgd'] / t['cv']:.0f}x faster",
        ">= 100x",
    )
    print(
        f"  (wall: IterativeGDRegressorCV {t['cv'] * 1e3:.1f} ms, GridSearchCV "
        f"IterativeGD {t['grid']:.3f} s, SGD {t['sgd']:.3f} s; max |mean CV R² "
        f"after 1000 iterations - GridSearchCV's| = {gap:.1e} over the 20 rates; "
        f"best: GridSearchCV {grid.best_score_:.4f} at 1000 iterations, "
        f"IterativeGDRegressorCV {cv.best_score_:.4f} at eta={cv.learning_rate_:.3g}, "
        f"t={cv.n_iter_}; SGD {runs['sgd'].best_score_:.4f})",
        flush=True,
    )


def large(n, d, repeats):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    shuffled = KFold(5, shuffle=True, random_state=0)
    contenders = {
        "newton": lambda: OneStepRegressor().fit(X, y),
        "cv": lambda: IterativeGDRegressorCV(max_iter=1000).fit(X, y),
        "shuffled": lambda: IterativeGDRegressorCV(max_iter=1000, cv=shuffled).fit(
            X, y
        ),
    }
    t = alternate(contenders, repeats)
    row(
        f"{n:.0e} x {d}: IterativeGDRegressorCV(), 20 rates x 5 folds x 1000 "
        "iterations / OneStepRegressor().fit",
        f"{t['cv'] / t['newton']:.2f}x",
        "<= 2.5x",
    )
    row(
        "  same with KFold(shuffle=True) (the folds' rows gathered)",
        f"{t['shuffled'] / t['newton']:.2f}x",
        "",
    )
    # What the sweep is made of (unshuffled 5-fold).
    source = ArraySource(X, y[:, None], np.ones(n), float(n))
    splits = list(KFold(5).split(X))
    groups = FoldGroups.from_splits(splits, n)
    parts = {}

    def stats_pass():
        parts["stats"] = questions.group_statistics(
            source, groups.labels, groups.n_groups
        )

    def paths():
        pairs = split_statistics(groups, parts["stats"], True)
        rates = np.geomspace(1e-4, 0.3, 20)
        for train, test in pairs:
            FoldPath(train, test, 0.0, rates, 1000, Momentum(0.0, False), X.dtype)

    pieces = alternate({"stats": stats_pass, "paths": paths}, repeats)
    print(
        f"  (OneStepRegressor().fit {t['newton']:.3f} s, IterativeGDRegressorCV "
        f"{t['cv']:.3f} s = the fold statistics in one pass {pieces['stats']:.3f} s "
        f"+ the 5 paths of 20 rates x 1000 iterations {pieces['paths']:.3f} s + "
        "validation, the full-data spectrum and the refit on it)",
        flush=True,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    n = 100_000 if args.quick else 1_000_000
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, "
        f"scikit-learn {sklearn.__version__}, {platform.machine()}"
    )
    print("| measure | value | goal |\n|---|---|---|")
    diabetes_sweep(repeats=3 if args.quick else 5)
    large(n, 50, repeats=3 if args.quick else 7)


if __name__ == "__main__":
    main()
