"""The estimators under scikit-learn's array API dispatch: torch and
array-api-strict on the CPU here (CuPy and CUDA where present); scikit-learn's
own array API checks run in tests/test_common.py.

tests/conftest.py sets SCIPY_ARRAY_API=1 before scipy is imported, which
scikit-learn requires for dispatch.
"""

import os

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose

from onestep_sklearn import (
    IterativeGDRegressor,
    IterativeGDRegressorCV,
    OneStepRegressor,
)
from onestep_sklearn._data.array_api import to_host

torch = pytest.importorskip("torch")
xps = pytest.importorskip("array_api_strict")
array_api_compat = pytest.importorskip("array_api_compat")

ESTIMATORS = [
    OneStepRegressor(),
    OneStepRegressor(solver="gradient"),
    IterativeGDRegressor(),
    IterativeGDRegressor(precompute=False, momentum=0.0, max_iter=300, tol=None),
    IterativeGDRegressor(batch_size=50, shuffle=False, max_iter=5, tol=None),
    IterativeGDRegressor(early_stopping=True, random_state=0),
    IterativeGDRegressorCV(learning_rates=5, max_iter=30),
]


def make_data(n_samples=400, n_features=6, n_outputs=None, seed=0):
    """Well-conditioned columns with offsets, a known linear signal."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)) * rng.uniform(0.5, 2, n_features)
    X += rng.uniform(-1, 1, n_features)
    coef = rng.normal(
        size=(n_features,) if n_outputs is None else (n_features, n_outputs)
    )
    y = X @ coef + 0.5 + 0.1 * rng.normal(size=y_shape(n_samples, n_outputs))
    return X, y


def y_shape(n_samples, n_outputs):
    return n_samples if n_outputs is None else (n_samples, n_outputs)


def host(array):
    """A torch or array-api-strict array (or a number) as numpy."""
    if isinstance(array, (float, np.ndarray, np.generic)):
        return np.asarray(array)
    return to_host(array, array_api_compat.array_namespace(array), dtype=None)


NAMESPACES = {
    "torch": lambda a, dtype: torch.asarray(a, dtype=getattr(torch, dtype)),
    "array_api_strict": lambda a, dtype: xps.asarray(a, dtype=getattr(xps, dtype)),
}


def test_dispatch_is_enabled_for_the_suite():
    # Without it scikit-learn skips every array API check, silently green.
    assert os.environ.get("SCIPY_ARRAY_API") == "1"


# Early stopping ends at the best validation score, with its warning.
@pytest.mark.filterwarnings("ignore:.*stopped early:UserWarning")
@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
@pytest.mark.parametrize("estimator", ESTIMATORS, ids=repr)
def test_same_model_as_numpy_in_float64(estimator, namespace):
    X, y = make_data()
    weights = np.random.default_rng(1).uniform(0.2, 2.0, X.shape[0])
    convert = NAMESPACES[namespace]
    reference = sklearn.clone(estimator).fit(X, y, sample_weight=weights)
    with sklearn.config_context(array_api_dispatch=True):
        model = sklearn.clone(estimator).fit(
            convert(X, "float64"),
            convert(y, "float64"),
            sample_weight=convert(weights, "float64"),
        )
        prediction = model.predict(convert(X, "float64"))
    assert type(model.coef_) is type(convert(X, "float64"))
    assert type(prediction) is type(model.coef_)
    assert_allclose(host(model.coef_), reference.coef_, rtol=1e-10, atol=1e-12)
    assert_allclose(host(model.intercept_), reference.intercept_, rtol=1e-10)
    assert_allclose(host(prediction), reference.predict(X), rtol=1e-10, atol=1e-10)
    assert model.n_iter_ == reference.n_iter_
    assert model.stop_reason_ == reference.stop_reason_


@pytest.mark.parametrize("n_outputs", [None, 1, 3])
def test_multi_output_layout_follows_numpy(n_outputs):
    X, y = make_data(n_outputs=n_outputs)
    reference = OneStepRegressor().fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        model = OneStepRegressor().fit(torch.asarray(X), torch.asarray(y))
        prediction = model.predict(torch.asarray(X))
    assert tuple(model.coef_.shape) == reference.coef_.shape
    assert tuple(prediction.shape) == reference.predict(X).shape
    assert_allclose(host(prediction), reference.predict(X), rtol=1e-10)


@pytest.mark.parametrize(
    "estimator",
    [OneStepRegressor(), IterativeGDRegressor(tol=1e-10, max_iter=100_000)],
    ids=repr,
)
def test_float32_stays_float32_and_within_1e_5_of_the_exact_answer(estimator):
    # Many blocks of float32 rows, offset columns: the sums of X's dtype
    # would lose the digits without the shift and the float64 combine.
    X, y = make_data(n_samples=60_000, n_features=20, seed=3)
    X += 100.0
    y += 1000.0
    design = np.column_stack([X, np.ones(len(X))])
    exact = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    X32 = torch.asarray(X.astype(np.float32))
    with sklearn.config_context(array_api_dispatch=True):
        model = sklearn.clone(estimator).fit(X32, torch.asarray(y.astype(np.float32)))
        prediction = model.predict(X32)
    assert model.coef_.dtype == torch.float32 and prediction.dtype == torch.float32
    # The float32 answer to the float32 data (X32 rounds X by 6e-8 relative).
    X32_host = X32.numpy().astype(np.float64)
    design32 = np.column_stack([X32_host, np.ones(len(X))])
    exact32 = design32 @ np.linalg.lstsq(design32, y, rcond=None)[0]
    error = np.max(np.abs(host(prediction) - exact32)) / np.max(np.abs(exact32))
    assert error < 1e-5
    assert np.max(np.abs(exact32 - exact)) / np.max(np.abs(exact)) < 1e-5


def test_array_api_strict_on_its_second_device_in_float32():
    # Attributes keep numpy's dtypes (coef_ X's float32, the scores float64)
    # except where the device has no float64: then float32.
    X, y = make_data()
    device = xps.Device("device1")
    X_xp = xps.asarray(X.astype(np.float32), device=device)
    y_xp = xps.asarray(y.astype(np.float32), device=device)
    reference = IterativeGDRegressorCV(learning_rates=5, max_iter=20)
    reference.fit(X.astype(np.float32), y.astype(np.float32))
    info = xps.__array_namespace_info__()
    has_float64 = "float64" in info.dtypes(kind="real floating", device=device)
    with sklearn.config_context(array_api_dispatch=True):
        model = IterativeGDRegressorCV(learning_rates=5, max_iter=20).fit(X_xp, y_xp)
        assert model.predict(X_xp).device == device
    for name in ("coef_", "cv_scores_", "learning_rates_"):
        attribute, expected = getattr(model, name), getattr(reference, name)
        assert attribute.device == device
        wanted = expected.dtype if has_float64 else np.dtype(np.float32)
        assert host(attribute).dtype == wanted
    # R² scores of float32 statistics: absolute differences of float32 size.
    assert_allclose(host(model.cv_scores_), reference.cv_scores_, rtol=1e-4, atol=1e-6)


def test_mixed_inputs_follow_X():
    X, y = make_data()
    weights = np.linspace(0.5, 1.5, X.shape[0])
    reference = OneStepRegressor().fit(X, y, sample_weight=weights)
    with sklearn.config_context(array_api_dispatch=True):
        model = OneStepRegressor().fit(
            torch.asarray(X), xps.asarray(y), sample_weight=list(weights)
        )
    assert isinstance(model.coef_, torch.Tensor)
    assert_allclose(host(model.coef_), reference.coef_, rtol=1e-10)


@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_a_scalar_sample_weight(namespace):
    X, y = make_data()
    convert = NAMESPACES[namespace]
    reference = OneStepRegressor().fit(X, y, sample_weight=2.0)
    with sklearn.config_context(array_api_dispatch=True):
        model = OneStepRegressor().fit(
            convert(X, "float64"), convert(y, "float64"), sample_weight=2.0
        )
    assert_allclose(host(model.coef_), reference.coef_, rtol=1e-10)


def test_predict_in_another_namespace_than_fit_raises():
    X, y = make_data()
    with sklearn.config_context(array_api_dispatch=True):
        model = OneStepRegressor().fit(torch.asarray(X), torch.asarray(y))
        with pytest.raises(ValueError, match="must use the same namespace"):
            model.predict(X)


def test_without_dispatch_a_cpu_tensor_is_converted_as_before():
    X, y = make_data()
    model = IterativeGDRegressor().fit(torch.asarray(X), torch.asarray(y))
    assert isinstance(model.coef_, np.ndarray)
    assert_allclose(model.coef_, IterativeGDRegressor().fit(X, y).coef_, rtol=1e-12)


def test_warm_start_and_coef_init_from_the_device():
    X, y = make_data()
    with sklearn.config_context(array_api_dispatch=True):
        first = IterativeGDRegressor(max_iter=3, tol=None, warm_start=True)
        first.fit(torch.asarray(X), torch.asarray(y))
        first.fit(torch.asarray(X), torch.asarray(y))
        step = OneStepRegressor(solver="gradient").fit(
            torch.asarray(X), torch.asarray(y), coef_init=first.coef_
        )
    reference = IterativeGDRegressor(max_iter=3, tol=None, warm_start=True)
    reference.fit(X, y).fit(X, y)
    assert_allclose(host(first.coef_), reference.coef_, rtol=1e-10)
    expected = OneStepRegressor(solver="gradient").fit(X, y, coef_init=reference.coef_)
    assert_allclose(host(step.coef_), expected.coef_, rtol=1e-9)


def test_partial_fit_streams_on_the_device():
    X, y = make_data()
    with sklearn.config_context(array_api_dispatch=True):
        model = OneStepRegressor()
        for rows in (slice(0, 150), slice(150, 400)):
            model.partial_fit(torch.asarray(X[rows]), torch.asarray(y[rows]))
    assert_allclose(host(model.coef_), OneStepRegressor().fit(X, y).coef_, rtol=1e-9)


def accelerators():
    """The CUDA and CuPy combinations, skipped where absent."""
    cuda = torch.cuda.is_available()
    try:
        import cupy  # noqa: F401

        has_cupy = True
    except ImportError:
        has_cupy = False
    yield pytest.param(
        "torch-cuda",
        marks=pytest.mark.skipif(not cuda, reason="no CUDA device for torch"),
    )
    yield pytest.param(
        "cupy", marks=pytest.mark.skipif(not has_cupy, reason="CuPy is not installed")
    )


@pytest.mark.parametrize("where", accelerators())
def test_on_an_accelerator(where):
    X, y = make_data(n_samples=20_000, n_features=10)
    if where == "cupy":
        import cupy

        X_dev, y_dev = cupy.asarray(X), cupy.asarray(y)
    else:
        X_dev, y_dev = torch.asarray(X, device="cuda"), torch.asarray(y, device="cuda")
    with sklearn.config_context(array_api_dispatch=True):
        model = OneStepRegressor().fit(X_dev, y_dev)
        prediction = model.predict(X_dev)
    assert prediction.device == X_dev.device and model.coef_.device == X_dev.device
    assert_allclose(host(model.coef_), OneStepRegressor().fit(X, y).coef_, rtol=1e-10)


@pytest.mark.parametrize(
    "estimator",
    [
        OneStepRegressor(),
        OneStepRegressor(solver="gradient"),
        IterativeGDRegressor(),
        IterativeGDRegressor(precompute=False, max_iter=20, tol=None),
        IterativeGDRegressorCV(learning_rates=4, max_iter=10),
    ],
    ids=repr,
)
def test_no_row_leaves_the_device(estimator, monkeypatch):
    # Every transfer to the host is of a d × d or pilot-sized result: the
    # questions of these fits all run their block kernels on the device.
    from onestep_sklearn._data import array_api

    sizes = []
    to_host = array_api.to_host

    def spy(array, xp, dtype=np.float64):
        sizes.append(tuple(array.shape))
        return to_host(array, xp, dtype)

    monkeypatch.setattr(array_api, "to_host", spy)
    X, y = make_data(n_samples=5000)
    with sklearn.config_context(array_api_dispatch=True):
        model = sklearn.clone(estimator).fit(torch.asarray(X), torch.asarray(y))
    assert sizes and max(shape[0] if shape else 1 for shape in sizes) <= 1024
    reference = sklearn.clone(estimator).fit(X, y)
    assert_allclose(host(model.coef_), reference.coef_, rtol=1e-10, atol=1e-12)


def test_the_device_benchmark_runs_on_cpu_torch():
    # benchmarks/bench_gpu.py --smoke: the script of the device figures, at
    # small sizes (torch on the CPU where no GPU is present).
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_gpu.py"
    spec = importlib.util.spec_from_file_location("bench_gpu", path)
    bench_gpu = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_gpu)
    report = bench_gpu.main(["--smoke", "--repeats", "1", "--backends", "torch"])
    fits = {(row["case"], row["contender"]): row for row in report}
    assert len(report) == 8
    for (case, contender), row in fits.items():
        assert row["seconds"] > 0
        if contender == "OneStepRegressor().fit":
            assert row["pred_err"] < (1e-5 if "float32" in case else 1e-12)
        if contender == "IterativeGDRegressor().fit":
            assert row["pred_err"] < 1e-3  # tol=1e-4 on the coefficients


def test_the_guide_page_example_runs():
    import re
    from pathlib import Path

    page = Path(__file__).resolve().parents[1] / "doc" / "guide" / "array_api.md"
    (block,) = re.findall(r"```python\n(.*?)```", page.read_text(), re.S)
    namespace = {}
    exec(compile(block, str(page), "exec"), namespace)
    newton, gd, X = namespace["newton"], namespace["gd"], namespace["X"]
    assert isinstance(newton.coef_, torch.Tensor) and newton.coef_.dtype == X.dtype
    assert newton.coef_.device == X.device == namespace["y_pred"].device
    assert gd.stop_reason_ == "converged"
    assert_allclose(host(newton.coef_), np.arange(1.0, 21.0), rtol=1e-3)


def test_cv_with_a_scorer_of_its_own_on_the_device():
    # A user's scorer is called on every run, as cross_val_score calls it: on
    # host copies of the validation rows (the statistics stay on the device).
    X, y = make_data()
    params = {"learning_rates": 3, "max_iter": 5, "scoring": "neg_mean_absolute_error"}
    reference = IterativeGDRegressorCV(**params).fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        model = IterativeGDRegressorCV(**params).fit(torch.asarray(X), torch.asarray(y))
    assert isinstance(model.cv_scores_, torch.Tensor)
    assert_allclose(host(model.cv_scores_), reference.cv_scores_, rtol=1e-10)


def sources(namespace, weighted, dtype="float64", n_outputs=2):
    """The same data as an in-memory source and as a device source."""
    from onestep_sklearn._compat import get_namespace_and_device
    from onestep_sklearn._data.array_api import ArrayAPISource
    from onestep_sklearn._data.memory import ArraySource
    from onestep_sklearn._kernel.weights import unit_weights

    X, Y = make_data(n_samples=9000, n_features=5, n_outputs=n_outputs, seed=4)
    X[:, 1] += 50.0  # an offset column: the statistics shift it
    X, Y = X.astype(dtype), Y.astype(dtype)
    weights = None
    if weighted:
        weights = np.random.default_rng(5).uniform(0.2, 2.0, X.shape[0])
        weights[100:700] = 0.0
    sw = unit_weights(X.shape[0]) if weights is None else weights
    memory = ArraySource(X, Y, sw, float(np.sum(sw)))
    convert = NAMESPACES[namespace]
    X_xp = convert(X, dtype)
    with sklearn.config_context(array_api_dispatch=True):
        xp, _, device = get_namespace_and_device(X_xp)
    weights_xp = None if weights is None else convert(weights, dtype)
    device_source = ArrayAPISource(
        X_xp, convert(Y, dtype), weights_xp, memory.sw_sum, xp, device, True
    )
    return memory, device_source


def asked(source):
    """Every question of ``_data.questions`` on ``source``, by name, as a
    call returning host results."""
    from onestep_sklearn._data import questions as q

    d, k = source.n_features, source.n_outputs
    rng = np.random.default_rng(6)
    coef, intercept = rng.normal(size=(d, k)), rng.normal(size=k)
    _, x_mean, y_mean = q.means(source, True)
    labels = np.arange(source.n_samples) % 3  # interleaved groups: a gather
    labels[::7] = -1

    def stats(**options):
        found = q.statistics(source, True, **options)
        return found.sw_sum, found.x_mean, found.y_mean, found.xx, found.xy, found.yy

    def groups():
        found = q.group_statistics(source, labels, 3)
        return [(g.sw_sum, g.x_mean, g.xx, g.xy, g.yy) for g in found]

    def factor():
        R = q.statistics(source, True, with_factor=True).factor
        return R.T @ R  # R up to the signs of its rows

    return {
        "means": lambda: q.means(source, True),
        "statistics": stats,
        # partial_fit's shifts: an earlier chunk's means (not these rows').
        "shifted": lambda: stats(shifts=(np.round(x_mean), np.round(y_mean))),
        "groups": groups,
        "moments_at_zero": lambda: q.moments_at_zero(source, True),
        "data_pass": lambda: q.data_pass(source, coef, intercept),
        "hessian_pass": lambda: q.data_pass(source, coef, intercept, with_y=False),
        "batch_products": lambda: q.batch_products(source, coef, intercept),
        "sq_norms": lambda: q.sq_norms(source, coef, intercept),
        "max_row": lambda: q.max_row_sq_norm(source, x_mean),
        "magnitudes": lambda: q.column_magnitudes(source),
        "every_row": lambda: q.column_magnitudes(source, every_row=True),
        "units": lambda: q.extreme_units(source),
        # Declared host_only: on host copies of row chunks.
        "ranges": lambda: q.column_ranges(source),
        "exact_gradient": lambda: q.exact_gradient(source, coef, intercept),
        "factor": factor,
    }


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unit", "weighted"])
@pytest.mark.parametrize("namespace", sorted(NAMESPACES))
def test_every_question_answers_as_on_numpy(namespace, weighted, dtype, monkeypatch):
    # The contract at the seam itself: the same block kernels on the device
    # arrays give numpy's answers, and only the questions declared host_only
    # bring rows to the host (more than a pilot's 1024). float32: sums of
    # 9000 rows in blocks of 4096 on the device, float64 buffers in numpy.
    from onestep_sklearn._data import array_api

    rtol = 1e-10 if dtype == "float64" else 2e-5
    memory, device_source = sources(namespace, weighted, dtype)
    expected = {name: ask() for name, ask in asked(memory).items()}
    sizes, to_host, current = {}, array_api.to_host, [None]

    def spy(array, xp, dtype=np.float64):
        sizes.setdefault(current[0], []).append(array.shape[0] if array.shape else 1)
        return to_host(array, xp, dtype)

    monkeypatch.setattr(array_api, "to_host", spy)
    for name, ask in asked(device_source).items():
        current[0] = name
        found = ask()
        if name == "units":
            assert found == expected[name]
            continue
        # float32: sums that cancel (Σs(y − ȳ)) are compared at the scale
        # of the question's largest result.
        leaves = flatten(expected[name])
        scale = max(np.max(np.abs(leaf), initial=1.0) for leaf in leaves)
        atol = 1e-9 if dtype == "float64" else rtol * scale
        for got, want in zip(flatten(found), leaves, strict=True):
            assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=name)
    host_only = {"ranges", "exact_gradient", "factor"}
    assert {name for name, rows in sizes.items() if max(rows) > 1024} == host_only


def flatten(value):
    if isinstance(value, (tuple, list)):
        return [leaf for part in value for leaf in flatten(part)]
    return [np.asarray(np.nan if value is None else value, dtype=np.float64)]
