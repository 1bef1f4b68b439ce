"""Sparse, wide designs against scikit-learn, as ratios measured in one run.

The two designs of the issue "Sparse designs at scikit-learn's speed":

* one-hot: 20,000 rows, one categorical column of 2,000 levels through
  ``OneHotEncoder`` (sparse output) beside 5 numeric columns; with an
  intercept the one-hot block is rank-deficient (the dummy trap);
* random: CSR 50,000 × 2,000 at 1% density.

Every comparison alternates the contenders within each repeat and reports
the ratio of medians (the noise of a shared machine hits all alike). The
reference for the predictions is ``LinearRegression(tol=1e-14)``.

    python benchmarks/bench_sparse.py            # the issue's sizes (~1 min)
    python benchmarks/bench_sparse.py --quick    # 5x smaller, a smoke run
    python benchmarks/bench_sparse.py --blas-threads 1   # every contender
"""

import argparse
import os
import platform
import time
import warnings

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
import threadpoolctl
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.preprocessing import OneHotEncoder

from onestep_sklearn import (
    IterativeGDRegressor,
    OneStepRegressor,
    suggest_learning_rate,
)

warnings.simplefilter("ignore", ConvergenceWarning)


def one_hot_design(n_samples, n_levels, n_numeric=5, seed=0):
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, n_levels, n_samples)
    numeric = rng.standard_normal((n_samples, n_numeric))
    encoded = OneHotEncoder().fit_transform(levels[:, None])
    X = sp.hstack([encoded, sp.csr_matrix(numeric)]).tocsr()
    effects = rng.standard_normal(n_levels)
    y = effects[levels] + numeric @ rng.standard_normal(n_numeric)
    return X, y + 0.1 * rng.standard_normal(n_samples) + 3.0


def random_design(n_samples, n_features, density=0.01, seed=0):
    rng = np.random.default_rng(seed)
    X = sp.random(
        n_samples, n_features, density=density, format="csr", random_state=rng
    )
    y = X @ rng.standard_normal(n_features) + 0.1 * rng.standard_normal(n_samples)
    return X, y


def alternate(contenders, repeats):
    """Median seconds and the last result of each callable, run in turn."""
    times = {name: [] for name in contenders}
    results = {}
    for _ in range(repeats):
        for name, fn in contenders.items():
            start = time.perf_counter()
            results[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}, results


def relative_error(predictions, reference):
    return float(np.linalg.norm(predictions - reference) / np.linalg.norm(reference))


def measure(label, X, y, repeats):
    reference = LinearRegression(tol=1e-14).fit(X, y).predict(X)
    times, fitted = alternate(
        {
            "onestep": lambda: OneStepRegressor().fit(X, y),
            "ridge": lambda: Ridge(alpha=1e-8).fit(X, y),
            "linear": lambda: LinearRegression().fit(X, y),
            "suggest": lambda: suggest_learning_rate(X),
        },
        repeats,
    )
    fastest = min(times["ridge"], times["linear"])
    which = "Ridge" if times["ridge"] <= times["linear"] else "LinearRegression"
    onestep = fitted["onestep"]
    # Gradient descent runs to its own stopping rule (or max_iter): timed
    # once, and once for a single iteration, which is mostly the set-up
    # (validation, means, L by Lanczos); the rest is per iteration.
    start = time.perf_counter()
    gd = IterativeGDRegressor().fit(X, y)
    gd_time = time.perf_counter() - start
    start = time.perf_counter()
    IterativeGDRegressor(max_iter=1, tol=None).fit(X, y)
    gd_setup = time.perf_counter() - start
    per_iteration = (gd_time - gd_setup) / max(gd.n_iter_ - 1, 1)
    print(f"\n### {label}: {X.shape[0]:,} × {X.shape[1]:,}, {X.nnz:,} stored\n")
    print("| measure | measured | goal |\n|---|---|---|")
    print(
        f"| `Ridge(alpha=1e-8)` / `LinearRegression()` fit | "
        f"{times['ridge'] * 1e3:.1f} ms / {times['linear'] * 1e3:.1f} ms | |"
    )
    print(
        f"| `OneStepRegressor().fit` / faster of them ({which}) | "
        f"{times['onestep'] / fastest:.2f}× ({times['onestep'] * 1e3:.1f} ms) "
        "| ≤ 2× |"
    )
    print(
        "| `OneStepRegressor` predictions vs `LinearRegression(tol=1e-14)`, "
        f"relative | {relative_error(onestep.predict(X), reference):.1e} | ≤ 1e-6 |"
    )
    print(
        f"| `suggest_learning_rate` / faster sklearn fit | "
        f"{times['suggest'] / fastest:.1f}× ({times['suggest'] * 1e3:.1f} ms) | "
        "as fast |"
    )
    print(
        f"| `IterativeGDRegressor().fit` (default: {gd.n_iter_} iterations) | "
        f"{gd_time * 1e3:.0f} ms = {gd_setup * 1e3:.0f} ms set-up + "
        f"{per_iteration * 1e3:.2f} ms/iteration; predictions "
        f"{relative_error(gd.predict(X), reference):.1e} | no O(n·d³), no d×d |"
    )
    print(
        f"| one `IterativeGDRegressor` iteration / faster sklearn fit | "
        f"{per_iteration / fastest:.2f}× | |"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=None,
        help="limit BLAS to this many threads for every contender (on a shared "
        "machine, threaded BLAS-1 calls in scikit-learn's CG/LSQR loops wake "
        "idle threads at every call and measure the load, not the solver)",
    )
    args = parser.parse_args()
    if args.blas_threads is not None:
        threadpoolctl.threadpool_limits(args.blas_threads, user_api="blas")
    scale = 5 if args.quick else 1
    machine = platform.processor() or platform.machine()
    print(
        f"date {time.strftime('%Y-%m-%d %H:%M')}; {machine}; cores "
        f"{os.cpu_count()}; numpy {np.__version__}; scipy {scipy.__version__}; "
        f"scikit-learn {sklearn.__version__}; BLAS threads "
        f"{args.blas_threads or 'default'}; load average {os.getloadavg()[0]:.2f}"
    )
    measure("one-hot", *one_hot_design(20_000 // scale, 2000 // scale), args.repeats)
    measure("random CSR", *random_design(50_000 // scale, 2000 // scale), args.repeats)


if __name__ == "__main__":
    main()
