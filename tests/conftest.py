"""Test configuration shared by the suite."""

import os
import sys

# scikit-learn dispatches to the array API (torch, CuPy, array-api-strict) only
# when scipy's own support is on, which scipy reads once, at its import: set it
# before anything imports scipy (pyproject.toml's pytest section names no
# scikit-learn class for that reason), so that tests/test_array_api.py and the
# array API checks of tests/test_common.py run. Nothing else in the suite
# depends on it (the suite passes with and without it).
if "scipy" not in sys.modules:
    os.environ.setdefault("SCIPY_ARRAY_API", "1")

import contextlib  # noqa: E402

import numpy as np  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests draw the same examples on every run, so a CI result is
# reproducible on any machine (and a failure replays exactly).
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.load_profile("deterministic")


def pytest_configure(config):
    # Here, not in pyproject.toml: naming the class imports scikit-learn.
    config.addinivalue_line(
        "filterwarnings", "ignore::sklearn.exceptions.SkipTestWarning"
    )


@contextlib.contextmanager
def local_cluster_client(**client_options):
    """A real ``distributed.LocalCluster`` (two worker processes on
    127.0.0.1, one thread each) and a client of it, stopped on exit."""
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster, **client_options) as client,
    ):
        yield client


class StopAfterFive:
    """A scikit-learn callback that asks the run to stop after 5 iterations."""

    def __init__(self):
        self.ends = 0

    def setup(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        if context.task_name == "iteration":
            self.ends += 1
            return self.ends >= 5
        return False

    def teardown(self, estimator, context):
        pass


def make_data(
    n_samples=50,
    n_features=4,
    n_outputs=None,
    *,
    seed=0,
    offset=2.0,
    scales=None,
    intercept=1.5,
    noise=0.3,
    weighted=False,
):
    """Well-conditioned regression data with non-zero column means.

    ``X = N(0, 1)·u + m`` column by column, with scales ``u ~ U(*scales)``
    (1 when None: cond(H) is then about 1, else at most about the ratio of
    the scales squared) and means ``m ~ N(0, offset²)``; ``y = X·coef +
    intercept + noise·N(0, 1)`` with ``coef ~ N(0, 1)``, 1-D, or of shape
    (n_samples, n_outputs) when ``n_outputs`` is given. ``weighted``: also
    return sample weights drawn from U(0.5, 2). One generator, drawn in this
    order, so each test's data are fixed by its ``seed``.
    """
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features))
    if scales is not None:
        X = X * rng.uniform(*scales, n_features)
    X = X + rng.normal(size=n_features) * offset
    shape = (n_features,) if n_outputs is None else (n_features, n_outputs)
    y = X @ rng.normal(size=shape) + intercept
    y = y + noise * rng.normal(size=(n_samples, *shape[1:]))
    if weighted:
        return X, y, rng.uniform(0.5, 2.0, size=n_samples)
    return X, y
