"""Accuracy of the Newton step on ill-conditioned least squares.

The NIST StRD linear-regression problems Wampler1–5 (5th-degree polynomials
in x = 0, …, 20; Wampler4 and Wampler5 have residuals as large as y itself)
and Norris (a straight line, 36 points), transcribed and checked below
against NIST's certified values, and four designs in the style of the
NIST problems, each a true least-squares problem (the target is not in the
span of the columns):

* ``wampler``: a 5th-degree polynomial in x = 1, …, 21 (columns x … x⁵);
* ``pontius``: a quadratic in x = 3e6 − 1000·k, k = 0 … 39 (columns x, x²);
* ``longley``: the Longley data, six collinear macro-economic series, 16
  years (transcribed from NIST StRD, checked below against NIST's certified
  values);
* ``filip``: a 10th-degree polynomial in x ∈ [−9, −3], 82 points, the
  centred design having condition number ~1e15.

The intercept is fitted in all of them. The reference is the EXACT least-squares
solution of the float64 arrays the estimators see: every float is converted
to ``fractions.Fraction`` and the centred normal equations are solved in
rational arithmetic, so the reference carries no rounding error at all.

Correct significant digits of an estimate ``b`` of a reference ``β`` are
``min_j −log10(|b_j − β_j| / |β_j|)`` over all coefficients AND the intercept
(the worst coefficient counts; the NIST "log relative error"), capped at
``DIGITS_CAP``.
"""

import math
import warnings
from fractions import Fraction
from functools import cache

import mpmath
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression, Ridge

import onestep_sklearn._solvers.newton as newton_module
import onestep_sklearn._solvers.steps as steps_module
from onestep_sklearn import OneStepRegressor
from onestep_sklearn._data import questions

# A float64 holds 15.95 significant digits at most; an exact match scores this.
DIGITS_CAP = 16.0
# Two backward-stable solvers on the same problem differ in their error by a
# small problem-dependent factor (both are cond·eps times O(1)); "at least as
# accurate" is judged to a factor of 3 (0.5 digits), and digits beyond 15
# (the rounding level) count as 15.
SAME_ACCURACY_SLACK = 0.5
FULL_PRECISION = 15.0
REQUIRED_DIGITS = {
    **{f"wampler{k}": 9.0 for k in range(1, 6)},
    "norris": 9.0,
    "wampler": 9.0,
    "pontius": 9.0,
    "longley": 9.0,
    "filip": 7.0,
}
# fit and CSR are refined to the exact solution of the float64 data,
# correctly rounded (16 digits measured on every refined design; the slack
# allows a few units in the last place).
EXACT_DIGITS = 15.0
# partial_fit refines from moments of the data, whose own double-double
# rounding (2^-106 of raw uncentred moments up to 1e21 on filip's x¹⁰)
# limits filip: 13.2 measured (16 on every other refined design).
PARTIAL_FIT_EXACT_DIGITS = 12.5


# --------------------------------------------------------------------------
# The designs
# --------------------------------------------------------------------------


def _noise_pattern(n_samples):
    """Deterministic integer 'noise' in [-11, 11], no random generator."""
    return np.array([(37 * k + 5) % 23 - 11 for k in range(n_samples)], dtype=float)


def wampler_design():
    """5th-degree polynomial in x = 1..21; y = Σ x^k + integer noise (exact)."""
    x = np.arange(1.0, 22.0)
    X = np.column_stack([x**k for k in range(1, 6)])
    y = 1.0 + x + x**2 + x**3 + x**4 + x**5 + 50.0 * _noise_pattern(x.size)
    return X, y


def pontius_design():
    """Quadratic in x = 3e6 − 1000·k (all values exact integers < 2^53)."""
    x = 3e6 - 1000.0 * np.arange(40)
    X = np.column_stack([x, x**2])
    y = 6.7e-4 + 7.3e-7 * x - 3.2e-15 * x**2 + 1e-5 * _noise_pattern(x.size)
    return X, y


# NIST StRD "Longley": y (employment), then GNP deflator, GNP, unemployed,
# armed forces, population, year.
LONGLEY = """\
60323 83.0 234289 2356 1590 107608 1947
61122 88.5 259426 2325 1456 108632 1948
60171 88.2 258054 3682 1616 109773 1949
61187 89.5 284599 3351 1650 110929 1950
63221 96.2 328975 2099 3099 112075 1951
63639 98.1 346999 1932 3594 113270 1952
64989 99.0 365385 1870 3547 115094 1953
63761 100.0 363112 3578 3350 116219 1954
66019 101.2 397469 2904 3048 117388 1955
67857 104.6 419180 2822 2857 118734 1956
68169 108.4 442769 2936 2798 120445 1957
66513 110.8 444546 4681 2637 121950 1958
68655 112.6 482704 3813 2552 123366 1959
69564 114.2 502601 3931 2514 125368 1960
69331 115.7 518173 4806 2572 127852 1961
70551 116.9 554894 4007 2827 130081 1962
"""

# NIST's certified values: intercept, then the six coefficients.
LONGLEY_CERTIFIED = (
    "-3482258.63459582",
    "15.0618722713733",
    "-0.358191792925910E-01",
    "-2.02022980381683",
    "-1.03322686717359",
    "-0.511041056535807E-01",
    "1829.15146461355",
)


def longley_design():
    table = np.array(
        [[float(v) for v in line.split()] for line in LONGLEY.split("\n") if line]
    )
    return table[:, 1:], table[:, 0]


def filip_design():
    """10th-degree polynomial in x ∈ [−9, −3] (82 points), Runge-like target.

    Only correctly rounded operations (+, −, ×, ÷): the arrays are the same
    on every platform.
    """
    x = -3.0 - 6.0 * np.arange(82) / 81.0
    X = np.column_stack([x**k for k in range(1, 11)])
    y = 0.8 + 0.5 / (1.0 + (x + 6.0) ** 2) + 1e-3 * _noise_pattern(x.size)
    return X, y


# NIST StRD Wampler3, 4 and 5: y at x = 0, 1, …, 20 (integers). Wampler1 and
# Wampler2 are exact polynomials (below); all five have certified
# coefficients of exactly 1 (Wampler2: 1, 0.1, …, 1e-5).
WAMPLER_Y = {
    3: "760 -2042 2111 -1684 3888 1858 11379 17560 39287 64382 113159 175108 "
    "273291 400186 581243 811568 1121004 1506550 2002767 2611612 3369180",
    4: "75901 -204794 204863 -204436 253665 -200894 214131 -185192 221249 "
    "-138370 315911 -27644 455253 197434 783995 608816 1370781 1303798 "
    "2205519 2408860 3444321",
    5: "7590001 -20479994 20480063 -20479636 25231365 -20476094 20489331 "
    "-20460392 18417449 -20413570 20591111 -20302844 18651453 -20077766 "
    "21059195 -19666384 26348481 -18971402 22480719 -17866340 10958421",
}


def wampler_decimal(k):
    """NIST Wampler``k`` as decimal strings ``(X rows, y)``: the data as given.

    Wampler1 is y = 1 + x + … + x⁵ and Wampler2 y = 1 + 0.1x + … + 1e-5·x⁵,
    exact decimals with 5 places (computed here in rationals).
    """
    xs = range(21)
    if k in WAMPLER_Y:
        y = WAMPLER_Y[k].split()
    else:
        ratio = Fraction(1) if k == 1 else Fraction(1, 10)
        y = [_exact_decimal(sum(ratio**p * x**p for p in range(6))) for x in xs]
    return [[str(x**p) for p in range(1, 6)] for x in xs], y


def _exact_decimal(value):
    """A rational with denominator dividing 10^5 as an exact decimal string."""
    scaled = value * 10**5
    assert scaled.denominator == 1
    sign = "-" if scaled < 0 else ""
    digits = f"{abs(scaled.numerator):06d}"
    return f"{sign}{digits[:-5]}.{digits[-5:]}"


def wampler_nist(k):
    rows, y = wampler_decimal(k)
    return np.array(rows, dtype=float), np.array(y, dtype=float)


# NIST StRD Norris: pairs y, x.
NORRIS = """0.1 0.2 338.8 337.4 118.1 118.2 888.0 884.6 9.2 10.1 228.1 226.5 668.5 666.3
998.5 996.3 449.1 448.6 778.9 777.0 559.2 558.2 0.3 0.4 0.1 0.6 778.1 775.5
668.8 666.9 339.3 338.0 448.9 447.5 10.8 11.6 557.7 556.0 228.3 228.1
998.0 995.8 888.8 887.6 119.6 120.2 0.3 0.3 0.6 0.3 557.6 556.8 339.3 339.1
888.0 887.2 998.5 999.0 778.9 779.0 10.2 11.1 117.6 118.3 228.9 229.2
668.4 669.1 449.2 448.9 0.2 0.5
"""
# NIST's certified values: intercept, slope.
NORRIS_CERTIFIED = ("-0.262323073774029", "1.00211681802045")


def norris_decimal():
    values = NORRIS.split()
    return [[x] for x in values[1::2]], values[0::2]


def norris_design():
    rows, y = norris_decimal()
    return np.array(rows, dtype=float), np.array(y, dtype=float)


PROBLEMS = {
    **{f"wampler{k}": (lambda k=k: wampler_nist(k)) for k in range(1, 6)},
    "norris": norris_design,
    "wampler": wampler_design,
    "pontius": pontius_design,
    "longley": longley_design,
    "filip": filip_design,
}


# --------------------------------------------------------------------------
# Exact reference, digits, condition numbers
# --------------------------------------------------------------------------


def exact_least_squares(X, y):
    """Exact minimiser of Σ(yᵢ − xᵢᵀw − b)² for float (or decimal-string) data.

    Returns ``(coef, intercept)`` as Fractions: the centred normal equations
    ``XcᵀXc·w = Xcᵀyc`` solved by Gauss–Jordan elimination in rationals, then
    ``b = ȳ − x̄ᵀw``. Requires a full-rank centred design.
    """
    rows = [[Fraction(v) for v in row] for row in X]
    target = [Fraction(v) for v in y]
    n_samples, n_features = len(rows), len(rows[0])
    x_mean = [sum(row[j] for row in rows) / n_samples for j in range(n_features)]
    y_mean = sum(target) / n_samples
    centred = [[row[j] - x_mean[j] for j in range(n_features)] for row in rows]
    y_centred = [v - y_mean for v in target]
    system = [
        [sum(r[a] * r[b] for r in centred) for b in range(n_features)]
        + [sum(r[a] * t for r, t in zip(centred, y_centred))]
        for a in range(n_features)
    ]
    for col in range(n_features):
        pivot = next(r for r in range(col, n_features) if system[r][col] != 0)
        system[col], system[pivot] = system[pivot], system[col]
        for r in range(n_features):
            if r != col and system[r][col] != 0:
                factor = system[r][col] / system[col][col]
                system[r] = [a - factor * b for a, b in zip(system[r], system[col])]
    coef = [system[j][-1] / system[j][j] for j in range(n_features)]
    intercept = y_mean - sum(m * w for m, w in zip(x_mean, coef))
    return coef, intercept


def _log10(fraction):
    return math.log10(fraction.numerator) - math.log10(fraction.denominator)


def correct_digits(coef, intercept, reference):
    """Digits of the worst of the coefficients and the intercept (see top)."""
    ref_coef, ref_intercept = reference
    estimates = [*np.ravel(coef), np.ravel(intercept)[0]]
    digits = []
    for estimate, exact in zip(estimates, [*ref_coef, ref_intercept]):
        if not np.isfinite(estimate):
            return -np.inf
        error = abs(Fraction(float(estimate)) - exact) / abs(exact)
        digits.append(DIGITS_CAP if error == 0 else min(DIGITS_CAP, -_log10(error)))
    return min(digits)


def condition_numbers(X, dps=50):
    """cond₂ of the centred design, and of it with unit-norm columns.

    Computed with mpmath at ``dps`` digits: float64 SVD cannot resolve a
    smallest singular value near eps·σ_max.
    """
    centred = X - X.mean(axis=0)
    result = []
    for matrix in (centred, centred / np.linalg.norm(centred, axis=0)):
        with mpmath.workdps(dps):
            sing = mpmath.svd_r(mpmath.matrix(matrix.tolist()), compute_uv=False)
            values = [abs(s) for s in sing]
            result.append(float(max(values) / min(values)))
    return tuple(result)


@cache
def problem(name):
    """(X, y, exact reference), computed once per session."""
    X, y = PROBLEMS[name]()
    X.flags.writeable = False
    y.flags.writeable = False
    return X, y, exact_least_squares(X, y)


def sklearn_solvers():
    """Every scikit-learn route to the unpenalised least-squares solution."""
    solvers = {"LinearRegression()": LinearRegression()}
    if "tol" in LinearRegression().get_params():  # scikit-learn >= 1.9
        solvers["LinearRegression(tol=0)"] = LinearRegression(tol=0.0)
    for solver in ("auto", "svd", "cholesky", "lsqr", "sparse_cg", "sag", "saga"):
        solvers[f"Ridge(alpha=0, solver={solver!r})"] = Ridge(
            alpha=0.0, solver=solver, random_state=0
        )
    return solvers


def digits_of(estimator, X, y, reference):
    with warnings.catch_warnings():
        # Iterative Ridge solvers warn about convergence; digits tell it all.
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            estimator.fit(X, y)
    return correct_digits(estimator.coef_, estimator.intercept_, reference)


@pytest.fixture
def qr_calls(monkeypatch):
    """Record the shape of X at every call of the careful (QR/SVD) Newton
    route: the data source's streaming QR factor."""
    calls = []
    real = questions.qr_factor

    def counting(source, *args, **kwargs):
        calls.append(source.X.shape)
        return real(source, *args, **kwargs)

    monkeypatch.setattr(questions, "qr_factor", counting)
    return calls


# --------------------------------------------------------------------------
# The designs are what they claim to be
# --------------------------------------------------------------------------


def test_longley_transcription_matches_nist_certified_values():
    # Exact rational solution of the DECIMAL data against NIST's 15-digit
    # certified values: a wrong digit in the table would show here.
    decimal_rows = [line.split() for line in LONGLEY.split("\n") if line]
    X = [row[1:] for row in decimal_rows]
    y = [row[0] for row in decimal_rows]
    coef, intercept = exact_least_squares(X, y)
    for exact, certified in zip([intercept, *coef], LONGLEY_CERTIFIED):
        assert abs(exact - Fraction(certified)) <= abs(exact) * Fraction(1, 10**13)


def test_nist_transcriptions_match_certified_values():
    # Wampler1–5: the exact solution of the decimal data IS the certified
    # one (1, …, 1; Wampler2 1, 0.1, …, 1e-5); Norris to NIST's 15 digits.
    for k in range(1, 6):
        coef, intercept = exact_least_squares(*wampler_decimal(k))
        ratio = Fraction(1) if k != 2 else Fraction(1, 10)
        assert [intercept, *coef] == [ratio**p for p in range(6)]
    coef, intercept = exact_least_squares(*norris_decimal())
    for exact, certified in zip([intercept, *coef], NORRIS_CERTIFIED):
        assert abs(exact - Fraction(certified)) <= abs(exact) * Fraction(1, 10**13)


@pytest.mark.parametrize(
    "name, low, high",
    [
        ("wampler5", 1e6, 1e7),
        ("norris", 1.0, 1.0 + 1e-9),
        ("wampler", 1e6, 1e8),
        ("pontius", 1e9, 1e10),
        ("longley", 1e5, 1e6),
        ("filip", 1e14, 1e16),
    ],
)
def test_condition_number_of_centred_design(name, low, high):
    X, _, _ = problem(name)
    cond, cond_equilibrated = condition_numbers(X)
    print(f"{name}: cond(Xc) = {cond:.3g}, unit-norm columns {cond_equilibrated:.3g}")
    assert low <= cond <= high


def test_exact_reference_solves_the_normal_equations():
    # Independent check of the rational solver: the exact residual is
    # orthogonal to every column and to the constant.
    X, y, (coef, intercept) = problem("wampler")
    residual = [
        Fraction(float(t))
        - intercept
        - sum(Fraction(float(v)) * w for v, w in zip(row, coef))
        for row, t in zip(X, y)
    ]
    assert sum(residual) == 0
    for j in range(X.shape[1]):
        assert sum(Fraction(float(row[j])) * r for row, r in zip(X, residual)) == 0
    assert any(r != 0 for r in residual)  # a true least-squares problem


# --------------------------------------------------------------------------
# Digits: the Newton step against the requirement and against scikit-learn
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_newton_digits_meet_requirement(name):
    X, y, reference = problem(name)
    digits = digits_of(OneStepRegressor(), X, y, reference)
    assert digits >= REQUIRED_DIGITS[name], (
        f"{name}: OneStepRegressor() has {digits:.2f} correct digits, "
        f"{REQUIRED_DIGITS[name]} required"
    )


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_newton_at_least_as_accurate_as_best_sklearn_solver(name):
    X, y, reference = problem(name)
    ours = digits_of(OneStepRegressor(), X, y, reference)
    theirs = {
        label: digits_of(estimator, X, y, reference)
        for label, estimator in sklearn_solvers().items()
    }
    best_label = max(theirs, key=theirs.get)
    best = min(theirs[best_label], FULL_PRECISION)
    table = ", ".join(f"{label}: {d:.2f}" for label, d in theirs.items())
    assert min(ours, FULL_PRECISION) >= best - SAME_ACCURACY_SLACK, (
        f"{name}: OneStepRegressor() {ours:.2f} digits < best scikit-learn "
        f"{best_label} {theirs[best_label]:.2f} ({table})"
    )


def _fit_by(route, X, y):
    if route == "fit":
        return OneStepRegressor().fit(X, y)
    if route == "unit-weights":
        return OneStepRegressor().fit(X, y, sample_weight=np.ones(len(y)))
    if route in ("csr", "csc"):
        return OneStepRegressor().fit(sp.csr_matrix(X).asformat(route), y)
    # partial_fit promises the model of fit on the concatenated chunks.
    model = OneStepRegressor()
    for rows in np.array_split(np.arange(len(y)), 3):
        model.partial_fit(X[rows], y[rows])
    return model


@pytest.mark.parametrize("route", ["unit-weights", "csr", "csc", "partial_fit"])
@pytest.mark.parametrize("name", list(PROBLEMS))
def test_newton_digits_hold_on_every_route(name, route):
    # The same least-squares problem given with unit weights, as a sparse
    # matrix, or in three partial_fit chunks: the same requirement.
    X, y, reference = problem(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = _fit_by(route, X, y)
    digits = correct_digits(model.coef_, model.intercept_, reference)
    assert digits >= REQUIRED_DIGITS[name], (
        f"{name} via {route}: {digits:.2f} correct digits, "
        f"{REQUIRED_DIGITS[name]} required"
    )


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_newton_digits_with_integer_weights_equal_repeated_rows(name):
    # Weights 1, 2, 3, 1, 2, 3, … are the repeated-rows problem, whose exact
    # solution is computed here too.
    X, y, _ = problem(name)
    counts = np.arange(len(y)) % 3 + 1
    X_rep, y_rep = np.repeat(X, counts, axis=0), np.repeat(y, counts)
    reference = exact_least_squares(X_rep, y_rep)
    model = OneStepRegressor().fit(X, y, sample_weight=counts)
    digits = correct_digits(model.coef_, model.intercept_, reference)
    assert digits >= REQUIRED_DIGITS[name], f"{name}: {digits:.2f}"


# --------------------------------------------------------------------------
# Refinement to the exact solution of the float64 data (module _refine)
# --------------------------------------------------------------------------

# Every design but norris (cond 1) is ill-conditioned enough to be refined.
REFINED = [name for name in PROBLEMS if name != "norris"]


@pytest.mark.parametrize("route", ["fit", "csr", "partial_fit"])
@pytest.mark.parametrize("name", REFINED)
def test_refinement_reaches_the_exact_solution(name, route):
    # Far beyond the goals: the float64 data have an exact least-squares
    # solution, and the refined fit is it up to its last roundings.
    X, y, reference = problem(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = _fit_by(route, X, y)
    digits = correct_digits(model.coef_, model.intercept_, reference)
    required = PARTIAL_FIT_EXACT_DIGITS if route == "partial_fit" else EXACT_DIGITS
    assert digits >= required, f"{name} via {route}: {digits:.2f} digits"


def test_large_residual_design_misses_its_goal_without_refinement(monkeypatch):
    # What the refinement is for: on Wampler5 (residuals as large as y) a
    # float64 solve, even backward stable, keeps ~6–8 digits, not 9.
    X, y, reference = problem("wampler5")
    monkeypatch.setattr(newton_module, "refine_exactly", lambda *args: (args[3], None))
    monkeypatch.setattr(steps_module, "refine_from_moments", lambda *args: None)
    for route in ("fit", "csr", "partial_fit"):
        model = _fit_by(route, X, y)
        digits = correct_digits(model.coef_, model.intercept_, reference)
        assert digits < REQUIRED_DIGITS["wampler5"], (route, digits)


@pytest.fixture
def exact_calls(monkeypatch):
    """Count the double-double passes: data gradients and chunk moments."""
    calls = {"gradient": 0, "moments": 0}
    for name, key in (("exact_gradient", "gradient"), ("exact_moments", "moments")):
        real = getattr(questions, name)

        def counting(*args, real=real, key=key):
            calls[key] += 1
            return real(*args)

        monkeypatch.setattr(questions, name, counting)
    return calls


@pytest.mark.parametrize("kind", ["dense", "csr", "weighted", "partial_fit"])
def test_well_conditioned_data_are_not_refined(exact_calls, kind):
    # The refinement costs passes only where the Gram is ill-conditioned.
    rng = np.random.default_rng(1)
    X = rng.standard_normal((500, 8))
    y = X @ rng.standard_normal(8) + rng.standard_normal(500)
    weights = rng.uniform(0.5, 2.0, 500) if kind == "weighted" else None
    if kind == "csr":
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0.0))
    if kind == "partial_fit":
        model = OneStepRegressor()
        for rows in np.array_split(np.arange(500), 4):
            model.partial_fit(X[rows], y[rows])
        assert model._stream.stats.exact is None
    else:
        OneStepRegressor().fit(X, y, sample_weight=weights)
    assert exact_calls == {"gradient": 0, "moments": 0}


def exact_weighted_ridge(X, Y, weights, alpha):
    """Exact minimiser of (1/Σs) Σ sᵢ(yᵢ − xᵢᵀw − b)² + alpha·‖w‖², per column
    of ``Y``: ``(XcᵀSXc + alpha·Σs·I) w = XcᵀS(y − ȳ)`` in rationals."""
    s = [Fraction(v) for v in weights]
    rows = [[Fraction(v) for v in row] for row in X]
    total = sum(s)
    n_features = len(rows[0])
    x_mean = [sum(w * r[j] for w, r in zip(s, rows)) / total for j in range(n_features)]
    centred = [[r[j] - x_mean[j] for j in range(n_features)] for r in rows]
    results = []
    for column in np.asarray(Y).T:
        target = [Fraction(v) for v in column]
        y_mean = sum(w * t for w, t in zip(s, target)) / total
        system = [
            [
                sum(w * r[a] * r[b] for w, r in zip(s, centred))
                + (Fraction(alpha) * total if a == b else 0)
                for b in range(n_features)
            ]
            + [sum(w * r[a] * (t - y_mean) for w, r, t in zip(s, centred, target))]
            for a in range(n_features)
        ]
        for col in range(n_features):
            for r in range(n_features):
                if r != col and system[r][col] != 0:
                    factor = system[r][col] / system[col][col]
                    system[r] = [a - factor * b for a, b in zip(system[r], system[col])]
        coef = [system[j][-1] / system[j][j] for j in range(n_features)]
        results.append((coef, y_mean - sum(m * w for m, w in zip(x_mean, coef))))
    return results


@pytest.mark.parametrize("route", ["fit", "csr", "partial_fit"])
def test_refinement_is_exact_with_weights_penalty_and_two_outputs(route):
    # Wampler4 and Wampler5 as two outputs, integer weights, and a small
    # ridge penalty: the refined solution is still the exact one.
    X, y4, _ = problem("wampler4")
    Y = np.column_stack([y4, problem("wampler5")[1]])
    weights = np.arange(len(y4)) % 3 + 1.0
    alpha = 2.0**-30
    references = exact_weighted_ridge(X, Y, weights, alpha)
    if route == "partial_fit":
        model = OneStepRegressor(alpha=alpha)
        for rows in np.array_split(np.arange(len(y4)), 3):
            model.partial_fit(X[rows], Y[rows], sample_weight=weights[rows])
    else:
        data = sp.csr_matrix(X) if route == "csr" else X
        model = OneStepRegressor(alpha=alpha).fit(data, Y, sample_weight=weights)
    for out, reference in enumerate(references):
        digits = correct_digits(model.coef_[out], model.intercept_[out], reference)
        assert digits >= EXACT_DIGITS, (route, out, digits)


def test_refinement_cost_in_passes(exact_calls):
    # Wampler5: one correcting pass and one that finds the next correction
    # at rounding level. partial_fit: one moments pass per chunk, no data
    # pass (its steps cost O(d²) each).
    X, y, _ = problem("wampler5")
    OneStepRegressor().fit(X, y)
    assert exact_calls == {"gradient": 2, "moments": 0}
    _fit_by("partial_fit", X, y)
    assert exact_calls == {"gradient": 2, "moments": 3}


# --------------------------------------------------------------------------
# Which route: the Gram fast path stays for well-conditioned data
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["standard-normal", "offset", "weighted", "csr", "multi-output"]
)
def test_well_conditioned_data_stays_on_gram_path(qr_calls, kind):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2000, 10))
    y = X @ rng.standard_normal(10) + rng.standard_normal(2000)
    sample_weight = None
    if kind == "offset":
        X = X + 1000.0  # the centred Gram is what counts, and it is fine
    elif kind == "weighted":
        sample_weight = rng.uniform(0.5, 2.0, size=2000)
    elif kind == "csr":
        X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    elif kind == "multi-output":
        y = np.column_stack([y, -y, 2 * y])

    model = OneStepRegressor().fit(X, y, sample_weight=sample_weight)

    assert qr_calls == []
    # Reference: weighted least squares on the centred dense data by numpy's
    # lstsq (scikit-learn's sparse route is iterative in some versions).
    dense = X.toarray() if sp.issparse(X) else X
    weights = np.ones(dense.shape[0]) if sample_weight is None else sample_weight
    root = np.sqrt(weights)[:, None]
    x_mean = weights @ dense / weights.sum()
    y_mean = weights @ y / weights.sum()
    reference = np.linalg.lstsq(
        root * (dense - x_mean), root * (y - y_mean).reshape(len(y), -1), rcond=None
    )[0]
    assert_allclose(model.coef_, reference.T.reshape(model.coef_.shape), rtol=1e-10)


def test_extreme_design_leaves_the_gram_path(qr_calls):
    # cond(Xc) ~ 1e15: the normal equations carry no correct digit, so the
    # careful route must be taken (or the test above about digits fails).
    X, y, _ = problem("filip")
    OneStepRegressor().fit(X, y)
    assert qr_calls, "the Cholesky fast path was trusted on a cond ~1e15 design"


# --------------------------------------------------------------------------
# Rank deficiency: the minimum-norm solution, like lstsq, without warnings
# --------------------------------------------------------------------------


def _rank_deficient(kind):
    rng = np.random.default_rng(7)
    # Integer-valued data: the dependent columns are exactly dependent.
    X = rng.integers(-20, 21, size=(30, 4)).astype(float) + [0.0, 5.0, -3.0, 100.0]
    if kind == "duplicated":
        X = np.column_stack([X, X[:, 1], X[:, 1]])
    elif kind == "combination":
        X = np.column_stack([X, X[:, 0] - 2.0 * X[:, 2] + 7.0])
    elif kind == "constant-column":
        X = np.column_stack([X, np.full(30, 3.0)])
    elif kind == "longley-duplicated":
        longley = problem("longley")[0]
        X = np.column_stack([longley, longley[:, 1]])
    y = rng.normal(size=X.shape[0]) + X[:, :3] @ [1.0, -2.0, 0.5]
    return X, y


def _lstsq_reference(X, y, sample_weight):
    s = np.ones(len(y)) if sample_weight is None else sample_weight
    x_mean, y_mean = s @ X / s.sum(), s @ y / s.sum()
    root = np.sqrt(s)[:, None]
    coef = np.linalg.lstsq(
        (X - x_mean) * root, (y - y_mean) * root.ravel(), rcond=None
    )[0]
    return coef, y_mean - x_mean @ coef


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "kind", ["duplicated", "combination", "constant-column", "longley-duplicated"]
)
def test_rank_deficient_gives_lstsq_minimum_norm_without_warnings(kind, weighted):
    X, y = _rank_deficient(kind)
    sample_weight = None
    if weighted:
        sample_weight = np.random.default_rng(8).uniform(0.5, 2.0, size=len(y))
    expected_coef, expected_intercept = _lstsq_reference(X, y, sample_weight)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = OneStepRegressor().fit(X, y, sample_weight=sample_weight)
        predictions = model.predict(X)

    scale = np.max(np.abs(expected_coef))
    assert_allclose(model.coef_, expected_coef, rtol=1e-8, atol=1e-10 * scale)
    assert model.intercept_ == pytest.approx(expected_intercept, rel=1e-8)
    assert_allclose(predictions, X @ expected_coef + expected_intercept, rtol=1e-8)
    if kind == "duplicated":
        assert model.coef_[4] == pytest.approx(model.coef_[1], rel=1e-10)
        assert model.coef_[5] == pytest.approx(model.coef_[1], rel=1e-10)
    if kind == "constant-column":
        assert model.coef_[-1] == 0.0


def test_rank_deficient_multi_output_and_partial_fit_agree_with_lstsq():
    X, y = _rank_deficient("combination")
    Y = np.column_stack([y, 3.0 * y - 1.0])
    expected = np.column_stack(
        [_lstsq_reference(X, column, None)[0] for column in Y.T]
    ).T

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        full = OneStepRegressor().fit(X, Y)
        streamed = OneStepRegressor()
        for rows in np.array_split(np.arange(len(y)), 3):
            streamed.partial_fit(X[rows], Y[rows])

    scale = np.max(np.abs(expected))
    assert_allclose(full.coef_, expected, rtol=1e-8, atol=1e-10 * scale)
    assert_allclose(streamed.coef_, expected, rtol=1e-6, atol=1e-8 * scale)
