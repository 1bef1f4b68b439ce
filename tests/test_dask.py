"""Dask arrays on a real distributed cluster: same models as in memory.

The objective (quoted from ``onestep_sklearn._kernel.objective``)::

    f(w, b) = (1/Σsᵢ) Σ sᵢ (yᵢ − xᵢᵀw − b)²  +  alpha·‖w‖²

A ``distributed.LocalCluster`` with two worker processes is started (and
stopped) by this module. Every fit runs with ``dask.array.Array.__array__``
and ``Array.compute`` made to raise, so any attempt to pull a whole array
into the client fails the test. Newton agrees with the in-memory fit to
rtol 1e-9; converged gradient descent with the in-memory iterates to rounding
and with the exact minimiser to 1e-6.
"""

import contextlib
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, Ridge

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
distributed = pytest.importorskip("distributed")

from conftest import local_cluster_client, make_data  # noqa: E402

from onestep_sklearn import IterativeGDRegressor, OneStepRegressor  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
N_SAMPLES, N_FEATURES = 1000, 5
# Row chunkings of the 1000 samples: even, uneven with a one-row chunk, one
# chunk, many small chunks, and X also split along its columns.
LAYOUTS = {
    "even": (250,) * 4,
    "uneven": (100, 1, 399, 500),
    "one": (1000,),
    "many": (27,) * 37 + (1,),
    "columns": ((250,) * 4, (2, 3)),
}
# On the "uneven" layout the rows 101:500 are exactly one chunk.
ZERO_ROWS = slice(101, 500)


@pytest.fixture(scope="module")
def client():
    with local_cluster_client() as client:
        yield client


@contextlib.contextmanager
def no_pull():
    """Any conversion of a Dask array to NumPy on the client raises."""

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"a Dask array {self.shape} was pulled into the client")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(da.Array, "__array__", refuse)
        patch.setattr(da.Array, "compute", refuse)
        yield


class Methods:
    """The estimators' own methods: validation picks the Dask data source."""

    name = "methods"

    @staticmethod
    def fit(estimator, *args, **kwargs):
        return estimator.fit(*args, **kwargs)

    @staticmethod
    def partial_fit(estimator, *args, **kwargs):
        return estimator.partial_fit(*args, **kwargs)

    @staticmethod
    def predict(estimator, X):
        return estimator.predict(X)


@pytest.fixture(params=[Methods], ids=lambda r: r.name)
def route(request, client):
    return request.param


def dask_data(n_outputs=None, seed=0, spread=(0.5, 2.0)):
    """:func:`conftest.make_data` at this file's size, column scales within
    ``spread`` (so cond(H) is at most about their ratio squared)."""
    return make_data(
        N_SAMPLES, N_FEATURES, n_outputs, seed=seed, offset=3.0, scales=spread
    )


def make_weights(kind, seed=1):
    if kind is None:
        return None
    sample_weight = np.random.default_rng(seed).uniform(0.2, 3.0, N_SAMPLES)
    if kind == "zero_chunk":
        sample_weight[ZERO_ROWS] = 0.0
    return sample_weight


def to_dask(X, y, sample_weight=None, layout="even"):
    """Dask copies; y and the weights deliberately in other row chunks."""
    chunks = LAYOUTS[layout]
    X_dask = da.from_array(X, chunks=chunks if layout == "columns" else (chunks, -1))
    y_dask = da.from_array(y, chunks=(300,) + y.shape[1:])
    sw_dask = None if sample_weight is None else da.from_array(sample_weight, 450)
    return X_dask, y_dask, sw_dask


def assert_same_model(actual, expected, rtol):
    assert actual.coef_.shape == expected.coef_.shape
    assert actual.coef_.dtype == expected.coef_.dtype
    assert np.shape(actual.intercept_) == np.shape(expected.intercept_)
    scale = np.max(np.abs(expected.coef_))
    assert_allclose(actual.coef_, expected.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(actual.intercept_, expected.intercept_, rtol=rtol, atol=rtol)
    assert actual.n_features_in_ == expected.n_features_in_


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("weights", [None, "random", "zero_chunk"])
@pytest.mark.parametrize("n_outputs", [None, 2])
def test_newton_equals_in_memory(route, layout, weights, n_outputs):
    X, y = dask_data(n_outputs)
    sample_weight = make_weights(weights)
    expected = OneStepRegressor().fit(X, y, sample_weight)
    with no_pull():
        model = route.fit(OneStepRegressor(), *to_dask(X, y, sample_weight, layout))
    assert_same_model(model, expected, rtol=1e-9)
    assert model.n_iter_ == 1 and model.learning_rate_ == 1.0
    assert_allclose(model.loss_, expected.loss_, rtol=1e-9)
    assert not hasattr(model, "feature_names_in_")


@pytest.mark.parametrize(
    "params",
    [
        {"fit_intercept": False},
        {"alpha": 0.3},
        {"solver": "gradient"},
        {"solver": "gradient", "alpha": 0.1},
        {"solver": "gradient", "learning_rate": 0.01, "fit_intercept": False},
        {"learning_rate": 0.5},
    ],
)
def test_other_parameters_equal_in_memory(route, params):
    X, y = dask_data(2)
    sample_weight = make_weights("random")
    coef_init = np.ones((2, N_FEATURES))
    expected = OneStepRegressor(**params).fit(X, y, sample_weight, coef_init)
    with no_pull():
        model = route.fit(
            OneStepRegressor(**params),
            *to_dask(X, y, sample_weight, "uneven"),
            coef_init=coef_init,
        )
    assert_same_model(model, expected, rtol=1e-9)
    assert_allclose(model.learning_rate_, expected.learning_rate_, rtol=1e-9)
    assert_allclose(model.loss_, expected.loss_, rtol=1e-9)


def test_ridge_reference(route):
    # alpha here is Ridge(alpha=alpha * Σs): the objective times Σs.
    X, y = dask_data()
    sample_weight = make_weights("random")
    ridge = Ridge(alpha=0.2 * sample_weight.sum()).fit(X, y, sample_weight)
    X_dask, y_dask, _ = to_dask(X, y)
    with no_pull():  # weights in memory beside Dask X and y are fine too
        model = route.fit(OneStepRegressor(alpha=0.2), X_dask, y_dask, sample_weight)
    assert_allclose(model.coef_, ridge.coef_, rtol=1e-9)
    assert_allclose(model.intercept_, ridge.intercept_, rtol=1e-9)


def test_float32_and_integer_inputs(route):
    X, y = dask_data()
    X32 = X.astype(np.float32)
    expected = OneStepRegressor().fit(X32, y)
    with no_pull():
        model = route.fit(OneStepRegressor(), *to_dask(X32, y, layout="uneven"))
    assert model.coef_.dtype == np.float32
    assert_same_model(model, expected, rtol=1e-5)
    X_int = np.rint(X * 10).astype(np.int64)
    with no_pull():
        model = route.fit(OneStepRegressor(), *to_dask(X_int, y))
    assert model.coef_.dtype == np.float64
    assert_same_model(model, OneStepRegressor().fit(X_int, y), rtol=1e-9)


def test_ill_conditioned_routes(route):
    """Refinement by a data pass (rcond < 1e-2) and the TSQR fallback
    (singular Gram) match the in-memory solver."""
    X, y = dask_data()
    near = np.column_stack([X, X[:, 0] + 1e-4 * np.sin(np.arange(N_SAMPLES))])
    singular = np.column_stack([X, X[:, :2] @ [1.0, -2.0]])
    for data in (near, singular):
        expected = OneStepRegressor().fit(data, y)
        for alpha in (0.0, 1e-9):
            with no_pull():
                model = route.fit(
                    OneStepRegressor(alpha=alpha), *to_dask(data, y, layout="uneven")
                )
            expected = OneStepRegressor(alpha=alpha).fit(data, y)
            assert_same_model(model, expected, rtol=1e-8)


def test_statistics_are_reduced_on_the_workers(client):
    X, y = dask_data()
    workers = set(client.scheduler_info()["workers"])
    with distributed.get_task_stream(client) as stream, no_pull():
        OneStepRegressor().fit(*to_dask(X, y, layout="uneven"))
    names = [
        str(task["key"][0] if isinstance(task["key"], tuple) else task["key"])
        for task in stream.data
    ]
    assert sum(name.startswith("_stats_block") for name in names) == 4
    assert sum(name.startswith("_merge_checked") for name in names) == 3
    assert {task["worker"] for task in stream.data} <= workers


@pytest.mark.parametrize("precompute", [True, "auto", False])
@pytest.mark.parametrize("n_outputs", [None, 2])
def test_gradient_descent_equals_in_memory(route, precompute, n_outputs):
    # Nearly isotropic columns: GD converges in a few dozen iterations, each
    # one a round trip to the cluster when precompute=False.
    X, y = dask_data(n_outputs, spread=(0.9, 1.1))
    sample_weight = make_weights("zero_chunk")
    params = dict(precompute=precompute, tol=1e-12, max_iter=200)
    expected = IterativeGDRegressor(**params).fit(X, y, sample_weight)
    with no_pull():
        model = route.fit(
            IterativeGDRegressor(**params), *to_dask(X, y, sample_weight, "uneven")
        )
    # The same iterates up to rounding ...
    assert_same_model(model, expected, rtol=1e-9)
    assert abs(model.n_iter_ - expected.n_iter_) <= 1
    assert_allclose(model.lipschitz_, expected.lipschitz_, rtol=1e-9)
    assert_allclose(model.learning_rate_, expected.learning_rate_, rtol=1e-9)
    # ... and converged to the exact minimiser.
    exact = LinearRegression().fit(X, y, sample_weight)
    scale = np.max(np.abs(exact.coef_))
    assert_allclose(model.coef_, exact.coef_, rtol=1e-6, atol=1e-6 * scale)
    assert_allclose(model.intercept_, exact.intercept_, rtol=1e-6)


def test_gradient_descent_momentum_float32(route):
    X, y = dask_data()
    X32 = X.astype(np.float32)
    params = dict(momentum=0.5, nesterov=True, tol=1e-9, max_iter=300, alpha=0.01)
    expected = IterativeGDRegressor(**params).fit(X32, y)
    with no_pull():
        model = route.fit(IterativeGDRegressor(**params), *to_dask(X32, y))
    assert model.coef_.dtype == np.float32
    assert_same_model(model, expected, rtol=1e-5)


def test_one_step_partial_fit_is_exact(route):
    X, y = dask_data(2)
    sample_weight = make_weights("zero_chunk")
    X_dask, y_dask, sw_dask = to_dask(X, y, sample_weight, "uneven")
    model = OneStepRegressor()
    bounds = [0, 300, 640, N_SAMPLES]  # each chunk has some of the zero weights
    for start, stop in zip(bounds[:-1], bounds[1:]):
        rows = slice(start, stop)
        with no_pull():
            route.partial_fit(model, X_dask[rows], y_dask[rows], sw_dask[rows])
    assert_same_model(model, OneStepRegressor().fit(X, y, sample_weight), rtol=1e-9)
    # The statistics are the in-memory partial_fit's: Dask and NumPy chunks mix.
    mixed = OneStepRegressor()
    route.partial_fit(mixed, X_dask[:500], y_dask[:500], sw_dask[:500])
    mixed.partial_fit(X[500:], y[500:], sample_weight[500:])
    assert_same_model(mixed, model, rtol=1e-9)


def test_iterative_partial_fit_equals_in_memory(route):
    X, y = dask_data()
    X_dask, y_dask, _ = to_dask(X, y, layout="uneven")
    model, expected = IterativeGDRegressor(), IterativeGDRegressor()
    for rows in (slice(0, 300), slice(300, 1000), slice(0, 1000)):
        with no_pull():
            route.partial_fit(model, X_dask[rows], y_dask[rows])
        expected.partial_fit(X[rows], y[rows])
        assert_same_model(model, expected, rtol=1e-9)
    assert_allclose(model.loss_curve_, expected.loss_curve_, rtol=1e-9)
    assert model.n_iter_ == expected.n_iter_ == 3


@pytest.mark.parametrize("n_outputs", [None, 1, 2])
def test_predict_is_lazy_and_equal(route, client, n_outputs):
    X, y = dask_data(n_outputs)
    if n_outputs == 1:
        y = y[:, :1]
    expected = OneStepRegressor().fit(X, y)
    X_dask = to_dask(X, y, layout="uneven")[0]
    with distributed.get_task_stream(client) as stream, no_pull():
        y_pred = route.predict(expected, X_dask)
    assert stream.data == []  # nothing ran
    assert isinstance(y_pred, da.Array)
    assert y_pred.shape == expected.predict(X).shape
    assert y_pred.chunks[0] == LAYOUTS["uneven"]
    assert_allclose(y_pred.compute(), expected.predict(X), rtol=1e-12)
    assert y_pred.dtype == y_pred.compute().dtype


def test_dask_dataframe_keeps_feature_names(route):
    pd = pytest.importorskip("pandas")
    dd = pytest.importorskip("dask.dataframe")
    X, y = dask_data()
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(N_FEATURES)])
    expected = OneStepRegressor().fit(frame, y)
    X_dd = dd.from_pandas(frame, npartitions=3)
    y_dd = dd.from_pandas(pd.Series(y), npartitions=3)
    with no_pull():
        model = route.fit(OneStepRegressor(), X_dd, y_dd)
    assert list(model.feature_names_in_) == list(frame.columns)
    assert_same_model(model, expected, rtol=1e-9)


def nan_at(array, row):
    array = array.copy()
    array[(row,) + (0,) * (array.ndim - 1)] = np.nan
    return array


@pytest.mark.parametrize(
    "make_inputs, message",
    [
        (lambda X, y, w: (nan_at(X, 700), y, w), "Input X contains NaN"),
        (lambda X, y, w: (X, nan_at(y, 3), w), "Input y contains NaN"),
        (lambda X, y, w: (X, y, np.where(y > y.mean(), -1, w)), "Negative values"),
        (lambda X, y, w: (X, y, 0 * w), "non-zero number|sums to zero"),
        (lambda X, y, w: (X, y[:-1], w), "inconsistent numbers of samples"),
        (lambda X, y, w: (X, y, w[:-1]), r"sample_weight.shape"),
        (lambda X, y, w: (X[:, 0], y, w), "Expected 2D array"),
    ],
)
def test_invalid_inputs_raise_like_in_memory(route, make_inputs, message):
    X, y = dask_data()
    inputs = make_inputs(X, y, make_weights("random"))
    with pytest.raises(ValueError, match=message):
        OneStepRegressor().fit(*inputs)
    X_dask = da.from_array(inputs[0], chunks=300)
    with pytest.raises(ValueError, match=message), no_pull():
        route.fit(OneStepRegressor(), X_dask, *inputs[1:])


@pytest.mark.parametrize("Estimator", [OneStepRegressor, IterativeGDRegressor])
@pytest.mark.parametrize("precompute", [True, False])
def test_extreme_magnitudes_raise_a_clear_error(route, Estimator, precompute):
    # In memory such data are fitted in rescaled units; on Dask they are not
    # (yet): rather than a silent zero or infinity, the error says what to do.
    X, y = dask_data()
    params = {"precompute": precompute} if Estimator is IterativeGDRegressor else {}
    if Estimator is OneStepRegressor and not precompute:
        params = {"solver": "gradient"}
    cases = [
        (X * 1e160, y, "X is finite but its moments overflow float64: rescale X"),
        (X, y * 1e160, "moments overflow float64: rescale y"),
        (X * 1e-170, y, "X has a column of extreme magnitude"),
    ]
    for X_case, y_case, message in cases:
        if not precompute and "rescale y" in message:
            continue  # the means of y do not overflow; the run then diverges
        with pytest.raises(ValueError, match=message), no_pull():
            route.fit(Estimator(**params), *to_dask(X_case, y_case))


def test_mixed_extreme_columns_raise_without_a_runtime_warning():
    # One column at 1e200 and one at 1e-200 beside ordinary ones: the merge of
    # the blocks' statistics overflows, and the error is the only word of it.
    # In this process (the synchronous scheduler), where a RuntimeWarning of
    # the merge would reach the caller.
    X, y = dask_data()
    X = X.copy()
    X[:, 0] *= 1e200
    X[:, 1] *= 1e-200
    with warnings.catch_warnings(), dask.config.set(scheduler="sync"):
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="extreme magnitude"), no_pull():
            OneStepRegressor().fit(*to_dask(X, y))


def test_unknown_chunks_and_unsupported_options(route):
    X, y = dask_data()
    X_dask, y_dask, _ = to_dask(X, y)
    keep = X_dask[:, 0] > 0
    with pytest.raises(ValueError, match=r"compute_chunk_sizes\(\)"):
        route.fit(OneStepRegressor(), X_dask[keep], y_dask[keep])
    for params in ({"batch_size": 10}, {"early_stopping": True}):
        with pytest.raises(ValueError, match="not supported on Dask arrays"):
            route.fit(IterativeGDRegressor(**params), X_dask, y_dask)
    with pytest.raises(ValueError, match="solver"):
        route.fit(OneStepRegressor(solver="lbfgs"), X_dask, y_dask)
    model = route.fit(OneStepRegressor(), X_dask, y_dask)
    with pytest.raises(ValueError, match="features"):
        route.predict(model, X_dask[:, :3])


def test_grid_search_on_the_cluster_with_joblib(client):
    """A learning-rate sweep through joblib's Dask backend picks what the
    local run picks, and its fits ran on the workers."""
    import joblib
    from sklearn.model_selection import GridSearchCV

    X, y = dask_data()
    grid = {"learning_rate": [0.005, 0.02, 0.05, 0.1, 0.2]}

    def search(**kwargs):
        estimator = IterativeGDRegressor(max_iter=20, tol=None)
        return GridSearchCV(estimator, grid, cv=3, **kwargs).fit(X, y)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the large rates diverge, by design
        local = search()
        with (
            distributed.get_task_stream(client) as stream,
            joblib.parallel_config(backend="dask"),
        ):
            remote = search(n_jobs=-1)
    assert remote.best_params_ == local.best_params_
    assert_allclose(
        remote.cv_results_["mean_test_score"],
        local.cv_results_["mean_test_score"],
        rtol=1e-12,
    )
    assert len(stream.data) >= len(grid["learning_rate"])


def test_is_dask_collection_never_imports_dask():
    code = (
        "import sys, numpy as np\n"
        "from onestep_sklearn._data import dask_checks\n"
        "assert not dask_checks.is_dask_collection(np.ones(3))\n"
        "assert 'dask' not in sys.modules, 'dask was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def scaling_out_section():
    return (ROOT / "doc" / "guide" / "scaling.md").read_text()


def run_scaling_out_example(index, tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", scaling_out_section(), flags=re.S)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    exec(compile(blocks[index], "Scaling out", "exec"), namespace)
    model, expected = namespace["model"], namespace["expected"]
    assert_allclose(model.coef_, expected.coef_, rtol=1e-9)
    assert_allclose(model.intercept_, expected.intercept_, rtol=1e-9)
    return namespace


def test_scaling_out_memmap_example(tmp_path, monkeypatch):
    namespace = run_scaling_out_example(0, tmp_path, monkeypatch)
    assert isinstance(namespace["X"], np.memmap)


@pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")
def test_scaling_out_cluster_example(tmp_path, monkeypatch):
    namespace = run_scaling_out_example(1, tmp_path, monkeypatch)
    assert isinstance(namespace["y_pred"], da.Array)
