"""The shared MSE kernel: data pass, sufficient statistics and their merge.

Every quantity is checked against an independent reference: central finite
differences (exact for a quadratic up to rounding), the explicit Hessian, a
direct numpy formula of the objective, or the same computation on another
storage format, dtype or blocking.
"""

import tracemalloc

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import make_data
from numpy.testing import assert_allclose
from scipy.optimize import minimize_scalar

import onestep_sklearn._kernel.objective as objective_module
from onestep_sklearn import IterativeGDRegressor, OneStepRegressor
from onestep_sklearn._data.memory import ArraySource
from onestep_sklearn._kernel.objective import (
    data_pass,
    max_row_sq_norm,
    row_blocks,
    weighted_means,
)
from onestep_sklearn._kernel.stats import SufficientStats
from onestep_sklearn._solvers.objective import Objective
from onestep_sklearn._solvers.steps import cauchy_step


def DataObjective(X, Y, sample_weight, sw_sum, x_mean, y_mean, alpha):
    """The objective by data passes over an in-memory source."""
    source = ArraySource(X, Y, sample_weight, sw_sum)
    return Objective.on_data(source, sw_sum, x_mean, y_mean, alpha)


def StatsObjective(stats, alpha):
    """The objective from the sufficient statistics."""
    return Objective.on_stats(stats, alpha)


def per_sample_lipschitz(X, sample_weight, x_mean, alpha):
    """The mini-batch curvature bound 2·maxᵢ‖xᵢ − x̄‖² + 2·alpha."""
    return 2.0 * max_row_sq_norm(X, sample_weight, x_mean) + 2.0 * alpha


STATS_FIELDS = ("sw_sum", "x_mean", "y_mean", "xx", "xy", "yy")


def weighted_data(n_samples=60, n_features=4, n_outputs=2, seed=0, dtype=np.float64):
    """Well-conditioned data with non-zero means and positive weights."""
    X, Y, sample_weight = make_data(
        n_samples,
        n_features,
        n_outputs,
        seed=seed,
        offset=3.0,
        intercept=2.0,
        noise=1.0,
        weighted=True,
    )
    return X.astype(dtype), Y.astype(dtype), sample_weight.astype(dtype)


def make_objectives(X, Y, sample_weight, alpha, fit_intercept):
    sw_sum = float(sample_weight.sum(dtype=np.float64))
    if fit_intercept:
        x_mean, y_mean = weighted_means(X, Y, sample_weight, sw_sum)
    else:
        x_mean, y_mean = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
    data = DataObjective(X, Y, sample_weight, sw_sum, x_mean, y_mean, alpha)
    stats = SufficientStats.from_data(X, Y, sample_weight, fit_intercept)
    return data, StatsObjective(stats, alpha)


def direct_loss(X, Y, sample_weight, coef, alpha, fit_intercept):
    """(1/Σs) Σ s (y − Xw − b)² + alpha‖w‖², b = ȳ − x̄ᵀw, straight from numpy."""
    X, Y, s = (np.asarray(a, dtype=np.float64) for a in (X, Y, sample_weight))
    if fit_intercept:
        x_mean, y_mean = s @ X / s.sum(), s @ Y / s.sum()
        intercept = y_mean - x_mean @ coef
    else:
        intercept = 0.0
    resid = Y - X @ coef - intercept
    return float(np.sum(s[:, None] * resid**2) / s.sum() + alpha * np.sum(coef**2))


def central_differences(func, point, step=1e-3):
    """Gradient of ``func`` by central differences; exact for a quadratic."""
    grad = np.zeros_like(point)
    for index in np.ndindex(point.shape):
        delta = np.zeros_like(point)
        delta[index] = step
        grad[index] = (func(point + delta) - func(point - delta)) / (2 * step)
    return grad


def assert_stats_equal(actual, expected, rtol=1e-10):
    for field in STATS_FIELDS:
        want = np.asarray(getattr(expected, field))
        # Centred cross moments can be ~0 by construction: scale atol by size.
        atol = rtol * max(1.0, float(np.max(np.abs(want))))
        assert_allclose(
            getattr(actual, field), want, rtol=rtol, atol=atol, err_msg=field
        )
    assert actual.fit_intercept == expected.fit_intercept


def stats_of_parts(X, Y, sample_weight, bounds, order, fit_intercept):
    parts = [
        SufficientStats.from_data(
            X[lo:hi], Y[lo:hi], sample_weight[lo:hi], fit_intercept
        )
        for lo, hi in zip(bounds[:-1], bounds[1:])
    ]
    merged = SufficientStats.empty(X.shape[1], Y.shape[1], fit_intercept)
    for index in order:
        merged = merged.merge(parts[index])
    return merged


# --------------------------------------------------------------------------
# Gradient, loss and Hessian against finite differences and each other
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("kind", ["data", "stats"])
def test_gradient_matches_central_differences(kind, alpha, fit_intercept):
    X, Y, sample_weight = weighted_data(n_outputs=3)
    objectives = make_objectives(X, Y, sample_weight, alpha, fit_intercept)
    objective = objectives[0] if kind == "data" else objectives[1]
    coef = np.random.default_rng(1).normal(size=(X.shape[1], Y.shape[1]))

    loss, grad = objective.loss_gradient(coef)

    assert grad.shape == coef.shape
    assert_allclose(
        grad, central_differences(objective.loss, coef), rtol=1e-7, atol=1e-9
    )
    # loss_gradient and loss are one objective, not two.
    assert loss == pytest.approx(objective.loss(coef), rel=1e-12)
    assert_allclose(
        objective.loss_per_output(coef).sum(), objective.loss(coef), rtol=1e-12
    )


@pytest.mark.parametrize("alpha", [0.0, 0.7])
def test_minibatch_gradient_with_full_data_means(alpha):
    # A mini-batch is profiled with the full data's means, so its Σsr is not
    # zero: the gradient must still be that of the batch's loss.
    X, Y, sample_weight = weighted_data(seed=41)
    full, _ = make_objectives(X, Y, sample_weight, alpha, True)
    rows = slice(10, 27)
    batch = DataObjective(
        X[rows],
        Y[rows],
        sample_weight[rows],
        float(sample_weight[rows].sum()),
        full.x_mean,
        full.y_mean,
        alpha,
    )
    rng = np.random.default_rng(42)
    coef = rng.normal(size=(X.shape[1], Y.shape[1]))
    vec = rng.normal(size=coef.shape)

    loss, grad = batch.loss_gradient(coef)

    assert (
        abs(
            data_pass(
                X[rows], Y[rows], coef, batch.intercept(coef), sample_weight[rows]
            )[2]
        ).max()
        > 1e-3
    )
    assert loss == pytest.approx(batch.loss(coef), rel=1e-12)
    assert_allclose(grad, central_differences(batch.loss, coef), rtol=1e-7)
    plus, minus = batch.loss_gradient(coef + vec)[1], batch.loss_gradient(coef - vec)[1]
    assert_allclose(batch.hessp(vec), (plus - minus) / 2, rtol=1e-9)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.7])
@pytest.mark.parametrize("kind", ["data", "stats"])
def test_hessp_matches_gradient_differences_and_explicit_hessian(
    kind, alpha, fit_intercept
):
    X, Y, sample_weight = weighted_data()
    objectives = make_objectives(X, Y, sample_weight, alpha, fit_intercept)
    objective = objectives[0] if kind == "data" else objectives[1]
    rng = np.random.default_rng(2)
    coef = rng.normal(size=(X.shape[1], Y.shape[1]))
    vec = rng.normal(size=coef.shape)
    step = 1e-3

    hess_vec = objective.hessp(vec)

    grad_plus = objective.loss_gradient(coef + step * vec)[1]
    grad_minus = objective.loss_gradient(coef - step * vec)[1]
    assert_allclose(hess_vec, (grad_plus - grad_minus) / (2 * step), rtol=1e-7)
    hessian = objectives[1].stats.hessian(alpha)
    assert_allclose(hess_vec, hessian @ vec, rtol=1e-10)
    # The Hessian of the profiled objective is that of the centred data.
    s = sample_weight
    x_mean = s @ X / s.sum() if fit_intercept else np.zeros(X.shape[1])
    centred = X - x_mean
    expected = 2 * (centred.T * s) @ centred / s.sum() + 2 * alpha * np.eye(X.shape[1])
    assert_allclose(hessian, expected, rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.3])
def test_data_and_stats_objectives_agree(alpha, fit_intercept):
    X, Y, sample_weight = weighted_data(n_outputs=2, seed=3)
    data, stats = make_objectives(X, Y, sample_weight, alpha, fit_intercept)
    rng = np.random.default_rng(4)
    for _ in range(3):
        coef = rng.normal(size=(X.shape[1], Y.shape[1]))
        loss_data, grad_data = data.loss_gradient(coef)
        loss_stats, grad_stats = stats.loss_gradient(coef)
        assert loss_data == pytest.approx(loss_stats, rel=1e-9)
        assert_allclose(grad_data, grad_stats, rtol=1e-9, atol=1e-12)
        assert_allclose(
            data.loss_per_output(coef), stats.loss_per_output(coef), rtol=1e-9
        )
        assert_allclose(data.intercept(coef), stats.intercept(coef), rtol=1e-12)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_objective_matches_direct_formula(alpha, fit_intercept):
    X, Y, sample_weight = weighted_data(seed=5)
    data, stats = make_objectives(X, Y, sample_weight, alpha, fit_intercept)
    coef = np.random.default_rng(6).normal(size=(X.shape[1], Y.shape[1]))

    expected = direct_loss(X, Y, sample_weight, coef, alpha, fit_intercept)

    assert data.loss(coef) == pytest.approx(expected, rel=1e-12)
    assert stats.loss(coef) == pytest.approx(expected, rel=1e-9)
    # The best intercept b = ȳ − x̄ᵀw: ∂f/∂b = 0 there.
    if fit_intercept:
        resid = Y - X @ coef - data.intercept(coef)
        assert_allclose(sample_weight @ resid, 0.0, atol=1e-9)
    best = data.intercept(coef)
    assert_allclose(
        stats.stats.sse(coef, best),
        sample_weight @ (Y - X @ coef - best) ** 2,
        rtol=1e-9,
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_stats_sse_for_any_intercept(fit_intercept):
    # SufficientStats.sse documents "for any (not only the best) b".
    X, Y, sample_weight = weighted_data(seed=5)
    stats = SufficientStats.from_data(X, Y, sample_weight, fit_intercept)
    coef = np.random.default_rng(6).normal(size=(X.shape[1], Y.shape[1]))
    intercept = stats.intercept(coef) + 0.25

    if not fit_intercept:
        # Raw statistics lack Σsx and Σsy: only b = 0 can be served.
        with pytest.raises(ValueError, match="fit_intercept=True"):
            stats.sse(coef, intercept)
        intercept = np.zeros_like(intercept)
    resid = Y - X @ coef - intercept
    assert_allclose(stats.sse(coef, intercept), sample_weight @ resid**2, rtol=1e-9)


def test_data_pass_returns_weighted_residual_sums():
    X, Y, sample_weight = weighted_data(seed=7)
    rng = np.random.default_rng(8)
    coef = rng.normal(size=(X.shape[1], Y.shape[1]))
    intercept = rng.normal(size=Y.shape[1])
    resid = X @ coef + intercept - Y

    sq, xtr, rsum = data_pass(X, Y, coef, intercept, sample_weight)

    assert_allclose(sq, sample_weight @ resid**2, rtol=1e-12)
    assert_allclose(xtr, X.T @ (sample_weight[:, None] * resid), rtol=1e-12)
    assert_allclose(rsum, sample_weight @ resid, rtol=1e-12)
    assert data_pass(X, Y, coef, intercept, sample_weight, gradient=False)[1] is None


# --------------------------------------------------------------------------
# Storage formats and dtypes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_equals_dense(fmt, fit_intercept):
    X, Y, sample_weight = weighted_data(n_samples=80, n_features=6, seed=9)
    rng = np.random.default_rng(10)
    X[rng.uniform(size=X.shape) < 0.6] = 0.0
    X_sparse = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X)
    coef = rng.normal(size=(X.shape[1], Y.shape[1]))
    alpha = 0.2

    dense_data, dense_stats = make_objectives(X, Y, sample_weight, alpha, fit_intercept)
    sparse_data, sparse_stats = make_objectives(
        X_sparse, Y, sample_weight, alpha, fit_intercept
    )

    assert_stats_equal(sparse_stats.stats, dense_stats.stats, rtol=1e-10)
    assert sparse_stats.stats.n_samples == dense_stats.stats.n_samples == 80
    for dense, sparse in ((dense_data, sparse_data), (dense_stats, sparse_stats)):
        loss_dense, grad_dense = dense.loss_gradient(coef)
        loss_sparse, grad_sparse = sparse.loss_gradient(coef)
        assert loss_sparse == pytest.approx(loss_dense, rel=1e-10)
        assert_allclose(grad_sparse, grad_dense, rtol=1e-10, atol=1e-12)
        assert_allclose(sparse.hessp(coef), dense.hessp(coef), rtol=1e-10)
    assert_allclose(
        per_sample_lipschitz(X_sparse, sample_weight, dense_data.x_mean, alpha),
        per_sample_lipschitz(X, sample_weight, dense_data.x_mean, alpha),
        rtol=1e-10,
    )


@pytest.mark.parametrize("fmt", ["dense", "csr"])
def test_float32_is_close_to_float64(fmt):
    X64, Y64, sw64 = weighted_data(seed=11)
    X32, Y32, sw32 = (a.astype(np.float32) for a in (X64, Y64, sw64))
    if fmt == "csr":
        X32, X64 = sp.csr_matrix(X32), sp.csr_matrix(X64)
    coef = np.random.default_rng(12).normal(size=(X64.shape[1], Y64.shape[1]))

    data32, stats32 = make_objectives(X32, Y32, sw32, 0.1, True)
    data64, stats64 = make_objectives(X64, Y64, sw64, 0.1, True)

    for obj32, obj64 in ((data32, data64), (stats32, stats64)):
        loss32, grad32 = obj32.loss_gradient(coef)
        loss64, grad64 = obj64.loss_gradient(coef)
        assert np.isfinite(loss32) and np.all(np.isfinite(grad32))
        # Results are accumulated in float64 whatever the dtype of X.
        assert grad32.dtype == np.float64
        assert loss32 == pytest.approx(loss64, rel=1e-5)
        assert_allclose(grad32, grad64, rtol=1e-4, atol=1e-4 * np.abs(grad64).max())
    assert_stats_equal(stats32.stats, stats64.stats, rtol=1e-5)


def test_float32_data_pass_runs_in_float32_without_copying_X():
    X64, Y64, sw64 = weighted_data(n_samples=4000, n_features=50, n_outputs=1, seed=13)
    X32, Y32, sw32 = (a.astype(np.float32) for a in (X64, Y64, sw64))
    coef = np.random.default_rng(14).normal(size=(50, 1))
    intercept = np.array([0.5])

    tracemalloc.start()
    sq32, xtr32, _ = data_pass(X32, Y32, coef, intercept, sw32)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # The same float32 values, multiplied in float64.
    sq64, xtr64, _ = data_pass(
        X32.astype(np.float64), Y32.astype(np.float64), coef, intercept, sw64
    )

    # A float64 copy of X alone would take 2 * X32.nbytes.
    assert peak < X32.nbytes / 2
    # Products in float32 round differently from float64 ones, but stay close.
    assert sq32[0] != sq64[0]
    assert_allclose(sq32, sq64, rtol=1e-5)
    assert_allclose(xtr32, xtr64, rtol=1e-4, atol=1e-4 * np.abs(xtr64).max())


# --------------------------------------------------------------------------
# Sufficient statistics: exact merge, blocks
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_merge_of_parts_equals_stats_of_concatenation(seed, fit_intercept):
    X, Y, sample_weight = weighted_data(n_samples=50, seed=seed)
    rng = np.random.default_rng(100 + seed)
    cuts = np.sort(rng.choice(np.arange(1, 50), size=rng.integers(1, 6), replace=False))
    bounds = [0, *cuts.tolist(), 50]
    order = rng.permutation(len(bounds) - 1)

    whole = SufficientStats.from_data(X, Y, sample_weight, fit_intercept)
    merged = stats_of_parts(X, Y, sample_weight, bounds, order, fit_intercept)

    assert_stats_equal(merged, whole, rtol=1e-10)
    assert merged.n_samples == whole.n_samples == 50
    # The means and moments are those of the whole data set, from numpy.
    s = sample_weight
    x_mean = s @ X / s.sum() if fit_intercept else np.zeros(X.shape[1])
    y_mean = s @ Y / s.sum() if fit_intercept else np.zeros(Y.shape[1])
    assert_allclose(merged.x_mean, x_mean, rtol=1e-10, atol=1e-12)
    assert_allclose(merged.xx, ((X - x_mean).T * s) @ (X - x_mean), rtol=1e-10)
    assert_allclose(merged.xy, ((X - x_mean).T * s) @ (Y - y_mean), rtol=1e-10)
    assert_allclose(merged.yy, s @ (Y - y_mean) ** 2, rtol=1e-10)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_merge_with_zero_weight_chunks(fit_intercept):
    X, Y, sample_weight = weighted_data(n_samples=50, seed=21)
    sample_weight[10:20] = 0.0
    sample_weight[35:40] = 0.0
    bounds = [0, 10, 20, 35, 40, 50]

    whole = SufficientStats.from_data(X, Y, sample_weight, fit_intercept)
    for order in ([0, 1, 2, 3, 4], [1, 3, 0, 2, 4], [4, 2, 3, 1, 0]):
        merged = stats_of_parts(X, Y, sample_weight, bounds, order, fit_intercept)
        assert_stats_equal(merged, whole, rtol=1e-10)
    # Dropping the zero-weight rows changes nothing but the row count.
    kept = sample_weight > 0
    dropped = SufficientStats.from_data(
        X[kept], Y[kept], sample_weight[kept], fit_intercept
    )
    assert_stats_equal(dropped, whole, rtol=1e-10)


def test_zero_weight_chunk_rows_are_counted_in_n_samples():
    # n_samples counts rows, whatever their weight: a zero-weight row inside a
    # block is counted, so a block made only of zero-weight rows must be too,
    # or the count depends on how the rows happen to be split into chunks.
    X, Y, sample_weight = weighted_data(n_samples=30, seed=22)
    sample_weight[10:20] = 0.0

    whole = SufficientStats.from_data(X, Y, sample_weight, True)
    zero_chunk = SufficientStats.from_data(
        X[10:20], Y[10:20], sample_weight[10:20], True
    )
    merged = stats_of_parts(X, Y, sample_weight, [0, 10, 20, 30], [0, 1, 2], True)

    assert whole.n_samples == 30
    assert zero_chunk.n_samples == 10
    assert merged.n_samples == 30


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_merge_with_empty_is_identity(fit_intercept):
    X, Y, sample_weight = weighted_data(seed=23)
    stats = SufficientStats.from_data(X, Y, sample_weight, fit_intercept)
    empty = SufficientStats.empty(X.shape[1], Y.shape[1], fit_intercept)

    for merged in (stats.merge(empty), empty.merge(stats)):
        assert_stats_equal(merged, stats, rtol=0)
        assert merged.n_samples == stats.n_samples


def test_block_bytes_setting_takes_effect(monkeypatch):
    # BLOCK_BYTES is the module's cache-size knob, read when row_blocks runs.
    X = np.zeros((1000, 4))
    monkeypatch.setattr(objective_module, "BLOCK_BYTES", 512)
    assert len(list(row_blocks(X))) > 1


@pytest.mark.parametrize("fmt", ["dense", "csr", "float32"])
def test_many_row_blocks_equal_one_block(monkeypatch, fmt):
    X, Y, sample_weight = weighted_data(n_samples=200, n_features=4, seed=24)
    if fmt == "csr":
        X[np.random.default_rng(0).uniform(size=X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    elif fmt == "float32":
        X, Y, sample_weight = (a.astype(np.float32) for a in (X, Y, sample_weight))
    coef = np.random.default_rng(25).normal(size=(4, Y.shape[1]))
    x_mean = np.asarray(X.T @ sample_weight, dtype=np.float64) / sample_weight.sum()

    def evaluate():
        data, stats = make_objectives(X, Y, sample_weight, 0.3, True)
        return (
            data.loss_gradient(coef),
            data.hessp(coef),
            stats.stats,
            per_sample_lipschitz(X, sample_weight, x_mean, 0.3),
            OneStepRegressor(solver="newton").fit(X, Y, sample_weight).coef_,
        )

    assert len(list(row_blocks(X))) == 1
    one_block = evaluate()
    # Force 16-row blocks everywhere (data pass, statistics, Lipschitz, QR).
    monkeypatch.setattr(objective_module, "BLOCK_BYTES", 512)
    assert len(list(row_blocks(X))) >= 7
    many_blocks = evaluate()

    rtol = 1e-5 if fmt == "float32" else 1e-10
    assert many_blocks[0][0] == pytest.approx(one_block[0][0], rel=rtol)
    assert_allclose(many_blocks[0][1], one_block[0][1], rtol=rtol, atol=1e-12)
    assert_allclose(many_blocks[1], one_block[1], rtol=rtol)
    assert_stats_equal(many_blocks[2], one_block[2], rtol=1e-10)
    assert many_blocks[2].n_samples == 200
    assert many_blocks[3] == pytest.approx(one_block[3], rel=1e-12)
    assert_allclose(many_blocks[4], one_block[4], rtol=rtol)


def test_qr_path_with_many_blocks_equals_lstsq(monkeypatch):
    # n < d sends Newton to the streaming QR; 16-row blocks stream it.
    rng = np.random.default_rng(26)
    X = rng.normal(size=(40, 60))
    y = rng.normal(size=40)
    monkeypatch.setattr(objective_module, "BLOCK_BYTES", 512)

    coef = OneStepRegressor().fit(X, y).coef_

    centred = X - X.mean(axis=0)
    expected = np.linalg.lstsq(centred, y - y.mean(), rcond=None)[0]
    assert_allclose(coef, expected, rtol=1e-8, atol=1e-10)


# --------------------------------------------------------------------------
# Inputs are never modified
# --------------------------------------------------------------------------


def _read_only_copies(*arrays):
    copies = []
    for array in arrays:
        array.flags.writeable = False
        copies.append(array.copy())
    return copies


def test_kernel_does_not_modify_inputs():
    X, Y, sample_weight = weighted_data(seed=27)
    X_csr = sp.csr_matrix(X)
    copies = _read_only_copies(X, Y, sample_weight)
    csr_data = X_csr.data.copy()
    coef = np.ones((X.shape[1], Y.shape[1]))

    for matrix in (X, X_csr):
        data, stats = make_objectives(matrix, Y, sample_weight, 0.1, True)
        data.loss_gradient(coef)
        data.hessp(coef)
        stats.loss_gradient(coef)
        data_pass(matrix, Y, coef, np.zeros(2), sample_weight)
        per_sample_lipschitz(matrix, sample_weight, data.x_mean, 0.1)

    for array, copy in zip((X, Y, sample_weight), copies):
        assert_allclose(array, copy, rtol=0, atol=0)
    assert_allclose(X_csr.data, csr_data, rtol=0, atol=0)


@pytest.mark.parametrize(
    "estimator",
    [
        OneStepRegressor(),
        OneStepRegressor(solver="gradient"),
        IterativeGDRegressor(max_iter=20, tol=None),
        IterativeGDRegressor(max_iter=5, tol=None, precompute=False),
    ],
    ids=["newton", "gradient", "gd", "gd-data-pass"],
)
def test_estimators_do_not_modify_inputs(estimator):
    X, Y, sample_weight = weighted_data(n_outputs=1, seed=28)
    y = Y[:, 0].copy()
    copies = _read_only_copies(X, y, sample_weight)

    estimator.fit(X, y, sample_weight=sample_weight)
    estimator.predict(X)
    estimator.partial_fit(X, y, sample_weight=sample_weight)

    for array, copy in zip((X, y, sample_weight), copies):
        assert_allclose(array, copy, rtol=0, atol=0)


@pytest.mark.parametrize(
    "estimator",
    [
        OneStepRegressor(),
        OneStepRegressor(solver="gradient"),
        IterativeGDRegressor(max_iter=20, tol=None),
        IterativeGDRegressor(max_iter=5, tol=None, precompute=False),
        IterativeGDRegressor(max_iter=3, tol=None, batch_size=16, random_state=0),
    ],
    ids=["newton", "gradient", "gd", "gd-data-pass", "gd-minibatch"],
)
def test_read_only_memmap_inputs(tmp_path, estimator):
    X, Y, sample_weight = weighted_data(n_samples=80, n_outputs=1, seed=29)
    y = Y[:, 0]
    paths = {name: tmp_path / f"{name}.dat" for name in ("X", "y", "sw")}
    for name, array in zip(paths, (X, y, sample_weight)):
        writer = np.memmap(paths[name], dtype=np.float64, mode="w+", shape=array.shape)
        writer[:] = array
        writer.flush()
        del writer
    X_map = np.memmap(paths["X"], dtype=np.float64, mode="r", shape=X.shape)
    y_map = np.memmap(paths["y"], dtype=np.float64, mode="r", shape=y.shape)
    sw_map = np.memmap(paths["sw"], dtype=np.float64, mode="r", shape=y.shape)

    estimator.fit(X_map, y_map, sample_weight=sw_map)
    reference = type(estimator)(**estimator.get_params()).fit(X, y, sample_weight)

    assert_allclose(estimator.coef_, reference.coef_, rtol=1e-12)
    assert_allclose(estimator.predict(X_map), reference.predict(X), rtol=1e-12)
    assert_allclose(X_map, X, rtol=0, atol=0)
    assert_allclose(y_map, y, rtol=0, atol=0)


# --------------------------------------------------------------------------
# Curvature bounds and the exact line search
# --------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["dense", "csr", "csc"])
@pytest.mark.parametrize("alpha", [0.0, 0.4])
def test_per_sample_lipschitz_formula(fmt, alpha):
    X, _, sample_weight = weighted_data(seed=30)
    sample_weight[:5] = 0.0
    # Make a zero-weight row the farthest from the mean: it must be ignored.
    X[0] = 100.0
    x_mean = sample_weight @ X / sample_weight.sum()
    matrix = {"dense": X, "csr": sp.csr_matrix(X), "csc": sp.csc_matrix(X)}[fmt]

    bound = per_sample_lipschitz(matrix, sample_weight, x_mean, alpha)

    sq_norms = np.sum((X[5:] - x_mean) ** 2, axis=1)
    assert bound == pytest.approx(2 * sq_norms.max() + 2 * alpha, rel=1e-10)


@pytest.mark.parametrize("alpha", [0.0, 0.4])
def test_per_sample_lipschitz_bounds_every_minibatch_hessian(alpha):
    X, Y, sample_weight = weighted_data(n_samples=80, seed=31)
    sw_sum = float(sample_weight.sum())
    x_mean, y_mean = weighted_means(X, Y, sample_weight, sw_sum)
    bound = per_sample_lipschitz(X, sample_weight, x_mean, alpha)
    rng = np.random.default_rng(32)
    eye = np.eye(X.shape[1])

    def batch_top_eigenvalue(rows):
        batch = DataObjective(
            X[rows],
            Y[rows],
            sample_weight[rows],
            float(sample_weight[rows].sum()),
            x_mean,
            y_mean,
            alpha,
        )
        hessian = batch.hessp(eye)
        return np.linalg.eigvalsh((hessian + hessian.T) / 2)[-1]

    tops = [
        batch_top_eigenvalue(rng.choice(80, size=size, replace=False))
        for size in (1, 2, 5, 16, 80)
        for _ in range(10)
    ]
    assert max(tops) <= bound * (1 + 1e-12)
    # The bound is attained by the batch made of the farthest sample alone.
    farthest = np.argmax(np.sum((X - x_mean) ** 2, axis=1))
    assert batch_top_eigenvalue([farthest]) == pytest.approx(bound, rel=1e-10)


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_cauchy_step_minimises_along_negative_gradient(alpha):
    X, Y, sample_weight = weighted_data(seed=33)
    data, _ = make_objectives(X, Y, sample_weight, alpha, True)
    coef = np.random.default_rng(34).normal(size=(X.shape[1], Y.shape[1]))
    _, grad = data.loss_gradient(coef)

    eta = cauchy_step(float(np.sum(grad**2)), float(np.sum(grad * data.hessp(grad))))

    def along(step):
        return data.loss(coef - step * grad)

    best = minimize_scalar(
        along, bounds=(0.0, 10 * eta), method="bounded", options={"xatol": 1e-9 * eta}
    )
    assert eta == pytest.approx(best.x, rel=1e-5)
    grid = np.linspace(0.0, 3 * eta, 3001)
    values = np.array([along(step) for step in grid])
    assert along(eta) <= values.min() * (1 + 1e-12)
    assert grid[np.argmin(values)] == pytest.approx(eta, abs=3 * eta / 3000)


def test_cauchy_step_is_zero_for_zero_gradient():
    assert cauchy_step(0.0, 0.0) == 0.0
