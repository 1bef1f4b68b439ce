"""Full-batch gradient descent on the sufficient statistics, many steps at once.

With ``H = Q·diag(λ)·Qᵀ`` the Hessian of the objective in ``_kernel.objective``, the
gradient in the eigenbasis, ``γ = Qᵀ∇f``, and the velocity ``v`` evolve
direction by direction. One update (``μ`` the momentum, ``η`` the step)::

    v    ← μ·v − η·γ
    step =  a·v_old + b·γ_old     (heavy ball a = μ, b = −η;
                                   Nesterov look-ahead a = μ², b = −(1+μ)·η;
                                   plain GD μ = 0)
    γ    ← γ + λ·step

is the linear map ``(γ, v) ← M·(γ, v)`` with ``M = [[1 + bλ, aλ], [−η, μ]]``.
A chunk of iterations is the inclusive prefix product of its ``M``s
(Hillis–Steele: log₂(chunk) rounds of elementwise 2×2 products), so hundreds
of iterations cost a few dozen numpy calls on (chunk, d) arrays. These are the
iterates of the data-pass loop, up to rounding. The objective is
``f* + ½·Σ γ²/λ``: the excess over the optimum carries no cancellation.
"""

import numpy as np
import scipy.linalg as la

from .._kernel.spectrum import Spectrum
from .closed_form import (
    ExactDistance,
    constant_chunk,
    prefix_products,
    step_coefficients,
)
from .gd import Chunk
from .newton import varying_columns
from .objective import Objective
from .stopping import LazyNorms
from .validation import r2_from_sse


def statistics_objective(stats, l2_reg_strength):
    """The objective on the statistics, as the spectral engine needs it.

    Returns ``(objective, frozen, spectrum)``: constant columns (rounding
    noise only) are flattened and reported in ``frozen`` so that their
    coefficients stay put; ``spectrum`` is the Hessian's eigendecomposition,
    which gives L and drives the engine.
    """
    frozen = ~varying_columns(stats, l2_reg_strength)
    objective = Objective.on_stats(stats.restricted(~frozen), l2_reg_strength)
    spectrum = la.eigh(objective.hessian(), check_finite=False)
    return objective, frozen, spectrum


CHUNKS = (16, 64, 256, 512)
# Constant steps with momentum in closed form (``closed_form``): the cost
# of an iteration is a few values per direction, so longer chunks.
FAST_CHUNKS = (64, 512, 2048)
# Closed-form chunks cost little per iteration: fewer, longer ones.
PLAIN_CHUNKS = (256, 2048)


class SpectralEngine:
    """Chunks of full-batch GD iterates from an ``Objective`` on statistics.

    Implements ``gd.Engine``. ``spectrum`` is ``eigh`` of the Hessian
    (computed here when not given), read as a ``_kernel.spectrum.Spectrum``
    (the one the cross-validation path reads too); ``val_stats`` the validation rows'
    statistics for early stopping.
    """

    def __init__(
        self, objective, coef, schedule, moves, *, spectrum=None, val_stats=None
    ):
        if spectrum is None:
            spectrum = la.eigh(objective.hessian())
        if not isinstance(spectrum, Spectrum):
            spectrum = Spectrum.of(spectrum)
        self.spectrum = spectrum
        self.basis, self.lipschitz = spectrum.basis, spectrum.lipschitz
        self.active, self.evals = spectrum.active, spectrum.evals
        self.inv_evals = spectrum.inv_evals
        self.objective, self.start = objective, coef.copy()
        # ‖w‖ = ‖Qᵀw‖ = ‖Qᵀ·start + shift‖ (Q orthogonal).
        self.start_coords = self.basis.T @ self.start
        loss, grad = objective.loss_gradient(coef)
        self.gamma = spectrum.gradient_coordinates(grad)
        self.velocity = np.zeros_like(self.gamma)
        self.shift = np.zeros_like(self.gamma)  # z − z_start in the eigenbasis
        self.f_star = max(loss - self.spectrum.excess(self.gamma[None])[0], 0.0)
        self.schedule = schedule
        self.momentum, self.nesterov = moves.momentum, moves.nesterov
        self.val_stats = val_stats
        self.t, self.rate_scale, self.chunk_index = 0, 1.0, 0
        self.best = self.best_val = (self.gamma, self.shift)
        self._exact_distance_setup()

    def _exact_distance_setup(self):
        """What :meth:`exact_distances` needs (see ``closed_form``)."""
        self.certifier = ExactDistance.of(self.spectrum, self.start_coords, self.gamma)

    def exact_distances(self, sq_gammas):
        """``‖w − w*‖/‖w*‖`` of iterates whose gradients in the eigenbasis
        have squares (summed over outputs) ``sq_gammas`` (size, d)."""
        return self.certifier.distances(sq_gammas)

    def step_sizes(self, count):
        return self.schedule.steps(self.t, count, self.rate_scale)

    def advance(self, limit):
        """Compute the next chunk; returns its objective values (and scores)."""
        constant = self.schedule.schedule != "invscaling"
        plain = self.momentum == 0 and constant
        fast = not plain and self.closed_form_applies()
        chunks = PLAIN_CHUNKS if plain else FAST_CHUNKS if fast else CHUNKS
        size = min(chunks[min(self.chunk_index, len(chunks) - 1)], limit)
        self.chunk_index += 1
        if plain:
            return self._advance_plain(size)
        if fast:
            return constant_chunk(self, size)
        self.pending_steps = self.step_sizes(size)
        eta = self.pending_steps[:, None]
        mu = self.momentum
        a, b = step_coefficients(mu, self.nesterov, eta)
        lam = self.evals[None, :]
        with np.errstate(over="ignore", invalid="ignore"):
            p11, p12, p21, p22 = prefix_products(
                1 + b * lam,
                a * lam * np.ones_like(eta),
                -eta * np.ones_like(lam),
                np.full((size, lam.size), mu),
            )
            g0, v0 = self.gamma[None], self.velocity[None]
            gammas = p11[..., None] * g0 + p12[..., None] * v0
            velocities = p21[..., None] * g0 + p22[..., None] * v0
            prev_g = np.concatenate((g0, gammas[:-1]))
            prev_v = np.concatenate((v0, velocities[:-1]))
            steps = a * prev_v + b[..., None] * prev_g
            shifts = self.shift[None] + np.cumsum(steps * self.active[:, None], axis=0)
            losses = self.f_star + self.spectrum.excess(gammas)
            sq_gammas = np.sum(gammas**2, axis=2)
            grad_norms = np.sqrt(np.sum(sq_gammas, axis=1))
            coef_norms = np.sqrt(np.sum((self.start_coords + shifts) ** 2, axis=(1, 2)))
            distances = self.exact_distances(sq_gammas)
        self._pending = lambda i: (gammas[i], velocities[i], shifts[i])
        scores = self._scores(shifts) if self.val_stats is not None else None
        return Chunk(losses, grad_norms, coef_norms, scores, distances)

    def closed_form_applies(self):
        """Momentum chunks in closed form (``closed_form.constant_chunk``):
        constant steps, no validation scores (those need every iterate)."""
        return self.schedule.schedule != "invscaling" and self.val_stats is None

    def _advance_plain(self, size):
        """Plain GD at a fixed step, in closed form: ``γ_t = (1 − ηλ)^t·γ₀``.

        The objective needs only the (size, d) powers; the displacement
        ``Σ_{s<t} −η·γ_s = −γ₀·(1 − ρ^t)/λ`` is formed only for the
        iterations the run keeps (``expm1`` keeps ``1 − ρ^t`` accurate when
        ηλ is tiny).
        """
        eta = self.schedule.learning_rate * self.rate_scale
        self.pending_steps = np.full(size, eta)
        decay = -eta * self.evals
        steps = np.arange(1, size + 1)[:, None]
        gamma0, shift0 = self.gamma, self.shift
        sq_gamma0 = np.sum(gamma0**2, axis=1)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            rho = 1 + decay
            powers = rho**steps
            sq_powers = powers**2
            weights = self.spectrum.excess_weights(gamma0)
            losses = self.f_star + sq_powers @ weights
            log_rho = np.log1p(np.maximum(decay, -1))
        # Below 1/λ every ρ is ≥ 0 (the usual case): expm1 alone, without
        # forming the other branch over the whole chunk.
        monotone = bool(np.all(rho >= 0))

        def completed(step, power):
            """``1 − ρ^t``, through expm1 where ρ ≥ 0."""
            if monotone:
                return -np.expm1(step * log_rho)
            return np.where(rho >= 0, -np.expm1(step * log_rho), 1 - power)

        # ‖a − γ₀·c_t‖² with a = Qᵀstart + shift₀ and c_t = (1 − ρ^t)/λ,
        # expanded so that no (size, d, k) array is formed.
        coords = self.start_coords + shift0
        cross, sq_coords = np.sum(coords * gamma0, axis=1), np.sum(coords**2)

        def coef_norms_at(rows):
            """The norms of the iterates ``rows`` (a slice or indices)."""
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                if monotone:  # −expm1(x)/λ = expm1(x)·(−1/λ), in place
                    factors = np.multiply(steps[rows], log_rho)
                    np.expm1(factors, out=factors)
                    factors *= -self.inv_evals
                else:
                    factors = completed(steps[rows], powers[rows]) * self.inv_evals
                sq = sq_coords - 2 * (factors @ cross) + (factors * factors) @ sq_gamma0
                return np.sqrt(np.maximum(sq, 0.0))

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            grad_norms = np.sqrt(sq_powers @ sq_gamma0)
            distances = self.certifier.scaled_distances(sq_powers, sq_gamma0)
            if monotone:
                # 0 ≤ c_t ≤ 1/λ: every coordinate of an iterate lies between
                # its values at c = 0 and c = 1/λ, which bound its norm; the
                # stop rule forms the norms only where it may stop
                # (``stopping.LazyNorms``).
                ends = coords - gamma0 * self.inv_evals[:, None]
                bound = float(np.sqrt(np.sum(np.maximum(coords**2, ends**2))))
                coef_norms = LazyNorms(bound, coef_norms_at)
            else:
                coef_norms = coef_norms_at(slice(None))

        def state(i):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                gamma = powers[i][:, None] * gamma0
                done = completed(i + 1, powers[i])
                shift = shift0 - gamma0 * (done * self.inv_evals)[:, None]
            return gamma, np.zeros_like(gamma), shift

        self._pending = state
        scores = None
        if self.val_stats is not None:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                done = completed(steps, powers)
            shifts = shift0[None] - gamma0[None] * (done * self.inv_evals)[:, :, None]
            scores = self._scores(shifts)
        return Chunk(losses, grad_norms, coef_norms, scores, distances)

    def coef_at(self, shift):
        return self.start + self.basis @ shift

    def _scores(self, shifts):
        coefs = self.start[None] + np.einsum("ij,cjk->cik", self.basis, shifts)
        stats = self.val_stats
        with np.errstate(over="ignore", invalid="ignore"):
            quad = np.einsum("cik,ij,cjk->ck", coefs, stats.xx, coefs)
            centred = stats.yy - 2 * np.einsum("cik,ik->ck", coefs, stats.xy) + quad
            intercepts = self.objective.y_mean - np.einsum(
                "i,cik->ck", self.objective.x_mean, coefs
            )
            offset = stats.y_mean - np.einsum("i,cik->ck", stats.x_mean, coefs)
            sse = np.maximum(centred, 0) + stats.sw_sum * (offset - intercepts) ** 2
        return np.array([r2_from_sse(row, stats.yy) for row in sse])

    def commit(self, consumed, best_at, best_score_at):
        state = self._pending
        if best_at is not None:
            gamma, _, shift = state(best_at)
            self.best = (gamma, shift)
        if best_score_at is not None:
            gamma, _, shift = state(best_score_at)
            self.best_val = (gamma, shift)
        self.gamma, self.velocity, self.shift = state(consumed - 1)
        self.t += consumed

    def revert_to_best(self):
        self.gamma, self.shift = self.best
        self.velocity = np.zeros_like(self.gamma)
        self.rate_scale /= 5
        self.chunk_index = 0

    def current_score(self):
        return self._scores(self.shift[None])[0]

    def coef(self, which="current"):
        shift = {
            "current": self.shift,
            "best": self.best[1],
            "best_val": self.best_val[1],
        }[which]
        return self.coef_at(shift)
