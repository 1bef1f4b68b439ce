"""The estimators on a device (torch CUDA, CuPy) against the device's own
floor: the bare ``X.T @ X`` and ``torch.linalg.lstsq``.

Under ``sklearn.set_config(array_api_dispatch=True)`` (with ``SCIPY_ARRAY_API=1``
set before scipy is imported, which this script does), ``OneStepRegressor().fit``
and ``IterativeGDRegressor().fit`` keep X on its device: the O(n·d²) Gram and
the data passes run there; the d × d solve runs on the host. Each contender is
timed after a warm-up, synchronised, the median of ``--repeats`` runs in turn.
Accuracy: coefficients and predictions against the float64 exact least
squares of the same (device) data, relative to their largest magnitude.

    python benchmarks/bench_gpu.py                # 5e6 × 128 float32, 1e6 × 512 float64
    python benchmarks/bench_gpu.py --smoke        # small sizes, torch on the CPU
    python benchmarks/bench_gpu.py --smoke --case 1e6 64 float32   # a case of its own

The goal where a GPU runs it: each fit within 1.5× the device Gram.
"""

import argparse
import os
import platform
import time

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is imported

import numpy as np  # noqa: E402
import sklearn  # noqa: E402

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor  # noqa: E402

FULL = [(5_000_000, 128, "float32"), (1_000_000, 512, "float64")]
SMOKE = [(20_000, 16, "float32"), (5_000, 32, "float64")]
ROW = "{:28} {:>9} {:>7} {:>9} {:>9}"
ERRORS = ("coef_err", "pred_err")


class Backend:
    """One namespace on one device: data, synchronisation, conversions."""

    def __init__(self, name, device):
        self.name, self.device = name, device
        if name == "cupy":
            import cupy

            self.lib = cupy
        else:
            import torch

            self.lib = torch

    def __str__(self):
        return f"{self.name}:{self.device}"

    def sync(self):
        if self.name == "cupy":
            self.lib.cuda.runtime.deviceSynchronize()
        elif self.device.startswith("cuda"):
            self.lib.cuda.synchronize()

    def data(self, n_samples, n_features, dtype, seed=0):
        """X = N(0,1)·U(0.5, 2) + U(−1, 1) per column, y linear plus noise,
        made on the device (no host copy of X)."""
        if self.name == "cupy":
            rng = self.lib.random.default_rng(seed)
            X = rng.standard_normal((n_samples, n_features), dtype=dtype)
            scale = rng.uniform(0.5, 2.0, n_features).astype(dtype)
            offset = rng.uniform(-1.0, 1.0, n_features).astype(dtype)
            coef = rng.standard_normal(n_features).astype(dtype)
            noise = rng.standard_normal(n_samples, dtype=dtype)
        else:
            torch = self.lib
            generator = torch.Generator(device=self.device).manual_seed(seed)
            kw = {"device": self.device, "dtype": getattr(torch, dtype)}

            def draw(*shape):
                return torch.randn(*shape, generator=generator, **kw)

            def uniform(low, high, size):
                return low + (high - low) * torch.rand(size, generator=generator, **kw)

            X = draw(n_samples, n_features)
            scale, offset = (
                uniform(0.5, 2.0, n_features),
                uniform(-1.0, 1.0, n_features),
            )
            coef, noise = draw(n_features), draw(n_samples)
        X = X * scale + offset
        y = X @ coef + 0.5 + 0.1 * noise
        return X, y

    def float64(self, array):
        if self.name == "cupy":
            return array.astype(self.lib.float64)
        return array.to(self.lib.float64)

    def host(self, array):
        if self.name == "cupy":
            return self.lib.asnumpy(array)
        return array.detach().cpu().numpy()

    def exact(self, X, y):
        """The float64 least squares (intercept fitted) of the device data:
        coefficients, intercept and predictions, on the host."""
        lib = self.lib
        X64, y64 = self.float64(X), self.float64(y)
        x_mean, y_mean = X64.mean(0), y64.mean()
        centred = X64 - x_mean
        gram = centred.T @ centred
        coef = lib.linalg.solve(gram, centred.T @ (y64 - y_mean))
        intercept = y_mean - x_mean @ coef
        return self.host(coef), float(intercept), self.host(X64 @ coef + intercept)

    def lstsq(self, X, y):
        """``torch.linalg.lstsq`` (CuPy's) of ``[X, 1]`` and ``y``."""
        lib = self.lib
        ones = lib.ones((X.shape[0], 1), dtype=X.dtype, device=X.device)
        design = lib.concatenate([X, ones], 1) if self.name == "cupy" else None
        if design is None:
            design = lib.cat([X, ones], 1)
            return lib.linalg.lstsq(design, y[:, None]).solution
        return lib.linalg.lstsq(design, y, rcond=None)[0]


def backends(smoke, names):
    """The backends present: torch CUDA and CuPy; torch CPU for ``--smoke``."""
    found = []
    if "torch" in names:
        try:
            import torch

            if torch.cuda.is_available():
                found.append(Backend("torch", "cuda"))
            elif smoke:
                found.append(Backend("torch", "cpu"))
        except ImportError:
            pass
    if "cupy" in names:
        try:
            import cupy

            if cupy.cuda.runtime.getDeviceCount() > 0:
                found.append(Backend("cupy", "cuda"))
        except Exception:  # no CuPy, or no device for it
            pass
    return found


def median_times(backend, contenders, repeats):
    """Median seconds of each contender (one warm-up run each first)."""
    times = {name: [] for name in contenders}
    results = {}
    for round_ in range(repeats + 1):
        for name, fn in contenders.items():
            backend.sync()
            start = time.perf_counter()
            results[name] = fn()
            backend.sync()
            if round_:  # round 0 warms up (kernels, allocator, BLAS handles)
                times[name].append(time.perf_counter() - start)
    return {name: float(np.median(t)) for name, t in times.items()}, results


def run_case(backend, n_samples, n_features, dtype, repeats):
    X, y = backend.data(n_samples, n_features, dtype)
    coef, intercept, exact = backend.exact(X, y)

    def fit(Estimator):
        def call():
            with sklearn.config_context(array_api_dispatch=True):
                return Estimator().fit(X, y)

        return call

    contenders = {
        "X.T @ X": lambda: X.T @ X,
        "OneStepRegressor().fit": fit(OneStepRegressor),
        "IterativeGDRegressor().fit": fit(IterativeGDRegressor),
        "lstsq": lambda: backend.lstsq(X, y),
    }
    times, results = median_times(backend, contenders, repeats)
    rows = []
    for name, seconds in times.items():
        row = {
            "contender": name,
            "seconds": seconds,
            "vs_gram": seconds / times["X.T @ X"],
        }
        model = results[name]
        if hasattr(model, "coef_"):
            with sklearn.config_context(array_api_dispatch=True):
                prediction = backend.host(model.predict(X)).astype(np.float64)
            fitted = backend.host(model.coef_).astype(np.float64)
            row["coef_err"] = float(
                np.max(np.abs(fitted - coef)) / np.max(np.abs(coef))
            )
            row["pred_err"] = float(
                np.max(np.abs(prediction - exact)) / np.max(np.abs(exact))
            )
        elif name == "lstsq":
            solution = backend.host(model).astype(np.float64).ravel()
            row["coef_err"] = float(
                np.max(np.abs(solution[:-1] - coef)) / np.max(np.abs(coef))
            )
        rows.append(row)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="small sizes, CPU torch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--backends", default="torch,cupy")
    parser.add_argument(
        "--case",
        nargs=3,
        action="append",
        metavar=("N", "D", "DTYPE"),
        help="a case of its own, e.g. --case 1000000 64 float32 (repeatable)",
    )
    args = parser.parse_args(argv)
    found = backends(args.smoke, args.backends.split(","))
    print(f"machine: {platform.machine()}, {platform.platform()}")
    if not found:
        print("no device: neither torch CUDA nor CuPy is present (--smoke: CPU torch)")
        return []
    report = []
    for backend in found:
        cases = SMOKE if args.smoke else FULL
        if args.case:
            cases = [(int(float(n)), int(d), dtype) for n, d, dtype in args.case]
        for n_samples, n_features, dtype in cases:
            title = f"{backend}, {n_samples:,} x {n_features} {dtype}"
            print(f"\n{title}")
            print(ROW.format("contender", "seconds", "x Gram", "coef err", "pred err"))
            for row in run_case(backend, n_samples, n_features, dtype, args.repeats):
                errors = [f"{row[key]:.1e}" if key in row else "" for key in ERRORS]
                print(
                    ROW.format(
                        row["contender"],
                        f"{row['seconds']:.4f}",
                        f"{row['vs_gram']:.2f}",
                        *errors,
                    )
                )
                report.append({"case": title, **row})
    return report


if __name__ == "__main__":
    main()
