"""Real-like tables, as users bring them, through the CLI's own preprocessing.

Each table is a pandas DataFrame of numeric columns (some with gaps, skewed,
of mixed scales, some near-collinear pairs), categorical columns whose levels
follow a Zipf law (rare levels), and booleans; some tables are wide
(n_samples ≤ n_features after one-hot encoding). ``design`` runs exactly the
preprocessing of ``python -m onestep_sklearn`` (``_cli.columns``): numeric →
median imputation + ``StandardScaler``; categorical and boolean → most
frequent + ``OneHotEncoder(handle_unknown="ignore")``, beside the intercept
that every model fits (so one-hot designs are rank-deficient).
"""

import numpy as np
import pandas as pd

from onestep_sklearn._cli.columns import (
    classify_columns,
    design_input,
    make_preprocessor,
)


def random_table(rng, *, max_rows=3000):
    """One table ``(X, y)``: a DataFrame and a float target."""
    n_rows = int(np.exp(rng.uniform(np.log(30), np.log(max_rows))))
    wide = rng.random() < 0.2
    if wide:  # wide tables are small ones (a few hundred rows at most)
        n_rows = min(n_rows, 400)
    columns = {}
    signal = np.zeros(n_rows)
    n_numeric = int(rng.integers(0, 12))
    base = None
    for j in range(n_numeric):
        scale = 10.0 ** rng.uniform(-3, 5)
        values = rng.standard_normal(n_rows)
        if base is not None and rng.random() < 0.15:
            # A near-copy of an earlier column (age and years of service).
            values = base + 10.0 ** rng.uniform(-3, -0.5) * values
        if rng.random() < 0.3:
            values = np.exp(np.clip(values, -20, 20))  # skewed (incomes, counts)
        base = values
        spread = values.std() + 1e-300
        signal += rng.standard_normal() * (values - values.mean()) / spread
        column = scale * values + 10.0 ** rng.uniform(-2, 4) * rng.standard_normal()
        if rng.random() < 0.3:
            column[rng.random(n_rows) < rng.uniform(0.01, 0.2)] = np.nan
        columns[f"num{j}"] = column
    n_categorical = int(rng.integers(0 if n_numeric else 1, 5))
    if wide:
        n_categorical += 1
    for j in range(n_categorical):
        if wide:
            n_levels = int(rng.integers(max(2, n_rows // 3), max(3, n_rows)))
            n_levels = min(n_levels, 50)
        else:
            n_levels = int(rng.integers(2, 40))
        zipf = 1.0 / np.arange(1, n_levels + 1) ** rng.uniform(0.5, 2.0)
        codes = rng.choice(n_levels, size=n_rows, p=zipf / zipf.sum())
        effects = rng.standard_normal(n_levels)
        signal += effects[codes]
        column = pd.Series([f"level{c}" for c in codes], dtype=object)
        if rng.random() < 0.2:
            column[rng.random(n_rows) < 0.05] = None
        columns[f"cat{j}"] = column
    for j in range(int(rng.integers(0, 3))):
        flags = rng.random(n_rows) < rng.uniform(0.02, 0.5)
        signal += rng.standard_normal() * flags
        columns[f"flag{j}"] = pd.Series(flags, dtype=object)
    if wide:
        for j in range(int(rng.integers(n_rows // 2, n_rows + 20))):
            columns[f"wide{j}"] = rng.standard_normal(n_rows)
    X = pd.DataFrame(columns)
    y = 3.0 * signal + rng.standard_normal(n_rows) * rng.uniform(0.1, 3)
    return X, 10.0 ** rng.uniform(-2, 4) * y + rng.normal(0, 100)


def design(X, y):
    """The design the CLI's models see: preprocessed exactly as the CLI does
    (fitted on the whole table), and the target."""
    X = X.copy()
    kinds = classify_columns(X)
    preprocessor = make_preprocessor(kinds)
    return preprocessor.fit_transform(design_input(X, kinds)), y


def tables(count, seed=0, max_rows=3000):
    """``count`` designs ``(X, y)`` (X dense or CSR, as the CLI makes it)."""
    rng = np.random.default_rng(seed)
    return [design(*random_table(rng, max_rows=max_rows)) for _ in range(count)]
