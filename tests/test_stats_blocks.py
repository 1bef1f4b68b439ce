"""The blocked statistics pass against a direct centred reference.

Both dense routes (raw syrk on X's own blocks, and the shifted copy) cut X
into row blocks; with a tiny BLOCK_BYTES many block boundaries (and a
short last block) are exercised.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose

import onestep_sklearn._kernel.objective as objective_module
from onestep_sklearn._kernel import moments as moments_module
from onestep_sklearn._kernel import stats as stats_module
from onestep_sklearn._kernel.objective import moments_at_zero
from onestep_sklearn._kernel.stats import SufficientStats


def centred_reference(X, Y, weights):
    """Weighted means and centred moments, centred with the exact means."""
    sw_sum = weights.sum()
    x_mean = weights @ X / sw_sum
    y_mean = weights @ Y / sw_sum
    Xc, Yc = X - x_mean, Y - y_mean
    return (
        x_mean,
        y_mean,
        Xc.T @ (weights[:, None] * Xc),
        Xc.T @ (weights[:, None] * Yc),
        np.einsum("ij,ij,i->j", Yc, Yc, weights),
    )


@pytest.mark.parametrize("offset", [0.0, 1e6], ids=["centred", "uncentred"])
@pytest.mark.parametrize("weighted", [False, True])
def test_blocked_statistics_equal_centred_reference(monkeypatch, offset, weighted):
    rng = np.random.default_rng(30)
    n_samples, n_features = 1003, 40
    X = rng.standard_normal((n_samples, n_features)) + offset
    Y = X[:, :2] @ rng.standard_normal((2, 2)) + rng.standard_normal((n_samples, 2))
    weights = rng.uniform(0.5, 2.0, n_samples) if weighted else np.ones(n_samples)
    expected = centred_reference(X, Y, weights)

    routes = []
    for name in ("raw_moments", "dense_moments"):
        original = getattr(stats_module, name)

        def record(*args, _original=original, _name=name):
            routes.append(_name)
            return _original(*args)

        monkeypatch.setattr(stats_module, name, record)
    monkeypatch.setattr(objective_module, "BLOCK_BYTES", 2048)
    stats = SufficientStats.from_data(X, Y, weights, True)

    # Unit weights on about centred data take the raw route; the others shift.
    raw = offset == 0 and not weighted
    assert routes == ["raw_moments" if raw else "dense_moments"]
    rows = moments_module._block_rows(n_samples, n_features, copy=not raw)
    assert 1 < n_samples / rows and n_samples % rows
    x_mean, y_mean, xx, xy, yy = expected
    # The offset is exact in float64 (1e6 + N(0, 1) keeps 36 bits of the
    # spread), so the shifted route keeps the reference's digits.
    assert_allclose(stats.x_mean, x_mean, rtol=1e-13, atol=1e-12)
    assert_allclose(stats.y_mean, y_mean, rtol=1e-13, atol=1e-13)
    assert_allclose(stats.xx, xx, rtol=1e-9, atol=1e-9 * np.abs(xx).max())
    assert_allclose(stats.xy, xy, rtol=1e-9, atol=1e-9 * np.abs(xy).max())
    assert_allclose(stats.yy, yy, rtol=1e-11)


def test_moments_at_zero_blocks_and_zero_weights(monkeypatch):
    rng = np.random.default_rng(31)
    X = rng.standard_normal((517, 6)) + 1e3
    Y = rng.standard_normal((517, 2))
    weights = rng.uniform(0.5, 2.0, 517)
    weights[::7] = 0.0
    Y[::7] = 1e300  # rows of weight 0 must add exact zeros, not inf·0
    y_mean = weights @ np.where(weights[:, None] > 0, Y, 0) / weights.sum()
    kept = weights > 0
    monkeypatch.setattr(objective_module, "BLOCK_BYTES", 512)

    moments, weighted_sum, sq = moments_at_zero(X, Y, weights, y_mean)

    centred = (Y - y_mean) * kept[:, None]
    columns = np.column_stack([weights[:, None] * centred, weights])
    # Sums of terms of about 1e3 (the offset): rounding relative to them.
    scale = np.abs(X).T @ np.abs(columns)
    assert np.all(np.abs(moments - X.T @ columns) <= 1e-13 * scale)
    assert_allclose(weighted_sum, (weights[:, None] * centred).sum(axis=0), atol=1e-9)
    assert_allclose(sq, np.einsum("ij,ij,i->j", centred, centred, weights))
