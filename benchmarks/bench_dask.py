"""OneStepRegressor on Dask arrays against dask-ml's LinearRegression.

Both fit the same persisted Dask array on the same ``distributed.LocalCluster``
(2 worker processes × 1 thread by default); the fits alternate within every
repeat and the median is reported. Coefficients are compared with the
in-memory ``OneStepRegressor`` and scikit-learn's ``LinearRegression`` on the
computed data.

    python benchmarks/bench_dask.py                 # 2e6 × 20 in 16 chunks
    python benchmarks/bench_dask.py --quick         # 2e5 × 20, a smoke run

dask-ml's ``LinearRegression`` defaults to ``solver="admm"`` with an L2
penalty (``C=1.0``), so its coefficients are a penalised fit; with
``--unpenalised`` it is also run with ``solver="newton"`` (unpenalised).
"""

import argparse
import platform
import time
import warnings

import numpy as np


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def alternate(contenders, repeats):
    """Median seconds (and the last result) of each callable, in turn."""
    times = {name: [] for name in contenders}
    results = {}
    for _ in range(repeats):
        for name, fn in contenders.items():
            try:
                seconds, results[name] = timed(fn)
            except Exception as error:  # a contender that fails is reported
                results[name] = error
                seconds = np.nan
            times[name].append(seconds)
    return {name: float(np.median(t)) for name, t in times.items()}, results


def max_rel_diff(coef, reference):
    coef, reference = np.ravel(coef), np.ravel(reference)
    return float(np.max(np.abs(coef - reference)) / np.max(np.abs(reference)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--samples", type=int, default=2_000_000)
    parser.add_argument("--features", type=int, default=20)
    parser.add_argument("--chunks", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--unpenalised", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.samples //= 10

    import dask
    import dask.array as da
    import distributed
    import sklearn
    from sklearn.linear_model import LinearRegression

    import onestep_sklearn
    from onestep_sklearn import OneStepRegressor

    try:
        import dask_ml
        from dask_ml.linear_model import LinearRegression as DaskMLLinearRegression

        dask_ml_version = dask_ml.__version__
    except Exception as error:  # recorded in the output, not hidden
        DaskMLLinearRegression, dask_ml_version = None, f"import failed: {error!r}"

    n, d, n_chunks = args.samples, args.features, args.chunks
    with (
        distributed.LocalCluster(
            n_workers=args.workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        rows = -(-n // n_chunks)
        state = da.random.RandomState(0)
        X = state.normal(size=(n, d), chunks=(rows, d)) + 2.0
        coef = np.random.default_rng(1).normal(size=d)
        y = X @ coef + 1.5 + state.normal(size=n, chunks=rows)
        X, y = client.persist([X, y])
        distributed.wait([X, y])

        def onestep():
            return OneStepRegressor().fit(X, y)

        contenders = {"OneStepRegressor (dask)": onestep}
        if DaskMLLinearRegression is not None:
            contenders["dask_ml LinearRegression (default)"] = lambda: (
                DaskMLLinearRegression().fit(X, y)
            )
            if args.unpenalised:
                # dask-glm's Newton solver takes no penalty: least squares.
                contenders["dask_ml LinearRegression (solver='newton')"] = lambda: (
                    DaskMLLinearRegression(solver="newton").fit(X, y)
                )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            times, results = alternate(contenders, args.repeats)

        X_np, y_np = X.compute(), y.compute()
    in_memory = OneStepRegressor().fit(X_np, y_np)
    sklearn_lr = LinearRegression().fit(X_np, y_np)
    reference_onestep = np.append(in_memory.coef_, in_memory.intercept_)
    reference_sklearn = np.append(sklearn_lr.coef_, sklearn_lr.intercept_)

    print(
        f"## Dask: {n:,} × {d} float64 in {n_chunks} row chunks, LocalCluster "
        f"{args.workers} workers × 1 thread (median of {args.repeats}, alternating)\n"
    )
    print(
        f"Python {platform.python_version()}, dask {dask.__version__}, distributed "
        f"{distributed.__version__}, dask-ml {dask_ml_version}, scikit-learn "
        f"{sklearn.__version__}, onestep_sklearn {onestep_sklearn.__version__}\n"
    )
    print(
        "| fit | time (s) | max rel. coef diff vs in-memory OneStepRegressor "
        "| vs sklearn LinearRegression |"
    )
    print("|---|---|---|---|")
    for name, seconds in times.items():
        model = results[name]
        if isinstance(model, Exception):
            print(f"| {name} | failed | {type(model).__name__}: {model} | |")
            continue
        coef = np.append(model.coef_, model.intercept_)
        vs_onestep = max_rel_diff(coef, reference_onestep)
        vs_sklearn = max_rel_diff(coef, reference_sklearn)
        print(f"| {name} | {seconds:.3f} | {vs_onestep:.1e} | {vs_sklearn:.1e} |")
    ratio = (
        times.get("dask_ml LinearRegression (default)", np.nan)
        / times["OneStepRegressor (dask)"]
    )
    print(f"\ndask-ml default / OneStepRegressor time ratio: {ratio:.1f}x")
    print(
        "(coefficients include the intercept; dask-ml's default is an L2-penalised "
        "ADMM fit, C=1.0)"
    )


if __name__ == "__main__":
    main()
