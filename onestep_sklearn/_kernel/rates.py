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
    maps = _transfer(rate, curvatures, momentum, nesterov)

    def worst(power):
        return float(np.max(np.linalg.norm(power, ord=2, axis=(-2, -1))))

    powers = [maps]  # M^(2^k)
    # Transients of momentum can grow before they shrink: squarings past
    # the range of float64 mean more than 2⁴⁰ iterations anyway.
    with np.errstate(over="ignore", invalid="ignore"):
        while not worst(powers[-1]) <= shrink:
            if len(powers) > 40 or not np.all(np.isfinite(powers[-1])):
                return np.inf
            powers.append(powers[-1] @ powers[-1])
        # Binary search below the first power of two that is small enough.
        count, product = 0, np.broadcast_to(np.eye(2), maps.shape).copy()
        for k in range(len(powers) - 2, -1, -1):
            trial = product @ powers[k]
            if worst(trial) > shrink:
                product, count = trial, count + 2**k
    return count + 1
