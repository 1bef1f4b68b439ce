"""What each feature column of the CLI's table becomes, and the preprocessing.

Numbers are imputed with the median and standardised; categories and booleans
are imputed with the most frequent value and one-hot encoded (sparse, unknown
categories ignored); text with too many distinct values to be a category (free
text, IDs, dates) and empty columns are dropped with a note. The preprocessing
is scikit-learn's own (``ColumnTransformer`` of ``SimpleImputer``,
``StandardScaler``, ``OneHotEncoder``), so that it is fitted inside every
cross-validation fold and can be copied into code as printed.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler, OneHotEncoder, StandardScaler

MAX_CATEGORIES = 50
# Beyond these magnitudes StandardScaler's sums of squares leave float64
# (overflow to inf, or underflow to 0 and a column taken for a constant).
LARGEST_UNSCALED = 1e140
SMALLEST_UNSCALED = 1e-140


@dataclass
class ColumnKinds:
    """Feature columns by what the preprocessing does with them.

    Attributes
    ----------
    numeric, categorical, boolean : list of str
        Columns imputed and standardised (numeric) or imputed and one-hot
        encoded (categorical, boolean).
    dropped : list of str
        Columns left out: text or IDs, or no values at all.
    notes : list of str
        One line per dropped column and per other change, saying why.
    numeric_gaps : bool
        Whether a numeric column has missing values (to impute).
    extreme_magnitude : bool
        Whether a numeric column's largest ``|x|`` is beyond
        ``LARGEST_UNSCALED`` or below ``SMALLEST_UNSCALED`` (to divide first).
    """

    numeric: list = field(default_factory=list)
    categorical: list = field(default_factory=list)
    boolean: list = field(default_factory=list)
    dropped: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    numeric_gaps: bool = False
    extreme_magnitude: bool = False

    @property
    def kept(self):
        """The feature columns the preprocessing uses, in kind order."""
        return self.numeric + self.categorical + self.boolean

    def summary(self):
        """``"3 numeric, 1 categorical, 1 dropped"``: the non-empty kinds."""
        counts = [
            (len(self.numeric), "numeric"),
            (len(self.categorical), "categorical"),
            (len(self.boolean), "boolean"),
            (len(self.dropped), "dropped"),
        ]
        return ", ".join(f"{count} {kind}" for count, kind in counts if count)


def _is_boolean(column):
    if pd.api.types.is_bool_dtype(column):
        return True
    # With missing values pandas keeps True/False in an object column.
    values = column.dropna()
    return (
        column.dtype == object
        and not values.empty
        and values.map(type).isin([bool, np.bool_]).all()
    )


def classify_columns(X, max_categories=MAX_CATEGORIES):
    """Sort the columns of ``X`` into the kinds of :class:`ColumnKinds`.

    Infinite numbers are set missing in place (they are imputed like gaps):
    a scaler cannot centre them.

    Parameters
    ----------
    X : pandas.DataFrame of shape (n_samples, n_columns)
        The feature columns; modified in place (infinities become NaN).
    max_categories : int, default=50
        A text column with more distinct values than this (or than half the
        rows) is taken for free text or an ID and dropped.

    Returns
    -------
    ColumnKinds
    """
    kinds = ColumnKinds()
    n_rows = len(X)
    for name in X.columns:
        column = X[name]
        n_missing = int(column.isna().sum())
        if n_missing == n_rows:
            kinds.dropped.append(name)
            kinds.notes.append(f"column {name!r} dropped: no values")
        elif _is_boolean(column):
            kinds.boolean.append(name)
        elif pd.api.types.is_numeric_dtype(column):
            values = column.to_numpy(dtype=np.float64)
            infinite = np.isinf(values)
            if infinite.any():
                X[name] = column.mask(infinite)
                kinds.notes.append(
                    f"column {name!r}: {int(infinite.sum())} infinite values "
                    "treated as missing"
                )
                n_missing += int(infinite.sum())
            largest = np.nanmax(np.abs(values[~infinite]), initial=0.0)
            if largest > LARGEST_UNSCALED or 0 < largest < SMALLEST_UNSCALED:
                kinds.extreme_magnitude = True
            kinds.numeric_gaps |= n_missing > 0
            kinds.numeric.append(name)
        else:
            n_distinct = column.nunique()
            if n_distinct > max_categories or n_distinct > n_rows / 2:
                limit = (
                    f"more than --max-categories {max_categories}"
                    if n_distinct > max_categories
                    else f"in {n_rows} rows"
                )
                kinds.dropped.append(name)
                kinds.notes.append(
                    f"column {name!r} dropped: {n_distinct} distinct text values "
                    f"(e.g. {column.dropna().iloc[0]!r}), {limit}; "
                    "free text or an ID, not a category"
                )
            else:
                kinds.categorical.append(name)
    n_gaps = int(X[kinds.kept].isna().sum().sum())
    if n_gaps:
        kinds.notes.append(
            f"{n_gaps} missing feature value{'s' * (n_gaps != 1)} imputed "
            "(numeric: median; categorical, boolean: most frequent)"
        )
    return kinds


def make_preprocessor(kinds):
    """The preprocessing the kept columns need, and no more.

    Parameters
    ----------
    kinds : ColumnKinds
        The output of :func:`classify_columns`.

    Returns
    -------
    estimator
        Unfitted. With only numeric columns, the numeric steps alone
        (``StandardScaler()`` for complete data of ordinary magnitude), to be
        given ``X[kinds.kept]`` as an array; otherwise a ``ColumnTransformer``
        to be given the DataFrame.
    """
    numeric_steps = []
    if kinds.numeric_gaps:
        numeric_steps.append(SimpleImputer(strategy="median"))
    if kinds.extreme_magnitude:
        # Dividing by the largest |x| first keeps StandardScaler's sums of
        # squares in range; the standardised result is the same.
        numeric_steps.append(MaxAbsScaler())
    numeric_steps.append(StandardScaler())
    numeric = (
        numeric_steps[0] if len(numeric_steps) == 1 else make_pipeline(*numeric_steps)
    )
    categories = kinds.categorical + kinds.boolean
    if not categories:
        return numeric
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore"),
    )
    transformers = [("categorical", categorical, categories)]
    if kinds.numeric:
        transformers.insert(0, ("numeric", numeric, kinds.numeric))
    return ColumnTransformer(transformers)


def design_input(X, kinds):
    """What the preprocessor of :func:`make_preprocessor` is given.

    A float array of the numeric columns when there is nothing else (pandas'
    per-fit feature-name checks would otherwise dominate the fit times of a
    small data set), else the DataFrame's kept columns.
    """
    if kinds.categorical or kinds.boolean:
        # As objects, booleans are categories to SimpleImputer (which refuses
        # a bool dtype) and to OneHotEncoder, with or without gaps.
        return X[kinds.kept].astype(dict.fromkeys(kinds.boolean, object))
    return X[kinds.numeric].to_numpy(dtype=np.float64)


def rescale_target(y, target):
    """``y`` divided by a power of two if its magnitude is extreme, and a note.

    R² sums squared residuals, which leave float64 for targets beyond about
    1e154; R² itself does not depend on the scale of y, and a power of two
    divides every value exactly.

    Parameters
    ----------
    y : ndarray of shape (n_samples,)
        The target, finite.
    target : str
        Its name, for the note.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The target, rescaled or unchanged.
    note : str or None
        What was done, if anything.
    """
    largest = float(np.max(np.abs(y), initial=0.0))
    if SMALLEST_UNSCALED <= largest <= LARGEST_UNSCALED or largest == 0:
        return y, None
    exponent = int(np.frexp(largest)[1])
    note = (
        f"target {target!r} divided by 2**{exponent} (largest |value| "
        f"{largest:.3g}), so that R² can be computed; R² does not depend on "
        "the scale"
    )
    return np.ldexp(y, -exponent), note
