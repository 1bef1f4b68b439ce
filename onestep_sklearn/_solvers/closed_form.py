"""Closed forms of the spectral engine: many momentum iterations at once, and
the exact distance to the optimum.

At a constant step ``η`` and momentum ``μ`` every eigen-direction of the
Hessian evolves by the same 2×2 map ``M`` at every iteration
(``spectral``), so iteration ``t`` is ``Mᵗ`` applied to the start of the
chunk. ``Mᵗ`` for ``t = 1 … size`` is the product of two short tables of
powers (``Mⁱ`` and ``(Mᴮ)ʲ``, ``B ≈ √size``), one 2×2 product per value
instead of log₂(size) rounds of them: the iterations cost a few values per
direction each, with the true objective, gradient norm and distance of every
one of them (``loss_curve_`` keeps every iteration).

The distance: along an eigen-direction of curvature ``λ > 0`` the gradient
is ``γ = λ·(z − z*)``, so ``‖w − w*‖² = Σ γ²/λ² + ‖w's component where
λ = 0‖²`` exactly, where ``‖∇f‖/ℓ`` (``stopping``) bounds it by the
largest ``1/λ`` for every direction: pessimistic by up to ``L/ℓ``.
"""

from dataclasses import dataclass

import numpy as np

from .null_space import flat_mask

EPS = float(np.finfo(np.float64).eps)
# Eigenvalues of ``eigh`` on the formed Hessian are accurate to about
# eps·d·L (absolute); the certificate takes them this much smaller.
EIGEN_ERROR = 10.0
# Values per array of a chunk (size × d): bounds its memory (16 MiB).
CHUNK_VALUES = 2**21


@dataclass(frozen=True)
class ExactDistance:
    """``‖w − w*‖/‖w*‖`` from the gradient in the eigenbasis, certified.

    ``inv_low_sq`` is ``1/(λ − δ)²`` per active direction (0 elsewhere),
    ``δ = EIGEN_ERROR·eps·d·L`` the error of an eigenvalue from ``eigh``
    (0 for the small directions measured on the data, ``null_space``);
    ``outside`` is the squared norm of the iterates' fixed component along
    the directions of zero curvature (the minimum-norm ``w*`` has none);
    ``floor`` bounds the relative error of ``w*`` itself from those
    eigenvalue errors (``δ/ℓ``). ``enabled`` is False where this cannot
    certify (``w* = 0``, or an eigenvalue within its own error).
    """

    inv_low_sq: np.ndarray
    outside: float
    target_norm: float
    floor: float
    enabled: bool

    @classmethod
    def of(cls, spectrum, start_coords, gamma0):
        """From the engine's ``_kernel.spectrum.Spectrum``, the start in the
        eigenbasis and the gradient there."""
        evals, active, top = spectrum.evals, spectrum.active, spectrum.lipschitz
        n = evals.size
        from_eigh = active & ~flat_mask(evals)
        delta = np.where(from_eigh, EIGEN_ERROR * EPS * n * top, 0.0)
        lower = evals - delta
        enabled = bool(np.all(lower[active] > 0.5 * evals[active]))
        safe = np.where(active & (lower > 0), lower, 1.0)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            # Curvatures near float64's least values: their squares underflow.
            inv_low_sq = np.where(active, 1.0 / safe**2, 0.0)
            shift = spectrum.optimum_shift(gamma0)
            target = np.where(active[:, None], start_coords + shift, 0)
            outside = float(np.sum(start_coords[~active] ** 2))
            target_norm = float(np.linalg.norm(target))
        enabled &= bool(np.all(np.isfinite(inv_low_sq))) and np.isfinite(outside)
        floor = 0.0
        if from_eigh.any():
            floor = float(EIGEN_ERROR * EPS * n * top / evals[from_eigh].min())
        enabled &= target_norm > 0 and np.isfinite(target_norm)
        return cls(inv_low_sq, outside, target_norm, floor, enabled)

    def distances(self, sq_gammas):
        """Per iteration, from the squares of the gradient's coordinates
        (size, d), summed over the outputs; inf where not enabled."""
        size = sq_gammas.shape[0]
        if not self.enabled:
            return np.full(size, np.inf)
        with np.errstate(over="ignore", invalid="ignore"):
            sq = sq_gammas @ self.inv_low_sq + self.outside
            values = np.sqrt(np.maximum(sq, 0.0)) / self.target_norm + self.floor
        return np.where(np.isnan(values), np.inf, values)

    def scaled_distances(self, scales, sq_gamma):
        """:meth:`distances` of the gradients ``γ·s`` (``scales`` (size, d),
        ``sq_gamma`` (d,) the squares of ``γ`` summed over the outputs)
        without forming their squares: one product with ``γ²/(λ − δ)²``."""
        if not self.enabled:
            return np.full(scales.shape[0], np.inf)
        with np.errstate(over="ignore", invalid="ignore"):
            sq = scales @ (sq_gamma * self.inv_low_sq) + self.outside
            values = np.sqrt(np.maximum(sq, 0.0)) / self.target_norm + self.floor
        return np.where(np.isnan(values), np.inf, values)


def step_coefficients(momentum, nesterov, eta):
    """``(a, b)`` of one update ``step = a·v + b·γ`` (module ``spectral``):
    heavy ball ``(μ, −η)``, Nesterov's look-ahead ``(μ², −(1 + μ)·η)``; the
    engine's chunks and the cross-validation path iterate the same map."""
    if nesterov:
        return momentum * momentum, -(1 + momentum) * eta
    return momentum, -eta


def prefix_products(m11, m12, m21, m22):
    """Inclusive prefix products ``P_t = M_t ⋯ M_1`` of 2×2 matrices.

    Entries of shape (size, d); Hillis–Steele scan in log₂(size) rounds, the
    later matrix on the left.
    """
    entries = np.stack((m11, m12, m21, m22))
    shift, size = 1, m11.shape[0]
    while shift < size:
        r11, r12, r21, r22 = entries[:, shift:]
        q11, q12, q21, q22 = entries[:, :-shift]
        entries[:, shift:] = (
            r11 * q11 + r12 * q21,
            r11 * q12 + r12 * q22,
            r21 * q11 + r22 * q21,
            r21 * q12 + r22 * q22,
        )
        shift *= 2
    return entries


def matrix_powers(matrix, size):
    """``(small, big, block)``: ``Mᵗ = big[j]·small[i]`` for ``t = j·block
    + i + 1`` (``small[i] = Mⁱ⁺¹``, ``big[j] = M^(j·block)``), each a
    (4, ·, d) stack of the entries of one 2×2 matrix per direction."""
    block = max(1, int(np.ceil(np.sqrt(size))))
    count = -(-size // block)
    small = prefix_products(*(np.broadcast_to(m, (block, m.size)) for m in matrix))
    big = np.empty((4, count, small.shape[2]))
    big[:, 0] = np.array([1.0, 0.0, 0.0, 1.0])[:, None]
    if count > 1:
        top = small[:, -1]
        big[:, 1:] = prefix_products(
            *(np.broadcast_to(m, (count - 1, m.size)) for m in top)
        )
    return small, big, block


def _first_row(small, big, size):
    """``(Mᵗ)₁₁`` and ``(Mᵗ)₁₂`` for ``t = 1 … size``, shape (size, d)."""
    b11, b12 = big[0][:, None], big[1][:, None]
    p11 = (b11 * small[0] + b12 * small[2]).reshape(-1, small.shape[2])
    p12 = (b11 * small[1] + b12 * small[3]).reshape(-1, small.shape[2])
    return p11[:size], p12[:size]


def _power(small, big, block, t):
    """The four entries of ``Mᵗ`` (t ≥ 1), each of shape (d,)."""
    j, i = divmod(t - 1, block)
    s11, s12, s21, s22 = small[:, i]
    b11, b12, b21, b22 = big[:, j]
    return (
        b11 * s11 + b12 * s21,
        b11 * s12 + b12 * s22,
        b21 * s11 + b22 * s21,
        b21 * s12 + b22 * s22,
    )


def constant_chunk(engine, size):
    """The next ``size`` iterations of ``engine`` (a ``SpectralEngine``) at a
    constant step and momentum, in closed form; returns a ``gd.Chunk``."""
    from .gd import Chunk

    size = max(1, min(size, CHUNK_VALUES // max(engine.evals.size, 1)))
    eta = engine.schedule.learning_rate * engine.rate_scale
    engine.pending_steps = np.full(size, eta)
    mu = engine.momentum
    a, b = step_coefficients(mu, engine.nesterov, eta)
    lam, inv = engine.evals, engine.inv_evals
    ones = np.ones_like(lam)
    g0, v0, shift0 = engine.gamma, engine.velocity, engine.shift
    # The iterate's coordinates are c0 + γ/λ along active directions (the
    # gradient there is λ·(z − z*)), its start's elsewhere.
    c0 = engine.start_coords + shift0 - g0 * inv[:, None]
    with np.errstate(over="ignore", invalid="ignore"):
        matrix = (1 + b * lam, a * lam, -eta * ones, mu * ones)
        small, big, block = matrix_powers(matrix, size)
        if g0.shape[1] == 1:  # one output: (size, d) arrays, no third axis
            # γ_t = (Mᵗ)₁₁·γ₀ + (Mᵗ)₁₂·v₀ with Mᵗ = big·small: the small
            # table applied to (γ₀, v₀) first, then one product at full size.
            g, v = g0[:, 0], v0[:, 0]
            first, second = small[0] * g + small[1] * v, small[2] * g + small[3] * v
            gammas = big[0][:, None] * first
            gammas += big[1][:, None] * second
            gammas = gammas.reshape(-1, g.size)[:size]
            coords = gammas * inv
            coords += c0[:, 0]
            sq_gammas = np.square(gammas, out=gammas)
            coef_sq = np.einsum("ij,ij->i", coords, coords)
        else:
            p11, p12 = _first_row(small, big, size)
            gammas = p11[..., None] * g0 + p12[..., None] * v0
            coords = c0 + gammas * inv[:, None]
            sq_gammas = np.sum(gammas**2, axis=2)
            coef_sq = np.sum(coords**2, axis=(1, 2))
        sums = sq_gammas @ np.column_stack((0.5 * inv, np.ones_like(inv)))
        losses = engine.f_star + sums[:, 0]
        grad_norms = np.sqrt(sums[:, 1])
        coef_norms = np.sqrt(coef_sq)
        distances = engine.exact_distances(sq_gammas)

    def state(i):
        with np.errstate(over="ignore", invalid="ignore"):
            q11, q12, q21, q22 = _power(small, big, block, i + 1)
            gamma = q11[:, None] * g0 + q12[:, None] * v0
            velocity = q21[:, None] * g0 + q22[:, None] * v0
            shift = shift0 + (gamma - g0) * inv[:, None]
        return gamma, velocity, shift

    engine._pending = state
    return Chunk(losses, grad_norms, coef_norms, None, distances)
