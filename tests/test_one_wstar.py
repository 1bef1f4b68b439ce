"""One definition of ``w*`` (issue 18): ``numpy.linalg.lstsq``'s
minimum-norm least-squares solution in the user's units, on every route and
input format, to the digits lstsq keeps or better.

Rank-deficient designs (a one-hot block with rare levels beside the
intercept: the dummy trap) have many least-squares solutions; the same data
as a dense array, CSR, CSC, streamed chunks or a Dask array must give the
same ``coef_``. References: lstsq on the centred design, on equilibrated
columns where the scales differ (lstsq's own rank cutoff would drop a
column scaled 1e-6 beside one scaled 1e6), mpmath for the wide dual.
"""

import warnings

import mpmath
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose

from onestep_sklearn import (
    IterativeGDRegressor,
    IterativeGDRegressorCV,
    OneStepRegressor,
)


def one_hot_design(n_samples, n_levels, numeric_scales=(), seed=0):
    """A one-hot block (every level present, some only once) and numeric
    columns of the given scales."""
    rng = np.random.default_rng(seed)
    levels = rng.integers(0, n_levels, n_samples)
    levels[:n_levels] = np.arange(n_levels)
    block = np.eye(n_levels)[levels]
    numeric = rng.normal(size=(n_samples, len(numeric_scales))) * numeric_scales
    X = np.hstack([block, numeric])
    y = block @ rng.normal(size=n_levels) + rng.normal(size=n_samples)
    if len(numeric_scales):
        y += numeric @ (1.0 / np.asarray(numeric_scales))
    return X, y


def centred(X, y):
    return X - X.mean(axis=0), y - y.mean()


def equilibrated_minimum_norm(X, y):
    """lstsq's minimum-norm solution, its rank decided on equilibrated
    columns: the minimum-norm solution among those with the fit of the
    equilibrated lstsq, by projecting off the null space."""
    Xc, yc = centred(X, y)
    norms = np.linalg.norm(Xc, axis=0)
    _, sing, vt = np.linalg.svd(Xc / norms, full_matrices=False)  # tall
    rank = int(np.sum(sing > np.finfo(float).eps * max(Xc.shape) * sing[0]))
    z = np.linalg.lstsq(Xc / norms, yc, rcond=None)[0]
    coef = z / norms
    null = np.linalg.qr(vt[rank:].T / norms[:, None])[0]
    return coef - null @ (null.T @ coef), Xc


def test_same_data_same_coef_on_every_format():
    X, y = one_hot_design(600, 40, numeric_scales=(1.0, 3.0))
    Xc, yc = centred(X, y)
    plain = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    assert np.linalg.matrix_rank(Xc) == X.shape[1] - 1  # the dummy trap
    formats = {
        "dense": X,
        "csr": sp.csr_matrix(X),
        "csc": sp.csc_matrix(X),
    }
    # 42 columns take the exact route for every format; 281 send sparse
    # formats to the Krylov (LSQR) route and dense ones to the QR route.
    krylov_X, krylov_y = one_hot_design(1500, 280, numeric_scales=(1.0,), seed=1)
    krylov_plain = np.linalg.lstsq(*centred(krylov_X, krylov_y), rcond=None)[0]
    for data, target, reference in (
        (formats, y, plain),
        (
            {
                "dense": krylov_X,
                "csr": sp.csr_matrix(krylov_X),
                "csc": sp.csc_matrix(krylov_X),
            },
            krylov_y,
            krylov_plain,
        ),
    ):
        for name, values in data.items():
            coef = OneStepRegressor().fit(values, target).coef_
            assert_allclose(coef, reference, rtol=1e-9, atol=1e-11, err_msg=name)
    # Streamed chunks (sufficient statistics merged exactly).
    streamed = OneStepRegressor()
    for rows in np.array_split(np.arange(y.size), 3):
        streamed.partial_fit(formats["csr"][rows], y[rows])
    assert_allclose(streamed.coef_, plain, rtol=1e-8, atol=1e-10)


def test_same_coef_on_dask():
    da = pytest.importorskip("dask.array")
    X, y = one_hot_design(600, 40, numeric_scales=(1.0,))
    plain = np.linalg.lstsq(*centred(X, y), rcond=None)[0]
    coef = OneStepRegressor().fit(da.from_array(X, chunks=(150, -1)), y).coef_
    assert_allclose(coef, plain, rtol=1e-9, atol=1e-11)


def test_wide_sparse_design_gives_the_dense_minimum_norm():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(20, 300))
    X[np.abs(X) < 1] = 0
    y = rng.normal(size=20)
    plain = np.linalg.lstsq(*centred(X, y), rcond=None)[0]
    for data in (X, sp.csr_matrix(X), sp.csc_matrix(X)):
        coef = OneStepRegressor().fit(data, y).coef_
        assert_allclose(coef, plain, rtol=1e-10, atol=1e-13)


def test_dense_rank_deficient_mixed_scales_reach_the_sparse_accuracy():
    # A 300-level one-hot block with an intercept beside columns scaled
    # 1e-6, 1 and 1e6: the dense route was 6e-5 off, the sparse one 2e-11.
    X, y = one_hot_design(3000, 300, numeric_scales=(1e-6, 1.0, 1e6))
    reference, Xc = equilibrated_minimum_norm(X, y)
    exact_fit = Xc @ reference
    dense = OneStepRegressor().fit(X, y).coef_
    sparse = OneStepRegressor().fit(sp.csr_matrix(X), y).coef_
    for coef in (dense, sparse):
        error = np.linalg.norm(Xc @ coef - exact_fit) / np.linalg.norm(exact_fit)
        assert error <= 1e-12
        # lstsq's minimum norm: the dummies' coefficients sum to 0.
        assert abs(coef[:300].sum()) <= 1e-9 * np.abs(coef[:300]).max()
    assert_allclose(dense, sparse, rtol=1e-10)


def test_sparse_solver_keeps_its_promise_on_a_near_copy_column():
    # CSR 800 × 300 and a near-copy of column 7 (1e-9 noise on its stored
    # entries): the fit used to be 5e-5 off with no warning.
    rng = np.random.default_rng(0)
    X = sp.random(800, 300, density=0.05, random_state=0, format="csr")
    column = X[:, 7].toarray().ravel()
    near = column.copy()
    near[column != 0] += 1e-9 * rng.normal(size=np.count_nonzero(column))
    X = sp.hstack([X, sp.csr_matrix(near[:, None])]).tocsr()
    y = X @ rng.normal(size=301) + 0.1 * rng.normal(size=800)
    Xc, yc = centred(X.toarray(), y)
    norms = np.linalg.norm(Xc, axis=0)
    exact_fit = (Xc / norms) @ np.linalg.lstsq(Xc / norms, yc, rcond=None)[0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = OneStepRegressor().fit(X, y)
    error = np.linalg.norm(Xc @ model.coef_ - exact_fit) / np.linalg.norm(exact_fit)
    # The reference itself keeps about cond·eps of the fit (cond 2e9).
    assert error <= 1e-8 or any("1e-09" in str(w.message) for w in caught)
    assert error <= 1e-8


def exact_wide_minimum_norm(X, y):
    mpmath.mp.dps = 50
    Xm = mpmath.matrix(X.tolist())
    dual = mpmath.lu_solve(Xm * Xm.T, mpmath.matrix(y.tolist()))
    return np.array([float(v) for v in Xm.T * dual])


def test_wide_dual_keeps_the_digits_of_a_badly_scaled_column():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 50))
    X[:, 3] *= 1e6
    y = rng.normal(size=20)
    exact = exact_wide_minimum_norm(X, y)
    coef = OneStepRegressor(fit_intercept=False).fit(X, y).coef_
    # Every coefficient, the small one of the large column included (it was
    # 7e-5 off; lstsq keeps 5e-10).
    assert_allclose(coef, exact, rtol=1e-13)


@pytest.mark.parametrize(
    "estimator",
    [
        OneStepRegressor(),
        IterativeGDRegressor(tol=None, max_iter=50),
        IterativeGDRegressorCV(learning_rates=3, max_iter=20, cv=3),
    ],
    ids=["one-step", "gd", "cv"],
)
def test_subnormal_weights_give_the_unit_weight_answer(estimator):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(90, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=90)
    unit = estimator.fit(X, y).coef_.copy()
    tiny = estimator.fit(X, y, sample_weight=np.full(90, 1e-320)).coef_
    assert_allclose(tiny, unit, rtol=1e-12, atol=1e-14)
    # Ratios are kept exactly: weights 1, 2, 3 times 1e-320.
    ratios = rng.integers(1, 4, 90).astype(float)
    plain = estimator.fit(X, y, sample_weight=ratios).coef_.copy()
    scaled = estimator.fit(X, y, sample_weight=ratios * 1e-320).coef_
    assert_allclose(scaled, plain, rtol=1e-12, atol=1e-14)
