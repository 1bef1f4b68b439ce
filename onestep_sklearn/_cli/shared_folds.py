"""The preprocessing of the comparison's folds, fitted once per fold.

Every row of the CLI's table cross-validates ``make_pipeline(preprocessing,
model)`` on the same folds, so each row would fit the same preprocessing on
the same training rows and transform the same test rows again: on a 1,500 ×
26 table of categories (895 one-hot columns) 35 fits and 35 transforms, 1.3
of the 13 seconds of the run. Fitting the preprocessing is deterministic, so
the fitted steps and the designs they give are computed once per fold (and
for the near-collinear check on the same folds) and shared: every row sees
exactly what its own pipeline would compute, and its fit time is the
model's own.
"""

import hashlib

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.utils.validation import check_is_fitted

# Designs with more entries (rows × model features) are not kept: five
# folds of them would hold several copies of the data.
MAX_SHARED_ENTRIES = 4_000_000


def rows_key(X):
    """What identifies a part of the table: a DataFrame's index (the rows of
    one table), an array's bytes."""
    if hasattr(X, "index"):
        values = np.ascontiguousarray(X.index.to_numpy())
        return ("rows", X.shape, values.dtype.str, values.tobytes())
    values = np.ascontiguousarray(X)
    digest = hashlib.blake2b(values.tobytes(), digest_size=16).hexdigest()
    return ("array", values.shape, values.dtype.str, digest)


class SharedFolds:
    """Fitted copies of ``preprocessor`` per training part, and the designs
    they give, kept for one run. Copies of it (``clone`` deep-copies
    parameters) are the same object, so that every row's pipeline shares it.
    """

    def __init__(self, preprocessor):
        self.preprocessor = preprocessor
        self._fitted = {}
        self._designs = {}

    def __deepcopy__(self, memo):
        return self

    def fit_transform(self, X):
        """``(key, fitted, design)`` of the training part ``X``."""
        key = rows_key(X)
        if key not in self._fitted:
            fitted = clone(self.preprocessor)
            self._designs[key, key] = fitted.fit_transform(X)
            self._fitted[key] = fitted
        return key, self._fitted[key], self._designs[key, key]

    def transform(self, key, X):
        """The design of ``X`` by the preprocessing fitted on part ``key``."""
        pair = (key, rows_key(X))
        if pair not in self._designs:
            self._designs[pair] = self._fitted[key].transform(X)
        return self._designs[pair]

    def warm(self, X, y, cv):
        """Fit every training part of ``cv`` and transform its test part."""
        for train, test in cv.split(X, y):
            take = X.iloc if hasattr(X, "iloc") else X
            key = self.fit_transform(take[train])[0]
            self.transform(key, take[test])


class FoldPreprocessor(TransformerMixin, BaseEstimator):
    """The preprocessing step of a row's pipeline, read from ``folds`` (a
    :class:`SharedFolds`): fitted on a training part at most once per run.

    Parameters
    ----------
    folds : SharedFolds
        The shared fits and designs.
    """

    def __init__(self, folds):
        self.folds = folds

    def fit(self, X, y=None):
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None):
        self.key_, self.fitted_, design = self.folds.fit_transform(X)
        return design

    def transform(self, X):
        check_is_fitted(self)
        return self.folds.transform(self.key_, X)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        return self.fitted_.get_feature_names_out(input_features)
