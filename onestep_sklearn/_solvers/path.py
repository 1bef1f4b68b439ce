"""Every learning rate × every iteration of full-batch GD, in closed form.

For one cross-validation split, from its training and validation
statistics: the iterates of constant-rate gradient descent from ``w₀ = 0``
on the objective of ``_kernel.objective`` (the runs of
``IterativeGDRegressor(learning_rate=η, max_iter=t, tol=None)``, which
iterates on the same statistics with ``spectral.SpectralEngine``) for every
rate ``η`` and every ``t ≤ max_iter``, and their validation scores.

In the eigenbasis ``H = Q·diag(λ)·Qᵀ`` of the training Hessian, with ``γ₀ =
Qᵀ∇f(0)``, plain GD after t steps is at ``Qᵀw_t = −γ₀·(1 − (1 − ηλ)ᵗ)/λ``
(the spectral engine's ``_advance_plain``); with momentum each direction
follows the engine's 2×2 recurrence, run here for all rates at once. The
objective is ``f* + ½·Σ γ²/λ``. A run stops as ``stopping.StopRule`` stops
it with ``tol=None``: at the first rise of the objective beyond rounding
(plain GD) or past ``BLOW_UP_FACTOR`` times its scale (momentum), keeping
its best iterate, so later iterations of that rate repeat the best one.

The validation sum of squares of any ``w`` (the intercept profiled on the
training rows) is a quadratic form in the validation statistics,
``c − 2·wᵀb + wᵀAw``, evaluated in the eigenbasis: no pass over X.
"""

import numpy as np

from .spectral import statistics_objective
from .stopping import BLOW_UP_FACTOR, EPS


def r2_scores(sse, sst):
    """``r2_score`` (uniform average, force_finite) of each row of ``sse``
    (..., k) against the validation fold's ``sst`` (k,)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scores = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), 0.0)
    scores = np.where((sst == 0) & (sse == 0), 1.0, scores)
    return scores.mean(axis=-1)


class FoldPath:
    """The iterates and validation scores of one split, for all rates.

    ``train`` holds the training statistics (as the fit needs them: centred
    with an intercept, raw without), ``val`` the validation fold's centred
    statistics; ``rates`` (n_rates,) are in the units of the statistics.
    ``dtype`` is the dtype of X, which sets the rounding the stopping rule
    allows. After construction: ``lipschitz`` (L of the training fold),
    ``diverged`` (n_rates,) and ``stopped_at`` (the iteration whose rise
    stopped each rate, 0 for none) and :meth:`scores`.
    """

    def __init__(self, train, val, l2_reg_strength, rates, max_iter, moves, dtype):
        objective, frozen, (evals, basis) = statistics_objective(train, l2_reg_strength)
        top = max(evals[-1], 0.0)
        active = evals > EPS * evals.size * top
        self.lipschitz = float(top)
        self.evals = np.where(active, evals, 0.0)
        self.inv_evals = np.where(active, 1.0 / np.where(active, evals, 1), 0)
        # Constant columns never move (``_fitted.descent_attributes``).
        self.basis = basis.copy()
        self.basis[frozen] = 0.0
        self.objective = objective
        zero = np.zeros_like(train.xy)
        loss0, grad0 = objective.loss_gradient(zero)
        self.gamma0 = (basis.T @ grad0) * active[:, None]
        excess = 0.5 * np.sum(self.gamma0**2 * self.inv_evals[:, None])
        self.f_star = max(loss0 - excess, 0.0)
        self.loss0 = loss0
        # ``descent.run_descent``'s scale of the objective and rounding.
        y_size = float(np.sum(objective.y_mean**2))
        self.scale = max(loss0, y_size, np.finfo(np.float64).tiny)
        self.eps = max(np.finfo(dtype).eps, EPS)
        self.rates = np.asarray(rates, dtype=np.float64)
        self.max_iter, self.moves = max_iter, moves
        self._validation_form(val)
        # Per rate: the validation SSE of iterates 0..T (w₀ first), and the
        # stop of its run.
        self._sse = np.empty((self.rates.size, max_iter + 1, train.xy.shape[1]))
        self._sse[:, 0] = self.sse(np.zeros_like(self.gamma0))
        stops = []
        for block in self._rate_blocks():
            coords, losses = self._iterates(block)
            self._sse[block, 1:] = self.sse(coords)
            stops.extend(self._stop(row) for row in losses)
        self._stops = stops
        self.stopped_at = np.array([stop for stop, _ in stops])
        self.diverged = self.stopped_at > 0

    # ------------------------------------------------------------------
    # Iterates.

    def _rate_blocks(self):
        """Slices of the rates whose iterates fit in about 32 MB at once."""
        size = self.max_iter * self.gamma0.size
        step = max(1, (1 << 22) // max(size, 1))
        return [slice(j, j + step) for j in range(0, self.rates.size, step)]

    def _iterates(self, block):
        """Eigen-coordinates (J, T, d, k) and objective (J, T) of iterates
        1..T for the rates ``self.rates[block]``."""
        eta = self.rates[block][:, None, None]
        if self.moves.momentum:
            return self._momentum(eta)
        decay = -eta * self.evals  # (J, 1, d)
        steps = np.arange(1, self.max_iter + 1)[:, None]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            # ρᵗ as ±exp(t·log|ρ|): one exp instead of a power per entry
            # (log1p keeps log ρ accurate for tiny ηλ).
            rho = 1 + decay
            log_abs = np.where(rho >= 0, np.log1p(np.maximum(decay, -1)), np.log(-rho))
            exponent = steps * log_abs  # (J, T, d)
            powers = np.exp(exponent)
            powers = np.where((rho < 0) & (steps % 2 == 1), -powers, powers)
            weights = 0.5 * np.sum(self.gamma0**2, axis=1) * self.inv_evals
            losses = self.f_star + (powers**2) @ weights
            # 1 − ρᵗ, through expm1 where ρ ≥ 0 (accurate for tiny ηλ).
            done = np.where(rho >= 0, -np.expm1(exponent), 1 - powers)
            coords = -self.gamma0 * (done * self.inv_evals)[..., None]
        return coords, losses

    def _momentum(self, eta):
        """The spectral engine's recurrence, for the rates ``eta`` (J, 1, 1)."""
        mu, nesterov = self.moves.momentum, self.moves.nesterov
        a = mu * mu if nesterov else mu
        b = -(1 + mu) * eta if nesterov else -eta
        lam = self.evals[None, :, None]
        active = (self.inv_evals > 0)[None, :, None]
        inv = self.inv_evals[None, :, None]
        gamma = np.broadcast_to(self.gamma0, (eta.shape[0],) + self.gamma0.shape)
        velocity, shift = np.zeros_like(gamma), np.zeros_like(gamma)
        coords = np.empty((eta.shape[0], self.max_iter) + self.gamma0.shape)
        losses = np.empty((eta.shape[0], self.max_iter))
        with np.errstate(over="ignore", invalid="ignore"):
            for t in range(self.max_iter):
                step = a * velocity + b * gamma
                velocity = mu * velocity - eta * gamma
                gamma = gamma + lam * step
                shift = shift + step * active
                coords[:, t] = shift
                losses[:, t] = self.f_star + 0.5 * np.sum(gamma**2 * inv, axis=(1, 2))
        return coords, losses

    def _stop(self, losses):
        """``(stopped_at, best)``: the iteration whose objective stops the run
        (0: none) and the iterate kept then (0 is w₀), as ``StopRule``."""
        with np.errstate(invalid="ignore", over="ignore"):
            if self.moves.momentum == 0:
                before = np.concatenate(([self.loss0], losses[:-1]))
                floor = 1e3 * self.eps * self.scale
                bad = losses > before * (1 + np.sqrt(self.eps)) + floor
            else:
                bad = losses > BLOW_UP_FACTOR * self.scale
            bad |= ~np.isfinite(losses)
        if not bad.any():
            return 0, self.max_iter
        first = int(np.argmax(bad))
        return first + 1, int(np.argmin(np.concatenate(([self.loss0], losses[:first]))))

    def iterates(self, j):
        """The iterate each run of rate ``j`` ends at: entry ``t − 1`` is the
        iterate (0..max_iter) that ``max_iter = t`` keeps."""
        stopped_at, best = self._stops[j]
        kept = np.arange(1, self.max_iter + 1)
        if stopped_at:
            kept[stopped_at - 1 :] = best
        return kept

    def coef(self, j, iterate):
        """``(coef (d, k), intercept (k,))`` of rate ``j`` after ``iterate``
        iterations (0: w₀), in the units of the statistics."""
        coords = np.zeros_like(self.gamma0)
        if iterate:
            coords = self._iterates(slice(j, j + 1))[0][0, iterate - 1]
        coef = self.basis @ coords
        return coef, self.objective.intercept(coef)

    # ------------------------------------------------------------------
    # Validation scores.

    def _validation_form(self, val):
        """``c − 2·sᵀb + sᵀAs`` per output in eigen-coordinates ``s``."""
        objective = self.objective
        dx = val.x_mean - objective.x_mean
        dy = val.y_mean - objective.y_mean
        sw = val.sw_sum
        gram = val.xx + sw * np.outer(dx, dx)
        cross = val.xy + sw * np.outer(dx, dy)
        self.form = (
            self.basis.T @ gram @ self.basis,
            self.basis.T @ cross,
            val.yy + sw * dy**2,
        )
        self.val_sst, self.val_sw_sum = val.yy, sw

    def sse(self, coords):
        """Validation Σ s (y − Xw − b)² (..., k) at eigen-coordinates
        (..., d, k)."""
        gram, cross, const = self.form
        with np.errstate(over="ignore", invalid="ignore"):
            by_output = np.swapaxes(coords, -1, -2)  # (..., k, d): matmul order
            quad = np.sum((by_output @ gram) * by_output, axis=-1)
            linear = np.sum(by_output * cross.T, axis=-1)
            return np.maximum(const - 2 * linear + quad, 0.0)

    def scores(self, kind):
        """(n_rates, max_iter) validation scores of every run: ``kind``
        "r2" (``r2_score``) or "mse" (mean squared error per output,
        averaged; in the units of the statistics)."""
        if kind == "r2":
            per_iterate = r2_scores(self._sse, self.val_sst)
        else:
            per_iterate = np.mean(self._sse, axis=-1) / self.val_sw_sum
        kept = np.array([self.iterates(j) for j in range(self.rates.size)])
        return np.take_along_axis(per_iterate, kept, axis=1)
