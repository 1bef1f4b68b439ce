"""The learning-rate formulas of ``_kernel.rates`` against brute force: the
closed-form 2×2 spectral norm against an SVD, and ``iterations_to_shrink``
(closed form without momentum, doubling search with it) against the norms of
``Mᵗ`` multiplied out one iteration at a time."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from onestep_sklearn._kernel.rates import (
    _transfer,
    damped_momentum,
    iterations_to_shrink,
    largest_singular_value,
    stability_limit,
)


def test_largest_singular_value_matches_svd():
    rng = np.random.default_rng(0)
    scales = 10.0 ** rng.uniform(-150, 150, (2000, 1, 1))
    maps = rng.standard_normal((2000, 2, 2)) * scales
    # Near-equal singular values (rotations, scaled), where σ₁ − σ₂ cancels.
    angles = rng.uniform(0, 2 * np.pi, 50)
    rotations = np.stack(
        [[np.cos(angles), -np.sin(angles)], [np.sin(angles), np.cos(angles)]]
    ).transpose(2, 0, 1) * (1 + 1e-15 * rng.standard_normal((50, 1, 1)))
    for stack in (maps, rotations):
        assert_allclose(
            largest_singular_value(stack),
            np.linalg.norm(stack, ord=2, axis=(-2, -1)),
            rtol=4e-15,
        )
    zero = np.zeros((1, 2, 2))
    assert largest_singular_value(zero)[0] == 0.0


def brute_force(rate, curvatures, shrink, momentum, nesterov, limit=20_000):
    """The first t with max over the curvatures of ‖Mᵗ‖₂ ≤ shrink."""
    maps = _transfer(rate, curvatures, momentum, nesterov)
    power = maps.copy()
    for t in range(1, limit + 1):
        if np.linalg.norm(power, ord=2, axis=(-2, -1)).max() <= shrink:
            return t
        power = maps @ power
    raise AssertionError("no t below the limit")


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("momentum", [0.0, "auto", 0.5])
@pytest.mark.parametrize("nesterov", [False, True])
def test_iterations_to_shrink_matches_brute_force(seed, momentum, nesterov):
    rng = np.random.default_rng(seed)
    lipschitz = 10.0 ** rng.uniform(-3, 3)
    smallest = lipschitz / 10.0 ** rng.uniform(0, 2.5)
    curves = np.geomspace(smallest, lipschitz, 32)
    if momentum == "auto":
        rate, mu = 1 / lipschitz, damped_momentum(lipschitz, smallest, nesterov)
    else:
        mu = momentum
        limit, _ = stability_limit(lipschitz, mu, nesterov)
        rate = limit * rng.uniform(0.05, 0.95)
    shrink = 10.0 ** rng.uniform(-6, -0.5)
    expected = brute_force(rate, curves, shrink, mu, nesterov)
    assert iterations_to_shrink(rate, curves, shrink, mu, nesterov) == expected


def test_iterations_to_shrink_edges():
    # h = ηλ = 1: the error goes in one step, into the velocity row of M.
    assert iterations_to_shrink(1.0, [1.0], 0.5) == 2
    assert iterations_to_shrink(0.5, [1.0], 1.0) == 0  # nothing to shrink
    assert iterations_to_shrink(2.0, [1.0], 0.5) == np.inf  # at the limit 2/L
    assert iterations_to_shrink(2.5, [1.0], 0.5) == np.inf  # past it
    # About 1e-13·log(1e8) ≈ 1.8e14 iterations: past the 2⁴⁰ the search covers.
    assert iterations_to_shrink(1e-13, [1.0], 1e-8) == np.inf
    assert iterations_to_shrink(1e-13, [1.0], 1e-8, momentum=0.5) == np.inf
    # Just inside 2⁴⁰ ≈ 1.1e12: log(1e3)/1e-11 ≈ 6.9e11 iterations.
    count = iterations_to_shrink(1e-11, [1.0], 1e-3)
    assert_allclose(count, np.log(1e3) / 1e-11, rtol=1e-6)
