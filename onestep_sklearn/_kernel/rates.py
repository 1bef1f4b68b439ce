"""Learning-rate facts of gradient descent on a quadratic (pure formulas).

For the objective of ``_kernel.objective`` the Hessian ``H`` is constant;
with ``L`` its largest and ``ℓ`` its smallest positive eigenvalue (``κ =
L/ℓ``), each eigen-direction of a constant-rate run evolves on its own:

* plain GD: ``e ← (1 − ηλ)·e``; stable iff ``η < 2/L``; the best constant
  rate is ``2/(L + ℓ)``;
* heavy ball ``v ← μv − ηg, θ ← θ + v``: ``z² − (1 + μ − ηλ)z + μ = 0``;
  stable iff ``η < 2(1 + μ)/L``; the best pair is
  ``(4/(√L + √ℓ)², ((√κ − 1)/(√κ + 1))²)`` (Polyak);
* Nesterov (look-ahead form): ``z² − (1 + μ)(1 − ηλ)z + μ(1 − ηλ) = 0``;
  stable iff ``η < 2(1 + μ)/((1 + 2μ)·L)`` (Jury's conditions).
"""

import numpy as np


def stability_limit(lipschitz, momentum=0.0, nesterov=False):
    """The largest stable constant rate (exclusive) and its formula's name."""
    if not lipschitz > 0:
        return np.inf, "2/L"
    if momentum == 0:
        return 2.0 / lipschitz, "2/L"
    if nesterov:
        factor = 2.0 * (1 + momentum) / (1 + 2 * momentum)
        return factor / lipschitz, "2(1+μ)/((1+2μ)L)"
    return 2.0 * (1 + momentum) / lipschitz, "2(1+μ)/L"


def optimal_plain_rate(lipschitz, smallest):
    """``2/(L + ℓ)``: the constant rate with the fastest worst direction."""
    total = lipschitz + smallest
    return 2.0 / total if total > 0 else np.inf


def optimal_heavy_ball(lipschitz, smallest):
    """Polyak's optimal heavy-ball pair ``(η, μ)`` (``μ = 0`` when ℓ = 0 is
    unknown or the objective is flat)."""
    if not (lipschitz > 0 and smallest > 0):
        return (1.0 / lipschitz if lipschitz > 0 else np.inf), 0.0
    root_l, root_s = np.sqrt(lipschitz), np.sqrt(smallest)
    rate = 4.0 / (root_l + root_s) ** 2
    momentum = ((root_l - root_s) / (root_l + root_s)) ** 2
    return float(rate), float(momentum)


MOMENTUM_KAPPA = 1e8


def damped_momentum(lipschitz, smallest, nesterov=False):
    """The momentum of ``momentum="auto"`` at the rate ``1/L``.

    Heavy ball: ``μ = (1 − √(ℓ/L))²``, which puts every eigen-direction's
    pair of roots on the circle of radius ``1 − √(ℓ/L)`` (a double root at
    ``ℓ``): about ``√κ`` iterations per digit of accuracy instead of ``κ``,
    with no transient growth of the error (Polyak's own pair amplifies it
    about ``√κ``-fold in the top direction). Nesterov: the textbook
    ``μ = (1 − √(ℓ/L))/(1 + √(ℓ/L))``. 0 when ``ℓ`` is unknown (0).
    """
    if not (lipschitz > 0 and smallest > 0):
        return 0.0
    # ℓ is known to about eps·d·L: below 1e-8·L (κ > 1e8, more than 10⁵
    # iterations anyway) μ would follow its rounding, so κ is capped there.
    root = float(np.sqrt(min(max(smallest / lipschitz, MOMENTUM_KAPPA**-1), 1.0)))
    return (1 - root) / (1 + root) if nesterov else (1 - root) ** 2


def contraction(rate, curvatures, momentum=0.0, nesterov=False):
    """The asymptotic per-iteration factor of the error: the largest
    spectral radius of the recurrence over the given curvatures."""
    lam = np.atleast_1d(np.asarray(curvatures, dtype=np.float64))
    h = rate * lam
    if momentum == 0:
        return float(np.max(np.abs(1.0 - h)))
    if nesterov:
        trace, det = (1 + momentum) * (1 - h), momentum * (1 - h)
    else:
        trace, det = 1 + momentum - h, np.full_like(h, momentum)
    # A rate far past the limit overflows here: its factor is inf (or NaN),
    # which no caller reads as convergence.
    with np.errstate(over="ignore", invalid="ignore"):
        disc = (trace**2 - 4 * det).astype(complex)
        root = np.sqrt(disc)
        roots = np.abs(np.stack([(trace + root) / 2, (trace - root) / 2]))
    return float(np.max(roots))


def _transfer(rate, curvatures, momentum, nesterov):
    """The 2×2 maps ``(e, v) ← M·(e, v)`` of one iteration, one per
    curvature (e the error along its eigen-direction, v the velocity)."""
    h = rate * np.asarray(curvatures, dtype=np.float64)
    mu = np.full_like(h, momentum)
    if nesterov:
        rows = [[1 - h - mu * h, mu * mu], [-h, mu]]
    else:
        rows = [[1 - h, mu], [-h, mu]]
    return np.moveaxis(np.array(rows), (0, 1), (-2, -1))


def largest_singular_value(maps):
    """The spectral norms of a stack of 2×2 matrices, in closed form.

    With ``σ₁ ≥ σ₂`` the singular values of ``[[a, b], [c, d]]``,
    ``√((a + d)² + (b − c)²)`` and ``√((a − d)² + (b + c)²)`` are
    ``σ₁ ± σ₂`` in some order (their squares are ``‖M‖_F² ± 2·det``), so
    half their sum is ``σ₁``: sums of squares only, no cancellation, and a
    few ulps from an SVD at a fraction of its cost (the SVD of small stacks
    was most of a non-converging fit's warning).
    """
    return 0.5 * _singular_sums(maps)


def _singular_sums(maps):
    """``2·σ₁`` of each 2×2 matrix of a stack (:func:`largest_singular_value`)."""
    a, b = maps[..., 0, 0], maps[..., 0, 1]
    c, d = maps[..., 1, 0], maps[..., 1, 1]
    return np.hypot(a + d, b - c) + np.hypot(a - d, b + c)


# The searches below give up past 2⁴⁰ iterations (about 10¹²).
MAX_DOUBLINGS = 40


def iterations_to_shrink(rate, curvatures, shrink, momentum=0.0, nesterov=False):
    """The fewest iterations after which every eigen-direction's error is at
    most ``shrink`` times its start (largest spectral norm of ``M^t`` over
    the curvatures), transients of momentum included; inf when it never is
    (a rate at or past the limit, whose contraction factor is not below 1,
    or more than 2⁴⁰ iterations)."""
    if not shrink < 1:
        return 0
    # At the limit the factor is 1 up to rounding: more than 2⁴⁰ iterations.
    if not contraction(rate, curvatures, momentum, nesterov) < 1 - 1e-12:
        return np.inf
    if momentum == 0:
        return _plain_iterations(rate, curvatures, shrink)
    maps = _transfer(rate, curvatures, momentum, nesterov)

    def worst(power):
        return 0.5 * float(_singular_sums(power).max())

    powers = [maps]  # M^(2^k)
    # Transients of momentum can grow before they shrink: squarings past
    # the range of float64 mean more than 2⁴⁰ iterations anyway (a norm
    # that is not finite: an entry overflowed, or is about to).
    with np.errstate(over="ignore", invalid="ignore"):
        while not (norm := worst(powers[-1])) <= shrink:
            if len(powers) > MAX_DOUBLINGS or not np.isfinite(norm):
                return np.inf
            powers.append(powers[-1] @ powers[-1])
        # Binary search below the first power of two that is small enough.
        count, product = 0, None
        for k in range(len(powers) - 2, -1, -1):
            trial = powers[k] if product is None else product @ powers[k]
            if worst(trial) > shrink:
                product, count = trial, count + 2**k
    return count + 1


def _plain_iterations(rate, curvatures, shrink):
    """:func:`iterations_to_shrink` without momentum, in closed form: ``M =
    [[ρ, 0], [−h, 0]]`` (``h = ηλ``, ``ρ = 1 − h``) has ``Mᵗ = [[ρᵗ, 0],
    [−h·ρᵗ⁻¹, 0]]``, whose norm ``|ρ|ᵗ⁻¹·√(ρ² + h²)`` is at most ``shrink``
    from ``t = 1 + log(shrink/‖M‖)/log|ρ|`` on (rounded up); the caller has
    checked ``|ρ| < 1``."""
    h = rate * np.asarray(curvatures, dtype=np.float64)
    rho = 1 - h
    first = np.hypot(rho, h)  # ‖M‖
    with np.errstate(divide="ignore"):
        # log1p: ρ rounded would cost log|ρ| its digits when h is tiny. ρ = 0
        # (h = 1): log|ρ| = −inf, one more iteration clears it.
        log_rho = np.where(h < 1, np.log1p(-np.minimum(h, 1)), np.log(np.abs(rho)))
        more = np.ceil(np.log(shrink / first) / log_rho)
    more = np.where(first > shrink, np.maximum(more, 1), 0)
    total = 1 + float(more.max())
    return np.inf if total > 2**MAX_DOUBLINGS else int(total)
