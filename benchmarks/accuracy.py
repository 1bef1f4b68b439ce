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
from sklearn.linear_model import LinearRegression

from onestep_sklearn import OneStepRegressor
from onestep_sklearn._data import questions

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
    """numpy.linalg.lstsq (an SVD solve, default rcond) on the centred data."""
    x_mean, y_mean = X.mean(axis=0), y.mean()
    coef = np.linalg.lstsq(X - x_mean, y - y_mean, rcond=None)[0]
    return correct_digits(coef, y_mean - x_mean @ coef, reference)


def newton_route(X, y):
    """The solve ('gram' or 'qr') and the exact-gradient passes of refinement."""
    calls = {"qr": 0, "passes": 0}
    real_qr, real_gradient = questions.qr_factor, questions.exact_gradient

    def counting_qr(*args, **kwargs):
        calls["qr"] += 1
        return real_qr(*args, **kwargs)

    def counting_gradient(*args):
        calls["passes"] += 1
        return real_gradient(*args)

    questions.qr_factor, questions.exact_gradient = counting_qr, counting_gradient
    try:
        OneStepRegressor().fit(X, y)
    finally:
        questions.qr_factor, questions.exact_gradient = real_qr, real_gradient
    route = "qr" if calls["qr"] else "gram"
    if calls["passes"]:
        route += f" + {calls['passes']} exact passes"
    return route


def linear_regression():
    """LinearRegression(tol=0) where that parameter exists (scikit-learn >= 1.9)."""
    if "tol" in LinearRegression().get_params():
        return "LinearRegression(tol=0)", LinearRegression(tol=0.0)
    return "LinearRegression()", LinearRegression()


COLUMNS = {
    "OneStep fit": lambda X, y, ref: fit_digits(OneStepRegressor(), X, y, ref),
    "OneStep CSR": lambda X, y, ref: fit_digits(
        OneStepRegressor(), sp.csr_matrix(X), y, ref
    ),
    "OneStep partial_fit×3": partial_fit_digits,
    "SVD solve (lstsq on Xc)": lstsq_digits,
    linear_regression()[0]: lambda X, y, ref: fit_digits(
        linear_regression()[1], X, y, ref
    ),
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
        "goal met (fit, CSR, partial_fit)?",
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
        ours = []
        for label, column in COLUMNS.items():
            digits = column(X, y, reference)
            cells.append(digits if isinstance(digits, str) else f"{digits:.1f}")
            if label.startswith("OneStep"):
                ours.append(
                    not isinstance(digits, str) and digits >= REQUIRED_DIGITS[name]
                )
        cells.append("yes" if all(ours) else "no")
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
