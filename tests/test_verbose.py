"""verbose progress lines, and scikit-learn's callback API (1.9, experimental)."""

import re
import warnings

import numpy as np
import pytest
from conftest import StopAfterFive
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor

LINE = re.compile(
    r"^iter +(?P<iter>\d+)  objective (?P<objective>\S+)  "
    r"distance <= (?P<distance>\S+)  step (?P<step>\S+)$"
)
FINAL = re.compile(r"^stopped after (\d+) iterations? \((\w+)\)$")


@pytest.fixture(scope="module")
def scaled():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def progress(capsys, est, X, y):
    """Fit, then return the parsed iteration lines and the final line's match."""
    est.fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines, "verbose=1 printed nothing"
    final = FINAL.match(lines[-1])
    assert final, lines[-1]
    parsed = []
    for line in lines[:-1]:
        match = LINE.match(line)
        assert match, line
        parsed.append(match)
    return parsed, final


@pytest.mark.parametrize("precompute", [True, False])
def test_long_run_prints_about_fifty_lines(capsys, scaled, precompute):
    X, y = scaled
    max_iter = 5000 if precompute else 1000
    est = IterativeGDRegressor(
        verbose=1, max_iter=max_iter, tol=None, precompute=precompute
    )
    parsed, final = progress(capsys, est, X, y)
    assert len(parsed) + 1 <= 52
    iterations = [int(m["iter"]) for m in parsed]
    assert iterations[0] == 1 and iterations[-1] == max_iter
    assert iterations == sorted(set(iterations))
    # Spread over the whole run, not bunched at its start.
    assert np.diff(iterations).max() <= max_iter // 10
    assert final.groups() == (str(max_iter), "max_iter")
    assert est.n_iter_ == max_iter


def test_line_content_matches_the_run(capsys, scaled):
    X, y = scaled
    est = IterativeGDRegressor(verbose=1, max_iter=7, tol=None)
    parsed, final = progress(capsys, est, X, y)
    # Short runs print every iteration.
    assert [int(m["iter"]) for m in parsed] == list(range(1, 8))
    curve = est.loss_curve_
    exact = np.linalg.lstsq(X - X.mean(axis=0), y - y.mean(), rcond=None)[0]
    distances = []
    for m in parsed:
        k = int(m["iter"])
        assert float(m["objective"]) == pytest.approx(curve[k - 1], rel=1e-6)
        assert float(m["step"]) == pytest.approx(est.learning_rate_, rel=1e-3)
        # The printed distance certifies the true one of iterate k.
        at_k = IterativeGDRegressor(max_iter=k, tol=None).fit(X, y).coef_
        true = np.linalg.norm(at_k - exact) / np.linalg.norm(exact)
        assert true <= float(m["distance"]) * (1 + 1e-2)
        distances.append(float(m["distance"]))
    assert np.all(np.isfinite(distances))
    assert final.groups() == ("7", "max_iter")


def test_converged_run_says_so(capsys, scaled):
    X, y = scaled
    est = IterativeGDRegressor(verbose=1)
    parsed, final = progress(capsys, est, X, y)
    assert final.groups() == (str(est.n_iter_), "converged")
    assert len(parsed) <= 51
    assert all(int(m["iter"]) <= est.n_iter_ for m in parsed)


def test_minibatch_run_stays_short(capsys, scaled):
    X, y = scaled
    est = IterativeGDRegressor(
        verbose=1, batch_size=64, max_iter=300, tol=None, random_state=0
    )
    parsed, final = progress(capsys, est, X, y)
    assert len(parsed) + 1 <= 52
    assert final.groups() == ("300", "max_iter")


def test_divergence_is_reported(capsys, scaled):
    X, y = scaled
    est = IterativeGDRegressor(verbose=1, learning_rate=3.0)  # 2/L is about 0.25
    with pytest.warns(ConvergenceWarning, match="2/L"):
        parsed, final = progress(capsys, est, X, y)
    assert final.group(2) == "diverged"
    assert float(parsed[0]["step"]) == pytest.approx(3.0)


def test_verbose_zero_prints_nothing(capsys, scaled):
    X, y = scaled
    IterativeGDRegressor(max_iter=50, tol=None).fit(X, y)
    assert capsys.readouterr().out == ""


try:  # scikit-learn >= 1.9
    from sklearn import callback
except ImportError:
    callback = None
needs_callbacks = pytest.mark.skipif(
    callback is None, reason="this scikit-learn has no callback API"
)


class RecordingAutoPropagated:
    """A minimal auto-propagated callback (like ProgressBar, which needs rich)."""

    max_propagation_depth = None

    def __init__(self):
        self.calls = []

    def setup(self, estimator, context):
        self.calls.append(("setup", type(estimator).__name__))

    def on_fit_task_begin(self, estimator, context):
        self.calls.append(("begin", type(estimator).__name__))

    def on_fit_task_end(self, estimator, context):
        self.calls.append(("end", type(estimator).__name__))

    def teardown(self, estimator, context):
        self.calls.append(("teardown", type(estimator).__name__))


@needs_callbacks
def test_callbacks_on_a_pipeline_break_nothing(scaled):
    X, y = scaled
    reference = make_pipeline(StandardScaler(), IterativeGDRegressor()).fit(X, y)
    recorder = RecordingAutoPropagated()
    pipe = make_pipeline(StandardScaler(), IterativeGDRegressor())
    pipe.set_callbacks(recorder)
    with warnings.catch_warnings():
        # Without callback support the pipeline warns that it cannot propagate.
        warnings.filterwarnings("ignore", message=".*does not support callbacks")
        pipe.fit(X, y)
    # With a listener the run takes one iteration per engine call: the same
    # iterates up to rounding.
    np.testing.assert_allclose(pipe.predict(X), reference.predict(X), rtol=1e-12)
    assert ("setup", "Pipeline") in recorder.calls
    assert recorder.calls[-1] == ("teardown", "Pipeline")


@needs_callbacks
@pytest.mark.skipif(
    not hasattr(IterativeGDRegressor, "set_callbacks"),
    reason="IterativeGDRegressor does not support scikit-learn callbacks yet",
)
def test_scoring_monitor_sees_every_iteration(scaled):
    X, y = scaled
    monitor = callback.ScoringMonitor(scoring="r2")
    est = IterativeGDRegressor(max_iter=20, tol=None).set_callbacks(monitor)
    est.fit(X, y)
    rows = [r for r in monitor.get_logs().data if len(r["task_id_path"]) == 2]
    assert len(rows) == est.n_iter_ == 20
    # Training R² is 1 - objective / var(y) (unit weights, alpha = 0).
    r2 = [r["r2"] for r in rows]
    expected = 1 - np.asarray(est.loss_curve_) / np.var(y)
    np.testing.assert_allclose(r2, expected, rtol=1e-9)
    assert r2[-1] == pytest.approx(est.score(X, y), rel=1e-12)


@needs_callbacks
def test_progress_bar_runs_directly_and_in_a_pipeline(scaled):
    pytest.importorskip("rich")
    X, y = scaled
    direct = IterativeGDRegressor(max_iter=30, tol=None)
    direct.set_callbacks(callback.ProgressBar()).fit(X, y)
    plain = IterativeGDRegressor(max_iter=30, tol=None).fit(X, y)
    # One iteration per engine call instead of one chunk: rounding only.
    np.testing.assert_allclose(direct.coef_, plain.coef_, rtol=1e-12)
    pipe = make_pipeline(StandardScaler(), IterativeGDRegressor(max_iter=30, tol=None))
    with warnings.catch_warnings():
        # Supported now: the pipeline must not warn that it cannot propagate.
        warnings.simplefilter("error")
        pipe.set_callbacks(callback.ProgressBar()).fit(X, y)
    assert pipe[-1].n_iter_ == 30


@needs_callbacks
def test_a_callback_can_stop_the_run(scaled):
    X, y = scaled

    est = IterativeGDRegressor(max_iter=100, tol=None).set_callbacks(StopAfterFive())
    est.fit(X, y)
    reference = IterativeGDRegressor(max_iter=5, tol=None).fit(X, y)
    assert est.n_iter_ == 5
    np.testing.assert_allclose(est.coef_, reference.coef_, rtol=1e-12)
