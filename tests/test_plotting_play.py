"""Issue 20 (and issue 18's displays): closed-form runs, the explorer, the
lesson figure, the convergence map, animations, other regressors on the
axes, and the frictions of the displays."""

import warnings

import numpy as np
import pytest
from sklearn.compose import TransformedTargetRegressor
from sklearn.datasets import load_diabetes
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, Ridge, SGDRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler, scale

from onestep_sklearn import (
    IterativeGDRegressor,
    IterativeGDRegressorCV,
    OneStepRegressor,
    suggest_learning_rate,
)
from onestep_sklearn._kernel.rates import contraction

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from onestep_sklearn.plotting import (  # noqa: E402
    OKABE_ITO,
    ConvergenceMapDisplay,
    LearningRatePathDisplay,
    LossCurveDisplay,
    SpectrumDisplay,
    TrajectoryDisplay,
    explore,
    lesson_figure,
    plot_learning_rate_sweep,
)
from onestep_sklearn.plotting._closed_form import Quadratic  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def scaled():
    X, y = load_diabetes(return_X_y=True)
    return scale(X), y


@pytest.fixture(scope="module")
def frame():
    data = load_diabetes(as_frame=True)
    X = StandardScaler().set_output(transform="pandas").fit_transform(data.data)
    return X, data.target


def user_like(seed=0, n=300):
    """A one-hot block with a rare level beside numeric columns, a boolean and
    a near-copy column: what users bring."""
    rng = np.random.default_rng(seed)
    levels = rng.choice(4, size=n, p=[0.5, 0.3, 0.18, 0.02])
    onehot = np.eye(4)[levels][:, 1:]
    numeric = rng.normal(size=(n, 2)) * [1.0, 30.0]
    flag = rng.random(n) < 0.3
    near = numeric[:, :1] + 1e-3 * rng.normal(size=(n, 1))
    X = np.c_[numeric, onehot, flag, near]
    y = X @ rng.normal(size=X.shape[1]) + rng.normal(size=n)
    return X, y


def every_axes_is_titled_and_labelled(figure):
    for ax in figure.axes:
        if ax.get_label() == "<colorbar>" or not ax.axison:
            continue
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel(), ax


# -- the closed form -------------------------------------------------------


@pytest.mark.parametrize(
    "rate, momentum, nesterov",
    [(0.5, 0.0, False), (1.9, 0.0, False), (1.0, 0.6, False), (0.8, 0.6, True)],
)
@pytest.mark.parametrize("data", ["diabetes", "user_like"])
def test_closed_form_runs_are_the_runs_of_the_estimator(
    rate, momentum, nesterov, data, scaled
):
    X, y = scaled if data == "diabetes" else user_like()
    quadratic = Quadratic.from_data(X, y)
    eta = rate / quadratic.lipschitz
    run = quadratic.run(eta, 150, momentum=momentum, nesterov=nesterov)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = IterativeGDRegressor(
            learning_rate=eta,
            max_iter=150,
            tol=None,
            momentum=momentum,
            nesterov=nesterov,
        ).fit(X, y)
    f_star = OneStepRegressor().fit(X, y).loss_
    assert quadratic.optimum == pytest.approx(f_star, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(
        run.excess,
        np.array(model.loss_curve_) - f_star,
        rtol=1e-6,
        atol=1e-9 * f_star,
    )
    np.testing.assert_allclose(run.coefs[-1], model.coef_, rtol=1e-7, atol=1e-8)
    assert not run.diverged


def test_closed_form_cuts_a_diverging_run(scaled):
    X, y = scaled
    quadratic = Quadratic.from_data(X, y)
    run = quadratic.run(2.5 / quadratic.lipschitz, 5000)
    assert run.diverged and run.excess.size < 5000
    assert np.all(np.isfinite(run.excess)) and np.all(np.isfinite(run.coefs))


# -- issue 18's displays ------------------------------------------------------


def test_suboptimality_of_the_cv_estimator_directly_and_in_a_search(scaled):
    X, y = scaled
    cv = IterativeGDRegressorCV(max_iter=60, cv=3).fit(X, y)
    display = LossCurveDisplay.from_estimator(cv, X, y, kind="suboptimality")
    f_star = OneStepRegressor().fit(X, y).loss_
    np.testing.assert_allclose(
        display.line_.get_ydata(), np.array(cv.loss_curve_) - f_star, rtol=1e-9
    )
    assert display.theory_line_ is not None
    search = GridSearchCV(
        IterativeGDRegressorCV(max_iter=40, cv=2), {"alpha": [0.0, 0.01]}, cv=2
    ).fit(X, y)
    display = LossCurveDisplay.from_estimator(search, X, y, kind="suboptimality")
    assert display.optimum == pytest.approx(
        OneStepRegressor(alpha=search.best_estimator_.alpha).fit(X, y).loss_
    )


def test_learning_rate_path_display_unwraps_search_and_target_wrappers(scaled):
    X, y = scaled
    search = GridSearchCV(
        IterativeGDRegressorCV(max_iter=30, cv=2), {"alpha": [0.0, 0.1]}, cv=2
    ).fit(X, y)
    display = LearningRatePathDisplay.from_estimator(search, validation_curve=False)
    assert display.learning_rate == search.best_estimator_.learning_rate_
    target = TransformedTargetRegressor(
        IterativeGDRegressorCV(max_iter=30, cv=2), func=np.log, inverse_func=np.exp
    ).fit(X, y)
    display = LearningRatePathDisplay.from_estimator(target, validation_curve=False)
    assert display.n_iter == target.regressor_.n_iter_


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("nesterov", [False, True])
def test_sweep_draws_the_limit_of_the_momentum_form(scaled, nesterov):
    X, y = scaled
    model = IterativeGDRegressor(momentum=0.5, nesterov=nesterov, max_iter=300)
    display = plot_learning_rate_sweep(
        model, X, y, param_range=np.geomspace(1e-3, 0.5, 4), cv=2
    )
    limit = suggest_learning_rate(X, momentum=0.5, nesterov=nesterov).max_stable
    assert display.max_stable_ == pytest.approx(limit, rel=1e-12)
    formula = "2(1+μ)/((1+2μ)L)" if nesterov else "2(1+μ)/L"
    assert display.max_stable_line_.get_label().startswith(formula)
    # Left of the line converges, right of it diverges (0.1686 on this data
    # for Nesterov, where plain 2/L is 0.2485).
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        IterativeGDRegressor(
            learning_rate=0.9 * limit,
            momentum=0.5,
            nesterov=nesterov,
            tol=None,
            max_iter=200,
        ).fit(X, y)
    with pytest.warns(ConvergenceWarning, match="diverg|rose|limit"):
        IterativeGDRegressor(
            learning_rate=1.1 * limit, momentum=0.5, nesterov=nesterov, max_iter=2000
        ).fit(X, y)


def test_spectrum_of_constant_columns_names_the_cause():
    with pytest.raises(ValueError, match="every column of X is constant"):
        SpectrumDisplay.from_data(np.ones((10, 3)))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("batch_size", [None, 40])
def test_trajectory_of_a_partial_fit_model(scaled, batch_size):
    X, y = scaled
    model = IterativeGDRegressor(batch_size=batch_size, random_state=0)
    for _ in range(6):
        model.partial_fit(X, y)
    display = TrajectoryDisplay.from_estimator(model, X, y)
    assert len(display.line_.get_xdata()) == 7
    np.testing.assert_allclose(display.line_.get_xydata()[-1], model.coef_[:2])
    chunked = IterativeGDRegressor()
    for part in np.array_split(np.arange(len(y)), 3):
        chunked.partial_fit(X[part], y[part])
    with pytest.raises(ValueError, match="3 partial_fit calls") as error:
        TrajectoryDisplay.from_estimator(chunked, X, y)
    assert "pass the training data" not in str(error.value)


# -- frictions ---------------------------------------------------------------


def test_features_by_column_name(frame):
    X, y = frame
    model = IterativeGDRegressor().fit(X, y)
    display = TrajectoryDisplay.from_estimator(model, X, y, features=("bmi", "s5"))
    columns = list(X.columns)
    assert display.features == (columns.index("bmi"), columns.index("s5"))
    assert display.ax_.get_xlabel() == "coefficient of bmi"
    np.testing.assert_allclose(
        display.line_.get_xydata()[-1], model.coef_[list(display.features)]
    )
    with pytest.raises(ValueError, match="'BMI' is not a column name"):
        TrajectoryDisplay.from_estimator(model, X, y, features=("BMI", "s5"))
    with pytest.raises(ValueError, match="not a column name.*pass indices"):
        TrajectoryDisplay.from_estimator(
            IterativeGDRegressor().fit(X.to_numpy(), y),
            X.to_numpy(),
            y,
            features=("bmi", "s5"),
        )


def test_trajectory_of_the_cv_estimator_is_its_refit(scaled):
    X, y = scaled
    cv = IterativeGDRegressorCV(max_iter=80, cv=3).fit(X, y)
    display = TrajectoryDisplay.from_estimator(cv, X, y)
    path = display.line_.get_xydata()
    assert len(path) == cv.n_iter_ + 1
    np.testing.assert_allclose(path[-1], cv.coef_[:2], rtol=1e-7)


def test_a_diverged_run_is_visible_and_long_runs_get_a_log_axis(scaled):
    X, y = scaled
    limit = suggest_learning_rate(X).max_stable
    with pytest.warns(ConvergenceWarning):
        diverged = IterativeGDRegressor(learning_rate=1.05 * limit).fit(X, y)
    display = LossCurveDisplay.from_estimator(diverged)
    assert display.line_.get_marker() == "o"  # a short curve: every point
    marker = display.divergence_marker_
    assert marker.get_marker() == "X"
    assert marker.get_xdata()[0] == diverged.n_iter_
    long_run = IterativeGDRegressor(tol=None, max_iter=2000).fit(X, y)
    display = LossCurveDisplay.from_estimator(long_run)
    assert display.ax_.get_xscale() == "log"
    assert display.ax_.get_xlabel() == "iteration (log scale)"
    _, ax = plt.subplots()
    display = LossCurveDisplay.from_estimator(long_run, ax=ax, xscale="linear")
    assert ax.get_xscale() == "linear" and display.divergence_marker_ is None
    short = IterativeGDRegressor(tol=None, max_iter=50).fit(X, y)
    display = LossCurveDisplay.from_estimator(short)
    assert display.ax_.get_xscale() == "linear"


def test_what_is_drawn_afterwards_continues_the_palette(scaled):
    X, y = scaled
    _, ax = plt.subplots()
    for rate in (0.01, 0.05):
        model = IterativeGDRegressor(learning_rate=rate, max_iter=20, tol=None)
        LossCurveDisplay.from_estimator(model.fit(X, y), ax=ax)
    (point,) = ax.plot([1], [3000], marker="o")
    assert point.get_color() == OKABE_ITO[2]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_two_named_sweeps_one_legend_entry_each(scaled):
    X, y = scaled
    _, ax = plt.subplots()
    for name in ("plain", "ridge"):
        plot_learning_rate_sweep(
            IterativeGDRegressor(max_iter=100),
            X,
            y,
            param_range=np.geomspace(1e-3, 0.3, 3),
            cv=2,
            ax=ax,
            name=name,
        )
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(labels) == len(set(labels))
    assert {"plain: Train", "plain: Test", "ridge: Train", "ridge: Test"} <= set(labels)
    assert sum("stability limit" in label for label in labels) == 1


def test_path_display_star_is_never_clipped_and_the_hatch_is_explained(scaled):
    X, y = scaled
    cv = IterativeGDRegressorCV(max_iter=20, cv=3).fit(X, y)
    display = LearningRatePathDisplay.from_estimator(cv)
    assert display.chosen_.get_clip_on() is False
    display = LearningRatePathDisplay(
        learning_rates=cv.learning_rates_,
        cv_scores=cv.cv_scores_,
        stability_limit=cv.stability_limit_,
        diverged=np.r_[np.zeros(len(cv.learning_rates_) - 4), [1, 1, 1, 1]] > 0,
    ).plot(validation_curve=False)
    labels = [t.get_text() for t in display.ax_.get_legend().get_texts()]
    assert "unstable on the data or a training fold (never chosen)" in labels


# -- other regressors on the same axes --------------------------------------


def test_sgd_loss_curve_is_the_package_objective_epoch_by_epoch(scaled):
    X, y = scaled
    sgd = SGDRegressor(max_iter=8, tol=None, alpha=1e-3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sgd.fit(X, y)
    display = LossCurveDisplay.from_estimator(sgd, X, y)
    replay = SGDRegressor(max_iter=8, tol=None, alpha=1e-3, random_state=0)
    expected = []
    for _ in range(8):
        replay.partial_fit(X, y)
        residual = y - X @ replay.coef_ - replay.intercept_[0]
        expected.append(np.mean(residual**2) + 1e-3 * replay.coef_ @ replay.coef_)
    np.testing.assert_allclose(display.line_.get_ydata(), expected, rtol=1e-12)
    assert display.ax_.get_xlabel() == "epoch"
    assert "SGDRegressor(" in display.line_.get_label()
    display = LossCurveDisplay.from_estimator(sgd, X, y, kind="suboptimality")
    assert display.optimum == pytest.approx(
        OneStepRegressor(alpha=1e-3).fit(X, y).loss_
    )
    with pytest.raises(ValueError, match="pass its training data X and y"):
        LossCurveDisplay.from_estimator(sgd)


def test_sgd_and_linear_models_beside_gradient_descent(scaled):
    X, y = scaled
    gd = IterativeGDRegressor(max_iter=30, tol=None).fit(X, y)
    display = TrajectoryDisplay.from_estimator(gd, X, y)
    ax = display.ax_
    sgd = SGDRegressor(max_iter=5, tol=None, random_state=0, eta0=0.002)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sgd.fit(X, y)
    sgd_display = TrajectoryDisplay.from_estimator(sgd, X, y, ax=ax)
    assert len(sgd_display.line_.get_xdata()) == 6
    assert sgd_display.line_.get_label().endswith("(5 epochs)")
    ols = LinearRegression().fit(X, y)
    point = TrajectoryDisplay.from_estimator(ols, X, y, ax=ax)
    np.testing.assert_allclose(point.line_.get_xydata(), [ols.coef_[:2]])
    assert point.line_.get_label() == "LinearRegression()"
    ridge = make_pipeline(StandardScaler(), Ridge(alpha=50.0)).fit(X, y)
    point = TrajectoryDisplay.from_estimator(ridge, X, y, ax=ax)
    assert point.line_.get_label() == "Ridge(alpha=50.0)"
    # Alone, a Ridge point sits at the minimum of its own contours:
    # Ridge(alpha=a) is this package's objective with alpha = a/n.
    alone = TrajectoryDisplay.from_estimator(Ridge(alpha=50.0).fit(X, y), X, y)
    np.testing.assert_allclose(
        alone.optimum,
        OneStepRegressor(alpha=50.0 / len(y)).fit(X, y).coef_[:2],
        rtol=1e-9,
    )
    np.testing.assert_allclose(alone.optimum, alone.line_.get_xydata()[0], rtol=1e-9)


# -- animations ----------------------------------------------------------------


def test_animation_grows_curve_and_path_together(scaled, tmp_path):
    X, y = scaled
    model = IterativeGDRegressor(max_iter=200, tol=None).fit(X, y)
    figure, (loss_ax, path_ax) = plt.subplots(1, 2)
    curve = LossCurveDisplay.from_estimator(model, ax=loss_ax)
    path = TrajectoryDisplay.from_estimator(model, X, y, ax=path_ax)
    animation = curve.animate(path, frames=25)
    assert animation.iterations[0] == 1 and animation.iterations[-1] == 200
    assert len(animation.iterations) <= 25
    animation.show_iteration(10)
    assert len(curve.line_.get_xdata()) == 10
    assert len(path.line_.get_xdata()) == 11
    assert "<img" in animation.to_jshtml() or "frames" in animation.to_jshtml()
    target = tmp_path / "run.gif"
    animation.save(target)  # Pillow, chosen by the suffix
    assert target.read_bytes()[:6] in (b"GIF89a", b"GIF87a")
    other = TrajectoryDisplay.from_estimator(model, X, y)
    with pytest.raises(ValueError, match="animates one figure"):
        curve.animate(other)
    animation.show_iteration(200)
    np.testing.assert_allclose(curve.line_.get_ydata(), model.loss_curve_)
    assert figure is curve.figure_


# -- explorer, lesson, convergence map -----------------------------------------


def test_explorer_redraws_from_the_closed_form(frame):
    X, y = frame
    explorer = explore(X, y, features=("bmi", "s5"))
    explorer.plot(rate=1.9, momentum=0.0, n_iter=80)
    quadratic = explorer.quadratic
    model = IterativeGDRegressor(
        learning_rate=1.9 / quadratic.lipschitz, max_iter=80, tol=None
    ).fit(X, y)
    (curve,) = explorer.loss_ax_.get_lines()
    np.testing.assert_allclose(
        curve.get_ydata(), np.array(model.loss_curve_) - quadratic.optimum, rtol=1e-6
    )
    assert "1.9/L = 0.95·(2/L)" in explorer.verdict_
    assert "zig-zags" in explorer.verdict_
    explorer.plot(rate=2.05)
    assert "diverges" in explorer.verdict_
    explorer.plot(rate=2.05, momentum=0.5)
    assert "2(1+μ)/L" in explorer.verdict_ and "converges" in explorer.verdict_
    every_axes_is_titled_and_labelled(explorer.figure_)
    fallback = explorer.small_multiples(n_iter=30)
    assert len(fallback.axes) == 12
    every_axes_is_titled_and_labelled(fallback)


def test_explorer_takes_an_estimator_and_has_sliders(scaled):
    pytest.importorskip("ipywidgets")
    X, y = scaled
    model = make_pipeline(StandardScaler(), IterativeGDRegressor(momentum=0.3))
    explorer = explore(model.fit(X, y), X, y)
    assert explorer.momentum == 0.3
    box = explorer.widget()
    descriptions = {
        child.description for row in box.children[:2] for child in row.children
    }
    assert {"η · L", "momentum μ", "Nesterov", "iterations"} == descriptions


def test_lesson_figure(frame):
    X, y = frame
    figure = lesson_figure(X, y, features=("bmi", "s5"), n_iter=60)
    runs, lines = figure.lesson_runs_, figure.lesson_verdicts_
    assert len(runs) == 4 and len(lines) == 4
    assert "diverges" in lines[3] and "diverges" not in "".join(lines[:3])
    assert runs[3].excess[-1] > runs[3].excess[0]
    assert runs[0].excess[-1] < runs[0].excess[0]
    every_axes_is_titled_and_labelled(figure)
    assert len(figure.axes) == 9


def test_convergence_map_from_the_spectrum(scaled):
    X, _ = scaled
    display = ConvergenceMapDisplay.from_data(X, resolution=61)
    facts = suggest_learning_rate(X)
    evals = facts.eigenvalues[facts.eigenvalues > 1e-12 * facts.lipschitz]
    rng = np.random.default_rng(0)
    for name, nesterov in (("heavy ball", False), ("Nesterov", True)):
        grid = display.contraction[name]
        for _ in range(20):
            i, j = rng.integers(61, size=2)
            rate = display.rates[j] / facts.lipschitz
            expected = contraction(rate, evals, display.momenta[i], nesterov)
            assert grid[i, j] == pytest.approx(expected, rel=1e-9)
        # Converges exactly left of the limit (away from the boundary).
        limit = suggest_learning_rate(X, momentum=0.5, nesterov=nesterov).max_stable
        i = int(np.argmin(np.abs(display.momenta - 0.5)))
        scaled_limit = (
            limit
            * facts.lipschitz
            * ((1 + display.momenta[i]) / 1.5 if not nesterov else 1.0)
        )
        left = display.rates < 0.98 * scaled_limit
        right = display.rates > 1.02 * scaled_limit
        if not nesterov:
            assert np.all(grid[i, left] < 1) and np.all(grid[i, right] >= 1)
    rate, momentum = display.optimal["heavy ball"]
    assert (rate / facts.lipschitz, momentum) == pytest.approx(
        facts.optimal_momentum, rel=1e-9
    )
    every_axes_is_titled_and_labelled(display.figure_)
    with pytest.raises(ValueError, match="flat"):
        ConvergenceMapDisplay.from_data(np.ones((10, 3)))


# -- the textbook step with an explicit bias column ------------------------------


def test_textbook_step_with_an_explicit_bias_column(scaled):
    """The documented recipe: a column of ones and fit_intercept=False give
    the hand-computed update of the bias as of every weight."""
    X, y = scaled
    design = np.c_[np.ones(len(y)), X]
    step = OneStepRegressor(solver="gradient", learning_rate=0.01, fit_intercept=False)
    step.fit(design, y)
    by_hand = 0.01 * (2 / len(y)) * design.T @ y
    np.testing.assert_allclose(step.coef_, by_hand, rtol=1e-12)
    assert step.coef_[0] == pytest.approx(0.01 * 2 * y.mean())
    profiled = OneStepRegressor(solver="gradient", learning_rate=0.01).fit(X, y)
    assert profiled.intercept_ != pytest.approx(step.coef_[0])
