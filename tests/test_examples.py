"""The gallery: every example script, the figure script and the guide's
plotting section run, and every figure is a real image."""

import re
import runpy
import sys
import warnings
from pathlib import Path

import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
PLOTTING_GUIDE = ROOT / "doc" / "guide" / "plotting.md"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Every example found: one merged later joins without a change here.
SCRIPTS = sorted(path.name for path in EXAMPLES.glob("plot_*.py"))
MINE = {
    "plot_divergence_cliff.py",
    "plot_feature_scaling.py",
    "plot_learning_rate_convergence.py",
    "plot_learning_rate_sweep.py",
    "plot_momentum.py",
    "plot_one_vs_many_steps.py",
    "plot_lesson.py",
    "plot_explorer.py",
    "plot_animation.py",
    "plot_convergence_map.py",
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def make_figures():
    return runpy.run_path(str(EXAMPLES / "make_figures.py"))


def assert_png(path):
    data = Path(path).read_bytes()
    assert data.startswith(PNG_MAGIC), path
    assert 20_000 < len(data) < 1_000_000, (path, len(data))
    image = plt.imread(path)
    assert image.shape[0] >= 400 and image.shape[1] >= 600, image.shape
    # Not a blank canvas: many distinct colours.
    assert len({tuple(px) for px in image[::7, ::7].reshape(-1, image.shape[2])}) > 50


def plot_section():
    return PLOTTING_GUIDE.read_text(encoding="utf-8")


def test_the_gallery_is_complete():
    assert MINE <= set(SCRIPTS)
    assert len(SCRIPTS) >= 6


def test_make_figures_finds_every_example(make_figures, tmp_path, monkeypatch):
    assert sorted(make_figures["FIGURES"]) == SCRIPTS
    assert all(
        figure == script[len("plot_") : -len(".py")] + ".png"
        for script, figure in make_figures["FIGURES"].items()
    )
    # A new example joins by being there: nothing lists the scripts.
    (tmp_path / "plot_extra.py").write_text(
        "import sys\nimport matplotlib.pyplot as plt\n"
        "plt.plot([1, 2]); plt.savefig(sys.argv[1])\n"
    )
    (tmp_path / "helper.py").write_text("raise AssertionError('not an example')\n")
    assert make_figures["find_examples"](tmp_path) == {"plot_extra.py": "extra.png"}
    (written,) = make_figures["make_figures"](tmp_path / "out", tmp_path)
    assert written == tmp_path / "out" / "extra.png" and written.exists()


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_writes_its_figure(script, tmp_path, capsys, monkeypatch):
    """Each script writes its figure to the path given as first argument."""
    figure = tmp_path / "figure.png"
    monkeypatch.setattr(sys, "argv", [str(EXAMPLES / script), str(figure)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an example that warns is a wrong one
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    assert_png(figure)
    out = capsys.readouterr().out
    if script == "plot_learning_rate_sweep.py":
        match = re.search(r"2/L = (\S+); best learning_rate = (\S+)", out)
        assert match and float(match[2]) < float(match[1])
    if script == "plot_one_vs_many_steps.py":
        assert "one Newton step (the exact optimum)  f − f* = 0" in out
    if script == "plot_divergence_cliff.py":
        # Below the limit the runs go to max_iter; past it they diverge.
        assert re.search(r"0\.95·\(2/L\): max_iter", out)
        assert re.search(r"1\.025·\(2/L\): diverged", out)


def test_make_figures_writes_every_figure(make_figures, tmp_path):
    written = make_figures["make_figures"](tmp_path / "figures")
    assert [p.name for p in written] == list(make_figures["FIGURES"].values())
    for path in written:
        assert_png(path)
    assert sys.argv[0] != str(EXAMPLES / SCRIPTS[-1])  # argv restored


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_shows_the_figure_without_argument(script, monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(plt.gcf()))
    monkeypatch.setattr(sys, "argv", [script])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    (figure,) = shown
    drawn = [ax for ax in figure.axes if ax.axison]
    assert len(drawn) >= 1
    for ax in drawn:
        if ax.get_label() == "<colorbar>":
            continue
        assert ax.has_data()
        assert ax.get_xlabel() and ax.get_ylabel(), (script, ax.get_title())
        assert ax.get_title(), script


@pytest.mark.parametrize("script", sorted(MINE))
def test_example_is_short_and_uses_the_public_api(script):
    text = (EXAMPLES / script).read_text(encoding="utf-8")
    assert len(text.splitlines()) < 70
    assert "onestep_sklearn._" not in text
    assert "from sklearn.utils._" not in text
    assert "tab:" not in text and "tab10" not in text  # colour-blind-safe colours


def test_readme_figures_are_the_ones_make_figures_writes(make_figures):
    section = plot_section()
    images = re.findall(r"!\[[^\]]*\]\(\.\./\.\./(docs/[^)]+\.png)\)", section)
    names = [f"docs/{name}" for name in make_figures["FIGURES"].values()]
    assert sorted(images) == sorted(names)
    for image in images:
        assert_png(ROOT / image)


def test_readme_plot_section_runs():
    # The displays, then the bias-column recipe (on the same X and y).
    recipe, code = re.findall(r"```python\n(.*?)```", plot_section(), flags=re.S)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, str(PLOTTING_GUIDE), "exec"), namespace)
        exec(compile(recipe, str(PLOTTING_GUIDE), "exec"), namespace)
    design, step, y = namespace["design"], namespace["step"], namespace["y"]
    by_hand = 0.01 * (2 / len(y)) * design.T @ y
    assert step.coef_ == pytest.approx(by_hand, rel=1e-12)
    curve, sweep, model = namespace["curve"], namespace["sweep"], namespace["model"]
    assert list(curve.line_.get_ydata()) == model[-1].loss_curve_
    assert sweep.max_stable_ == pytest.approx(2 / model[-1].lipschitz_, rel=1e-9)
    assert sweep.test_scores.shape == (15, 5)
    path = namespace["path"]
    assert len(path.line_.get_xdata()) == model[-1].n_iter_ + 1
