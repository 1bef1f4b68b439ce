"""The error-free kernels of ``onestep_sklearn._kernel.refine`` against exact rationals.

Every float64 is an exact rational (``fractions.Fraction``), so the exact
sums, products, residuals and gradients the kernels approximate can be
computed without rounding and compared with what the kernels return.
"""

from fractions import Fraction

import numpy as np
import pytest
import scipy.sparse as sp

import onestep_sklearn._kernel.refine as refine_module
from onestep_sklearn._kernel.refine import (
    add_moments,
    centred_correction,
    exact_gradient,
    exact_moments,
    moments_gradient,
    refine_solution,
    sum_along,
    sum_segments,
    two_product,
    two_sum,
)

EPS = np.finfo(np.float64).eps


def _wide_floats(rng, size):
    """Floats with random signs and exponents over 2^-60 … 2^60."""
    return rng.standard_normal(size) * np.ldexp(1.0, rng.integers(-60, 61, size))


def test_two_sum_and_two_product_are_exact():
    rng = np.random.default_rng(0)
    a, b = _wide_floats(rng, 2000), _wide_floats(rng, 2000)
    s, e = two_sum(a, b)
    p, f = two_product(a, b)
    for i in range(a.size):
        assert Fraction(s[i]) + Fraction(e[i]) == Fraction(a[i]) + Fraction(b[i])
        assert Fraction(p[i]) + Fraction(f[i]) == Fraction(a[i]) * Fraction(b[i])


def test_sums_of_cancelling_terms_are_correct_to_double_double():
    # 1e16 + 1 − 1e16 + … : float64 sums lose every small term.
    rng = np.random.default_rng(1)
    high = np.concatenate([_wide_floats(rng, 300), [1e16, -1e16, 3.0, 2.0**-80]])
    high = rng.permutation(high)
    low = 2.0**-60 * rng.standard_normal(high.size)
    exact = sum(map(Fraction, high)) + sum(map(Fraction, low))
    bound = (high.size * EPS) ** 2 * sum(abs(Fraction(v)) for v in high)
    hi, lo = sum_along(high[:, None], low[:, None], axis=0)
    assert abs(Fraction(hi[0]) + Fraction(lo[0]) - exact) <= bound
    segments = rng.integers(0, 3, high.size)
    hi, lo = sum_segments(high, low, segments, 4)
    for seg in range(4):
        members = segments == seg
        expected = sum(map(Fraction, high[members])) + sum(map(Fraction, low[members]))
        assert abs(Fraction(hi[seg]) + Fraction(lo[seg]) - expected) <= bound
    assert hi[3] == lo[3] == 0.0  # an empty segment


def _exact_gradient_reference(X, Y, weights, coef, intercept):
    n_samples, n_features = X.shape
    grad = np.zeros(coef.shape)
    total = np.zeros(coef.shape[1])
    for out in range(coef.shape[1]):
        resid = [
            Fraction(Y[i, out])
            - Fraction(intercept[out])
            - sum(Fraction(X[i, j]) * Fraction(coef[j, out]) for j in range(n_features))
            for i in range(n_samples)
        ]
        weighted = [Fraction(weights[i]) * r for i, r in enumerate(resid)]
        total[out] = float(sum(weighted))
        for j in range(n_features):
            grad[j, out] = float(
                sum(Fraction(X[i, j]) * t for i, t in enumerate(weighted))
            )
    return grad, total


def _double_double_bound(X, Y, weights, coef, intercept):
    """The error a double-double evaluation may make, with the final rounding.

    Each residual is a sum of terms of total size ``|y| + |b| + |X|·|w|``;
    sums in twice the working precision err by about (m·eps)² of the sum
    of the magnitudes of their terms.
    """
    size = np.abs(Y) + np.abs(intercept) + np.abs(X) @ np.abs(coef)
    magnitudes = np.abs(X).T @ (weights[:, None] * size)
    n_terms = X.shape[0] * (X.shape[1] + 2)
    return (n_terms * EPS) ** 2 * magnitudes, (n_terms * EPS) ** 2 * (weights @ size)


def _assert_within(result, expected, bound):
    assert np.all(np.abs(result - expected) <= bound + EPS * np.abs(expected))


@pytest.fixture
def cancelling_problem():
    """Huge terms whose residual cancels to ~1e-9 of them (a polynomial-like
    design of mixed magnitudes, a few exact zeros)."""
    rng = np.random.default_rng(2)
    n_samples, n_features, n_outputs = 40, 4, 2
    X = rng.standard_normal((n_samples, n_features)) * 10.0 ** np.array([-3, 0, 4, 8])
    X[rng.random(X.shape) < 0.3] = 0.0
    coef = rng.standard_normal((n_features, n_outputs))
    intercept = rng.standard_normal(n_outputs)
    Y = X @ coef + intercept + 1e-9 * rng.standard_normal((n_samples, n_outputs))
    weights = rng.uniform(0.5, 2.0, n_samples)
    return X, Y, weights, coef, intercept


@pytest.mark.parametrize("kind", ["dense", "csr", "csc"])
@pytest.mark.parametrize("block_values", [16, 1 << 14])
def test_exact_gradient_is_the_correctly_rounded_exact_gradient(
    monkeypatch, cancelling_problem, kind, block_values
):
    X, Y, weights, coef, intercept = cancelling_problem
    expected_grad, expected_total = _exact_gradient_reference(
        X, Y, weights, coef, intercept
    )
    monkeypatch.setattr(refine_module, "BLOCK_VALUES", block_values)
    data = X if kind == "dense" else sp.csr_matrix(X).asformat(kind)
    grad, total = exact_gradient(data, Y, weights, coef, intercept)
    # Double-double accuracy, rounded once.
    grad_bound, total_bound = _double_double_bound(X, Y, weights, coef, intercept)
    _assert_within(grad, expected_grad, grad_bound)
    _assert_within(total, expected_total, total_bound)
    # A float64 evaluation keeps (almost) no digit of it.
    naive = X.T @ (weights[:, None] * (Y - X @ coef - intercept))
    assert np.max(np.abs(naive - expected_grad) / np.abs(expected_grad)) > 1e-6


@pytest.mark.parametrize("unit_weights", [False, True])
def test_merged_moments_give_the_exact_gradient(
    monkeypatch, cancelling_problem, unit_weights
):
    X, Y, weights, coef, intercept = cancelling_problem
    if unit_weights:
        weights = np.ones_like(weights)
    expected = _exact_gradient_reference(X, Y, weights, coef, intercept)
    monkeypatch.setattr(refine_module, "BLOCK_VALUES", 100)
    chunks = [slice(0, 13), slice(13, 14), slice(14, 40)]
    moments = [exact_moments(X[c], Y[c], weights[c]) for c in chunks]
    moments[1] = exact_moments(
        sp.csr_matrix(X[chunks[1]]), Y[chunks[1]], weights[chunks[1]]
    )
    merged = add_moments(add_moments(moments[0], moments[1]), moments[2])
    grad, total = moments_gradient(merged, coef, intercept)
    grad_bound, total_bound = _double_double_bound(X, Y, weights, coef, intercept)
    _assert_within(grad, expected[0], grad_bound)
    _assert_within(total, expected[1], total_bound)


def _small_problem():
    rng = np.random.default_rng(3)
    x = np.arange(1.0, 13.0)
    X = np.column_stack([x, x**2, x**3])
    y = 1.0 + x - 0.5 * x**2 + 0.1 * x**3 + 100.0 * rng.standard_normal(x.size)
    weights = np.ones(x.size)
    x_mean = X.mean(axis=0)
    centred = X - x_mean
    gram = centred.T @ centred
    return X, y[:, None], weights, x_mean, gram


def _refine(rate):
    """Refine from zero with the true inverse scaled by (1 − rate)."""
    X, Y, weights, x_mean, gram = _small_problem()
    inverse_matrix = (1.0 - rate) * np.linalg.inv(gram)
    correct = centred_correction(
        lambda rhs: inverse_matrix @ rhs, x_mean, float(X.shape[0]), True
    )
    start = np.zeros((3, 1)), np.zeros(1)
    coef, intercept, steps = refine_solution(
        lambda w, b, low: exact_gradient(X, Y, weights, w, b, low),
        correct,
        *start,
        np.sqrt(np.diag(gram)),
        np.sqrt(X.shape[0]),
    )
    lstsq = np.linalg.lstsq(np.column_stack([X, np.ones(len(X))]), Y, rcond=None)[0]
    return coef, intercept, steps, lstsq


def test_refinement_converges_with_an_inexact_factor():
    # A factor off by 1% contracts by 0.01 per step: the loop runs until
    # the correction stops shrinking and lands on the solution.
    coef, intercept, steps, lstsq = _refine(0.01)
    np.testing.assert_allclose(coef, lstsq[:3], rtol=1e-11)
    np.testing.assert_allclose(intercept, lstsq[3], rtol=1e-11)
    assert 4 <= steps <= refine_module.MAX_STEPS


def test_refinement_undoes_a_diverging_step():
    # A factor that overshoots by 150% (rate −1.5): the second correction is
    # larger than the first, so the first step is undone.
    coef, intercept, steps, _ = _refine(-1.5)
    assert steps == 2
    assert np.all(coef == 0.0) and np.all(intercept == 0.0)
