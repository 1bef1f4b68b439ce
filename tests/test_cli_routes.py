"""The routes the CLI's models take on the tables users bring (issue 22).

A one-hot table with an intercept is singular (the dummy trap). On tall
sparse X with 256 or more columns gradient descent iterated on data passes,
which cannot certify convergence on a singular design: the CLI's
gradient-descent row ran all 10,000 iterations in each fold (7.8 s per fit of
a 1,200 × 758 fold). Up to 1024 columns it now iterates on the statistics
(one eigendecomposition of the d × d Hessian), where it converges, certified.
"""

from types import SimpleNamespace

import numpy as np
import pytest
import scipy.sparse as sp

from onestep_sklearn import IterativeGDRegressor
from onestep_sklearn._kernel.sparse_ops import use_krylov
from onestep_sklearn._solvers.plan import (
    KRYLOV_PRECOMPUTE_MAX_FEATURES,
    resolve_precompute,
)


def source_of(X):
    """What ``resolve_precompute`` reads of a data source."""
    return SimpleNamespace(
        n_samples=X.shape[0], n_features=X.shape[1], krylov=use_krylov(X)
    )


def one_hot_table(n_samples, n_categorical, n_levels, seed=0):
    """CSR one-hot blocks (rare levels included) beside 3 numeric columns."""
    rng = np.random.default_rng(seed)
    blocks, signal = [], np.zeros(n_samples)
    for _ in range(n_categorical):
        freq = rng.pareto(1.0, n_levels) + 0.05
        codes = rng.choice(n_levels, n_samples, p=freq / freq.sum())
        _, codes = np.unique(codes, return_inverse=True)
        k = codes.max() + 1
        entries = (np.ones(n_samples), (np.arange(n_samples), codes))
        blocks.append(sp.csr_matrix(entries, (n_samples, k)))
        signal += rng.normal(size=k)[codes]
    numeric = rng.normal(size=(n_samples, 3))
    X = sp.hstack([sp.csr_matrix(numeric), *blocks], format="csr")
    return X, signal + numeric @ [1.0, -0.5, 2.0] + 0.1 * rng.normal(size=n_samples)


def test_tall_sparse_one_hot_gradient_descent_converges_on_the_statistics():
    X, y = one_hot_table(1200, 10, 40)
    assert 256 <= X.shape[1] <= KRYLOV_PRECOMPUTE_MAX_FEATURES
    assert resolve_precompute("auto", source_of(X)) is True
    model = IterativeGDRegressor().fit(X, y)
    assert model.stop_reason_ == "converged"
    assert model.n_iter_ < model.max_iter
    # The fitted values of exact (minimum-norm) least squares with an intercept.
    design = np.column_stack([X.toarray(), np.ones(len(y))])
    exact = design @ np.linalg.lstsq(design, y, rcond=None)[0]
    assert np.max(np.abs(model.predict(X) - exact)) < 1e-3 * np.max(np.abs(exact))


@pytest.mark.parametrize(
    "shape, expected",
    [((5000, KRYLOV_PRECOMPUTE_MAX_FEATURES + 1), False), ((500, 2000), True)],
)
def test_wider_tall_sparse_designs_keep_the_data_passes(shape, expected):
    X = sp.random(*shape, density=0.002, format="csr", random_state=0)
    assert resolve_precompute("auto", source_of(X)) is expected
