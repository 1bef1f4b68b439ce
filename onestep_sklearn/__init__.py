"""Least-squares regressors fitted by gradient steps, for scikit-learn.

``OneStepRegressor`` fits by one parameter update (textbook gradient step,
best gradient step, or the Newton step that lands on the exact optimum);
``IterativeGDRegressor`` runs gradient descent with safe automatic step
sizes, loss curves and divergence that is caught and explained;
``IterativeGDRegressorCV`` scores every learning rate × iteration count by
cross-validation at once, from the folds' statistics.
"""

from ._cv import IterativeGDRegressorCV
from ._iterative import IterativeGDRegressor
from ._learning_rate import LearningRateSuggestion, suggest_learning_rate
from ._one_step import OneStepRegressor

__all__ = [
    "IterativeGDRegressor",
    "IterativeGDRegressorCV",
    "LearningRateSuggestion",
    "OneStepRegressor",
    "suggest_learning_rate",
]
# The one place the version is written: pyproject.toml reads it (dynamic).
__version__ = "0.1.0"
