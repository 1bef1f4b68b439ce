"""IterativeGDRegressorCV: every rate × iteration equals the runs themselves.

The objective (quoted from ``onestep_sklearn._kernel.objective``)::

    f(w, b) = (1/Σsᵢ) Σ sᵢ (yᵢ − xᵢᵀw − b)²  +  alpha·‖w‖²

``cv_scores_[:, j, t-1]`` must equal what ``cross_val_score`` gets for
``IterativeGDRegressor(learning_rate=rates[j], max_iter=t, tol=None)`` with
the same splits, to 1e-8, on dense, CSR, weighted, multi-output and Dask
data, with and without momentum; rates past the stability limit included
(their runs stop at the best iterate, in both).
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import check_scoring, r2_score
from sklearn.model_selection import KFold, ShuffleSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import IterativeGDRegressor, IterativeGDRegressorCV

ITERATIONS = (1, 2, 5, 17, 60)


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def reference_scores(
    X, y, rate, t, splits, *, sample_weight=None, scoring=None, **params
):
    """The validation scores of the real runs, one fit per split."""
    estimator = IterativeGDRegressor(learning_rate=rate, max_iter=t, tol=None, **params)
    scorer = check_scoring(estimator, scoring=scoring)
    scores = []
    with warnings.catch_warnings():
        # Rates past a fold's limit stop at their best iterate, with a warning.
        warnings.simplefilter("ignore", ConvergenceWarning)
        for train, test in splits:
            fit_params = {}
            if sample_weight is not None:
                fit_params = {"sample_weight": sample_weight[train]}
            model = clone(estimator).fit(X[train], y[train], **fit_params)
            if sample_weight is None:
                scores.append(scorer(model, X[test], y[test]))
            else:
                y_pred = model.predict(X[test])
                weights = sample_weight[test]
                scores.append(r2_score(y[test], y_pred, sample_weight=weights))
    return np.array(scores)


def assert_path_exact(reg, X, y, splits, atol=1e-8, **kwargs):
    for j, rate in enumerate(reg.learning_rates_):
        for t in ITERATIONS:
            expected = reference_scores(X, y, rate, t, splits, **kwargs)
            assert_allclose(reg.cv_scores_[:, j, t - 1], expected, rtol=0, atol=atol)


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"alpha": 0.05},
        {"fit_intercept": False},
        {"momentum": 0.9},
        {"momentum": 0.5, "nesterov": True},
    ],
    ids=["plain", "alpha", "no-intercept", "heavy-ball", "nesterov"],
)
def test_scores_equal_cross_val_score(diabetes, params):
    X, y = diabetes
    splitter = KFold(4, shuffle=True, random_state=0)
    reg = IterativeGDRegressorCV(
        learning_rates=7, max_iter=60, cv=splitter, **params
    ).fit(X, y)
    assert reg.cv_scores_.shape == (4, 7, 60)
    # The grid reaches past the limit: those runs stop too, and stay finite.
    assert reg.learning_rates_[-1] > reg.stability_limit_
    assert reg.diverged_[:, -1].all()
    assert np.isfinite(reg.cv_scores_).all()
    for j, rate in enumerate(reg.learning_rates_):
        for t in ITERATIONS:
            estimator = IterativeGDRegressor(
                learning_rate=rate, max_iter=t, tol=None, **params
            )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                expected = cross_val_score(estimator, X, y, cv=splitter)
            assert_allclose(reg.cv_scores_[:, j, t - 1], expected, rtol=0, atol=1e-8)


def test_csr_weighted_multi_output_and_float32(diabetes):
    X, y = diabetes
    rng = np.random.default_rng(0)
    splits = list(KFold(3, shuffle=True, random_state=1).split(X))
    # CSR with a third of the entries stored.
    Xs, ys = make_regression(240, 30, noise=5.0, random_state=0)
    Xs[np.abs(Xs) < 1] = 0
    csr = sp.csr_matrix(Xs)
    sparse_splits = list(KFold(3, shuffle=True, random_state=1).split(Xs))
    reg = IterativeGDRegressorCV(learning_rates=5, max_iter=60, cv=sparse_splits)
    assert_path_exact(reg.fit(csr, ys), csr, ys, sparse_splits)
    # Integer weights, zeros included: weighted statistics and weighted R².
    weights = rng.integers(0, 4, y.size).astype(float)
    reg = IterativeGDRegressorCV(learning_rates=5, max_iter=60, cv=splits)
    reg.fit(X, y, sample_weight=weights)
    assert_path_exact(reg, X, y, splits, sample_weight=weights)
    # Two targets: uniformly averaged R², as r2_score.
    Y = np.column_stack([y, X[:, 2] + rng.normal(size=y.size)])
    reg = IterativeGDRegressorCV(learning_rates=5, max_iter=60, cv=splits).fit(X, Y)
    assert reg.coef_.shape == (2, X.shape[1])
    assert_path_exact(reg, X, Y, splits)
    # float32: the runs themselves round to float32.
    X32 = X.astype(np.float32)
    reg = IterativeGDRegressorCV(learning_rates=5, max_iter=60, cv=splits).fit(X32, y)
    assert reg.coef_.dtype == np.float32
    assert_path_exact(reg, X32, y, splits, atol=1e-5)


def test_constant_column_and_shuffle_split(diabetes):
    X, y = diabetes
    X = X.copy()
    X[:, 4] = 3.0  # frozen by the fits, as by the path
    splits = list(ShuffleSplit(4, test_size=0.3, random_state=0).split(X))
    reg = IterativeGDRegressorCV(learning_rates=5, max_iter=60, cv=splits).fit(X, y)
    assert reg.coef_[4] == 0.0
    assert_path_exact(reg, X, y, splits)


@pytest.mark.parametrize(
    "scoring", ["neg_mean_squared_error", "neg_mean_absolute_error"]
)
def test_other_scorings_are_not_replaced(diabetes, scoring):
    X, y = diabetes
    splitter = KFold(3, shuffle=True, random_state=2)
    reg = IterativeGDRegressorCV(
        learning_rates=4, max_iter=20, cv=splitter, scoring=scoring
    ).fit(X, y)
    assert (reg.cv_scores_ < 0).all()  # errors, not R²
    for j, rate in enumerate(reg.learning_rates_):
        for t in (1, 6, 20):
            estimator = IterativeGDRegressor(learning_rate=rate, max_iter=t, tol=None)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                expected = cross_val_score(
                    estimator, X, y, cv=splitter, scoring=scoring
                )
            assert_allclose(
                reg.cv_scores_[:, j, t - 1], expected, rtol=1e-10, atol=1e-8
            )


def test_cv_int_splitter_and_pairs_agree(diabetes):
    X, y = diabetes
    by_int = IterativeGDRegressorCV(learning_rates=6, max_iter=40, cv=3).fit(X, y)
    by_splitter = IterativeGDRegressorCV(learning_rates=6, max_iter=40, cv=KFold(3))
    by_pairs = IterativeGDRegressorCV(
        learning_rates=6, max_iter=40, cv=list(KFold(3).split(X))
    )
    for other in (by_splitter.fit(X, y), by_pairs.fit(X, y)):
        assert_allclose(other.cv_scores_, by_int.cv_scores_, rtol=0, atol=1e-14)
        assert other.learning_rate_ == by_int.learning_rate_
        assert other.n_iter_ == by_int.n_iter_
    # cv=None is 5-fold.
    default = IterativeGDRegressorCV(learning_rates=3, max_iter=5).fit(X, y)
    assert default.cv_scores_.shape == (5, 3, 5)


def test_selection_and_refit(diabetes):
    X, y = diabetes
    reg = IterativeGDRegressorCV(learning_rates=12, max_iter=300).fit(X, y)
    mean = reg.cv_scores_.mean(axis=0)
    stable = reg.learning_rates_ < reg.stability_limit_
    j, t = np.unravel_index(
        np.argmax(np.where(stable[:, None], mean, -np.inf)), mean.shape
    )
    assert reg.learning_rate_ == reg.learning_rates_[j]
    assert reg.n_iter_ == t + 1
    assert reg.best_score_ == pytest.approx(mean[j, t], abs=1e-15)
    assert reg.learning_rate_ < reg.stability_limit_
    # The grid: geometric from 1e-3 to 1.25 times the limit of the full data.
    assert reg.stability_limit_ == pytest.approx(2 / reg.lipschitz_, rel=1e-12)
    assert_allclose(
        reg.learning_rates_[[0, -1]],
        [1e-3 * reg.stability_limit_, 1.25 * reg.stability_limit_],
    )
    assert np.allclose(np.diff(np.log(reg.learning_rates_)), np.log(1250) / 11)
    # The refit is IterativeGDRegressor at the chosen point, on all rows.
    refit = IterativeGDRegressor(
        learning_rate=reg.learning_rate_, max_iter=reg.n_iter_, tol=None
    ).fit(X, y)
    assert_allclose(reg.coef_, refit.coef_, rtol=1e-10, atol=1e-12)
    assert reg.intercept_ == pytest.approx(refit.intercept_, rel=1e-12)
    assert reg.lipschitz_ == pytest.approx(refit.lipschitz_, rel=1e-12)
    assert reg.stop_reason_ == refit.stop_reason_ == "max_iter"
    assert_allclose(reg.loss_curve_, refit.loss_curve_, rtol=1e-10)
    assert reg.score(X, y) == pytest.approx(refit.score(X, y), rel=1e-12)


def test_early_stopping_acts_as_regularisation():
    # Few rows, many noisy features: running to the optimum overfits.
    X, y = make_regression(80, 60, n_informative=5, noise=20.0, random_state=0)
    reg = IterativeGDRegressorCV(learning_rates=10, max_iter=2000).fit(X, y)
    j = int(np.flatnonzero(reg.learning_rates_ == reg.learning_rate_)[0])
    at_end = reg.cv_scores_[:, j, -1].mean()
    assert reg.n_iter_ < 2000
    assert reg.best_score_ > at_end + 0.05


def test_pipeline_sees_transformed_data(diabetes):
    X, y = load_diabetes(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(), IterativeGDRegressorCV(learning_rates=6, max_iter=50)
    )
    pipe.fit(X, y)
    alone = IterativeGDRegressorCV(learning_rates=6, max_iter=50)
    alone.fit(StandardScaler().fit_transform(X), y)
    assert_allclose(pipe[-1].cv_scores_, alone.cv_scores_, rtol=0, atol=1e-12)
    assert_allclose(pipe.predict(X), alone.predict(StandardScaler().fit_transform(X)))


def test_inputs_are_not_modified(diabetes):
    X, y = diabetes
    X, y = X.copy(), y.copy()
    weights = np.linspace(0.5, 2, y.size)
    copies = X.copy(), y.copy(), weights.copy()
    IterativeGDRegressorCV(learning_rates=4, max_iter=10).fit(
        X, y, sample_weight=weights
    )
    for given, kept in zip((X, y, weights), copies):
        np.testing.assert_array_equal(given, kept)


def test_errors_name_the_argument(diabetes):
    X, y = diabetes
    limit = (
        IterativeGDRegressorCV(learning_rates=3, max_iter=2).fit(X, y).stability_limit_
    )
    with pytest.raises(ValueError, match="learning_rates: every rate"):
        IterativeGDRegressorCV(learning_rates=[1.5 * limit, 3 * limit], max_iter=5).fit(
            X, y
        )
    with pytest.raises(ValueError, match="learning_rates must be positive"):
        IterativeGDRegressorCV(learning_rates=[0.1, -1.0]).fit(X, y)
    with pytest.raises(ValueError, match="1-D array of finite rates"):
        IterativeGDRegressorCV(learning_rates=[0.1, np.inf]).fit(X, y)
    weights = np.ones(y.size)
    weights[:100] = 0  # the first of 4 unshuffled folds has no weight
    with pytest.raises(ValueError, match="cv split 0: the sample weights"):
        IterativeGDRegressorCV(cv=4, max_iter=5).fit(
            X[:400], y[:400], sample_weight=weights[:400]
        )
    with pytest.raises(ValueError, match="cv split 1 has 0 training"):
        IterativeGDRegressorCV(
            cv=[(np.arange(10), np.arange(10, 20)), (np.array([], int), np.arange(5))]
        ).fit(X, y)


def test_user_rates_are_sorted_and_kept(diabetes):
    X, y = diabetes
    rates = [0.1, 0.001, 0.01]
    reg = IterativeGDRegressorCV(learning_rates=rates, max_iter=30, cv=3).fit(X, y)
    assert_allclose(reg.learning_rates_, sorted(rates), rtol=1e-15)
    assert rates == [0.1, 0.001, 0.01]


def test_dask_equals_memory_in_one_reduction(diabetes, monkeypatch):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    X, y = diabetes
    weights = np.random.default_rng(3).uniform(0, 2, y.size)
    splitter = KFold(5, shuffle=True, random_state=0)
    memory = IterativeGDRegressorCV(learning_rates=6, max_iter=80, cv=splitter)
    memory.fit(X, y, sample_weight=weights)
    Xd, yd = da.from_array(X, chunks=(90, -1)), da.from_array(y, chunks=90)
    wd = da.from_array(weights, chunks=90)
    computes = []
    real_compute = dask.compute

    def counting(*args, **kwargs):
        computes.append(1)
        return real_compute(*args, **kwargs)

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"a Dask array {self.shape} was pulled into the client")

    monkeypatch.setattr(dask, "compute", counting)
    monkeypatch.setattr(da.Array, "__array__", refuse)
    monkeypatch.setattr(da.Array, "compute", refuse)
    lazy = IterativeGDRegressorCV(learning_rates=6, max_iter=80, cv=splitter)
    lazy.fit(Xd, yd, sample_weight=wd)
    assert len(computes) == 1  # every fold's statistics: one reduction
    assert_allclose(lazy.cv_scores_, memory.cv_scores_, rtol=0, atol=1e-12)
    assert (lazy.learning_rate_, lazy.n_iter_) == (
        memory.learning_rate_,
        memory.n_iter_,
    )
    assert_allclose(lazy.coef_, memory.coef_, rtol=1e-10)
    with pytest.raises(
        ValueError, match="scoring='neg_mean_absolute_error'.*in-memory"
    ):
        IterativeGDRegressorCV(scoring="neg_mean_absolute_error", max_iter=3).fit(
            Xd, yd
        )


def test_display_draws_the_path(diabetes):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from onestep_sklearn.plotting import LearningRatePathDisplay

    X, y = diabetes
    reg = IterativeGDRegressorCV(learning_rates=8, max_iter=100).fit(X, y)
    try:
        display = LearningRatePathDisplay.from_estimator(
            make_pipeline(StandardScaler(), clone(reg)).fit(X, y)
        )
        mean = reg.cv_scores_.mean(axis=0)
        # Cells: rates across, iterations up.
        assert_allclose(display.mesh_.get_array().reshape(100, 8), mean.T, atol=1e-12)
        assert display.ax_.get_xscale() == display.ax_.get_yscale() == "log"
        assert display.colorbar_.ax.get_ylabel() == "mean CV R²"
        limit = display.limit_line_.get_xdata()[0]
        assert limit == pytest.approx(reg.stability_limit_, rel=1e-12)
        assert display.chosen_.get_xdata()[0] == pytest.approx(reg.learning_rate_)
        assert display.chosen_.get_ydata()[0] == reg.n_iter_
        assert_allclose(
            display.curve_line_.get_ydata(),
            reg.cv_scores_[:, :, reg.n_iter_ - 1].mean(0),
        )
        assert display.figure_ is display.ax_.figure is display.curve_ax_.figure
        labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
        assert "unstable (never chosen)" in labels
        alone = LearningRatePathDisplay.from_estimator(reg, validation_curve=False)
        assert alone.curve_ax_ is None and len(alone.figure_.axes) == 2  # + colour bar
        with pytest.raises(TypeError, match="needs a fitted IterativeGDRegressorCV"):
            LearningRatePathDisplay.from_estimator(IterativeGDRegressor().fit(X, y))
    finally:
        plt.close("all")


def test_example_script_writes_its_figure(tmp_path, monkeypatch, capsys):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import re
    import runpy
    from pathlib import Path

    import matplotlib.pyplot as plt

    script = (
        Path(__file__).resolve().parents[1]
        / "examples"
        / "plot_early_stopping_as_regularisation.py"
    )
    figure = tmp_path / "path.png"
    monkeypatch.setattr("sys.argv", [str(script), str(figure)])
    try:
        runpy.run_path(str(script), run_name="__main__")
    finally:
        plt.close("all")
    assert figure.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    out = capsys.readouterr().out
    match = re.search(
        r"stability limit (\S+); chosen learning_rate (\S+) for (\d+) iterations: "
        r"mean CV R² (\S+) \(after all 3000 iterations at that rate: (\S+);",
        out,
    )
    assert match, out
    limit, rate, n_iter, best, at_end = (float(value) for value in match.groups())
    # Early stopping pays on this design: fewer iterations, a better score.
    assert rate < limit and n_iter < 3000 and best >= at_end


def test_flat_objective_has_no_limit():
    # Constant X: L = 0, every rate is stable and none moves the coefficients.
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from onestep_sklearn.plotting import LearningRatePathDisplay

    X = np.ones((30, 3))
    y = np.random.default_rng(0).normal(size=30)
    reg = IterativeGDRegressorCV(learning_rates=4, max_iter=10).fit(X, y)
    assert reg.stability_limit_ == np.inf and reg.lipschitz_ == 0.0
    np.testing.assert_array_equal(reg.coef_, 0.0)
    assert reg.intercept_ == pytest.approx(y.mean())
    # The intercept of each training fold, scored on its validation fold.
    assert_allclose(
        reg.cv_scores_,
        reference_scores(X, y, 1.0, 1, KFold(5).split(X))[:, None, None]
        * np.ones((5, 4, 10)),
        atol=1e-12,
    )
    try:
        display = LearningRatePathDisplay.from_estimator(reg)
        assert display.limit_line_ is None
    finally:
        plt.close("all")


def test_one_hot_folds_with_fewer_validation_rows_than_columns():
    # The sweep leaves out the directions that never move (the dummy trap,
    # levels absent from a training part) and writes the validation form
    # through a factor of rank at most the validation rows (here 20 of 45
    # columns): the scores are still those of the runs, for a rate past the
    # limit too, and with two outputs.
    rng = np.random.default_rng(3)
    n_samples = 60
    codes = np.column_stack(
        [rng.choice(12, n_samples, p=np.r_[[0.3, 0.2, 0.2], [0.3 / 9] * 9])]
        + [rng.integers(0, 15, n_samples) for _ in range(2)]
    )
    blocks = [np.eye(codes[:, j].max() + 1)[codes[:, j]] for j in range(3)]
    numeric = rng.standard_normal((n_samples, 3))
    X = sp.csr_matrix(np.hstack([numeric, *blocks]))
    Y = np.column_stack(
        [
            X @ rng.standard_normal(X.shape[1]) + rng.standard_normal(n_samples)
            for _ in range(2)
        ]
    )
    splits = list(KFold(3, shuffle=True, random_state=0).split(X))
    assert X.shape[1] > len(splits[0][1])
    reg = IterativeGDRegressorCV(learning_rates=5, max_iter=60, cv=splits).fit(X, Y)
    assert reg.learning_rates_[-1] > reg.stability_limit_
    assert_path_exact(reg, X, Y, splits)


def test_validation_gram_factor_has_the_rank_of_the_validation_rows():
    from onestep_sklearn._solvers.power_forms import gram_factor as _gram_factor

    rng = np.random.default_rng(0)
    rows = rng.standard_normal((7, 30)) * np.logspace(0, 3, 30)
    gram = rows.T @ rows
    basis = np.linalg.qr(rng.standard_normal((30, 30)))[0]
    factor = _gram_factor(gram, basis)
    assert factor.shape == (7, 30)
    expected = basis.T @ gram @ basis
    assert_allclose(
        factor.T @ factor, expected, rtol=0, atol=1e-12 * abs(expected).max()
    )


@pytest.mark.parametrize(
    "shape, n_outputs, max_iter",
    [((90, 4), 2, 300), ((400, 150), 1, 130)],
    ids=["one-hot-low-rank", "dense-rank-past-block"],
)
def test_blocked_powers_give_the_form_at_every_iterate(
    monkeypatch, shape, n_outputs, max_iter
):
    # The plain-GD scores are formed block by block from ρᵃᴮ·ρᵇ (iterations
    # past one block, a padded last block; the validation rank below the
    # block length, where the form is scaled, and past it, where the powers
    # are): every iterate's validation SSE equals the quadratic form at its
    # eigen-coordinates z·(1 − ρᵗ), the powers taken directly.
    import onestep_sklearn._cv as cv_module
    from onestep_sklearn._solvers.path import FoldPath
    from onestep_sklearn._solvers.power_forms import POWER_BLOCK

    made = []

    class Recorded(FoldPath):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(cv_module, "FoldPath", Recorded)
    rng = np.random.default_rng(5)
    n_samples, width = shape
    if width < 10:  # one-hot blocks of `width` columns beside 2 numeric ones
        codes = rng.integers(0, 12, (n_samples, width))
        X = sp.csr_matrix(
            np.hstack(
                [rng.standard_normal((n_samples, 2))]
                + [np.eye(12)[codes[:, j]] for j in range(width)]
            )
        )
    else:
        X = rng.standard_normal(shape) * np.logspace(0, 1, width)
    Y = np.column_stack(
        [X @ rng.standard_normal(X.shape[1]) for _ in range(n_outputs)]
    ) + rng.standard_normal((n_samples, n_outputs))
    IterativeGDRegressorCV(learning_rates=6, max_iter=max_iter, cv=2).fit(X, Y)
    ranks = [path.power_form[2][0].shape[0] for path in made]
    assert (max(ranks) >= POWER_BLOCK) == (width >= 10)
    for path in made:
        t = np.arange(1, max_iter + 1)
        for j in np.flatnonzero(~path.diverged):
            rho = 1 - path.rates[j] * path.evals
            powers = rho[None, :] ** t[:, None]  # (T, d)
            coords = path.optimum[None] * (1 - powers)[:, :, None]
            expected = path.sse(coords)
            got = path._sse[j, 1:]
            assert_allclose(got, expected, rtol=1e-10, atol=1e-10 * expected.max())
