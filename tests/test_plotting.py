"""LossCurveDisplay, plot_learning_rate_sweep and ValidationCurveDisplay over
learning_rate: they render with the Agg backend and carry the right data."""

import sys
import warnings

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.metrics import mean_squared_error
from sklearn.model_selection import GridSearchCV, KFold, ValidationCurveDisplay
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import (
    IterativeGDRegressor,
    OneStepRegressor,
    suggest_learning_rate,
)
from onestep_sklearn.plotting import (
    LossCurveDisplay,
    SpectrumDisplay,
    TrajectoryDisplay,
    plot_learning_rate_sweep,
)

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Sweeps cross 2/L on purpose: those fits stop with a ConvergenceWarning.
sweep_warnings = pytest.mark.filterwarnings(
    "ignore::sklearn.exceptions.ConvergenceWarning"
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def scaled(diabetes):
    X, y = diabetes
    return StandardScaler().fit_transform(X), y


def legend_texts(ax):
    """The texts of the one legend of ``ax`` (on its twin, drawn last, when
    validation scores are shown, so that no curve covers it)."""
    (legend,) = [a.get_legend() for a in ax.figure.axes if a.get_legend()]
    return [text.get_text() for text in legend.get_texts()]


def test_from_estimator_carries_the_loss_curve(scaled):
    X, y = scaled
    # Plain steps (the default momentum="auto" adds momentum at 1/L).
    est = IterativeGDRegressor(momentum=0.0).fit(X, y)
    display = LossCurveDisplay.from_estimator(est)

    assert isinstance(display, LossCurveDisplay)
    np.testing.assert_array_equal(display.line_.get_ydata(), est.loss_curve_)
    np.testing.assert_array_equal(
        display.line_.get_xdata(), np.arange(1, est.n_iter_ + 1)
    )
    assert display.ax_.get_yscale() == "log"
    # The axis says its scale: log when the fall is in the first tenth of a
    # long run (issue 20), else linear.
    scale = display.ax_.get_xscale()
    expected = "iteration (log scale)" if scale == "log" else "iteration"
    assert display.ax_.get_xlabel() == expected
    assert display.ax_.get_ylabel() == "objective (log scale)"
    assert display.figure_ is display.ax_.figure
    assert display.line_.axes is display.ax_
    assert display.validation_line_ is None
    assert display.estimator_name == "IterativeGDRegressor"
    assert display.learning_rate == est.learning_rate_
    assert display.max_stable == pytest.approx(2 / est.lipschitz_)
    # "auto" is 1/L: half the stability limit.
    (label,) = legend_texts(display.ax_)
    assert label == f"IterativeGDRegressor, η = {est.learning_rate_:.4g} = 0.5·(2/L)"


def test_from_estimator_pipeline_uses_last_step(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), IterativeGDRegressor(max_iter=30, tol=None))
    pipe.fit(X, y)
    display = LossCurveDisplay.from_estimator(pipe)
    np.testing.assert_array_equal(display.line_.get_ydata(), pipe[-1].loss_curve_)
    assert display.line_.get_xdata().size == 30


def test_plot_on_given_axes_with_name_and_kwargs(scaled):
    X, y = scaled
    fig, ax = plt.subplots()
    est = IterativeGDRegressor(learning_rate=0.1, max_iter=20, tol=None).fit(X, y)
    display = LossCurveDisplay.from_estimator(
        est, ax=ax, name="GD", color="tab:green", linestyle=":"
    )
    assert display.ax_ is ax and display.figure_ is fig
    assert display.line_.get_color() == "tab:green"
    assert display.line_.get_linestyle() == ":"
    assert legend_texts(ax)[0].startswith("GD, η = 0.1 = ")

    # Several curves share one axes and one legend.
    other = IterativeGDRegressor(max_iter=20, tol=None).fit(X, y)
    LossCurveDisplay.from_estimator(other, ax=ax, name="auto")
    assert len(ax.get_lines()) == 2
    assert len(legend_texts(ax)) == 2


def test_early_stopping_scores_on_twin_axis(scaled):
    X, y = scaled
    est = IterativeGDRegressor(early_stopping=True, random_state=0).fit(X, y)
    display = LossCurveDisplay.from_estimator(est)
    line = display.validation_line_
    np.testing.assert_array_equal(line.get_ydata(), est.validation_scores_)
    np.testing.assert_array_equal(
        line.get_xdata(), np.arange(1, len(est.validation_scores_) + 1)
    )
    assert line.axes is not display.ax_
    assert line.axes.get_ylabel() == "validation R²"
    assert line.axes.get_yscale() == "linear"
    assert "validation R²" in legend_texts(display.ax_)


def test_plot_directly_returns_self():
    display = LossCurveDisplay(
        loss_curve=[8.0, 4.0, 2.0], validation_scores=[0.1, 0.5, 0.6]
    )
    assert display.plot() is display
    np.testing.assert_array_equal(display.line_.get_ydata(), [8.0, 4.0, 2.0])
    np.testing.assert_array_equal(display.validation_line_.get_ydata(), [0.1, 0.5, 0.6])
    # No name and no learning rate: no label for the loss curve.
    assert legend_texts(display.ax_) == ["validation R²"]


def test_zero_objective_is_drawn_at_smallest_positive_value():
    curve = [4.0, 1.0, 0.0, 0.0]
    display = LossCurveDisplay(loss_curve=curve, estimator_name="x").plot()
    np.testing.assert_array_equal(display.line_.get_ydata(), [4.0, 1.0, 1.0, 1.0])
    assert display.loss_curve == curve  # the data are not modified
    display.figure_.canvas.draw()
    low, high = display.ax_.get_ylim()
    assert 0 < low <= 1.0 and high >= 4.0


def test_objective_exactly_zero_from_a_fit():
    # One feature: the step 1/L lands on the exact fit, objective 0.
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    y = 2 * X[:, 0] + 1
    est = IterativeGDRegressor(tol=None, max_iter=5).fit(X, y)
    assert est.loss_curve_ == [0.0] * 5
    display = LossCurveDisplay.from_estimator(est)
    ydata = display.line_.get_ydata()
    assert np.all(ydata > 0) and np.all(np.isfinite(ydata))
    display.figure_.canvas.draw()


def test_from_estimator_errors(scaled):
    X, y = scaled
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(IterativeGDRegressor())
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(
            make_pipeline(StandardScaler(), IterativeGDRegressor())
        )
    with pytest.raises(TypeError, match=r"loss_curve_.*OneStepRegressor.*loss_"):
        LossCurveDisplay.from_estimator(OneStepRegressor().fit(X, y))
    with pytest.raises(TypeError, match="LinearRegression has none"):
        LossCurveDisplay.from_estimator(LinearRegression().fit(X, y))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_any_estimator_with_a_loss_curve(scaled):
    X, y = scaled
    mlp = MLPRegressor(
        hidden_layer_sizes=(4,), max_iter=15, early_stopping=True, random_state=0
    ).fit(X, y)
    display = LossCurveDisplay.from_estimator(mlp)
    np.testing.assert_array_equal(display.line_.get_ydata(), mlp.loss_curve_)
    np.testing.assert_array_equal(
        display.validation_line_.get_ydata(), mlp.validation_scores_
    )
    assert legend_texts(display.ax_)[0] == "MLPRegressor"


def test_without_matplotlib(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="LossCurveDisplay.plot requires matplotlib"):
        LossCurveDisplay(loss_curve=[1.0]).plot()


@sweep_warnings
def test_validation_curve_display_over_learning_rate(scaled):
    """scikit-learn's own display sweeps learning_rate, past 2/L included."""
    X, y = scaled
    limit = suggest_learning_rate(X).max_stable
    rates = limit * np.array([0.01, 0.1, 0.5, 0.9, 1.5, 3.0])
    display = ValidationCurveDisplay.from_estimator(
        IterativeGDRegressor(),
        X,
        y,
        param_name="learning_rate",
        param_range=rates,
        cv=KFold(3, shuffle=True, random_state=0),
    )
    assert display.test_scores.shape == (rates.size, 3)
    assert display.train_scores.shape == (rates.size, 3)
    # Past 2/L every fit stops at its best finite iterate: scores stay finite.
    assert np.all(np.isfinite(display.test_scores))
    mean = display.test_scores.mean(axis=1)
    assert mean[1:4].min() > 0.4  # below 2/L: about LinearRegression's 0.48
    assert mean[4:].max() < mean[1:4].min()  # past it: worse
    np.testing.assert_allclose(display.lines_[1].get_xdata(), rates)
    np.testing.assert_allclose(display.lines_[1].get_ydata(), mean)


@sweep_warnings
def test_plot_learning_rate_sweep_pipeline(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), IterativeGDRegressor())
    limit = suggest_learning_rate(StandardScaler().fit_transform(X)).max_stable
    rates = np.geomspace(1e-2, 2.0, 6) * limit
    display = plot_learning_rate_sweep(pipe, X, y, param_range=rates, cv=3)

    assert isinstance(display, ValidationCurveDisplay)
    assert display.param_name == "iterativegdregressor__learning_rate"
    np.testing.assert_allclose(display.param_range, rates)
    assert display.test_scores.shape == (6, 3)
    assert np.all(np.isfinite(display.test_scores))
    assert display.max_stable_ == pytest.approx(limit, rel=1e-12)
    line = display.max_stable_line_
    np.testing.assert_allclose(line.get_xdata(), [limit, limit], rtol=1e-12)
    assert line.get_linestyle() == "--"
    assert line.get_label() == "2/L (stability limit)"
    assert "2/L (stability limit)" in legend_texts(display.ax_)
    assert display.ax_.get_xscale() == "log"
    assert display.ax_.get_ylabel() == "R²"
    assert display.figure_ is display.ax_.figure
    # The user's pipeline is not fitted as a side effect.
    assert not hasattr(pipe[0], "mean_")


@sweep_warnings
def test_plot_learning_rate_sweep_plain_estimator_and_alpha(scaled):
    X, y = scaled
    _, ax = plt.subplots()
    model = OneStepRegressor(solver="gradient", alpha=2.0)
    display = plot_learning_rate_sweep(
        model, X, y, param_range=[0.01, 0.05, 0.1], cv=2, ax=ax
    )
    assert display.param_name == "learning_rate"
    assert display.ax_ is ax
    # alpha adds 2·alpha to every Hessian eigenvalue, hence to L.
    expected = suggest_learning_rate(X, alpha=2.0).max_stable
    assert display.max_stable_ == pytest.approx(expected, rel=1e-12)
    assert display.max_stable_ < suggest_learning_rate(X).max_stable
    assert display.max_stable_line_.get_xdata()[0] == pytest.approx(expected)


def test_plot_learning_rate_sweep_errors_and_flat_data(scaled):
    X, y = scaled
    with pytest.raises(ValueError, match="has no parameter 'eta0'"):
        plot_learning_rate_sweep(
            IterativeGDRegressor(), X, y, param_range=[0.1], param_name="eta0"
        )
    # Constant features: L = 0, any step is stable, no line to draw.
    flat = np.ones((30, 2))
    display = plot_learning_rate_sweep(
        IterativeGDRegressor(max_iter=5), flat, y[:30], param_range=[0.1, 1.0], cv=2
    )
    assert display.max_stable_ == np.inf
    assert display.max_stable_line_ is None


# --- trajectories, suboptimality, spectra, wrappers --------------------------


def two_features(seed=0, n=120):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2)) @ [[1.0, 0.5], [0.0, 0.7]]
    return X, X @ [2.0, -1.0] + 0.3 * rng.normal(size=n)


def objective(X, y, coef, alpha=0.0):
    """The objective with numpy, intercept at its best value (reference)."""
    residual = y - X @ coef
    residual = residual - residual.mean()
    return np.mean(residual**2) + alpha * coef @ coef


@pytest.mark.parametrize("precompute", [True, False])
def test_trajectory_starts_at_the_start_and_ends_at_coef(precompute):
    X, y = two_features()
    start = np.array([-1.0, 2.0])
    est = IterativeGDRegressor(precompute=precompute).fit(X, y, coef_init=start)
    display = TrajectoryDisplay.from_estimator(est, X, y, coef_init=start)
    path = display.line_.get_xydata()
    np.testing.assert_array_equal(path[0], start)
    np.testing.assert_allclose(path[-1], est.coef_, rtol=1e-12, atol=1e-12)
    assert len(path) == est.n_iter_ + 1  # one point per iteration
    assert display.ax_.get_xlabel() == "coefficient of feature 0"
    assert display.contour_ is not None


def test_trajectory_points_are_the_iterates_of_the_fit():
    """Point k is the coef_ of the same fit stopped after k iterations, and the
    first is one textbook gradient step at the same rate."""
    X, y = two_features(1)
    eta = 0.8 * suggest_learning_rate(X).max_stable
    est = IterativeGDRegressor(learning_rate=eta, momentum=0.5, tol=None, max_iter=9)
    path = TrajectoryDisplay.from_estimator(est.fit(X, y), X, y).path
    assert path.shape == (10, 2)
    for k in (1, 4, 9):
        shorter = IterativeGDRegressor(
            learning_rate=eta, momentum=0.5, tol=None, max_iter=k
        ).fit(X, y)
        np.testing.assert_allclose(path[k], shorter.coef_, rtol=1e-10, atol=1e-12)
    textbook = OneStepRegressor(solver="gradient", learning_rate=eta).fit(X, y)
    np.testing.assert_allclose(path[1], textbook.coef_, rtol=1e-10)


def test_newton_path_has_two_points_on_the_contours_of_the_objective():
    X, y = two_features(2)
    newton = OneStepRegressor().fit(X, y)
    display = TrajectoryDisplay.from_estimator(newton, X, y, name="Newton")
    path = display.line_.get_xydata()
    assert path.shape == (2, 2)
    np.testing.assert_array_equal(path[0], [0.0, 0.0])
    exact = np.linalg.lstsq(np.c_[X, np.ones(len(X))], y, rcond=None)[0][:2]
    np.testing.assert_allclose(path[1], exact, rtol=1e-10)
    np.testing.assert_allclose(display.optimum, exact, rtol=1e-10)
    # The contours are f − f* of the objective (numpy reference) on the grid.
    first, second, excess = display.grid
    f_star = objective(X, y, exact)
    for i, j in [(0, 0), (40, 77), (119, 3)]:
        coef = np.array([first[i, j], second[i, j]])
        assert excess[i, j] == pytest.approx(objective(X, y, coef) - f_star, rel=1e-9)
    assert excess.min() >= -1e-12
    assert "Newton (1 step)" in legend_texts(display.ax_)


def test_trajectory_slice_through_the_optimum_with_more_features(scaled):
    X, y = scaled
    est = IterativeGDRegressor(alpha=0.1).fit(X, y)
    display = TrajectoryDisplay.from_estimator(est, X, y, features=(2, 8))
    optimum = OneStepRegressor(alpha=0.1).fit(X, y).coef_
    np.testing.assert_allclose(display.optimum, optimum[[2, 8]])
    np.testing.assert_allclose(display.path[-1], est.coef_[[2, 8]], rtol=1e-12)
    first, second, excess = display.grid
    coef = optimum.copy()
    coef[2], coef[8] = first[5, 9], second[5, 9]
    reference = objective(X, y, coef, 0.1) - objective(X, y, optimum, 0.1)
    assert excess[5, 9] == pytest.approx(reference, rel=1e-8)


def test_several_trajectories_on_one_axes():
    X, y = two_features(3)
    _, ax = plt.subplots()
    gd = TrajectoryDisplay.from_estimator(
        IterativeGDRegressor().fit(X, y), X, y, ax=ax, name="GD"
    )
    newton = TrajectoryDisplay.from_estimator(
        OneStepRegressor().fit(X, y), X, y, ax=ax, name="Newton"
    )
    assert newton.contour_ is None  # the contours once per axes
    assert gd.line_.get_color() != newton.line_.get_color()
    labels = legend_texts(ax)
    assert len(labels) == len(set(labels)) == 3  # optimum, GD, Newton


def test_trajectory_of_a_diverged_run_marks_its_best_coef():
    X, y = two_features(4)
    eta = 1.1 * suggest_learning_rate(X).max_stable
    est = IterativeGDRegressor(
        learning_rate=eta, divergence="record", tol=None, max_iter=15
    )
    with pytest.warns(ConvergenceWarning, match="diverged"):
        est.fit(X, y)
    display = TrajectoryDisplay.from_estimator(est, X, y, name="past 2/L")
    assert len(display.path) == 16
    assert not np.allclose(display.path[-1], est.coef_)
    assert "past 2/L: coef_ (best iterate)" in legend_texts(display.ax_)


def test_trajectory_errors(scaled):
    X, y = two_features(5)
    est = IterativeGDRegressor().fit(X, y)
    with pytest.raises(ValueError, match="did not reproduce its coef_"):
        TrajectoryDisplay.from_estimator(est, X, y + 1.0 + X[:, 0])
    with pytest.raises(ValueError, match=r"features must be two different.*\(0, 0\)"):
        TrajectoryDisplay.from_estimator(est, X, y, features=(0, 0))
    with pytest.raises(ValueError, match="features=\\(0, 2\\)"):
        TrajectoryDisplay.from_estimator(est, X, y, features=(0, 2))
    # Any linear model is a point now (issue 20); a non-linear one is refused.
    with pytest.raises(TypeError, match="KNeighborsRegressor"):
        TrajectoryDisplay.from_estimator(KNeighborsRegressor().fit(X, y), X, y)
    Y = np.c_[y, -y]
    with pytest.raises(ValueError, match="single-target"):
        TrajectoryDisplay.from_estimator(OneStepRegressor().fit(X, Y), X, Y)
    with pytest.raises(NotFittedError):
        TrajectoryDisplay.from_estimator(IterativeGDRegressor(), X, y)


def test_suboptimality_against_linear_regression_and_the_bound(scaled):
    X, y = scaled
    est = IterativeGDRegressor(tol=None, max_iter=300, momentum=0.0).fit(X, y)
    display = LossCurveDisplay.from_estimator(est, X, y, kind="suboptimality")
    f_star = mean_squared_error(y, LinearRegression().fit(X, y).predict(X))
    assert display.optimum == pytest.approx(f_star, rel=1e-10)
    np.testing.assert_allclose(
        display.line_.get_ydata(), np.array(est.loss_curve_) - f_star, rtol=1e-6
    )
    # ρ = max|1 − ηλ| over the Hessian 2·cov(X) (numpy reference).
    lam = np.linalg.eigvalsh(2 * np.cov(X, rowvar=False, bias=True))
    rho = np.max(np.abs(1 - est.learning_rate_ * lam))
    assert display.contraction == pytest.approx(rho, rel=1e-10)
    theory = display.theory_line_.get_ydata()
    shown = ~np.isnan(theory)
    assert shown.sum() > 100
    # Plain GD: a guaranteed bound, every excess below it.
    excess = display.line_.get_ydata()
    assert np.all(excess[shown] <= theory[shown] * (1 + 1e-9))
    assert display.ax_.get_ylabel() == "suboptimality f − f* (log scale)"
    assert any("bound ρ²ᵗ, ρ = " in t for t in legend_texts(display.ax_))


def test_suboptimality_with_momentum_is_the_asymptotic_rate(scaled):
    X, y = scaled
    est = IterativeGDRegressor(momentum=0.6, tol=None, max_iter=50).fit(X, y)
    display = LossCurveDisplay.from_estimator(est, X, y, kind="suboptimality")
    assert display.bound is False
    assert "2(1+μ)/L" in legend_texts(display.ax_)[0]
    assert any("asymptotic rate" in t for t in legend_texts(display.ax_))


def test_rates_shown_with_enough_digits(scaled):
    X, y = scaled
    limit = suggest_learning_rate(X).max_stable
    est = IterativeGDRegressor(learning_rate=1.025 * limit, max_iter=5)
    with pytest.warns(ConvergenceWarning):
        est.fit(X, y)
    display = LossCurveDisplay.from_estimator(est, name="")
    # The diverged run says so in its entry, and its end is a cross (issue 20).
    assert legend_texts(display.ax_) == [
        f"η = {1.025 * limit:.4g} = 1.025·(2/L): diverged, stopped at iteration "
        f"{est.n_iter_}",
        "objective rose: the run stopped (divergence='record' follows the blow-up)",
    ]


def test_legends_never_repeat_and_epochs_for_minibatches(scaled):
    X, y = scaled
    _, ax = plt.subplots()
    for seed in (0, 1):
        est = IterativeGDRegressor(batch_size=32, random_state=seed, max_iter=5)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
        LossCurveDisplay.from_estimator(est, X, y, kind="suboptimality", ax=ax)
    assert ax.get_xlabel() == "epoch"
    labels = legend_texts(ax)
    assert len(labels) == len(set(labels)) == 1  # same run settings, one entry
    assert len(ax.get_lines()) == 2  # no theoretical line for mini-batches


def test_validation_legend_is_above_the_curves(scaled):
    X, y = scaled
    est = IterativeGDRegressor(early_stopping=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y)
    display = LossCurveDisplay.from_estimator(est)
    twin = display.validation_line_.axes
    assert display.ax_.get_legend() is None and twin.get_legend() is not None
    assert twin.get_legend().get_zorder() > display.validation_line_.get_zorder()
    with pytest.raises(ValueError, match="early_stopping=True"):
        LossCurveDisplay.from_estimator(est, X, y, kind="suboptimality")


def test_suboptimality_errors(scaled):
    X, y = scaled
    est = IterativeGDRegressor(max_iter=5, tol=None).fit(X, y)
    with pytest.raises(ValueError, match="pass X and y"):
        LossCurveDisplay.from_estimator(est, kind="suboptimality")
    with pytest.raises(ValueError, match="kind must be one of .* kind='excess'"):
        LossCurveDisplay.from_estimator(est, X, y, kind="excess")
    with pytest.raises(ValueError, match="needs optimum"):
        LossCurveDisplay(loss_curve=[2.0, 1.0]).plot(kind="suboptimality")


@sweep_warnings
def test_from_estimator_unwraps_search_target_transform_and_pipeline(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), IterativeGDRegressor(tol=None, max_iter=40))
    search = GridSearchCV(
        pipe, {"iterativegdregressor__learning_rate": [0.01, 0.1]}, cv=2
    ).fit(X, y)
    best = search.best_estimator_[-1]
    display = LossCurveDisplay.from_estimator(search, X, y, kind="suboptimality")
    np.testing.assert_allclose(
        display.line_.get_ydata(), np.array(best.loss_curve_) - display.optimum
    )
    Xs = StandardScaler().fit_transform(X)
    assert display.optimum == pytest.approx(
        mean_squared_error(y, LinearRegression().fit(Xs, y).predict(Xs)), rel=1e-10
    )
    path = TrajectoryDisplay.from_estimator(search, X, y, features=(2, 8)).path
    np.testing.assert_allclose(path[-1], best.coef_[[2, 8]], rtol=1e-12)

    target = TransformedTargetRegressor(
        regressor=IterativeGDRegressor(), func=np.log, inverse_func=np.exp
    ).fit(Xs, y)
    display = LossCurveDisplay.from_estimator(target, Xs, y, kind="suboptimality")
    log_fit = LinearRegression().fit(Xs, np.log(y))
    f_star = mean_squared_error(np.log(y), log_fit.predict(Xs))
    assert display.optimum == pytest.approx(f_star, rel=1e-10)
    path = TrajectoryDisplay.from_estimator(target, Xs, y).path
    np.testing.assert_allclose(path[-1], target.regressor_.coef_[:2], rtol=1e-12)
    with pytest.raises(NotFittedError):
        LossCurveDisplay.from_estimator(GridSearchCV(pipe, {}))


def test_spectrum_display_against_numpy(scaled):
    X, _ = scaled
    raw = X * np.array([1, 10, 1, 1, 1, 1, 1, 1, 1, 100.0])
    display = SpectrumDisplay.from_data(raw, name="raw")
    lam = np.sort(np.linalg.eigvalsh(2 * np.cov(raw, rowvar=False, bias=True)))
    np.testing.assert_allclose(np.sort(display.eigenvalues), lam, rtol=1e-9)
    np.testing.assert_allclose(display.line_.get_ydata(), lam[::-1], rtol=1e-9)
    assert display.lipschitz_ == pytest.approx(lam[-1], rel=1e-9)
    assert display.condition_number_ == pytest.approx(lam[-1] / lam[0], rel=1e-8)
    scaled_display = SpectrumDisplay.from_data(X, name="scaled", ax=display.ax_)
    assert scaled_display.condition_number_ < display.condition_number_ / 10
    labels = legend_texts(display.ax_)
    assert labels[0] == f"raw: κ = L/ℓ = {lam[-1] / lam[0]:.3g}"
    assert f"2/L = {2 / lam[-1]:.3g}" in labels[1]
    assert display.ax_.get_yscale() == "log"
    assert display.line_.get_color() != scaled_display.line_.get_color()


def test_spectrum_from_estimator_uses_the_pipeline_and_alpha(diabetes):
    X, y = diabetes
    pipe = make_pipeline(StandardScaler(), IterativeGDRegressor(alpha=0.5)).fit(X, y)
    display = SpectrumDisplay.from_estimator(pipe, X)
    Xs = StandardScaler().fit_transform(X)
    lam = np.linalg.eigvalsh(2 * np.cov(Xs, rowvar=False, bias=True)) + 2 * 0.5
    np.testing.assert_allclose(np.sort(display.eigenvalues), np.sort(lam), rtol=1e-9)
    assert legend_texts(display.ax_)[0].startswith("IterativeGDRegressor: κ")
