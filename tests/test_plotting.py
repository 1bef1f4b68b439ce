"""LossCurveDisplay, plot_learning_rate_sweep and ValidationCurveDisplay over
learning_rate: they render with the Agg backend and carry the right data."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, ValidationCurveDisplay
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import (
    IterativeGDRegressor,
    OneStepRegressor,
    suggest_learning_rate,
)
from onestep_sklearn.plotting import LossCurveDisplay, plot_learning_rate_sweep

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
    est = IterativeGDRegressor().fit(X, y)
    display = LossCurveDisplay.from_estimator(est)

    assert isinstance(display, LossCurveDisplay)
    np.testing.assert_array_equal(display.line_.get_ydata(), est.loss_curve_)
    np.testing.assert_array_equal(
        display.line_.get_xdata(), np.arange(1, est.n_iter_ + 1)
    )
    assert display.ax_.get_yscale() == "log"
    assert display.ax_.get_xlabel() == "iteration"
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
