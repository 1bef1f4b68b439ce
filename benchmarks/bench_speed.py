"""Side-by-side timings against scikit-learn, as ratios measured in one run.

Every comparison alternates the contenders within each repeat and reports the
ratio of medians, so the noise of a shared machine hits both sides alike.

    python benchmarks/bench_speed.py            # the issue's sizes (~5 min)
    python benchmarks/bench_speed.py --quick    # 10x smaller, for a smoke run
"""

import argparse
import os
import platform
import time
import tracemalloc
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
import threadpoolctl
from sklearn.datasets import load_diabetes
from sklearn.dummy import DummyRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge, SGDRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler
from timing import alternate  # noqa: E402 (benchmarks/ is the script folder)

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor

warnings.simplefilter("ignore", ConvergenceWarning)


def problem(n_samples, n_features, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features)).astype(dtype)
    coef = rng.standard_normal(n_features)
    y = (X @ coef + rng.standard_normal(n_samples)).astype(dtype)
    return X, y


def uncentred(X, seed=1):
    """``X`` with column means far from zero against a spread of 1 (offsets
    of 1e3 to 1e4, like raw measurements or timestamps): the statistics then
    take the shifted route that keeps the digits the offset would cost."""
    rng = np.random.default_rng(seed)
    return X + rng.uniform(1e3, 1e4, X.shape[1])


def scaled_columns(X, seed=2):
    """``X``'s N(0, 1) columns times scales from U(0.5, 2) plus offsets from
    U(-1, 1): the spread of ordinary, roughly standardised tables."""
    rng = np.random.default_rng(seed)
    return X * rng.uniform(0.5, 2.0, X.shape[1]) + rng.uniform(-1, 1, X.shape[1])


def row(label, value, goal):
    print(f"| {label} | {value} | {goal} |")


def large(n, d, repeats):
    X, y = problem(n, d)
    X_far = uncentred(X)
    v = np.ones(d)
    gradient = OneStepRegressor(solver="gradient", learning_rate=0.01)
    t = alternate(
        {
            "pass": lambda: X @ v,
            "gram": lambda: X.T @ X,
            "gradient": lambda: gradient.fit(X, y),
            "gradient far": lambda: gradient.fit(X_far, y),
            "newton": lambda: OneStepRegressor().fit(X, y),
            "newton far": lambda: OneStepRegressor().fit(X_far, y),
            "ridge": lambda: Ridge(solver="cholesky").fit(X, y),
            "linreg": lambda: LinearRegression().fit(X, y),
            "gd": lambda: IterativeGDRegressor().fit(X, y),
        },
        repeats,
    )
    sgd_time = alternate({"sgd": lambda: SGDRegressor(random_state=0).fit(X, y)}, 1)
    sgd = SGDRegressor(random_state=0).fit(X, y)
    gd = IterativeGDRegressor().fit(X, y)
    r2_sgd, r2_gd = sgd.score(X, y), gd.score(X, y)
    size = f"n = {n:.0e}, d = {d}"
    row(
        f"OneStep gradient fit / one `X @ v` pass ({size})",
        f"{t['gradient'] / t['pass']:.2f}x",
        "<= 2.5x (stretch 1.5x)",
    )
    row(
        f"same, un-centred X (column means 1e3-1e4, spread 1) ({size})",
        f"{t['gradient far'] / t['pass']:.2f}x",
        "<= 2.5x (floor 2)",
    )
    row(
        f"OneStep() / the bare `X.T @ X` ({size})",
        f"{t['newton'] / t['gram']:.2f}x",
        "<= 1.2x",
    )
    row(f"same, un-centred X ({size})", f"{t['newton far'] / t['gram']:.2f}x", "")
    row(
        f"Ridge(cholesky) / OneStep() ({size})",
        f"{t['ridge'] / t['newton']:.2f}x faster",
        ">= 3x",
    )
    row(
        f"LinearRegression / OneStep() ({size})",
        f"{t['linreg'] / t['newton']:.2f}x faster",
        ">= 15x",
    )
    row(
        f"SGDRegressor / IterativeGD ({size}); train R² {r2_sgd:.5f} vs {r2_gd:.5f}",
        f"{sgd_time['sgd'] / t['gd']:.1f}x faster",
        ">= 15x",
    )
    print(
        f"  (one pass: {t['pass'] * 1e3:.1f} ms; the Gram X.T @ X alone (numpy, "
        f"syrk): {t['gram'] / t['pass']:.2f} passes; Ridge(cholesky): "
        f"{t['ridge'] / t['pass']:.2f}; LinearRegression: "
        f"{t['linreg'] / t['pass']:.1f}; OneStep(): "
        f"{t['newton'] / t['pass']:.2f} passes; IterativeGD: "
        f"{t['gd'] / t['pass']:.2f} passes, {gd.n_iter_} iterations)"
    )


def scaled(n, d, wide_n, wide_d, repeats):
    """The issue-19 design: columns N(0, 1)·U(0.5, 2) + U(-1, 1)."""
    X, y = problem(n, d)
    X = scaled_columns(X)
    v = np.ones(d)
    gradient = OneStepRegressor(solver="gradient", learning_rate=0.01)
    t = alternate(
        {
            "pass": lambda: X @ v,
            "gram": lambda: X.T @ X,
            "gradient": lambda: gradient.fit(X, y),
            "newton": lambda: OneStepRegressor().fit(X, y),
        },
        repeats,
    )
    size = f"n = {n:.0e}, d = {d}, columns N(0,1)·U(0.5,2)+U(-1,1)"
    row(
        f"OneStep gradient fit / one `X @ v` pass ({size})",
        f"{t['gradient'] / t['pass']:.2f}x",
        "<= 2.5x",
    )
    row(
        f"OneStep() / the bare `X.T @ X` ({size})",
        f"{t['newton'] / t['gram']:.2f}x",
        "<= 1.2x",
    )
    del X, y
    X, y = problem(wide_n, wide_d)
    X = scaled_columns(X)
    t = alternate(
        {"gram": lambda: X.T @ X, "newton": lambda: OneStepRegressor().fit(X, y)},
        repeats,
    )
    row(
        f"OneStep() / the bare `X.T @ X` (n = {wide_n:.0e}, d = {wide_d}, "
        "same columns)",
        f"{t['newton'] / t['gram']:.2f}x",
        "<= 1.1x",
    )


def wide_gram(n, d, repeats):
    X, y = problem(n, d)
    t = alternate(
        {
            "gram": lambda: X.T @ X,
            "newton": lambda: OneStepRegressor().fit(X, y),
            "ridge": lambda: Ridge(solver="cholesky").fit(X, y),
        },
        repeats,
    )
    row(
        f"Ridge(cholesky) / OneStep() (n = {n:.0e}, d = {d})",
        f"{t['ridge'] / t['newton']:.2f}x faster",
        ">= 5x",
    )
    row(
        f"OneStep() / the bare `X.T @ X` (n = {n:.0e}, d = {d})",
        f"{t['newton'] / t['gram']:.2f}x",
        "<= 1.1x",
    )
    print(
        f"  (the Gram X.T @ X alone: {t['gram'] * 1e3:.0f} ms; OneStep(): "
        f"{t['newton'] * 1e3:.0f} ms; Ridge(cholesky): {t['ridge'] * 1e3:.0f} ms)"
    )


def tiny(repeats):
    X, y = load_diabetes(return_X_y=True)
    X_std = StandardScaler().fit_transform(X)
    t = alternate(
        {
            "onestep": lambda: OneStepRegressor().fit(X, y),
            "linreg": lambda: LinearRegression().fit(X, y),
            "onestep std": lambda: OneStepRegressor().fit(X_std, y),
            "linreg std": lambda: LinearRegression().fit(X_std, y),
        },
        repeats,
    )
    row(
        "diabetes 442 x 10: OneStep().fit / LinearRegression().fit",
        f"{t['onestep'] / t['linreg']:.2f}x",
        "<= 0.5x",
    )
    row(
        "same, standardised (StandardScaler)",
        f"{t['onestep std'] / t['linreg std']:.2f}x",
        "<= 0.6x",
    )
    print(
        f"  (OneStep {t['onestep'] * 1e6:.0f} us, LinearRegression "
        f"{t['linreg'] * 1e6:.0f} us)"
    )


def sweep(repeats):
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rates = np.geomspace(1e-4, 1.0, 20)

    def search(estimator, name):
        return GridSearchCV(estimator, {name: rates}, cv=5).fit(X, y)

    runs = {}
    t = alternate(
        {
            "sgd": lambda: runs.__setitem__(
                "sgd", search(SGDRegressor(random_state=0), "eta0")
            ),
            "gd": lambda: runs.__setitem__(
                "gd", search(IterativeGDRegressor(), "learning_rate")
            ),
            "dummy": lambda: GridSearchCV(
                DummyRegressor(strategy="constant"), {"constant": rates}, cv=5
            ).fit(X, y),
        },
        repeats,
    )
    fit_sgd = runs["sgd"].cv_results_["mean_fit_time"].sum()
    fit_gd = runs["gd"].cv_results_["mean_fit_time"].sum()
    row(
        "GridSearchCV 20 rates x 5 folds, diabetes: SGD(eta0) / IterativeGD "
        "(wall time)",
        f"{t['sgd'] / t['gd']:.1f}x faster",
        ">= 10x",
    )
    row(
        "  same, fit time only (cv_results_ mean_fit_time)",
        f"{fit_sgd / fit_gd:.1f}x faster",
        "",
    )
    print(
        f"  (wall: SGD {t['sgd']:.3f} s, IterativeGD {t['gd']:.3f} s, "
        f"DummyRegressor floor {t['dummy']:.3f} s; best CV R² "
        f"{runs['sgd'].best_score_:.4f} vs {runs['gd'].best_score_:.4f})"
    )


def float32(n, d, repeats):
    X64, y64 = problem(n, d)
    X32, y32 = X64.astype(np.float32), y64.astype(np.float32)
    model = OneStepRegressor(solver="gradient", learning_rate=0.01)
    t = alternate(
        {"f64": lambda: model.fit(X64, y64), "f32": lambda: model.fit(X32, y32)},
        repeats,
    )
    row(
        f"float32 / float64 gradient fit (n = {n:.0e}, d = {d})",
        f"{t['f32'] / t['f64']:.2f}x",
        "<= 0.7x",
    )


def memory(n, d):
    X_far, y_far = problem(5 * n, 20)
    X_far = uncentred(X_far)
    for name, estimator in {
        "OneStep gradient": OneStepRegressor(solver="gradient", learning_rate=0.01),
        "OneStepRegressor()": OneStepRegressor(),
    }.items():
        tracemalloc.start()
        estimator.fit(X_far, y_far)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        row(
            f"extra memory during {name}.fit, un-centred dense (n = {5 * n:.0e}, "
            "d = 20)",
            f"{100 * peak / X_far.nbytes:.1f}% of X",
            "<= 10%",
        )
    del X_far, y_far
    X, y = problem(n, d)
    fits = {
        "OneStepRegressor()": OneStepRegressor(),
        "OneStep gradient": OneStepRegressor(solver="gradient"),
        "IterativeGD precompute": IterativeGDRegressor(max_iter=50),
        "IterativeGD data passes": IterativeGDRegressor(precompute=False, max_iter=5),
        "LinearRegression": LinearRegression(),
    }
    for name, estimator in fits.items():
        tracemalloc.start()
        estimator.fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        row(
            f"extra memory during {name}.fit, dense (n = {n:.0e}, d = {d})",
            f"{100 * peak / X.nbytes:.1f}% of X",
            "<= 10%",
        )
    Xs = sp.random(n, d * 4, density=0.05, format="csr", random_state=0)
    ys = np.asarray(Xs.sum(axis=1)).ravel()
    csr_bytes = Xs.data.nbytes + Xs.indices.nbytes + Xs.indptr.nbytes
    for name, estimator in fits.items():
        if name == "LinearRegression":
            continue
        tracemalloc.start()
        estimator.fit(Xs, ys)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        row(
            f"extra memory during {name}.fit, CSR 5% dense",
            f"{100 * peak / csr_bytes:.1f}% of the CSR arrays",
            "<= 50%",
        )


def scaling(sizes, features, repeats):
    print("\n| n \\ d | " + " | ".join(f"d = {d}" for d in features) + " |")
    print("|---" * (len(features) + 1) + "|")
    for n in sizes:
        cells = []
        for d in features:
            if n * d > 1e8 or n < d:
                cells.append("-")
                continue
            X, y = problem(n, d)
            t = alternate({"newton": lambda: OneStepRegressor().fit(X, y)}, repeats)
            cells.append(
                f"{t['newton'] * 1e3:.1f} ms ({t['newton'] / n * 1e9:.0f} ns/row)"
            )
        print(f"| {n:.0e} | " + " | ".join(cells) + " |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    blas = [
        f"{i['internal_api']} {i.get('version', '')} ({i.get('architecture')}, "
        f"{i['num_threads']} threads)"
        for i in threadpoolctl.threadpool_info()
        if i["user_api"] == "blas"
    ]
    machine = platform.processor() or platform.machine()
    print(
        f"date {time.strftime('%Y-%m-%d %H:%M')}; {machine}; cores "
        f"{os.cpu_count()}; BLAS {', '.join(blas)}; numpy {np.__version__}; "
        f"scikit-learn {sklearn.__version__}; load average "
        f"{os.getloadavg()[0]:.2f}\n"
    )
    print("| measure | measured | goal |\n|---|---|---|")
    large(1_000_000 // scale, 50, 3)
    wide_gram(200_000 // scale, 500, 3)
    scaled(1_000_000 // scale, 50, 200_000 // scale, 500, 3)
    tiny(200)
    sweep(3)
    float32(1_000_000 // scale, 50, 5)
    memory(200_000 // scale, 50)
    sizes = [10_000, 100_000, 1_000_000] if not args.quick else [10_000, 100_000]
    scaling(sizes, [10, 100, 1000], 3)
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
