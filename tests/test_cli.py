"""Tests for the ``python -m onestep_sklearn`` demo / CLI."""

import contextlib
import io
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from onestep_sklearn import OneStepRegressor, suggest_learning_rate
from onestep_sklearn.__main__ import main

ROW_NAMES = [
    "one gradient step, eta=0.01",
    "one gradient step, exact line search",
    "one Newton step",
    "gradient descent (auto = 1/L)",
    "LinearRegression (sklearn)",
    "SGDRegressor (sklearn)",
]


def parse_table(out):
    """Map each model row's name (``*`` stripped) to its cells."""
    rows = {}
    for line in out.splitlines():
        cells = re.split(r"\s{2,}", line.strip())
        if cells[0].rstrip("*") in ROW_NAMES:
            rows[cells[0].rstrip("*")] = cells
    return rows


def r2(cells):
    mean, std = cells[1].split(" ± ")
    return float(mean)


def reference_r2(X, y):
    """The LinearRegression cell the CLI should print for (X, y)."""
    pipe = make_pipeline(StandardScaler(), LinearRegression())
    cv = KFold(n_splits=5, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, X, y, cv=cv, scoring="r2")
    return f"{scores.mean():.4f} ± {scores.std():.4f}"


def run_module(*args):
    env = dict(os.environ, PYTHONUTF8="1")
    return subprocess.run(
        [sys.executable, "-m", "onestep_sklearn", *args],
        capture_output=True,
        encoding="utf-8",
        env=env,
        timeout=300,
    )


@pytest.fixture(scope="module")
def default_output():
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main([])
    assert code == 0
    return buf.getvalue()


@pytest.fixture
def regression_csv(tmp_path):
    """200 rows, y = 3a - 2b + noise, target in the middle column."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 200))
    y = 3 * a - 2 * b + 0.1 * rng.normal(size=200)
    path = tmp_path / "data.csv"
    data = np.column_stack([a, y, b])
    np.savetxt(path, data, delimiter=",", header="a,y,b", comments="")
    return path


def test_default_run_prints_every_row(default_output):
    rows = parse_table(default_output)
    assert sorted(rows) == sorted(ROW_NAMES)
    assert "diabetes" in default_output
    assert "442 samples, 10 features" in default_output
    for cells in rows.values():
        assert len(cells) == 5
        assert -1 < r2(cells) <= 1
        assert float(cells[2]) >= 0  # fit time in ms


def test_default_run_newton_matches_linear_regression(default_output):
    rows = parse_table(default_output)
    newton = r2(rows["one Newton step"])
    assert newton > 0.4
    assert round(newton, 3) == round(r2(rows["LinearRegression (sklearn)"]), 3)
    X, y = load_diabetes(return_X_y=True)
    assert rows["LinearRegression (sklearn)"][1] == reference_r2(X, y)
    assert rows["one Newton step"][3] == "1 (Newton)"
    # One textbook step from zero is far from the optimum; the exact line
    # search takes the best step along the same direction.
    textbook = r2(rows["one gradient step, eta=0.01"])
    assert textbook < r2(rows["one gradient step, exact line search"]) < newton + 1e-3


def test_default_run_learning_rates(default_output):
    rows = parse_table(default_output)
    assert float(rows["one gradient step, eta=0.01"][3]) == 0.01
    assert rows["SGDRegressor (sklearn)"][3] == "0.01 (invscaling)"
    assert rows["LinearRegression (sklearn)"][3] == "-"

    X, _ = load_diabetes(return_X_y=True)
    facts = suggest_learning_rate(StandardScaler().fit_transform(X))
    gd = rows["gradient descent (auto = 1/L)"]
    assert float(gd[3]) == pytest.approx(facts.auto, rel=1e-3)
    gradient_rows = ROW_NAMES[:2] + ["gradient descent (auto = 1/L)"]
    for name in ROW_NAMES:
        limit = rows[name][4]
        if name in gradient_rows:
            assert float(limit) == pytest.approx(facts.max_stable, rel=1e-3)
        else:
            assert limit == "-"
    assert f"2/L = {facts.max_stable:.4g}" in default_output
    assert f"condition number = {facts.condition_number:.4g}" in default_output


def test_subprocess_default_run():
    proc = run_module()
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = parse_table(proc.stdout)
    assert sorted(rows) == sorted(ROW_NAMES)
    assert r2(rows["one Newton step"]) > 0.4


def test_csv_run(regression_csv, capsys):
    assert main(["--csv", str(regression_csv), "--target", "y"]) == 0
    out = capsys.readouterr().out
    assert "200 samples, 2 features" in out
    rows = parse_table(out)
    assert sorted(rows) == sorted(ROW_NAMES)
    assert r2(rows["one Newton step"]) > 0.9
    assert r2(rows["LinearRegression (sklearn)"]) > 0.9
    # The target is the middle column: X must be (a, b), in any order.
    data = np.loadtxt(regression_csv, delimiter=",", skiprows=1)
    expected = reference_r2(data[:, [0, 2]], data[:, 1])
    assert rows["LinearRegression (sklearn)"][1] == expected


def test_missing_file_subprocess(tmp_path):
    path = tmp_path / "no_such_file.csv"
    proc = run_module("--csv", str(path), "--target", "y")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"error: file not found: {path}"
    assert proc.stdout == ""


def test_missing_column(regression_csv, capsys):
    assert main(["--csv", str(regression_csv), "--target", "nope"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line == f"error: column 'nope' not in {regression_csv} (columns: a, y, b)"


def test_non_numeric_column(tmp_path, capsys):
    path = tmp_path / "mixed.csv"
    rows = [f"{i},{'red' if i % 2 else 'blue'},{2 * i}" for i in range(20)]
    path.write_text("x,colour,y\n" + "\n".join(rows) + "\n")
    assert main(["--csv", str(path), "--target", "y"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: column 'colour'")
    assert "not numeric" in line


def test_non_numeric_column_subprocess(tmp_path):
    path = tmp_path / "gap.csv"
    path.write_text("x,y\n1,2\n2,\n3,6\n4,8\n5,10\n6,12\n")
    proc = run_module("--csv", str(path), "--target", "y")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("error: column 'y'")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_csv_needs_target(regression_csv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--csv", str(regression_csv)])
    assert exc.value.code == 2
    assert "--target" in capsys.readouterr().err


def test_convergence_warning_marks_row(monkeypatch, capsys):
    from onestep_sklearn import __main__ as cli

    # max_iter=1 with the default tol always raises a ConvergenceWarning.
    sgd = SGDRegressor(max_iter=1, random_state=0)
    monkeypatch.setattr(cli, "_models", lambda: [("SGDRegressor (sklearn)", sgd, "x")])
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^SGDRegressor \(sklearn\)\*", out, re.MULTILINE)
    assert "* did not converge" in out


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def run_plot(argv):
    """``main(argv)`` with ``--plot``: its stdout and the Figure it saved."""
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    saved = []
    original = Figure.savefig

    def savefig(self, *args, **kwargs):
        saved.append(self)
        return original(self, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Figure, "savefig", savefig)
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            code = main(argv)
    assert code == 0
    (figure,) = saved
    return buf.getvalue(), figure


@pytest.fixture(scope="module")
def plot_run(tmp_path_factory):
    """The default run with ``--plot``: stdout, the PNG path, the saved Figure."""
    path = tmp_path_factory.mktemp("plot") / "figure.png"
    out, figure = run_plot(["--plot", str(path)])
    return out, path, figure


def test_plot_writes_png(plot_run):
    out, path, _ = plot_run
    data = path.read_bytes()
    assert data.startswith(PNG_MAGIC)
    assert 30_000 < len(data) < 2_000_000
    assert out.rstrip().splitlines()[-1] == f"figure written to {path}"


def test_plot_keeps_the_table(plot_run, default_output):
    out, _, _ = plot_run
    rows, reference = parse_table(out), parse_table(default_output)
    assert sorted(rows) == sorted(ROW_NAMES)
    for name in ROW_NAMES:
        cells, expected = rows[name], reference[name]
        del cells[2], expected[2]  # the fit time varies
        assert cells == expected


def test_plot_figure_content(plot_run):
    _, _, figure = plot_run
    X, y = load_diabetes(return_X_y=True)
    facts = suggest_learning_rate(StandardScaler().fit_transform(X))
    loss_ax, sweep_ax = figure.axes[:2]

    # Left: three loss curves at 1/L, 1.9/L, 0.2/L, then the one-step markers.
    assert loss_ax.get_yscale() == "log"
    labels = [line.get_label() for line in loss_ax.get_lines()]
    for multiple in ("0.5·(2/L)", "0.95·(2/L)", "0.1·(2/L)"):
        assert sum(label.endswith(multiple) for label in labels) == 1, labels
    curves = loss_ax.get_lines()[:3]
    assert all(len(line.get_xdata()) > 10 for line in curves)
    markers = {line.get_label(): line for line in loss_ax.get_lines()[3:]}
    newton = markers["one Newton step: the optimum"]
    assert list(newton.get_xdata()) == [1]
    # Gradient descent approaches the Newton step's objective from above.
    for line in curves:
        assert min(line.get_ydata()) >= newton.get_ydata()[0] * (1 - 1e-12)
        assert min(line.get_ydata()) < newton.get_ydata()[0] * 1.01

    # Right: the sweep around 2/L, with 2/L as the dashed vertical line.
    assert sweep_ax.get_xscale() == "log"
    lines = {line.get_label(): line for line in sweep_ax.get_lines()}
    vline = lines["2/L (stability limit)"]
    assert vline.get_linestyle() == "--"
    assert vline.get_xdata()[0] == pytest.approx(facts.max_stable, rel=1e-9)
    test_line = lines["Test"]
    rates = np.asarray(test_line.get_xdata())
    assert rates.min() < 0.01 * facts.max_stable and rates.max() > facts.max_stable
    scores = np.asarray(test_line.get_ydata())
    assert np.all(np.isfinite(scores))
    assert scores[rates < facts.max_stable].max() > 0.45
    assert scores[rates > 1.5 * facts.max_stable].max() < 0.1
    assert "warnings silenced" in sweep_ax.get_title()


def test_plot_exact_fit_keeps_zero_objective_on_the_log_axis(tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 50))
    csv_path, png = tmp_path / "exact.csv", tmp_path / "exact.png"
    data = np.column_stack([a, b, 3 * a - 2 * b + 1])
    np.savetxt(csv_path, data, delimiter=",", header="a,b,y", comments="")
    _, figure = run_plot(["--csv", str(csv_path), "--target", "y", "--plot", str(png)])
    assert png.read_bytes().startswith(PNG_MAGIC)
    X = StandardScaler().fit_transform(data[:, :2])
    loss = OneStepRegressor().fit(X, data[:, 2]).loss_
    lines = figure.axes[0].get_lines()
    (newton,) = [line for line in lines if line.get_label().startswith("one Newton")]
    (y_newton,) = newton.get_ydata()
    if loss == 0:
        assert newton.get_label().endswith("(objective 0)")
        # Drawn at the lowest positive objective shown, on the log axis.
        values = np.concatenate([line.get_ydata() for line in lines])
        assert y_newton == values[values > 0].min()
    else:
        assert y_newton == loss
    assert 0 < y_newton < 1e-6


def test_plot_without_matplotlib(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails
    path = tmp_path / "figure.png"
    assert main(["--plot", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "error: --plot needs matplotlib: pip install 'onestep_sklearn[plot]'\n"
    )
    assert not path.exists()


@pytest.mark.parametrize(
    "name, message",
    [
        ("figure.nope", "unknown image format 'nope'"),
        ("missing_dir/figure.png", "does not exist"),
    ],
)
def test_plot_bad_path_fails_before_fitting(tmp_path, capsys, name, message):
    pytest.importorskip("matplotlib")
    assert main(["--plot", str(tmp_path / name)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.strip().splitlines()
    assert line.startswith("error: --plot ") and message in line
