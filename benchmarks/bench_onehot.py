"""The exact step on one-hot designs against ``LinearRegression``, idle and busy.

Issue 22: ``OneStepRegressor()`` (and ``IterativeGDRegressorCV()``) on
designs like the tables users bring: one-hot blocks of categorical columns
with rare levels (level frequencies from a Pareto law, so some levels hold a
row or two) beside 5 numeric columns, with an intercept (the one-hot blocks
are then rank-deficient: the dummy trap), 50–50,000 rows and 20–2,000
columns, plus a small dense ill-conditioned design (a polynomial). Each
design is fitted twice per contender and repeat, alternately, first on an
idle machine and then with four CPU-bound processes beside it (started and
stopped by this script); the figures are ratios of medians to
``LinearRegression`` in the same minutes.

Exactness: the training predictions of ``OneStepRegressor()`` against those
of exact least squares (``scipy.linalg.lstsq`` on the dense design with a
column of ones, minimum norm: the fitted values are unique even when the
coefficients are not), as ``max |p − p*| / max |p*|``; the goal is 1e-9.

    python benchmarks/bench_onehot.py            # the grid (a few minutes)
    python benchmarks/bench_onehot.py --quick    # the small designs only
    python benchmarks/bench_onehot.py --idle     # without the busy half
"""

import argparse
import multiprocessing
import os
import platform
import time
import warnings

import numpy as np
import scipy
import scipy.linalg
import scipy.sparse as sp
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression
from timing import alternate

from onestep_sklearn import IterativeGDRegressorCV, OneStepRegressor

warnings.simplefilter("ignore", ConvergenceWarning)
N_BUSY = 4
# (rows, categorical columns, levels per column): 5 numeric columns beside.
DESIGNS = [
    (50, 3, 5),
    (200, 4, 10),
    (1536, 6, 10),
    (1000, 10, 20),
    (5000, 10, 10),
    (20000, 15, 20),
    (50000, 6, 50),
    (2500, 20, 100),
    (20000, 20, 100),
]
QUICK = DESIGNS[:5]
# IterativeGDRegressorCV sweeps 20 rates x 1000 iterations in each of 5
# splits (work of order d² per iteration): up to this many columns.
CV_MAX_FEATURES = 300
# Exact references in 50-digit arithmetic up to this many columns (full rank).
MPMATH_MAX_FEATURES = 16


def one_hot_design(n_samples, n_categorical, n_levels, seed=0):
    """CSR one-hot blocks with rare levels beside 5 numeric columns, and y."""
    rng = np.random.default_rng(seed)
    blocks, signal = [], np.zeros(n_samples)
    for _ in range(n_categorical):
        freq = rng.pareto(1.0, n_levels) + 0.02
        codes = rng.choice(n_levels, n_samples, p=freq / freq.sum())
        # Only the levels that occur are columns, as OneHotEncoder makes them.
        _, codes = np.unique(codes, return_inverse=True)
        k = codes.max() + 1
        ones = np.ones(n_samples)
        blocks.append(
            sp.csr_matrix((ones, (np.arange(n_samples), codes)), (n_samples, k))
        )
        signal += rng.normal(size=k)[codes]
    numeric = rng.normal(size=(n_samples, 5))
    signal += numeric @ rng.normal(size=5)
    X = sp.hstack([sp.csr_matrix(numeric), *blocks], format="csr")
    return X, signal + rng.normal(size=n_samples)


def polynomial_design(n_samples=200, degree=12, seed=0):
    """A small dense ill-conditioned design: powers of x in [0, 1]."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n_samples)
    X = np.vander(x, degree + 1, increasing=True)[:, 1:]
    return X, np.sin(6 * x) + 0.1 * rng.normal(size=n_samples)


def exact_predictions(X, y):
    """Fitted values of exact least squares with an intercept.

    Small designs (at most ``MPMATH_MAX_FEATURES`` columns) in 50-digit
    arithmetic (mpmath's QR), so that ill-conditioning does not blur the
    reference; others by ``numpy.linalg.lstsq`` (minimum norm, singular
    values below ``max(n, d)·eps·σ₁`` cut: the one-hot blocks' exact
    dependencies). (scipy's ``lstsq`` cuts at ``eps·σ₁`` and kept a
    dependency of 1.3e-14 here, moving its fitted values by 4e-3.)
    """
    dense = X.toarray() if sp.issparse(X) else np.asarray(X)
    design = np.column_stack([dense, np.ones(len(y))])
    if design.shape[1] <= MPMATH_MAX_FEATURES:
        import mpmath

        with mpmath.workdps(50):
            coef, _ = mpmath.qr_solve(mpmath.matrix(design), mpmath.matrix(y))
            fitted = mpmath.matrix(design) * coef
        return np.array([float(value) for value in fitted])
    coef = np.linalg.lstsq(design, y, rcond=None)[0]
    return design @ coef


def _spin(stop):
    while not stop.is_set():
        sum(range(10000))


class Busy:
    """Four CPU-bound processes for the duration of a ``with`` block."""

    def __enter__(self):
        context = multiprocessing.get_context("spawn")
        self.stop = context.Event()
        self.workers = [
            context.Process(target=_spin, args=(self.stop,)) for _ in range(N_BUSY)
        ]
        for worker in self.workers:
            worker.start()
        time.sleep(1.0)  # let them reach the run queue
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for worker in self.workers:
            worker.join()


def load():
    return os.getloadavg()[0]


def cv_floor(n_features, n_splits=5, n_rates=20, max_iter=1000):
    """Seconds of the work no closed-form sweep of ``IterativeGDRegressorCV()``
    avoids, on one BLAS thread (the policy's for these designs): an
    eigendecomposition of the (d+1) × (d+1) Hessian per split and of the
    full data, and per split one product of a d × d matrix by the d ×
    (rates · iterations) powers (the quadratic form of the validation
    scores; a rank below d, with fewer validation rows than columns, makes
    it smaller, not here)."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    factor = rng.normal(size=(n_features + 50, n_features + 1))
    hessian = factor.T @ factor
    form = rng.normal(size=(n_features, n_features))
    powers = rng.uniform(size=(n_features, n_rates * max_iter))
    with threadpool_limits(1, user_api="blas"):
        start = time.perf_counter()
        for _ in range(n_splits + 1):
            scipy.linalg.eigh(hessian)
        for _ in range(n_splits):
            form @ powers
        return time.perf_counter() - start


def measure(name, X, y, repeats):
    contenders = {
        "LinearRegression": lambda: LinearRegression().fit(X, y),
        "OneStepRegressor()": lambda: OneStepRegressor().fit(X, y),
    }
    if X.shape[1] <= CV_MAX_FEATURES:
        contenders["IterativeGDRegressorCV()"] = lambda: IterativeGDRegressorCV().fit(
            X, y
        )
    before = load()
    times = alternate(contenders, repeats)
    base = times.pop("LinearRegression")
    row = {"design": name, "shape": X.shape, "lr_ms": 1e3 * base, "load": before}
    row.update({key: value / base for key, value in times.items()})
    if X.shape[1] <= CV_MAX_FEATURES:
        row["CV floor"] = np.median([cv_floor(X.shape[1]) for _ in range(3)]) / base
    return row


def grid_search_ratios(X, y, repeats=5):
    """``GridSearchCV(n_jobs=2)`` over ``fit_intercept`` of OneStepRegressor()
    against the same search over LinearRegression, on both joblib backends."""
    from joblib import parallel_backend
    from sklearn.model_selection import GridSearchCV

    grid = {"fit_intercept": [True, False]}
    ratios = {}
    for backend in ["loky", "threading"]:

        def search(model, backend=backend):
            with parallel_backend(backend):
                GridSearchCV(model, grid, cv=5, n_jobs=2).fit(X, y)

        times = alternate(
            {
                "LinearRegression": lambda: search(LinearRegression()),
                "OneStepRegressor()": lambda: search(OneStepRegressor()),
            },
            repeats,
        )
        ratios[backend] = (
            times["OneStepRegressor()"] / times["LinearRegression"],
            1e3 * times["LinearRegression"],
        )
    return ratios


def print_grid_search(X, label):
    ratios = grid_search_ratios(X[0], X[1])
    for backend, (ratio, base) in ratios.items():
        print(
            f"  GridSearchCV(n_jobs=2, {backend}) on 1536 x {X[0].shape[1]}, "
            f"{label}: OneStepRegressor() / LinearRegression = {ratio:.2f}x "
            f"(LinearRegression's search {base:.0f} ms; load {load():.2f})"
        )


def report(rows, label):
    print(f"\n{label}")
    for row in rows:
        cells = ", ".join(
            f"{key} {row[key]:.2f}x" for key in row if key[-1] in ")r"
        )
        print(
            f"  {row['design']:<26} {row['shape'][0]:>6} x {row['shape'][1]:<5} "
            f"LR {row['lr_ms']:8.2f} ms  {cells}  (load {row['load']:.2f})"
        )
    for key in ["OneStepRegressor()", "IterativeGDRegressorCV()", "CV floor"]:
        ratios = [row[key] for row in rows if key in row]
        print(
            f"  {key}: median {np.median(ratios):.2f}x, worst {max(ratios):.2f}x "
            f"over {len(ratios)} designs"
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the small designs only")
    parser.add_argument(
        "--idle", action="store_true", help="skip the half with four busy processes"
    )
    args = parser.parse_args()
    designs = []
    for n, k, levels in QUICK if args.quick else DESIGNS:
        X, y = one_hot_design(n, k, levels)
        designs.append((f"one-hot {k} x {levels} levels", X, y))
    designs.append(("dense polynomial, degree 12", *polynomial_design()))
    print(
        f"numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn "
        f"{sklearn.__version__}, {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
    )
    print("exactness of OneStepRegressor() (max |p - p*| / max |p*|):")
    for name, X, y in designs:
        exact = exact_predictions(X, y)
        got = OneStepRegressor().fit(X, y).predict(X)
        error = np.max(np.abs(got - exact)) / np.max(np.abs(exact))
        print(f"  {name:<26} {X.shape[0]:>6} x {X.shape[1]:<5} {error:.1e}")

    def repeats(X):
        return 15 if X.shape[0] * X.shape[1] < 1e6 else 5

    idle = [measure(name, X, y, repeats(X)) for name, X, y in designs]
    report(idle, "idle (other users of the machine aside: see the load)")
    searched = one_hot_design(1536, 6, 10)
    print_grid_search(searched, "idle")
    if args.idle:
        return
    with Busy():
        busy = [measure(name, X, y, repeats(X)) for name, X, y in designs]
        report(busy, f"busy: {N_BUSY} CPU-bound processes beside it")
        print_grid_search(searched, "busy")


if __name__ == "__main__":
    main()
