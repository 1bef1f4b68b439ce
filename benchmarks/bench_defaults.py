"""Default ``IterativeGDRegressor()`` on real-like tables against ``LinearRegression``.

The tables come from ``tables.py`` (numeric columns with gaps, near-collinear
pairs, categorical columns with rare levels, booleans, wide designs) through
exactly the CLI's preprocessing. For every table:

- whether the default fit ends "converged" (no warning), and if so whether it
  is within ``tol`` of ``numpy.linalg.lstsq``'s minimum-norm solution (an
  honest "converged"); otherwise whether the warning's first fix, followed
  literally, converges;
- the fit time against ``LinearRegression().fit`` on the same design, each
  the median of ``--repeats`` calls, the two run in turn (interleaved), so
  that the load of the shared machine falls on both alike.

The small wide designs of issue 17 (81 × 100 one-hot, 50 × 58, 36 × 52 dense,
100 × 103) are timed too.

    python benchmarks/bench_defaults.py                # 200 tables
    python benchmarks/bench_defaults.py --tables 20    # a smoke run
"""

import argparse
import re
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LinearRegression
from tables import tables
from timing import alternate

from onestep_sklearn import IterativeGDRegressor


def min_norm_solution(X, y):
    X = X.toarray() if sp.issparse(X) else X
    return np.linalg.lstsq(X - X.mean(axis=0), y - y.mean(), rcond=None)[0]


def fit(estimator, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        estimator.fit(X, y)
    return estimator, [str(w.message) for w in caught]


def first_fix(message):
    """The parameters of the warning's first fix, or None (OneStepRegressor)."""
    fix = re.search(r"Fix: (.*?)\.( |$)", message).group(1).split(", or ")[0]
    if "OneStepRegressor" in fix:
        return None
    return {k: eval(v) for k, v in re.findall(r"(\w+)=('?[\w.]+'?)", fix)}  # noqa: S307


def wide_designs(rng):
    """The small wide designs of issue 17."""
    codes = rng.integers(0, 100, 81)
    one_hot = np.eye(100)[codes]
    designs = {
        "81 x 100 one-hot": (one_hot, rng.standard_normal(100)[codes]),
        "50 x 58": (rng.standard_normal((50, 58)), rng.standard_normal(50)),
        "36 x 52 dense": (rng.standard_normal((36, 52)), rng.standard_normal(36)),
        "100 x 103": (rng.standard_normal((100, 103)), rng.standard_normal(100)),
    }
    return designs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tables", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = []
    for index, (X, y) in enumerate(tables(args.tables, seed=args.seed)):
        model, messages = fit(IterativeGDRegressor(), X, y)
        exact = min_norm_solution(X, y)
        error = np.linalg.norm(model.coef_ - exact) / np.linalg.norm(exact)
        converged = model.stop_reason_ == "converged"
        fix_works = None
        if not converged:
            params = first_fix(messages[0])
            if params is not None:
                followed, again = fit(IterativeGDRegressor(**params), X, y)
                fix_works = followed.stop_reason_ == "converged" and not again
        times = alternate(
            {
                "gd": lambda: fit(IterativeGDRegressor(), X, y),
                "lr": lambda: LinearRegression().fit(X, y),
            },
            args.repeats,
        )
        ratio = times["gd"] / times["lr"]
        kind = "csr" if sp.issparse(X) else "dense"
        rows.append((converged, error, fix_works, ratio, X.shape, model.n_iter_))
        print(
            f"{index:4d} {X.shape[0]:6d} x {X.shape[1]:4d} {kind:5s} "
            f"{model.stop_reason_:9s} n_iter {model.n_iter_:6d} "
            f"error {error:.1e} ratio {ratio:6.2f}"
            + ("" if converged else f" fix works: {fix_works} | {messages[0]}"),
            flush=True,
        )
    converged = np.array([r[0] for r in rows])
    errors = np.array([r[1] for r in rows])
    ratios = np.array([r[3] for r in rows])
    wide = np.array([r[4][0] <= r[4][1] for r in rows])
    print()
    print(f"tables: {len(rows)} ({wide.sum()} wide, n <= d)")
    print(f"converged: {converged.sum()} ({converged.mean():.1%})")
    print(
        f"converged and farther than tol from lstsq: {(errors[converged] > 1e-4).sum()}"
    )
    fixes = [r[2] for r in rows if not r[0]]
    print(
        f"not converged: {len(fixes)}; first fix followed converges: "
        f"{sum(f is True for f in fixes)}, fix is OneStepRegressor(): "
        f"{sum(f is None for f in fixes)}"
    )
    print(
        f"time / LinearRegression: median {np.median(ratios):.2f}, "
        f"90th percentile {np.percentile(ratios, 90):.2f}, worst {ratios.max():.2f}"
    )
    if wide.any():
        print(
            f"wide tables: median {np.median(ratios[wide]):.2f}, "
            f"worst {ratios[wide].max():.2f}"
        )
    print()
    for name, (X, y) in wide_designs(np.random.default_rng(args.seed)).items():
        model, messages = fit(IterativeGDRegressor(), X, y)
        times = alternate(
            {
                "gd": lambda: fit(IterativeGDRegressor(), X, y),
                "lr": lambda: LinearRegression().fit(X, y),
            },
            args.repeats,
        )
        print(
            f"{name:18s} {model.stop_reason_:9s} n_iter {model.n_iter_:5d} "
            f"gd {1e3 * times['gd']:7.2f} ms  lr {1e3 * times['lr']:6.2f} ms  "
            f"ratio {times['gd'] / times['lr']:5.2f}"
        )


if __name__ == "__main__":
    main()
