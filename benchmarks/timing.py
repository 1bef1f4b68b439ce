"""Timing helpers shared by the benchmark scripts (run from this folder)."""

import time

import numpy as np


def timed(fn):
    """Seconds one call of ``fn`` takes."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def alternate(contenders, repeats):
    """Median seconds of each callable, run in turn within every repeat (so
    that the load of a shared machine falls on all of them alike)."""
    times = {name: [] for name in contenders}
    for _ in range(repeats):
        for name, fn in contenders.items():
            times[name].append(timed(fn))
    return {name: float(np.median(t)) for name, t in times.items()}
