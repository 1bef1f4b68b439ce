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
