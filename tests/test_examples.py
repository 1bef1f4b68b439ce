"""The example scripts, the figure script and the README's plotting section run."""

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
README = ROOT / "README.md"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SCRIPTS = ["plot_learning_rate_sweep.py", "plot_one_vs_many_steps.py"]


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


def plot_section():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Plots and learning-rate sweeps", 1)[1]
    return section.split("\n## ", 1)[0]


def test_make_figures_runs_both_examples(make_figures, tmp_path, capsys):
    assert sorted(make_figures["FIGURES"]) == SCRIPTS
    written = make_figures["make_figures"](tmp_path / "figures")
    assert [p.name for p in written] == list(make_figures["FIGURES"].values())
    for path in written:
        assert_png(path)
    out = capsys.readouterr().out
    # What the examples print: the limit and the chosen rate, and the models.
    match = re.search(r"2/L = (\S+); best learning_rate = (\S+)", out)
    assert match and float(match[2]) < float(match[1])
    assert "one Newton step (the exact optimum)" in out
    assert sys.argv[0] != str(EXAMPLES / SCRIPTS[-1])  # argv restored


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_shows_the_figure_without_argument(script, monkeypatch):
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(plt.gcf()))
    monkeypatch.setattr(sys, "argv", [script])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    (figure,) = shown
    assert len(figure.axes) >= 2
    assert all(ax.has_data() for ax in figure.axes)


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_is_short_and_uses_the_public_api(script):
    text = (EXAMPLES / script).read_text(encoding="utf-8")
    assert len(text.splitlines()) < 60
    assert "onestep_sklearn._" not in text
    assert "from sklearn.utils._" not in text


def test_readme_figures_are_the_ones_make_figures_writes(make_figures):
    section = plot_section()
    images = re.findall(r"!\[[^\]]*\]\((docs/[^)]+\.png)\)", section)
    names = [f"docs/{name}" for name in make_figures["FIGURES"].values()]
    assert images == names
    for image in images:
        assert_png(ROOT / image)


def test_readme_plot_section_runs():
    (code,) = re.findall(r"```python\n(.*?)```", plot_section(), flags=re.S)
    namespace = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        exec(compile(code, str(README), "exec"), namespace)
    curve, sweep, model = namespace["curve"], namespace["sweep"], namespace["model"]
    assert list(curve.line_.get_ydata()) == model[-1].loss_curve_
    assert sweep.max_stable_ == pytest.approx(2 / model[-1].lipschitz_, rel=1e-9)
    assert sweep.test_scores.shape == (15, 5)
