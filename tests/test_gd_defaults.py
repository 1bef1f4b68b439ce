"""Gradient descent with default parameters on data like users': it converges,
"converged" is a promise about the exact (minimum-norm) solution, and every
other ending warns with advice that works when followed."""

import re
import warnings
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from onestep_sklearn import (
    IterativeGDRegressor,
    OneStepRegressor,
    suggest_learning_rate,
)
from onestep_sklearn._cli.columns import (
    classify_columns,
    design_input,
    make_preprocessor,
)
from onestep_sklearn._solvers.plan import resolve_precompute


def min_norm_solution(X, y, sample_weight=None):
    """The reference ``w*``: lstsq's minimum-norm solution of the weighted,
    centred problem (independent of the package)."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    s = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight)
    Xc = X - s @ X / s.sum()
    yc = y - s @ y / s.sum()
    root = np.sqrt(s)[:, None]
    return np.linalg.lstsq(root * Xc, root[:, 0] * yc, rcond=None)[0]


def relative_error(coef, exact):
    return np.linalg.norm(coef - exact) / np.linalg.norm(exact)


def fit_recording(estimator, X, y, **fit_params):
    """Fit with every warning recorded and numpy's RuntimeWarnings as errors."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("error", RuntimeWarning)
        estimator.fit(X, y, **fit_params)
    return estimator, [w for w in caught if issubclass(w.category, Warning)]


def real_like_table(rng):
    """A small table as users bring them, through the CLI's preprocessing:
    numeric columns with gaps (median + StandardScaler), a near-collinear
    pair, categorical columns with rare levels and booleans (most frequent +
    OneHotEncoder, beside the intercept: rank-deficient), sometimes wide."""
    n_rows = int(rng.integers(25, 300))
    columns, signal, previous = {}, np.zeros(n_rows), None
    for j in range(int(rng.integers(0, 5))):
        values = rng.standard_normal(n_rows)
        if previous is not None and rng.random() < 0.3:
            values = previous + 10.0 ** rng.uniform(-2.5, -1) * values
        previous = values
        signal += rng.standard_normal() * values
        values = values * 10.0 ** rng.uniform(-2, 4)
        if rng.random() < 0.4:
            values[rng.random(n_rows) < 0.1] = np.nan
        columns[f"num{j}"] = values
    for j in range(int(rng.integers(1, 4))):
        n_levels = int(rng.integers(2, 25))
        zipf = 1.0 / np.arange(1, n_levels + 1) ** 1.5
        codes = rng.choice(n_levels, size=n_rows, p=zipf / zipf.sum())
        signal += rng.standard_normal(n_levels)[codes]
        columns[f"cat{j}"] = pd.Series([f"c{c}" for c in codes], dtype=object)
    if rng.random() < 0.5:
        flags = rng.random(n_rows) < 0.1
        signal += flags
        columns["flag"] = pd.Series(flags, dtype=object)
    if rng.random() < 0.25:  # wide: more columns than rows
        for j in range(n_rows + 5):
            columns[f"wide{j}"] = rng.standard_normal(n_rows)
    X = pd.DataFrame(columns)
    kinds = classify_columns(X)
    design = make_preprocessor(kinds).fit_transform(design_input(X, kinds))
    return design, 5 * signal + rng.standard_normal(n_rows) + 100


def test_defaults_converge_honestly_on_real_like_tables():
    rng = np.random.default_rng(17)
    converged = 0
    tables = [real_like_table(rng) for _ in range(30)]
    for X, y in tables:
        model, caught = fit_recording(IterativeGDRegressor(), X, y)
        exact = min_norm_solution(X, y)
        if model.stop_reason_ == "converged":
            converged += 1
            assert caught == []
            assert relative_error(model.coef_, exact) <= model.tol
        else:
            assert [w.category for w in caught] == [ConvergenceWarning]
    assert converged >= 0.95 * len(tables)


def test_small_wide_designs_take_the_closed_form_engine():
    rng = np.random.default_rng(0)
    for n_samples, n_features in [(36, 52), (81, 100), (100, 103)]:
        for krylov in (False, True):
            shape = SimpleNamespace(
                n_samples=n_samples, n_features=n_features, krylov=krylov
            )
            assert resolve_precompute("auto", shape)
        X = rng.standard_normal((n_samples, n_features))
        y = rng.standard_normal(n_samples)
        model, caught = fit_recording(IterativeGDRegressor(), X, y)
        assert model.stop_reason_ == "converged" and caught == []
        assert relative_error(model.coef_, min_norm_solution(X, y)) <= 1e-4


def test_five_level_category_converges_without_alarm():
    # One categorical column with 5 levels beside the intercept (60 rows):
    # the exact solution is reached; no false alarm, no numpy warning.
    rng = np.random.default_rng(0)
    codes = rng.choice(5, 60, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    y = rng.standard_normal(5)[codes] + 0.1 * rng.standard_normal(60)
    for sparse in (True, False):
        X = OneHotEncoder(sparse_output=sparse).fit_transform(codes[:, None])
        model, caught = fit_recording(IterativeGDRegressor(), X, y)
        assert caught == [] and model.stop_reason_ == "converged"
        assert relative_error(model.coef_, min_norm_solution(X, y)) <= 1e-4


def test_tiny_real_curvature_is_never_converged():
    # [a, a + 1e-9·b, c]: a real curvature of about 1e-19·L, which XᵀX cannot
    # resolve and gradient descent cannot follow: it says so.
    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal((3, 200))
    X = np.c_[a, a + 1e-9 * b, c]
    y = X @ [1.0, 2.0, 3.0] + 0.01 * rng.standard_normal(200)
    model, caught = fit_recording(IterativeGDRegressor(max_iter=500), X, y)
    assert model.stop_reason_ == "max_iter"
    (warning,) = caught
    assert "cannot resolve" in str(warning.message)
    assert "OneStepRegressor()" in str(warning.message)
    assert OneStepRegressor().fit(X, y).score(X, y) > 0.9999


def test_start_in_the_null_space_converges_to_the_minimum_norm_solution():
    rng = np.random.default_rng(0)
    a, c = rng.standard_normal((2, 200))
    X = np.c_[a, a, c]
    for precompute in (True, False):
        model, caught = fit_recording(
            IterativeGDRegressor(precompute=precompute), X, a + c, coef_init=[5, -5, 0]
        )
        assert model.stop_reason_ == "converged" and caught == []
        np.testing.assert_allclose(model.coef_, [0.5, 0.5, 1.0], rtol=2e-4)


def test_warm_start_leaves_the_null_space():
    rng = np.random.default_rng(1)
    codes = rng.choice(4, 80)
    X = np.c_[np.eye(4)[codes], rng.standard_normal(80)]
    y = codes * 1.5 + X[:, -1]
    model = IterativeGDRegressor(warm_start=True).fit(X, y)
    model.coef_ = model.coef_ + 3.0  # along the one-hot block's null space too
    model.fit(X, y)
    assert relative_error(model.coef_, min_norm_solution(X, y)) <= 1e-4


@pytest.mark.parametrize(
    "momentum, nesterov", [(0.0, False), (0.6, False), (0.6, True)]
)
def test_iterations_needed_is_inf_at_and_past_the_limit(momentum, nesterov):
    X = StandardScaler().fit_transform(np.random.default_rng(0).normal(size=(50, 4)))
    facts = suggest_learning_rate(X, momentum=momentum, nesterov=nesterov)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(facts.iterations_needed(0.9 * facts.max_stable))
        for factor in (1.0, 1.01, 2.0, 1e6):
            assert facts.iterations_needed(factor * facts.max_stable) == np.inf


@pytest.mark.parametrize(
    "bad", [{"learning_rate": -0.1}, {"tol": np.nan}, {"momentum": 1.0}]
)
def test_iterations_needed_validates_its_arguments(bad):
    facts = suggest_learning_rate(np.random.default_rng(0).normal(size=(20, 3)))
    with pytest.raises(InvalidParameterError):
        facts.iterations_needed(**bad)


def test_condition_number_of_a_duplicated_column_is_inf():
    a, c = np.random.default_rng(0).standard_normal((2, 200))
    assert suggest_learning_rate(np.c_[a, a, c]).condition_number == np.inf


def ill_conditioned(rng, condition):
    X = rng.standard_normal((300, 4))
    X[:, 1] = X[:, 0] + X[:, 1] / np.sqrt(condition)
    return X, X @ rng.standard_normal(4) + 0.1 * rng.standard_normal(300)


@pytest.mark.parametrize("max_iter", [50, 300])
def test_advice_followed_literally_converges(max_iter):
    rng = np.random.default_rng(3)
    X, y = ill_conditioned(rng, 1e5)
    for start in (
        IterativeGDRegressor(max_iter=max_iter),
        IterativeGDRegressor(max_iter=max_iter, learning_rate=0.05, momentum=0.0),
    ):
        _, caught = fit_recording(start, X, y)
        (warning,) = caught
        text = str(warning.message)
        assert "Fix: or" not in text and "momentum=1" not in text
        fixes = re.search(r"Fix: (.*?)\.( |$)", text).group(1).split(", or ")
        for fix in fixes:
            if "OneStepRegressor" in fix:
                continue
            params = dict(re.findall(r"(\w+)=('?[\w.]+'?)", fix))
            params = {k: eval(v) for k, v in params.items()}  # noqa: S307
            followed = start.set_params(**params)
            model, again = fit_recording(followed, X, y)
            assert again == [] and model.stop_reason_ == "converged", (fix, again)


def test_warnings_point_at_the_users_line_and_read_as_sentences():
    X, y = ill_conditioned(np.random.default_rng(4), 1e4)
    _, caught = fit_recording(IterativeGDRegressor(max_iter=5), X, y)
    (warning,) = caught
    assert warning.filename == __file__
    assert str(warning.message).startswith("IterativeGDRegressor reached max_iter=5 ")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        GridSearchCV(
            IterativeGDRegressor(max_iter=5), {"learning_rate": [0.01]}, cv=2
        ).fit(X, y)
    assert caught and all(w.filename == __file__ for w in caught)


def test_verbose_counts_one_iteration_in_the_singular(capsys):
    X, y = ill_conditioned(np.random.default_rng(5), 10.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        IterativeGDRegressor(learning_rate=10.0, verbose=1).fit(X, y)
    assert "stopped after 1 iteration (diverged)" in capsys.readouterr().out


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    log_condition=st.floats(0, 14),
    design=st.sampled_from(["near-duplicate", "one-hot", "duplicate", "plain"]),
    weighted=st.booleans(),
    start=st.sampled_from(["zeros", "random"]),
    momentum=st.sampled_from(["auto", 0.0, 0.5]),
    nesterov=st.booleans(),
    alpha=st.sampled_from([0.0, 0.0, 1e-3]),
)
def test_every_converged_fit_is_within_tol_and_every_other_warns(
    seed, log_condition, design, weighted, start, momentum, nesterov, alpha
):
    rng = np.random.default_rng(seed)
    n_samples, n_features = 60, 5
    X = rng.standard_normal((n_samples, n_features))
    if design == "near-duplicate":
        X[:, 1] = X[:, 0] + 10.0 ** (-log_condition / 2) * X[:, 1]
    elif design == "one-hot":
        codes = rng.choice(4, n_samples, p=[0.7, 0.2, 0.07, 0.03])
        X[:, 1:5] = np.eye(4)[codes]
    elif design == "duplicate":
        X[:, 2] = X[:, 0]
    else:
        X = X * np.geomspace(1, 10.0 ** (log_condition / 2), n_features)
    y = X @ rng.standard_normal(n_features) + 0.3 * rng.standard_normal(n_samples)
    sample_weight = rng.uniform(0.1, 3, n_samples) if weighted else None
    coef_init = None if start == "zeros" else rng.standard_normal(n_features)
    model, caught = fit_recording(
        IterativeGDRegressor(
            max_iter=3000, momentum=momentum, nesterov=nesterov, alpha=alpha
        ),
        X,
        y,
        sample_weight=sample_weight,
        coef_init=coef_init,
    )
    if alpha > 0:
        s = np.ones(n_samples) if sample_weight is None else sample_weight
        Xc = X - s @ X / s.sum()
        yc = y - s @ y / s.sum()
        gram = Xc.T @ (s[:, None] * Xc) / s.sum() + alpha * np.eye(n_features)
        exact = np.linalg.solve(gram, Xc.T @ (s * yc) / s.sum())
    else:
        exact = min_norm_solution(X, y, sample_weight)
    if model.stop_reason_ == "converged":
        assert caught == []
        assert relative_error(model.coef_, exact) <= model.tol
    else:
        assert [w.category for w in caught] == [ConvergenceWarning]


@pytest.mark.parametrize("scale", [1e-200, 1e200, 1e-160])
def test_suggest_learning_rate_works_where_the_estimators_do(scale):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 3))
    y = X @ [1.0, 2.0, 3.0] + 0.1 * rng.standard_normal(50)
    plain = suggest_learning_rate(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        facts = suggest_learning_rate(X * scale, y)
        model = IterativeGDRegressor().fit(X * scale, y)
    assert model.stop_reason_ == "converged"
    # Power-of-two units: the facts of x_scale·X, exactly those of X rescaled.
    factor = facts.x_scale * scale
    assert facts.x_scale != 1.0 and np.log2(facts.x_scale).is_integer()
    assert facts.lipschitz == pytest.approx(plain.lipschitz * factor**2, rel=1e-12)
    assert facts.condition_number == pytest.approx(plain.condition_number, rel=1e-9)
    assert facts.optimum == pytest.approx(plain.optimum, rel=1e-9)
    assert facts.iterations_needed() == plain.iterations_needed()


def test_no_runtime_warning_escapes_representative_fits_and_facts():
    from onestep_sklearn.plotting import LossCurveDisplay

    rng = np.random.default_rng(2)
    codes = rng.choice(5, 60, p=[0.5, 0.2, 0.15, 0.1, 0.05])
    X = OneHotEncoder(sparse_output=False).fit_transform(codes[:, None])
    y = rng.standard_normal(5)[codes] + 0.1 * rng.standard_normal(60)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        for params in (
            {},
            {"learning_rate": 10.0},
            {"learning_rate": 10.0, "divergence": "record"},
            {"momentum": 0.9, "nesterov": True, "learning_rate": 5.0},
            {"precompute": False, "max_iter": 50},
        ):
            model = IterativeGDRegressor(**params).fit(X, y)
            LossCurveDisplay.from_estimator(model, X, y, kind="suboptimality")
        facts = suggest_learning_rate(X, y, momentum=0.5, nesterov=True)
        for factor in (0.5, 1.0, 2.0, 1e300):
            facts.iterations_needed(factor * facts.max_stable)


@pytest.mark.parametrize("precompute", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_wide_start_off_the_row_space_converges_to_the_minimum_norm(
    precompute, weighted
):
    # 30 × 80: the Hessian is singular on every route; the data-pass route
    # (no d × d spectrum) projects the start through the n × n row Gram.
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((30, 80)), rng.standard_normal(30)
    sample_weight = rng.uniform(0.5, 2, 30) if weighted else None
    model, caught = fit_recording(
        IterativeGDRegressor(precompute=precompute),
        X,
        y,
        sample_weight=sample_weight,
        coef_init=rng.standard_normal(80),
    )
    assert model.stop_reason_ == "converged" and caught == []
    exact = min_norm_solution(X, y, sample_weight)
    assert relative_error(model.coef_, exact) <= model.tol


def test_a_callback_stop_reads_as_a_sentence():
    pytest.importorskip("sklearn.callback")
    from conftest import StopAfterFive

    X, y = ill_conditioned(np.random.default_rng(6), 1e3)
    estimator = IterativeGDRegressor().set_callbacks(StopAfterFive())
    model, caught = fit_recording(estimator, X, y)
    assert model.stop_reason_ == "callback"
    (warning,) = caught
    assert str(warning.message).startswith(
        "IterativeGDRegressor stopped at iteration 5 because a callback asked it to"
    )


@pytest.mark.parametrize("condition", [1.5e8, 1.2e9])
@pytest.mark.parametrize("precompute", [True, False])
def test_ill_conditioned_numeric_tables_are_never_falsely_converged(
    condition, precompute
):
    # Numeric tables with condition numbers 1.5e8 and 1.2e9 (columns of mixed
    # scales, one near-copy): "converged" only within tol of lstsq.
    rng = np.random.default_rng(int(condition) % 97)
    X = rng.standard_normal((300, 6))
    X[:, 1] = X[:, 0] + np.sqrt(50 / condition) * rng.standard_normal(300)
    X[:, 2:] *= [2.0, 3.0, 4.0, 5.0]
    facts = suggest_learning_rate(X)
    assert 0.5 * condition < facts.condition_number < 2 * condition
    y = X @ rng.standard_normal(6) + rng.standard_normal(300)
    # A long budget on the closed-form engine only (cheap there).
    budget = 200_000 if precompute else 2_000
    for params in ({}, {"max_iter": budget}, {"momentum": 0.0, "max_iter": 2_000}):
        model, caught = fit_recording(
            IterativeGDRegressor(precompute=precompute, **params), X, y
        )
        if model.stop_reason_ == "converged":
            assert caught == []
            assert relative_error(model.coef_, min_norm_solution(X, y)) <= 1e-4
        else:
            assert [w.category for w in caught] == [ConvergenceWarning]
