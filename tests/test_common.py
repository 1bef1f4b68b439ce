"""scikit-learn's estimator check suite over several parameterisations."""

import pytest
from sklearn.utils.estimator_checks import (
    check_param_validation,
    parametrize_with_checks,
)

from onestep_sklearn import (
    IterativeGDRegressor,
    IterativeGDRegressorCV,
    OneStepRegressor,
)

ESTIMATORS = [
    OneStepRegressor(),
    OneStepRegressor(solver="gradient"),
    OneStepRegressor(solver="gradient", learning_rate=0.01),
    OneStepRegressor(alpha=1.0),
    IterativeGDRegressor(),
    IterativeGDRegressor(precompute=False),
    IterativeGDRegressor(momentum=0.9, nesterov=True),
    IterativeGDRegressor(batch_size=8, random_state=0, max_iter=200),
    IterativeGDRegressorCV(),
]

_MINIBATCH_REASON = (
    "mini-batches of 8 rows: repeating a row changes which rows share a batch, "
    "so weights == repeated rows holds for the objective, not for the iterates"
)


def expected_failures(estimator):
    if isinstance(estimator, IterativeGDRegressor) and estimator.batch_size:
        return {
            "check_sample_weight_equivalence_on_dense_data": _MINIBATCH_REASON,
            "check_sample_weight_equivalence_on_sparse_data": _MINIBATCH_REASON,
        }
    return {}


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "Estimator", [OneStepRegressor, IterativeGDRegressor, IterativeGDRegressorCV]
)
def test_param_validation(Estimator):
    check_param_validation(Estimator.__name__, Estimator())
