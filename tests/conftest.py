"""Test configuration shared by the suite."""

import contextlib

from hypothesis import settings

# Property tests draw the same examples on every run, so a CI result is
# reproducible on any machine (and a failure replays exactly).
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.load_profile("deterministic")


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
