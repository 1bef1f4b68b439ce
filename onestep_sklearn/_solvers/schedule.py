"""Step sizes and moves of gradient descent: the settings every engine takes.

Rates here are in the units of the data source the engine runs on.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StepSchedule:
    """``η_t``: the base ``learning_rate``, constant or ``η/(t+1)^power_t``
    ("invscaling"); "adaptive" is constant, divided by 5 on every undone
    step (the engine's ``rate_scale``)."""

    learning_rate: float
    schedule: str = "constant"
    power_t: float = 0.25

    def steps(self, t, count, rate_scale=1.0):
        """The step sizes of updates ``t, t + 1, …, t + count − 1``."""
        steps = np.full(count, self.learning_rate * rate_scale)
        if self.schedule == "invscaling":
            steps /= (t + 1 + np.arange(count)) ** self.power_t
        return steps

    def step(self, t, rate_scale=1.0):
        if self.schedule != "invscaling":  # no array for a constant (hot loop)
            return float(self.learning_rate * rate_scale)
        return float(self.steps(t, 1, rate_scale)[0])


@dataclass(frozen=True)
class Momentum:
    """Heavy-ball momentum ``μ`` (``nesterov``: the look-ahead form); None
    is ``momentum="auto"``, which ``plan.resolve_moves`` decides."""

    momentum: float | None = 0.0
    nesterov: bool = False

    @classmethod
    def of(cls, momentum, nesterov, auto=None):
        """From the estimator's parameters: ``momentum="auto"`` becomes
        ``auto`` (None: decided by the planner)."""
        return cls(auto if momentum == "auto" else momentum, nesterov)


@dataclass(frozen=True)
class RunConfig:
    """What a run is asked to do: the estimator's parameters, checked, in the
    units of the data source (``plan.plan_descent``, ``descent.chunk_step``).

    ``learning_rate`` None is "auto"; ``moves.momentum`` None too
    (``plan.resolve_moves``); ``rng`` shuffles mini-batches (None: in
    order); ``precompute`` (already decided) iterates on the statistics.
    """

    fit_intercept: bool
    l2_reg_strength: float
    learning_rate: float | None
    schedule: str = "constant"
    power_t: float = 0.25
    moves: Momentum = Momentum()
    batch_size: int | None = None
    rng: Any = None
    precompute: bool = True

    def steps(self, rate):
        """The step schedule at the base ``rate``."""
        return StepSchedule(rate, self.schedule, self.power_t)
