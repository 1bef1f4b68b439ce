"""Correct significant digits on ill-conditioned least squares, side by side.

    python benchmarks/accuracy.py

The designs, the exact (rational-arithmetic) references and the digit count
are those of ``tests/test_accuracy.py``, imported from there so the table
and the tests can never disagree. Digits = min over the coefficients and the
intercept of −log10(|b − β|/|β|), β the exact least-squares solution of the
float64 data; 16 means exact. Prints one markdown table.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.linear_model import LinearRegression, Ridge

from onestep_sklearn import OneStepRegressor
from onestep_sklearn._data.memory import ArraySource

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_accuracy import (  # noqa: E402
    PROBLEMS,
    REQUIRED_DIGITS,
    condition_numbers,
    correct_digits,
    problem,
)


def fit_digits(estimator, X, y, reference):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            try:
                estimator.fit(X, y)
            except ValueError as error:
                return f"error: {error}"[:24]
    return correct_digits(estimator.coef_, estimator.intercept_, reference)


def partial_fit_digits(X, y, reference, n_chunks=3):
    model = OneStepRegressor()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rows in np.array_split(np.arange(len(y)), n_chunks):
            model.partial_fit(X[rows], y[rows])
    return correct_digits(model.coef_, model.intercept_, reference)


def lstsq_digits(X, y, reference):
    """numpy.linalg.lstsq (default rcond) on the centred data."""
    x_mean, y_mean = X.mean(axis=0), y.mean()
    coef = np.linalg.lstsq(X - x_mean, y - y_mean, rcond=None)[0]
    return correct_digits(coef, y_mean - x_mean @ coef, reference)


def newton_route(X, y):
    """'gram' if the Cholesky fast path answered, else 'qr'."""
    calls = []
    real = ArraySource.qr_factor

    def counting(self, *args, **kwargs):
        calls.append(1)
        return real(self, *args, **kwargs)

    ArraySource.qr_factor = counting
    try:
        OneStepRegressor().fit(X, y)
    finally:
        ArraySource.qr_factor = real
    return "qr" if calls else "gram"


COLUMNS = {
    "OneStep fit": lambda X, y, ref: fit_digits(OneStepRegressor(), X, y, ref),
    "OneStep CSR": lambda X, y, ref: fit_digits(
        OneStepRegressor(), sp.csr_matrix(X), y, ref
    ),
    "OneStep partial_fit×3": partial_fit_digits,
    "LinearRegression()": lambda X, y, ref: fit_digits(LinearRegression(), X, y, ref),
    "LinearRegression(tol=0)": lambda X, y, ref: fit_digits(
        LinearRegression(tol=0.0), X, y, ref
    ),
    "Ridge(0, svd)": lambda X, y, ref: fit_digits(
        Ridge(alpha=0.0, solver="svd"), X, y, ref
    ),
    "Ridge(0, cholesky)": lambda X, y, ref: fit_digits(
        Ridge(alpha=0.0, solver="cholesky"), X, y, ref
    ),
    "Ridge(0, lsqr)": lambda X, y, ref: fit_digits(
        Ridge(alpha=0.0, solver="lsqr"), X, y, ref
    ),
    "lstsq(Xc)": lstsq_digits,
}


def main():
    header = [
        "problem",
        "n×d",
        "cond(Xc)",
        "cond(Xc), unit columns",
        "route",
        "required",
        *COLUMNS,
    ]
    rows = []
    for name in PROBLEMS:
        X, y, reference = problem(name)
        cond, cond_unit = condition_numbers(X)
        cells = [
            name,
            f"{X.shape[0]}×{X.shape[1]}",
            f"{cond:.2g}",
            f"{cond_unit:.2g}",
            newton_route(X, y),
            f"≥ {REQUIRED_DIGITS[name]:g}",
        ]
        for column in COLUMNS.values():
            digits = column(X, y, reference)
            cells.append(digits if isinstance(digits, str) else f"{digits:.1f}")
        rows.append(cells)
    print(
        f"numpy {np.__version__}, scikit-learn {sklearn.__version__}; "
        "correct significant digits (min over coefficients and intercept)\n"
    )
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
