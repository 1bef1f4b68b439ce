"""The backend contract: every public route gives the same model on numpy
and on Dask (the same kernel, solver and stop rule behind one data seam).

Most cases run Dask's synchronous scheduler (same code, no processes); a few
run on a real ``distributed.LocalCluster`` with worker processes. Models
must agree to rtol 1e-10 (the order of the floating-point sums differs:
one stream in memory, a tree of per-chunk merges on Dask), with the same
warnings and the same errors.
"""

import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose

da = pytest.importorskip("dask.array")
dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")

from conftest import StopAfterFive, local_cluster_client  # noqa: E402

from onestep_sklearn import (  # noqa: E402
    IterativeGDRegressor,
    IterativeGDRegressorCV,
    OneStepRegressor,
)

try:  # scikit-learn >= 1.9
    from sklearn import callback
except ImportError:
    callback = None

RTOL = 1e-10
CHUNKS = (170, 230, 100, 300)  # uneven row chunks of 800 rows


@pytest.fixture(autouse=True)
def synchronous():
    with dask.config.set(scheduler="synchronous"):
        yield


@pytest.fixture(scope="module")
def cluster_client():
    with local_cluster_client(set_as_default=False) as client:
        yield client


def make_case(kind, seed=0):
    """``(X, y, sample_weight)`` of one data case, 800 rows."""
    rng = np.random.default_rng(seed)
    n = sum(CHUNKS)
    X = rng.normal(size=(n, 4)) * [1.0, 2.0, 0.5, 1.5] + [3.0, -1.0, 0.5, 2.0]
    coef = np.array([1.0, -2.0, 0.5, 3.0])
    weights = None
    if kind == "weighted":
        weights = rng.uniform(0.2, 3.0, n)
        weights[170:400] = 0.0  # a whole chunk of zero weight, and more
    if kind == "constant":
        X[:, 2] = 1e8 + 0.1
    if kind == "collinear":
        X[:, 3] = X[:, 0] + 1e-7 * rng.normal(size=n)
    y = X @ coef + 0.5 + 0.1 * rng.normal(size=n)
    if kind == "multioutput":
        y = np.column_stack([y, X @ coef[::-1] - 1.0, 0.3 * y])
    return X, y, weights


def case_rtol(X, case):
    """The agreement to expect: 1e-10, or for near-collinear columns the
    accuracy of the problem itself, cond(Xc)·eps (about 6e-9 here), since
    the backends sum in different orders (both are that close to lstsq)."""
    if case != "collinear":
        return RTOL
    centred = X - X.mean(axis=0)
    return max(RTOL, np.linalg.cond(centred) * np.finfo(np.float64).eps)


def to_dask(X, y, sample_weight=None):
    rows = (CHUNKS,)
    X_dask = da.from_array(X, chunks=rows + (X.shape[1],))
    y_dask = da.from_array(y, chunks=rows + y.shape[1:])
    sw = None if sample_weight is None else da.from_array(sample_weight, chunks=rows)
    return X_dask, y_dask, sw


def run(method, estimator, *args, **kwargs):
    """Call a method; return ``(estimator or error, warning texts)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = getattr(estimator, method)(*args, **kwargs)
        except ValueError as error:
            result = error
    return result, sorted(f"{w.category.__name__}: {w.message}" for w in caught)


def assert_same_outcome(memory, on_dask, rtol=RTOL):
    (model, memory_warnings), (dask_model, dask_warnings) = memory, on_dask
    assert memory_warnings == dask_warnings
    if isinstance(model, Exception):
        assert type(dask_model) is type(model)
        assert str(dask_model) == str(model)
        return
    scale = np.max(np.abs(model.coef_))
    assert_allclose(dask_model.coef_, model.coef_, rtol=rtol, atol=rtol * scale)
    assert_allclose(dask_model.intercept_, model.intercept_, rtol=rtol, atol=rtol)
    for name in ("n_iter_", "stop_reason_", "learning_rate_", "lipschitz_"):
        if hasattr(model, name):
            assert getattr(dask_model, name) == pytest.approx(getattr(model, name))


ROUTES = {
    "newton": lambda: OneStepRegressor(),
    "newton-ridge": lambda: OneStepRegressor(alpha=0.3),
    "gradient-auto": lambda: OneStepRegressor(solver="gradient"),
    "gradient-0.01": lambda: OneStepRegressor(solver="gradient", learning_rate=0.01),
    "gd-precompute": lambda: IterativeGDRegressor(max_iter=300, tol=None),
    "gd-data-pass": lambda: IterativeGDRegressor(
        precompute=False, max_iter=60, tol=None
    ),
    "gd-momentum": lambda: IterativeGDRegressor(max_iter=200, momentum=0.5),
    "gd-too-fast": lambda: IterativeGDRegressor(learning_rate=5.0, max_iter=50),
}
CASES = ["plain", "weighted", "multioutput", "constant", "collinear"]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("route", list(ROUTES))
def test_fit_agrees(route, case):
    X, y, sw = make_case(case)
    memory = run("fit", ROUTES[route](), X, y, sample_weight=sw)
    on_dask = run("fit", ROUTES[route](), *to_dask(X, y, sw))
    assert_same_outcome(memory, on_dask, rtol=case_rtol(X, case))


@pytest.mark.parametrize("case", ["plain", "weighted", "multioutput", "collinear"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: OneStepRegressor(),
        lambda: OneStepRegressor(solver="gradient"),
        lambda: IterativeGDRegressor(),
    ],
    ids=["newton", "gradient", "gd"],
)
def test_partial_fit_agrees(make, case):
    X, y, sw = make_case(case)
    X_dask, y_dask, sw_dask = to_dask(X, y, sw)
    memory, on_dask = make(), make()
    bounds = np.cumsum((0,) + CHUNKS)
    for start, stop in zip(bounds[:-1], bounds[1:]):
        rows = slice(start, stop)
        weights = None if sw is None else sw[rows]
        weights_dask = None if sw is None else sw_dask[rows]
        outcome = run("partial_fit", memory, X[rows], y[rows], sample_weight=weights)
        dask_outcome = run(
            "partial_fit",
            on_dask,
            X_dask[rows],
            y_dask[rows],
            sample_weight=weights_dask,
        )
        assert_same_outcome(outcome, dask_outcome, rtol=case_rtol(X, case))


def test_warm_start_and_fit_then_partial_fit_agree():
    X, y, _ = make_case("plain")
    X_dask, y_dask, _ = to_dask(X, y)
    for make in (
        lambda: OneStepRegressor(solver="gradient", warm_start=True),
        lambda: IterativeGDRegressor(max_iter=40, tol=None, warm_start=True),
    ):
        memory, on_dask = make(), make()
        for _ in range(2):  # the second fit starts from the first coef_
            outcome = run("fit", memory, X, y)
            dask_outcome = run("fit", on_dask, X_dask, y_dask)
            assert_same_outcome(outcome, dask_outcome)
    memory = OneStepRegressor().fit(X[:400], y[:400]).partial_fit(X[400:], y[400:])
    on_dask = OneStepRegressor().fit(X_dask[:400], y_dask[:400])
    on_dask.partial_fit(X_dask[400:], y_dask[400:])
    assert_same_outcome((memory, []), (on_dask, []))
    assert_same_outcome((memory, []), (OneStepRegressor().fit(X, y), []))


def test_errors_agree():
    X, y, _ = make_case("plain")
    bad_y = y.copy()
    bad_y[5] = np.nan
    bad_X = X.copy()
    bad_X[7, 1] = np.inf
    negative = np.ones_like(y)
    negative[3] = -1.0
    for args in [(X, bad_y, None), (bad_X, y, None), (X, y, negative)]:
        for make in (OneStepRegressor, IterativeGDRegressor):
            assert_same_outcome(
                run("fit", make(), *args[:2], sample_weight=args[2]),
                run("fit", make(), *to_dask(*args)),
            )
    # Mini-batches and early stopping need row access: a clear error on Dask.
    for params in ({"batch_size": 10}, {"early_stopping": True}):
        error, _ = run("fit", IterativeGDRegressor(**params), *to_dask(X, y)[:2])
        assert isinstance(error, ValueError)
        assert "not supported on Dask arrays" in str(error)


# ---------------------------------------------------------------------------
# The three drifts that one seam removed, as regression tests.


def test_constant_column_coefficient_is_exactly_zero_on_both():
    X, y, _ = make_case("constant")
    params = {"precompute": False, "max_iter": 300, "tol": None}
    memory = IterativeGDRegressor(**params).fit(X, y)
    on_dask = IterativeGDRegressor(**params).fit(*to_dask(X, y)[:2])
    assert memory.coef_[2] == 0.0
    assert on_dask.coef_[2] == 0.0


def test_partial_fit_keeps_the_digits_on_dask_too():
    # Near-collinear columns in 4 chunks: the merged QR factor is carried on
    # both backends (before, Dask merged the Gram only: 2e-4 error).
    X, y, _ = make_case("collinear")
    centred = X - X.mean(axis=0)
    reference = np.linalg.lstsq(centred, y - y.mean(), rcond=None)[0]
    X_dask, y_dask, _ = to_dask(X, y)
    errors = []
    for data in ((X, y), (X_dask, y_dask)):
        model = OneStepRegressor()
        bounds = np.cumsum((0,) + CHUNKS)
        for start, stop in zip(bounds[:-1], bounds[1:]):
            model.partial_fit(data[0][start:stop], data[1][start:stop])
        errors.append(np.max(np.abs(model.coef_ - reference) / np.abs(reference)))
    assert max(errors) < 1e-8, errors


@pytest.mark.skipif(callback is None, reason="this scikit-learn has no callback API")
def test_a_callback_stops_the_run_on_both():
    X, y, _ = make_case("plain")
    models = []
    for data in ((X, y), to_dask(X, y)[:2]):
        model = IterativeGDRegressor(max_iter=100, tol=None)
        model.set_callbacks(StopAfterFive()).fit(*data)
        models.append(model)
    assert [m.n_iter_ for m in models] == [5, 5]
    assert [m.stop_reason_ for m in models] == ["callback", "callback"]
    assert_allclose(models[1].coef_, models[0].coef_, rtol=RTOL)


# ---------------------------------------------------------------------------
# A real cluster: worker processes on 127.0.0.1.


@pytest.mark.parametrize("route", ["newton", "gradient-auto", "gd-data-pass"])
def test_fit_agrees_on_a_local_cluster(cluster_client, route):
    X, y, sw = make_case("weighted")
    memory = run("fit", ROUTES[route](), X, y, sample_weight=sw)
    with cluster_client.as_current(), dask.config.set(scheduler=cluster_client.get):
        on_dask = run("fit", ROUTES[route](), *to_dask(X, y, sw))
    assert_same_outcome(memory, on_dask)


def test_partial_fit_agrees_on_a_local_cluster(cluster_client):
    X, y, _ = make_case("collinear")
    X_dask, y_dask, _ = to_dask(X, y)
    memory, on_dask = OneStepRegressor(), OneStepRegressor()
    with cluster_client.as_current(), dask.config.set(scheduler=cluster_client.get):
        for rows in (slice(0, 400), slice(400, 800)):
            memory.partial_fit(X[rows], y[rows])
            on_dask.partial_fit(X_dask[rows], y_dask[rows])
    assert_same_outcome((memory, []), (on_dask, []), rtol=case_rtol(X, "collinear"))


# ---------------------------------------------------------------------------
# The third source: an array API namespace (torch on the CPU here; the same
# source serves CuPy and CUDA), under scikit-learn's array API dispatch.


class _OnHost:
    """The attributes assert_same_outcome reads, from a model fitted on
    torch, as numpy."""

    def __init__(self, model):
        for name in ("n_iter_", "stop_reason_", "learning_rate_", "lipschitz_"):
            if hasattr(model, name):
                setattr(self, name, getattr(model, name))
        self.coef_ = model.coef_.numpy()
        self.intercept_ = model.intercept_.numpy()


def run_on_torch(method, estimator, *args, **kwargs):
    """:func:`run` with every numpy argument as a torch tensor, dispatched."""
    torch = pytest.importorskip("torch")

    def convert(value):
        return torch.asarray(value) if isinstance(value, np.ndarray) else value

    args = [convert(value) for value in args]
    kwargs = {name: convert(value) for name, value in kwargs.items()}
    with sklearn.config_context(array_api_dispatch=True):
        result, caught = run(method, estimator, *args, **kwargs)
    if not isinstance(result, Exception):
        assert isinstance(result.coef_, torch.Tensor)
        result = _OnHost(result)
    return result, caught


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("route", list(ROUTES))
def test_fit_agrees_on_the_array_api(route, case):
    X, y, sw = make_case(case)
    memory = run("fit", ROUTES[route](), X, y, sample_weight=sw)
    on_torch = run_on_torch("fit", ROUTES[route](), X, y, sample_weight=sw)
    assert_same_outcome(memory, on_torch, rtol=case_rtol(X, case))


@pytest.mark.parametrize("case", ["plain", "weighted", "multioutput", "collinear"])
@pytest.mark.parametrize(
    "make",
    [
        lambda: OneStepRegressor(),
        lambda: OneStepRegressor(solver="gradient"),
        lambda: IterativeGDRegressor(),
        lambda: IterativeGDRegressor(batch_size=64, shuffle=False),
    ],
    ids=["newton", "gradient", "gd", "minibatch"],
)
def test_partial_fit_agrees_on_the_array_api(make, case):
    X, y, sw = make_case(case)
    memory, on_torch = make(), make()
    bounds = np.cumsum((0,) + CHUNKS)
    for start, stop in zip(bounds[:-1], bounds[1:]):
        rows = slice(start, stop)
        weights = None if sw is None else sw[rows]
        outcome = run("partial_fit", memory, X[rows], y[rows], sample_weight=weights)
        torch_outcome = run_on_torch(
            "partial_fit", on_torch, X[rows], y[rows], sample_weight=weights
        )
        assert_same_outcome(outcome, torch_outcome, rtol=case_rtol(X, case))


def test_errors_agree_on_the_array_api():
    X, y, _ = make_case("plain")
    bad_y = y.copy()
    bad_y[5] = np.nan
    bad_X = X.copy()
    bad_X[7, 1] = np.inf
    negative = np.ones_like(y)
    negative[3] = -1.0
    zero = np.zeros_like(y)
    for X_, y_, sw in [
        (X, bad_y, None),
        (bad_X, y, None),
        (X, y, negative),
        (X, y, zero),
    ]:
        for make in (OneStepRegressor, IterativeGDRegressor, IterativeGDRegressorCV):
            memory = run("fit", make(), X_, y_, sample_weight=sw)
            assert isinstance(memory[0], ValueError)
            assert_same_outcome(
                memory, run_on_torch("fit", make(), X_, y_, sample_weight=sw)
            )


def test_y_past_float32_agrees_on_the_array_api():
    X, y, _ = make_case("plain")
    X32, y_huge = X.astype(np.float32), y * 1e39
    memory = run("fit", OneStepRegressor(), X32, y_huge)
    assert isinstance(memory[0], ValueError)
    assert_same_outcome(memory, run_on_torch("fit", OneStepRegressor(), X32, y_huge))


def test_mini_batches_and_early_stopping_agree_on_the_array_api():
    X, y, sw = make_case("weighted")
    for params in (
        {"batch_size": 50, "random_state": 0, "max_iter": 20},
        {"early_stopping": True, "random_state": 0},
    ):
        memory = run("fit", IterativeGDRegressor(**params), X, y, sample_weight=sw)
        on_torch = run_on_torch(
            "fit", IterativeGDRegressor(**params), X, y, sample_weight=sw
        )
        assert_same_outcome(memory, on_torch)
