"""The CLI on tables as pandas, Excel and R write them (issue 22).

Booleans alone or beside other columns, with or without gaps; a written row
index; decimal commas; a table at most 120 characters wide; ``--version``;
output piped into a reader that stops early; the near-singular footnote.
"""

import csv
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import KFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from test_cli import parse_table, r2  # a sibling: pytest puts tests/ on sys.path

import onestep_sklearn
from onestep_sklearn.__main__ import main
from onestep_sklearn._cli.table import MAX_WIDTH

CV = KFold(n_splits=5, shuffle=True, random_state=0)
ROOT = Path(__file__).resolve().parents[1]


def run_csv(capsys, path, target, *options):
    code = main(["--csv", str(path), "--target", target, *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run_module(*args, **kwargs):
    env = dict(os.environ, PYTHONUTF8="1", PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "onestep_sklearn", *args],
        capture_output=True,
        encoding="utf-8",
        env=env,
        timeout=300,
        **kwargs,
    )


def flagged(n=60, gaps=False, seed=0):
    """x, a boolean flag (True/False, gaps as NaN if asked) and y."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(6)
    flag = rng.random(n) < 0.4
    y = (2 * x + 3 * flag + 0.1 * rng.normal(size=n)).round(6)
    frame = pd.DataFrame({"x": x, "flag": flag, "y": y})
    if gaps:
        frame["flag"] = frame["flag"].astype(object)
        frame.loc[[3, 17, 41], "flag"] = np.nan
    return frame


def write_like_r(frame, path):
    """``write.csv(frame, path)`` of R: quoted header and row names 1..n,
    strings quoted, logicals TRUE/FALSE, missing values NA."""

    def field(value):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return "NA"
        if isinstance(value, (bool, np.bool_)):
            return "TRUE" if value else "FALSE"
        if isinstance(value, str):
            return f'"{value}"'
        return repr(float(value))

    lines = [",".join(['""'] + [f'"{name}"' for name in frame.columns])]
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        lines.append(",".join([f'"{i}"'] + [field(value) for value in row]))
    path.write_text("\n".join(lines) + "\n")


def reference(frame, target, categorical=()):
    """``cross_val_score`` of LinearRegression as the CLI should print it."""
    X = frame.drop(columns=target)
    numeric = [c for c in X.columns if c not in categorical]
    pre = ColumnTransformer(
        [
            ("numeric", StandardScaler(), numeric),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                list(categorical),
            ),
        ]
    )
    X = X.astype(dict.fromkeys(categorical, object))
    scores = cross_val_score(
        make_pipeline(pre, LinearRegression()), X, frame[target], cv=CV
    )
    return f"{scores.mean():.4f} ± {scores.std():.4f}"


def assert_every_row_ran(out):
    rows = parse_table(out)
    assert len(rows) == 7
    assert all(cells[2] != "failed" for cells in rows.values()), out
    return rows


@pytest.mark.parametrize("gaps", [False, True])
@pytest.mark.parametrize("writer", ["pandas", "pandas-index", "excel", "R"])
def test_boolean_column_beside_numbers(tmp_path, capsys, writer, gaps):
    frame = flagged(gaps=gaps)
    path = tmp_path / "flag.csv"
    if writer == "pandas":
        frame.to_csv(path, index=False)
    elif writer == "pandas-index":
        frame.to_csv(path)
    elif writer == "excel":
        frame.to_csv(path, sep=";", decimal=",", index=False)
    else:
        write_like_r(frame, path)
    code, out, err = run_csv(capsys, path, "y")
    assert code == 0, err
    assert "columns: 1 numeric, 1 boolean -> 3 model features" in out
    rows = assert_every_row_ran(out)
    expected = reference(frame, "y", categorical=["flag"])
    assert rows["LinearRegression (sklearn)"][2] == expected
    assert rows["one Newton step"][2] == expected
    assert "error" not in err


def test_boolean_alone(tmp_path, capsys):
    frame = flagged()[["flag", "y"]]
    path = tmp_path / "flag.csv"
    frame.to_csv(path, index=False)
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert "columns: 1 boolean -> 2 model features" in out
    rows = assert_every_row_ran(out)
    expected = reference(frame, "y", categorical=["flag"])
    assert rows["one Newton step"][2] == expected
    assert rows["LinearRegression (sklearn)"][2] == expected


@pytest.mark.parametrize("writer", ["pandas", "R"])
def test_written_index_is_dropped_with_a_note(tmp_path, capsys, writer):
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=50), "b": rng.normal(size=50)})
    frame["y"] = frame["a"] - frame["b"] + 0.1 * rng.normal(size=50)
    path = tmp_path / "indexed.csv"
    if writer == "pandas":
        frame.to_csv(path)  # the index 0..49 as an unnamed first column
    else:
        write_like_r(frame, path)  # row names "1".."50"
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert "columns: 2 numeric -> 2 model features" in out
    assert re.search(
        r"^note: first column \('Unnamed: 0', unnamed, counting the rows\) "
        r"dropped: a written row index",
        out,
        re.MULTILINE,
    )
    assert parse_table(out)["LinearRegression (sklearn)"][2] == reference(frame, "y")


def test_unnamed_column_that_is_not_an_index_is_kept(tmp_path, capsys):
    rng = np.random.default_rng(2)
    values = rng.normal(size=40)
    path = tmp_path / "unnamed.csv"
    lines = [",a,y"] + [f"{v},{i % 5},{2 * v + i % 5}" for i, v in enumerate(values)]
    path.write_text("\n".join(lines) + "\n")
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert "columns: 2 numeric -> 2 model features" in out
    assert "written row index" not in out


def test_decimal_commas_in_an_excel_file(tmp_path, capsys):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.normal(size=80), "b": rng.uniform(1, 3, 80)})
    frame["y"] = 3 * frame["a"] + frame["b"] + 0.1 * rng.normal(size=80)
    frame = frame.round(3)
    path = tmp_path / "excel.csv"
    frame.to_csv(path, sep=";", decimal=",", index=False)
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert "columns: 2 numeric -> 2 model features" in out
    assert "note: numbers with decimal commas (3,14 is 3.14)" in out
    rows = parse_table(out)
    assert rows["LinearRegression (sklearn)"][2] == reference(frame, "y")
    # --decimal . overrides: the commas are then not decimal marks, and the
    # target is not a number.
    code, out, err = run_csv(capsys, path, "y", "--decimal", ".")
    assert code == 2 and "target column 'y'" in err and "is not numeric" in err


def test_semicolon_file_with_decimal_points_keeps_them(tmp_path, capsys):
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"a": rng.normal(size=40).round(3)})
    frame["y"] = (2 * frame["a"] + 0.1 * rng.normal(size=40)).round(3)
    path = tmp_path / "points.csv"
    frame.to_csv(path, sep=";", index=False)
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0 and "decimal commas" not in out
    assert parse_table(out)["LinearRegression (sklearn)"][2] == reference(frame, "y")
    # --decimal , overrides: "0.126" is then not a number.
    code, out, err = run_csv(capsys, path, "y", "--decimal", ",")
    assert code == 2 and "target column 'y'" in err and "is not numeric" in err


def test_decimal_option_errors(tmp_path, capsys):
    path = tmp_path / "points.csv"
    path.write_text("a,y\n1,2\n")
    with pytest.raises(SystemExit):
        main(["--csv", str(path), "--target", "y", "--sep", ",", "--decimal", ","])
    assert "--decimal , is also the separator" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--decimal", ","])
    assert "--decimal needs --csv" in capsys.readouterr().err


def test_r_table_with_text_gaps_and_na(tmp_path, capsys):
    rng = np.random.default_rng(5)
    n = 90
    frame = pd.DataFrame(
        {
            "dose": rng.uniform(0, 10, n).round(2),
            "group": rng.choice(["ctl", "trt1", "trt2"], n),
            "male": rng.random(n) < 0.5,
        }
    )
    frame["y"] = frame["dose"] + (frame["group"] == "trt2") * 2 + frame["male"]
    frame["y"] += 0.2 * rng.normal(size=n)
    frame["male"] = frame["male"].astype(object)
    frame.loc[[4, 50], "male"] = np.nan
    path = tmp_path / "r.csv"
    write_like_r(frame, path)
    code, out, err = run_csv(capsys, path, "y")
    assert code == 0, err
    assert "columns: 1 numeric, 1 categorical, 1 boolean -> 6 model features" in out
    assert "written row index" in out
    rows = assert_every_row_ran(out)
    assert r2(rows["one Newton step"]) > 0.9


def table_lines(out):
    """The lines from the table's header to the blank line before the notes."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("model "))
    return lines[start:]


def test_table_at_most_120_wide(tmp_path, capsys):
    rng = np.random.default_rng(6)
    n = 300
    frame = pd.DataFrame(
        {f"level_{j}": rng.choice([f"L{k}" for k in range(12)], n) for j in range(4)}
    )
    frame["x"] = rng.normal(size=n)
    frame["y"] = frame["x"] + rng.normal(size=n)
    path = tmp_path / "onehot.csv"
    frame.to_csv(path, index=False)
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    for line in table_lines(out):
        assert len(line) <= MAX_WIDTH, line
    header = table_lines(out)[0]
    assert header.split("  ")[0] == "model"
    assert "iterations" in header and "(stop)" not in header
    assert "OneStepRegressor" not in header


def test_failed_row_keeps_the_table_narrow(monkeypatch, capsys):
    from onestep_sklearn import OneStepRegressor
    from onestep_sklearn._cli import command as cli

    rows = [("one gradient step, eta=0.01", OneStepRegressor(alpha=-1.0), None)]
    monkeypatch.setattr(cli, "demo_models", lambda: rows)
    assert cli.main([]) == 1
    out = capsys.readouterr().out
    assert all(len(line) <= MAX_WIDTH for line in table_lines(out))
    assert "notes:\n  one gradient step, eta=0.01: InvalidParameterError" in out


def test_version_from_one_place():
    proc = run_module("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"onestep_sklearn {onestep_sklearn.__version__}"
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)
    # The version is written once, in __init__.py, and read by the build.
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    dynamic = project["tool"]["setuptools"]["dynamic"]["version"]
    assert dynamic == {"attr": "onestep_sklearn.__version__"}


def test_output_piped_into_head_ends_quietly():
    env = dict(os.environ, PYTHONUTF8="1", PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "onestep_sklearn"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    # A reader that stops at once (``head -0``): every write hits a closed pipe.
    proc.stdout.close()
    _, err = proc.communicate(timeout=300)
    err = err.decode()
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert "Exception ignored" not in err
    assert proc.returncode == 1


def near_collinear(n=120, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    frame = pd.DataFrame(
        {"a": a, "b": a + 1e-7 * rng.normal(size=n), "c": rng.normal(size=n)}
    )
    frame["y"] = frame["a"] + frame["c"] + rng.normal(size=n)
    return frame


def test_near_singular_folds_get_a_footnote(tmp_path, capsys):
    path = tmp_path / "collinear.csv"
    near_collinear().to_csv(path, index=False)
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    rows = table_lines(out)[: table_lines(out).index("")]
    marked = {line.split("  ")[0] for line in rows if "†" in line.split("  ")[0]}
    assert marked == {"one Newton step†", "LinearRegression (sklearn)†"}
    footnote = " ".join(out.split("\n† ", 1)[1].split("\n\n")[0].split())
    assert footnote.startswith("near-collinear columns: ")
    named = footnote.removeprefix("near-collinear columns: ").split(" (")[0]
    assert sorted(named.split(", ")) == ["a", "b"]
    assert "condition number" in footnote and "> 1e+06" in footnote
    assert footnote.endswith(
        "the exact least-squares fit is unstable here, try alpha>0 or "
        "IterativeGDRegressorCV"
    )


@pytest.mark.parametrize("kind", ["diabetes", "one-hot"])
def test_no_footnote_without_near_collinear_columns(tmp_path, capsys, kind):
    # A one-hot block beside the intercept is exactly dependent (the minimum
    # norm fit handles it): no footnote.
    if kind == "diabetes":
        assert main([]) == 0
        out = capsys.readouterr().out
    else:
        rng = np.random.default_rng(7)
        level = rng.choice(["a", "b", "c", "rare"], 200, p=[0.5, 0.3, 0.18, 0.02])
        frame = pd.DataFrame({"level": level, "x": rng.normal(size=200)})
        frame["y"] = frame["x"] + (frame["level"] == "rare") + rng.normal(size=200)
        path = tmp_path / "onehot.csv"
        frame.to_csv(path, index=False)
        code, out, _ = run_csv(capsys, path, "y")
        assert code == 0
    assert "†" not in out and "near-collinear" not in out


def test_near_singular_threshold_on_fold_designs():
    from onestep_sklearn._cli.collinear import NEAR_SINGULAR, near_null_direction

    rng = np.random.default_rng(8)
    a = rng.normal(size=100)
    for scale, expected in [(1e-3, False), (1e-8, True)]:
        design = np.column_stack([a, a + scale * rng.normal(size=100)])
        found = near_null_direction(design)
        assert (found is not None) == expected
        if found is not None:
            smallest, largest, direction = found
            assert smallest < NEAR_SINGULAR * largest
            assert abs(abs(direction[0]) - abs(direction[1])) < 1e-3
    # Exactly dependent columns are below the rank cutoff: not near-singular.
    assert near_null_direction(np.column_stack([a, 2 * a])) is None


def test_singular_vectors_only_for_a_near_singular_fold(monkeypatch):
    # The check runs on every training fold of every table: the vectors (3x
    # the cost of the values) are computed only where a footnote needs them.
    import onestep_sklearn._cli.collinear as collinear

    calls = []
    svd = collinear.la.svd

    def counting(*args, **kwargs):
        calls.append(args[0].shape)
        return svd(*args, **kwargs)

    monkeypatch.setattr(collinear.la, "svd", counting)
    rng = np.random.default_rng(10)
    a = rng.normal(size=100)
    assert collinear.near_null_direction(rng.normal(size=(100, 5))) is None
    assert not calls
    near = np.column_stack([a, a + 1e-8 * rng.normal(size=100)])
    assert collinear.near_null_direction(near) is not None
    assert len(calls) == 1


def test_learning_rate_facts_of_a_one_hot_design_are_those_of_sparse_input(
    monkeypatch,
):
    # The CLI gives a small sparse design to suggest_learning_rate dense (the
    # exact eigenvalues of the formed Hessian, no Lanczos): the same facts as
    # on the sparse design, and the singular Hessian of one-hot blocks beside
    # the intercept still reads as an infinite condition number.
    import scipy.sparse as sp

    import onestep_sklearn._cli.command as command
    from onestep_sklearn import suggest_learning_rate

    rng = np.random.default_rng(11)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=300),
            "c": rng.choice(["a", "b", "c", "d"], 300),
            "e": rng.choice(list("pqrstuvw"), 300),
        }
    )
    kinds, preprocessor, X = command.prepare(frame, np.zeros(300), "t", 50)
    design = preprocessor.fit_transform(X)
    assert sp.issparse(design)
    given = []

    def spy(matrix):
        given.append(matrix)
        return suggest_learning_rate(matrix)

    monkeypatch.setattr(command, "suggest_learning_rate", spy)
    facts, n_features, failure = command.learning_rate_facts(preprocessor, X)
    assert failure is None and n_features == design.shape[1]
    assert not sp.issparse(given[0])
    sparse_facts = suggest_learning_rate(design)
    assert facts.lipschitz == pytest.approx(sparse_facts.lipschitz, rel=1e-9)
    assert facts.max_stable == pytest.approx(sparse_facts.max_stable, rel=1e-9)
    assert facts.condition_number == np.inf == sparse_facts.condition_number


def test_csv_module_writes_what_the_reader_reads(tmp_path, capsys):
    # Quoted thousands stay numbers beside a decimal-comma-free ',' file.
    path = tmp_path / "quoted.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_NONNUMERIC)
        writer.writerow(["size", "y"])
        rng = np.random.default_rng(9)
        for value in rng.uniform(1000, 9000, 40):
            writer.writerow([f"{value:,.2f}", value / 1000 + rng.normal()])
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert "numbers with thousands separators" in out


def test_folds_are_preprocessed_once_and_every_cell_is_unchanged(
    tmp_path, capsys, monkeypatch
):
    # The preprocessing of each fold is fitted once and shared by every row
    # (and the near-collinear check): the table is what each row's own
    # pipeline gives, cell for cell but the fit times.
    import onestep_sklearn._cli.command as command
    import onestep_sklearn._cli.shared_folds as shared_folds

    rng = np.random.default_rng(12)
    n = 120
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=n).round(3),
            "c": rng.choice(["a", "b", "c", "d", "e"], n),
            "flag": rng.choice([True, False], n),
        }
    )
    frame["y"] = (2 * frame["x"] + (frame["c"] == "b") + rng.normal(size=n)).round(3)
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)

    fits = []
    original = shared_folds.SharedFolds.fit_transform

    def counting(self, X):
        key = shared_folds.rows_key(X)
        if key not in self._fitted:
            fits.append(len(X))
        return original(self, X)

    monkeypatch.setattr(shared_folds.SharedFolds, "fit_transform", counting)
    code, shared_out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert len(fits) == 5  # one per training fold, for the check and 7 rows
    assert "the preprocessing is fitted once per fold" in shared_out
    monkeypatch.setattr(command, "MAX_SHARED_ENTRIES", 0)
    code, own_out, _ = run_csv(capsys, path, "y")
    assert code == 0 and len(fits) == 5
    assert "the preprocessing is fitted once per fold" not in own_out
    shared_rows, own_rows = parse_table(shared_out), parse_table(own_out)
    assert shared_rows.keys() == own_rows.keys() and len(own_rows) == 7
    for label, cells in own_rows.items():
        fit_time = 3
        assert shared_rows[label][:fit_time] == cells[:fit_time]
        assert shared_rows[label][fit_time + 1 :] == cells[fit_time + 1 :]


def test_shared_folds_read_what_a_pipeline_fits():
    from sklearn.base import clone

    from onestep_sklearn._cli.shared_folds import FoldPreprocessor, SharedFolds

    rng = np.random.default_rng(13)
    X = pd.DataFrame({"x": rng.normal(size=40), "c": rng.choice(list("abc"), 40)})
    steps = ColumnTransformer(
        [("n", StandardScaler(), ["x"]), ("c", OneHotEncoder(), ["c"])]
    )
    shared = SharedFolds(steps)
    step = clone(FoldPreprocessor(shared))
    assert step.folds is shared  # clones share the store
    train, test = X.iloc[:30], X.iloc[30:]
    own = clone(steps).fit(train)
    np.testing.assert_array_equal(step.fit_transform(train), own.transform(train))
    np.testing.assert_array_equal(step.transform(test), own.transform(test))
    assert list(step.get_feature_names_out()) == list(own.get_feature_names_out())
    # Another part of the table is another fit.
    other = clone(FoldPreprocessor(shared)).fit(X.iloc[10:])
    assert other.fitted_ is not step.fitted_
    assert clone(FoldPreprocessor(shared)).fit(train).fitted_ is step.fitted_
