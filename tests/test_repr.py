"""The estimators in a notebook: the HTML repr's "?" link and readable diagnostics."""

import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import load_diabetes
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import (
    IterativeGDRegressor,
    IterativeGDRegressorCV,
    OneStepRegressor,
)
from onestep_sklearn._base import DOCS_URL


@pytest.mark.parametrize(
    "estimator", [OneStepRegressor(), IterativeGDRegressor(), IterativeGDRegressorCV()]
)
def test_doc_link_points_at_the_api_page(estimator):
    name = type(estimator).__name__
    expected = f"{DOCS_URL}generated/onestep_sklearn.{name}.html"
    assert estimator._get_doc_link() == expected
    # Inside a pipeline, beside scikit-learn's own estimators, the link is there.
    html = make_pipeline(StandardScaler(), estimator)._repr_html_()
    assert expected in html


@pytest.mark.skipif(
    not hasattr(BaseEstimator, "_get_fitted_attr_html"),
    reason="scikit-learn lists fitted attributes in the HTML repr from 1.8 on",
)
def test_stop_reason_is_readable_in_the_html_repr():
    X, y = load_diabetes(return_X_y=True)
    model = IterativeGDRegressor(max_iter=3, tol=None).fit(X, y)
    html = model._repr_html_()
    assert "&#x27;max_iter&#x27;" in html
    assert "ma...er" not in html
    assert isinstance(model.stop_reason_, str) and model.stop_reason_ == "max_iter"
