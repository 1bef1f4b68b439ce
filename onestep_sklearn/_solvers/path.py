"""Every learning rate × every iteration of full-batch GD, in closed form.

For one cross-validation split, from its training and validation
statistics: the iterates of constant-rate gradient descent from ``w₀ = 0``
on the objective of ``_kernel.objective`` (the runs of
``IterativeGDRegressor(learning_rate=η, max_iter=t, tol=None)``, which
iterates on the same statistics with ``spectral.SpectralEngine``) for every
rate ``η`` and every ``t ≤ max_iter``, and their validation scores.

In the eigenbasis ``H = Q·diag(λ)·Qᵀ`` of the training Hessian, with ``γ₀ =
Qᵀ∇f(0)`` and ``z = −γ₀/λ`` the optimum's coordinates, plain GD after t
steps is at ``Qᵀw_t = z·(1 − ρᵗ)`` with ``ρ = 1 − ηλ`` (the spectral
engine's ``_advance_plain``); with momentum each direction follows the
engine's 2×2 recurrence, run here for all rates at once. The
objective is ``f* + ½·Σ γ²/λ``. A run stops as ``stopping.StopRule`` stops
it with ``tol=None``: at the first rise of the objective beyond rounding
(plain GD) or past ``BLOW_UP_FACTOR`` times its scale (momentum), keeping
its best iterate, so later iterations of that rate repeat the best one.

The validation sum of squares of any ``w`` (the intercept profiled on the
training rows) is a quadratic form in the validation statistics,
``c − 2·wᵀb + wᵀAw``, evaluated in the eigenbasis: no pass over X. For
plain GD it is a quadratic form in the powers ``P = ρᵗ`` themselves (shared
by all outputs): ``sse(z) + P·u + Pᵀ·M·P``, so products by a d × d matrix
and row sums give every score; with ``ρᵗ = ρᵃᴮ·ρᵇ`` (``t = a·B + b``) they
are batched products of that matrix, its columns scaled per block of B
iterations, by the (d, B) powers of one block (``power_forms``): the
(rates × iterations × d) array of powers is never formed. Two things make
the products smaller without changing a score beyond rounding: directions
whose optimum coordinate is 0 (the null space of a one-hot design with an
intercept, levels absent from the training part) never move and are left
out; and ``M = diag(z)·G·diag(z)`` with ``G`` the
validation Gram in the eigenbasis is written ``‖F·diag(z)·P‖²`` with ``F``
from a pivoted Cholesky factor of the validation Gram, whose rank is at most
the number of validation rows: on a 1,200 × 758 one-hot table (240
validation rows) about a third of the work.
"""

from contextlib import nullcontext

import numpy as np

from .._kernel.sparse_ops import single_threaded_blas
from .._kernel.spectrum import Spectrum
from .closed_form import step_coefficients
from .descent import DescentSettings, run_descent
from .plan import DescentPlan, curvatures
from .power_forms import blocks, gram_factor, plain_sse
from .schedule import StepSchedule
from .spectral import SpectralEngine, statistics_objective
from .stopping import EPS, StopRule


def r2_scores(sse, sst):
    """``r2_score`` (uniform average, force_finite) of each row of ``sse``
    (..., k) against the validation fold's ``sst`` (k,)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scores = np.where(sst > 0, 1.0 - sse / np.where(sst > 0, sst, 1.0), 0.0)
    scores = np.where((sst == 0) & (sse == 0), 1.0, scores)
    return scores.mean(axis=-1)


class Workspace:
    """Scratch arrays reused by the paths of all splits of one fit.

    The powers and their products are megabytes per split; allocated afresh
    each time, their pages are faulted in again (that cost about as much as
    the arithmetic on them).
    """

    def __init__(self):
        self._buffers = {}

    def array(self, name, shape):
        """An uninitialised float64 array of ``shape`` (a view of a kept
        buffer, valid until the next call with the same name)."""
        size = int(np.prod(shape))
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size:
            buffer = self._buffers[name] = np.empty(size)
        return buffer[:size].reshape(shape)


class FoldPath:
    """The iterates and validation scores of one split, for all rates.

    ``train`` holds the training statistics (as the fit needs them: centred
    with an intercept, raw without), ``val`` the validation fold's centred
    statistics; ``rates`` (n_rates,) are in the units of the statistics.
    ``dtype`` is the dtype of X, which sets the rounding the stopping rule
    allows; ``workspace`` (a :class:`Workspace`) may be shared by the
    splits of one fit. After construction: ``lipschitz`` (L of the training fold),
    ``stopped_at`` (n_rates,: the iteration whose objective stopped each
    rate's run, 0 for none), ``diverged`` and :meth:`scores`.
    """

    def __init__(
        self, train, val, l2_reg_strength, rates, max_iter, moves, dtype, workspace=None
    ):
        self.workspace = Workspace() if workspace is None else workspace
        objective, frozen, eigh = statistics_objective(train, l2_reg_strength)
        # The spectral engine's set-up, shared (``_kernel.spectrum``).
        self.spectrum = spectrum = Spectrum.of(eigh)
        self.lipschitz = spectrum.lipschitz
        self.evals, self.inv_evals = spectrum.evals, spectrum.inv_evals
        # Constant columns never move (``_fitted.descent_attributes``).
        self.basis = spectrum.basis.copy()
        self.basis[frozen] = 0.0
        self.objective = objective
        zero = np.zeros_like(train.xy)
        loss0, grad0 = objective.loss_gradient(zero)
        self.gamma0 = spectrum.gradient_coordinates(grad0)
        self.optimum = spectrum.optimum_shift(self.gamma0)  # z, (d, k)
        # Directions that move (z ≠ 0): the others stay at 0 in every run.
        self.moving = np.flatnonzero(np.any(self.optimum != 0, axis=1))
        self.f_star = max(loss0 - spectrum.excess(self.gamma0), 0.0)
        # ``descent.run_descent``'s scale of the objective and rounding: its
        # stopping rule with ``tol=None`` decides where each rate's run stops.
        y_size = float(np.sum(objective.y_mean**2))
        self.rule = StopRule(
            tol=None,
            n_iter_no_change=1,
            scale=max(loss0, y_size, np.finfo(np.float64).tiny),
            monotone=moves.momentum == 0,
            previous=loss0,
            eps=max(np.finfo(dtype).eps, EPS),
        )
        self.rates = np.asarray(rates, dtype=np.float64)
        self.max_iter, self.moves = max_iter, moves
        self._validation_form(val)
        # The validation SSE of iterates 0..T of every rate (w₀ first).
        n_outputs = train.xy.shape[1]
        self._sse = np.empty((self.rates.size, max_iter + 1, n_outputs))
        self._sse[:, 0] = self.sse(np.zeros_like(self.gamma0))
        losses = np.empty((self.rates.size, max_iter))
        # Which rates' objective can rise (all of them with momentum).
        self._checked = np.ones(self.rates.size, dtype=bool)
        # Small products: one BLAS thread does them faster than two that
        # must be woken for each (as for the Krylov loops).
        with single_threaded_blas() if self.evals.size <= 128 else nullcontext():
            self._fill(losses)
        # Per rate, where ``StopRule`` stops its run (0: never) and the
        # iterate it keeps then: judged for all rates at once.
        self.stopped_at, self._best = self.rule.stops(losses, self._checked)
        self.diverged = self.stopped_at > 0

    def _fill(self, losses):
        """The validation SSE and the objective of every iterate."""
        if self.moves.momentum:
            for block in self._rate_blocks():
                coords, losses[block] = self._momentum(block)
                self._sse[block, 1:] = self.sse(coords)
            return
        for block in self._plain_blocks():
            losses[block], self._checked[block] = self._plain_losses(block)
            self._sse[block, 1:] = self._plain_sse(block)

    # ------------------------------------------------------------------
    # Iterates.

    def _rate_blocks(self):
        """Slices of the rates whose iterates fit in about 32 MB at once."""
        size = self.max_iter * max(self.moving.size, 1) * self.gamma0.shape[1]
        step = max(1, (1 << 22) // max(size, 1))
        return [slice(j, j + step) for j in range(0, self.rates.size, step)]

    def _plain_blocks(self):
        """Slices of the rates whose arrays in :meth:`_plain_sse` (the
        scaled form or powers, whichever is smaller, and the product) take
        about 16 MB at once."""
        rank = self.power_form[2][0].shape[0] + 1
        length, n_blocks = blocks(self.max_iter)
        scaled = min(rank, length) * max(self.moving.size, 1)
        size = n_blocks * (scaled + rank * length)
        step = max(1, (1 << 21) // size)
        return [slice(j, j + step) for j in range(0, self.rates.size, step)]

    def _powers(self, block, rows=None):
        """``ρᵗ`` (d, J, T), the objective (J, T) of iterates 1..T of plain
        GD at the rates ``self.rates[block]`` and which of them can rise
        (the objective is formed only for those, 0 elsewhere). ``rows``:
        the eigen-directions to form (all when None); the objective needs
        only those that move.

        By doubling: the powers ``t + 1..2t`` are those of ``1..t`` times
        ``ρᵗ``, so log₂(T) products of contiguous blocks (relative rounding
        about log₂(t)·eps) instead of a power per entry.
        """
        rows = slice(None) if rows is None else rows
        rho = 1 - np.outer(self.evals[rows], self.rates[block])  # (d, J)
        powers = self.workspace.array("powers", rho.shape + (self.max_iter,))
        powers[:, :, 0] = rho
        filled = 1
        with np.errstate(over="ignore", invalid="ignore"):
            while filled < self.max_iter:
                count = min(filled, self.max_iter - filled)
                np.multiply(
                    powers[:, :, :count],
                    powers[:, :, filled - 1 : filled],
                    out=powers[:, :, filled : filled + count],
                )
                filled += count
            # With every |ρ| ≤ 1 the objective f* + Σ wᵢ·ρᵢ²ᵗ never rises,
            # so the stopping rule cannot fire: its values are needed only
            # for rates past this fold's limit.
            losses = np.zeros((rho.shape[1], self.max_iter))
            past = np.flatnonzero(np.any(np.abs(rho) > 1, axis=0))
            if past.size:
                weights = self.spectrum.excess_weights(self.gamma0)[rows]
                unstable = powers[:, past]
                losses[past] = self.f_star + np.einsum(
                    "i,ijt->jt", weights, unstable * unstable
                )
        rises = np.zeros(rho.shape[1], dtype=bool)
        rises[past] = True
        return powers, losses, rises

    def _plain_losses(self, block):
        """The objective (J, T) of plain GD at the rates ``self.rates[block]``
        and which of them can rise: formed by :meth:`_powers` (as the
        stopping rule has always seen it) only for the rates past this
        fold's limit, 0 elsewhere (see there)."""
        rho = 1 - np.outer(self.evals[self.moving], self.rates[block])  # (m, J)
        past = np.flatnonzero(np.any(np.abs(rho) > 1, axis=0))
        losses = np.zeros((rho.shape[1], self.max_iter))
        if past.size:  # the largest rates: a run at the end of the block
            first, last = block.start + past[0], block.start + past[-1] + 1
            losses[past] = self._powers(slice(first, last), self.moving)[1]
        rises = np.zeros(rho.shape[1], dtype=bool)
        rises[past] = True
        return losses, rises

    def _plain_sse(self, block):
        """Validation SSE (J, T, k) of plain GD at the rates
        ``self.rates[block]``: ``sse(z) + u·ρᵗ + ‖F·diag(z)·ρᵗ‖²`` per output
        over the moving directions, without the (m, J, T) array of powers.

        With ``t = a·B + b``, ``ρᵗ = ρᵃᴮ·ρᵇ``: the product of ``[F·diag(z);
        uᵀ]`` by the powers of iteration block ``a`` is that matrix with its
        columns scaled by ``ρᵃᴮ``, times the (m, B) powers ``ρᵇ`` shared by
        all blocks (``power_forms.plain_sse``).
        """
        rho = 1 - np.outer(self.rates[block], self.evals[self.moving])  # (J, m)
        return plain_sse(rho, *self.power_form, self.max_iter)

    def _momentum(self, block):
        """Eigen-coordinates (J, T, d, k) and objective (J, T) of iterates
        1..T with momentum: the spectral engine's recurrence."""
        eta = self.rates[block][:, None, None]
        mu = self.moves.momentum
        a, b = step_coefficients(mu, self.moves.nesterov, eta)
        lam = self.evals[None, :, None]
        active = self.spectrum.active[None, :, None]
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

    def _kept(self):
        """(n_rates, max_iter): entry ``[j, t − 1]`` is the iterate
        (0..max_iter) that the run of rate ``j`` with ``max_iter = t`` keeps:
        ``t``, or its best one once the objective has stopped it."""
        counts = np.arange(1, self.max_iter + 1)
        stopped = (self.stopped_at[:, None] > 0) & (counts >= self.stopped_at[:, None])
        return np.where(stopped, self._best[:, None], counts)

    def iterates(self, j):
        """The iterate each run of rate ``j`` ends at: entry ``t − 1`` is the
        iterate (0..max_iter) that ``max_iter = t`` keeps."""
        return self._kept()[j]

    def coef_path(self, j):
        """``(coefs (T + 1, d, k), intercepts (T + 1, k))``: every iterate
        of rate ``j`` (0: w₀), in the units of the statistics."""
        coords = np.zeros((self.max_iter + 1,) + self.gamma0.shape)
        if self.moves.momentum:
            coords[1:] = self._momentum(slice(j, j + 1))[0][0]
        else:
            powers = self._powers(slice(j, j + 1))[0][:, 0, :]  # (d, T)
            coords[1:] = self.optimum[None] * (1 - powers.T)[:, :, None]
        coefs = np.matmul(self.basis, coords)
        x_mean, y_mean = self.objective.x_mean, self.objective.y_mean
        return coefs, y_mean - np.einsum("i,tik->tk", x_mean, coefs)

    # ------------------------------------------------------------------
    # Validation scores.

    def _validation_form(self, val):
        """``c − 2·sᵀb + sᵀAs`` per output in eigen-coordinates ``s``, and
        the same in the powers of plain GD (``s = z·(1 − P)``)."""
        objective = self.objective
        dx = val.x_mean - objective.x_mean
        dy = val.y_mean - objective.y_mean
        sw = val.sw_sum
        # The validation Gram in the eigenbasis as FᵀF (F: r × d).
        factor = gram_factor(val.xx + sw * np.outer(dx, dx), self.basis)
        cross = self.basis.T @ (val.xy + sw * np.outer(dx, dy))
        self.form = (factor, cross, val.yy + sw * dy**2)
        self.val_sst, self.val_sw_sum = val.yy, sw
        z = self.optimum
        at_optimum = self.sse(z)
        moving = self.moving
        slopes = (2 * z * (cross - factor.T @ (factor @ z)))[moving]  # (m, k)
        factors = [factor[:, moving] * z[moving, k] for k in range(z.shape[1])]
        self.power_form = (at_optimum, slopes, factors)

    def sse(self, coords):
        """Validation Σ s (y − Xw − b)² (..., k) at eigen-coordinates
        (..., d, k)."""
        factor, cross, const = self.form
        with np.errstate(over="ignore", invalid="ignore"):
            by_output = np.swapaxes(coords, -1, -2)  # (..., k, d): matmul order
            quad = np.sum(np.square(by_output @ factor.T), axis=-1)
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
        return np.take_along_axis(per_iterate, self._kept(), axis=1)


def run_at(objective, frozen, spectrum, rate, n_iter, moves, dtype):
    """The run of ``IterativeGDRegressor(learning_rate=rate, max_iter=n_iter,
    tol=None)`` from 0 on statistics already formed: the same engine and
    stopping rule as its ``fit``. Returns ``(DescentResult, DescentPlan)``."""
    coef0 = np.zeros_like(objective.stats.xy)
    engine = SpectralEngine(
        objective, coef0, StepSchedule(rate, "constant", 0.25), moves, spectrum=spectrum
    )
    curvature = curvatures(objective, spectrum)
    settings = DescentSettings(
        max_iter=n_iter,
        tol=None,
        n_iter_no_change=1,
        adaptive=False,
        monotone=moves.momentum == 0,
    )
    result = run_descent(
        engine, objective, coef0, settings, curvature=curvature, dtype=dtype
    )
    return result, DescentPlan(objective, engine, None, frozen, curvature, rate)
