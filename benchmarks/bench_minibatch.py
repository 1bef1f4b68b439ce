"""Mini-batch defaults against ``SGDRegressor()``: time and R², one run.

``IterativeGDRegressor(batch_size=b, random_state=s)`` with every other
parameter at its default against ``SGDRegressor(random_state=s)`` on the same
data; the two alternate within every repeat (one seed per repeat, the same
for both) and the time ratio is the ratio of the medians. Goal (issue 17):
at most 3x the time of ``SGDRegressor()`` at an R² at least its own.

    python benchmarks/bench_minibatch.py           # up to 200,000 x 50 (~2 min)
    python benchmarks/bench_minibatch.py --quick   # without the largest
    python benchmarks/bench_minibatch.py --floor   # where diabetes' time goes
"""

import argparse
import platform
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor


def correlated(n_samples, n_features, seed=0):
    """Standardised correlated columns (condition number about 2e5), a
    linear target with noise (R² about 0.8) and an offset."""
    rng = np.random.default_rng(seed)
    mixing = np.eye(n_features) + 0.3 * rng.standard_normal((n_features,) * 2)
    X = StandardScaler().fit_transform(
        rng.standard_normal((n_samples, n_features)) @ mixing
    )
    y = X @ rng.standard_normal(n_features) + 3 * rng.standard_normal(n_samples)
    return X, y + 10


def real_like(n_samples, seed=0):
    """As the CLI prepares a table: standardised numeric columns (gaps
    imputed by the median, a near-duplicate pair), a boolean, a full one-hot
    block with rare levels beside the intercept (rank-deficient)."""
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal((2, n_samples))
    gaps = rng.standard_normal(n_samples)
    gaps[rng.random(n_samples) < 0.2] = 0.0
    near = a + 1e-3 * rng.standard_normal(n_samples)
    flag = rng.random(n_samples) < 0.3
    shares = np.array([0.5, 0.2, 0.1, 0.1, 0.05, 0.03, 0.015, 0.005])
    level = rng.choice(shares.size, size=n_samples, p=shares)
    X = np.column_stack([a, b, gaps, near, flag, np.eye(shares.size)[level]])
    effects = rng.normal(0, 2, shares.size)
    y = 1.5 * a - b + 0.5 * gaps + 2 * flag + effects[level] + 5
    return X, y + rng.standard_normal(n_samples)


def compare(label, X, y, batch_size, repeats):
    times = {"ours": [], "sgd": []}
    scores = {"ours": [], "sgd": []}
    epochs = {"ours": [], "sgd": []}
    stops = []
    for seed in range(repeats):
        contenders = {
            "ours": IterativeGDRegressor(batch_size=batch_size, random_state=seed),
            "sgd": SGDRegressor(random_state=seed),
        }
        for name, model in contenders.items():
            with warnings.catch_warnings(record=True) as record:
                warnings.simplefilter("always")
                start = time.perf_counter()
                model.fit(X, y)
                times[name].append(time.perf_counter() - start)
            if name == "ours":
                stops.append(model.stop_reason_ + "*" * len(record))
            scores[name].append(model.score(X, y))
            epochs[name].append(model.n_iter_)
    best = LinearRegression().fit(X, y).score(X, y)
    ours, sgd = (float(np.median(times[k])) for k in ("ours", "sgd"))
    wins = sum(a >= b for a, b in zip(scores["ours"], scores["sgd"], strict=True))
    print(
        f"| {label} | {batch_size} | {1e3 * ours:.1f} ms | {1e3 * sgd:.1f} ms | "
        f"{ours / sgd:.2f}x | {np.mean(scores['ours']):.5f} | "
        f"{np.mean(scores['sgd']):.5f} | {best:.5f} | {wins}/{repeats} | "
        f"{int(np.median(epochs['ours']))} / {int(np.median(epochs['sgd']))} | "
        f"{', '.join(sorted(set(stops)))} |"
    )


def floor(repeats=30):
    """Where a diabetes fit with ``batch_size=32`` spends its time, against
    the floor of any exact Python loop over the same batches: the epochs
    (``minibatch.GatheredEpoch.run``), the rest of the fit (validation,
    statistics, rates, the stop rule), and a bare numpy loop of the same
    epochs and batches (``X_b @ w − y_b``, ``X_b.T @ r``, the step)."""
    from onestep_sklearn._solvers import minibatch

    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    spent, run = [0.0], minibatch.GatheredEpoch.run

    def timed(self, *args):
        start = time.perf_counter()
        result = run(self, *args)
        spent[0] += time.perf_counter() - start
        return result

    minibatch.GatheredEpoch.run = timed
    fits, sgds, epochs_in, batches = [], [], [], 0
    for seed in range(repeats):
        spent[0] = 0.0
        start = time.perf_counter()
        model = IterativeGDRegressor(batch_size=32, random_state=seed).fit(X, y)
        fits.append(time.perf_counter() - start)
        epochs_in.append(spent[0])
        start = time.perf_counter()
        SGDRegressor(random_state=seed).fit(X, y)
        sgds.append(time.perf_counter() - start)
        batches += model.n_iter_ * -(-len(y) // 32)
    minibatch.GatheredEpoch.run = run
    per_batch = sum(epochs_in) / batches
    w, Y = np.zeros((X.shape[1], 1)), y[:, None] - y.mean()
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for _ in range(batches // -(-len(y) // 32)):
        order = rng.permutation(len(y))
        Xe, Ye = X[order], Y[order]
        for lo in range(0, len(y), 32):
            r = Xe[lo : lo + 32] @ w - Ye[lo : lo + 32]
            w -= 1e-3 * (Xe[lo : lo + 32].T @ r)
    bare = (time.perf_counter() - start) / batches
    fit, sgd = np.median(fits), np.median(sgds)
    epochs = np.median(epochs_in)
    batch_count = batches / repeats
    print(
        f"diabetes b=32, {repeats} seeds (medians): fit {1e3 * fit:.2f} ms, "
        f"SGDRegressor {1e3 * sgd:.2f} ms ({fit / sgd:.1f}x); epochs "
        f"{1e3 * epochs:.2f} ms ({batch_count:.0f} batches a fit, "
        f"{1e6 * per_batch:.1f} us a batch), the rest {1e3 * (fit - epochs):.2f} "
        f"ms; a bare numpy loop {1e6 * bare:.1f} us a batch: the same batches "
        f"{1e3 * bare * batch_count:.2f} ms, floor with our fixed cost "
        f"{(bare * batch_count + fit - epochs) / sgd:.1f}x SGDRegressor"
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--floor", action="store_true")
    args = parser.parse_args()
    if args.floor:
        floor()
        return
    print(
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}\n"
    )
    print(
        "| data | batch | ours | SGDRegressor | ratio | R² ours | R² SGD | "
        "R² exact | ours ≥ SGD | epochs (median) | stop |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    compare("diabetes (standardised) 442 × 10", X, y, 32, 15)
    compare("real-like table 3,000 × 13", *real_like(3000), 32, 10)
    compare("real-like table 3,000 × 13", *real_like(3000), 256, 10)
    compare("correlated 20,000 × 50", *correlated(20_000, 50), 256, 7)
    if not args.quick:
        compare("correlated 200,000 × 50", *correlated(200_000, 50), 256, 3)


if __name__ == "__main__":
    main()
