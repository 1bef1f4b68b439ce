"""Tests for the ``python -m onestep_sklearn`` demo / CLI."""

import contextlib
import io
import os
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, SGDRegressor
from sklearn.model_selection import KFold, cross_val_score, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from onestep_sklearn import (
    IterativeGDRegressor,
    IterativeGDRegressorCV,
    OneStepRegressor,
    suggest_learning_rate,
)
from onestep_sklearn.__main__ import main

# Each row's plain-words label and the estimator call it must name.
ROW_CALLS = {
    "one gradient step, eta=0.01": "OneStepRegressor(learning_rate=0.01, "
    "solver='gradient')",
    "one gradient step, exact line search": "OneStepRegressor(solver='gradient')",
    "one Newton step": "OneStepRegressor()",
    "gradient descent (1/L, auto momentum)": "IterativeGDRegressor()",
    "gradient descent, tuned by CV": "IterativeGDRegressorCV()",
    "LinearRegression (sklearn)": "LinearRegression()",
    "SGDRegressor (sklearn)": "SGDRegressor(random_state=0)",
}
ROW_NAMES = list(ROW_CALLS)
CV = KFold(n_splits=5, shuffle=True, random_state=0)


def parse_table(out):
    """Map each model row's label (marks ``*``, ``†`` stripped) to its cells.

    Cells: label, estimator call (from the ``estimators:`` list under the
    table), CV R², fit time, learning rate, 2/L, iterations and, when a row
    has one, its note (from ``notes:``, wrapped lines joined).
    """
    rows, calls, notes = {}, {}, {}
    section, last = "table", None
    for line in out.splitlines():
        if line in ("estimators:", "notes:"):
            section = line[:-1]
            continue
        cells = re.split(r"\s{2,}", line.strip())
        label = cells[0].rstrip("*†")
        if section == "table" and label in ROW_NAMES:
            rows[label] = cells
        elif section == "estimators" and label in ROW_NAMES:
            calls[label] = cells[1]
        elif section == "notes" and line.startswith("    ") and last:
            notes[last] += " " + line.strip()
        elif section == "notes" and line.startswith("  "):
            marked, _, note = line.strip().partition(": ")
            last = marked.rstrip("*†")
            notes[last] = note
    return {
        label: [cells[0], calls[label], *cells[1:]]
        + ([notes[label]] if label in notes else [])
        for label, cells in rows.items()
    }


def r2(cells):
    mean, std = cells[2].split(" ± ")
    return float(mean)


def reference_r2(X, y, preprocessor=None):
    """The LinearRegression cell the CLI should print for (X, y)."""
    preprocessor = StandardScaler() if preprocessor is None else preprocessor
    pipe = make_pipeline(preprocessor, LinearRegression())
    scores = cross_val_score(pipe, X, y, cv=CV, scoring="r2")
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


def run_csv(capsys, path, target, *options):
    """``main`` on ``--csv path --target target``: exit code, stdout, stderr."""
    code = main(["--csv", str(path), "--target", target, *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def only_error_line(err):
    """The one ``error:`` line of a failed run's stderr."""
    (line,) = err.strip().splitlines()
    assert line.startswith("error: ")
    return line


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
    lines = default_output.splitlines()
    assert lines[:3] == [
        "data: diabetes (scikit-learn, bundled), target 'target'",
        "rows: 442 used",
        "columns: 10 numeric -> 10 model features",
    ]
    for cells in rows.values():
        assert len(cells) == 7
        assert -1 < r2(cells) <= 1
        assert float(cells[3]) >= 0  # fit time in ms
    # Iterations and stop_reason_ of the fold fits, for the estimators that
    # record them: gradient descent ran to its certified tolerance (about
    # √κ·log(1/tol) iterations with momentum="auto").
    gd = next(cells for label, cells in rows.items() if label.startswith("gradient"))
    iterations, reason = gd[6].split()
    assert reason == "(converged)" and int(iterations) > 100
    assert rows["one Newton step"][6] == "1 (converged)"
    assert rows["LinearRegression (sklearn)"][6] == "-"
    assert "every model is make_pipeline(StandardScaler(), model)." in default_output


def test_rows_name_their_estimator_calls(default_output):
    rows = parse_table(default_output)
    namespace = {
        "OneStepRegressor": OneStepRegressor,
        "IterativeGDRegressor": IterativeGDRegressor,
        "IterativeGDRegressorCV": IterativeGDRegressorCV,
        "LinearRegression": LinearRegression,
        "SGDRegressor": SGDRegressor,
    }
    from onestep_sklearn._cli.table import demo_models

    ran = {label: model for label, model, _ in demo_models()}
    for label, call in ROW_CALLS.items():
        assert rows[label][1] == call
        # The cell is code: it builds the very estimator that produced the row.
        built = eval(call, namespace)
        assert type(built) is type(ran[label])
        assert built.get_params() == ran[label].get_params()


def test_default_run_newton_matches_linear_regression(default_output):
    rows = parse_table(default_output)
    newton = r2(rows["one Newton step"])
    assert newton > 0.4
    assert round(newton, 3) == round(r2(rows["LinearRegression (sklearn)"]), 3)
    X, y = load_diabetes(return_X_y=True)
    assert rows["LinearRegression (sklearn)"][2] == reference_r2(X, y)
    assert rows["one Newton step"][4] == "1 (Newton)"
    # One textbook step from zero is far from the optimum; the exact line
    # search takes the best step along the same direction.
    textbook = r2(rows["one gradient step, eta=0.01"])
    assert textbook < r2(rows["one gradient step, exact line search"]) < newton + 1e-3


def test_default_run_learning_rates(default_output):
    rows = parse_table(default_output)
    assert float(rows["one gradient step, eta=0.01"][4]) == 0.01
    assert rows["SGDRegressor (sklearn)"][4] == "0.01 (invscaling)"
    assert rows["LinearRegression (sklearn)"][4] == "-"

    X, y = load_diabetes(return_X_y=True)
    # The cell is the mean learning_rate_ of the five fold estimators.
    for label, model in [
        ("gradient descent (1/L, auto momentum)", IterativeGDRegressor()),
        ("one gradient step, exact line search", OneStepRegressor(solver="gradient")),
    ]:
        result = cross_validate(
            make_pipeline(StandardScaler(), model), X, y, cv=CV, return_estimator=True
        )
        fold_rates = [fitted[-1].learning_rate_ for fitted in result["estimator"]]
        assert rows[label][4] == f"{np.mean(fold_rates):.4g}"
    facts = suggest_learning_rate(StandardScaler().fit_transform(X))
    gd = rows["gradient descent (1/L, auto momentum)"]
    assert float(gd[4]) == pytest.approx(facts.auto, rel=2e-2)
    gradient_rows = ROW_NAMES[:2] + [
        "gradient descent (1/L, auto momentum)",
        "gradient descent, tuned by CV",
    ]
    for name in ROW_NAMES:
        limit = rows[name][5]
        if name in gradient_rows:
            assert float(limit) == pytest.approx(facts.max_stable, rel=1e-3)
        else:
            assert limit == "-"
    assert f"2/L = {facts.max_stable:.4g}" in default_output
    # The CV row: the mean rate and iteration count chosen in the five folds.
    result = cross_validate(
        make_pipeline(StandardScaler(), IterativeGDRegressorCV()),
        X,
        y,
        cv=CV,
        return_estimator=True,
    )
    chosen = [fitted[-1] for fitted in result["estimator"]]
    rate = np.mean([fitted.learning_rate_ for fitted in chosen])
    n_iter = np.mean([fitted.n_iter_ for fitted in chosen])
    cv_row = rows["gradient descent, tuned by CV"]
    # The chosen count reads as a choice, not as a stop reason (max_iter).
    assert cv_row[4] == f"{rate:.4g}"
    assert cv_row[6] == f"chosen: {n_iter:.0f} iterations"
    assert all(fitted.learning_rate_ < fitted.stability_limit_ for fitted in chosen)
    assert f"condition number = {facts.condition_number:.4g}" in default_output


def test_subprocess_default_run():
    proc = run_module()
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = parse_table(proc.stdout)
    assert sorted(rows) == sorted(ROW_NAMES)
    assert r2(rows["one Newton step"]) > 0.4
    # A run of a second or so prints no progress lines.
    assert "cross-validating" not in proc.stderr


def test_csv_run(regression_csv, capsys):
    code, out, _ = run_csv(capsys, regression_csv, "y")
    assert code == 0
    assert "rows: 200 used\ncolumns: 2 numeric -> 2 model features\n" in out
    assert f"data: {regression_csv} (','-separated, UTF-8), target 'y'" in out
    rows = parse_table(out)
    assert sorted(rows) == sorted(ROW_NAMES)
    assert r2(rows["one Newton step"]) > 0.9
    assert r2(rows["LinearRegression (sklearn)"]) > 0.9
    # The target is the middle column: X must be (a, b), in any order.
    data = np.loadtxt(regression_csv, delimiter=",", skiprows=1)
    expected = reference_r2(data[:, [0, 2]], data[:, 1])
    assert rows["LinearRegression (sklearn)"][2] == expected


def test_missing_file_subprocess(tmp_path):
    path = tmp_path / "no_such_file.csv"
    proc = run_module("--csv", str(path), "--target", "y")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"error: file not found: {path}"
    assert proc.stdout == ""


def test_missing_column(regression_csv, capsys):
    code, out, err = run_csv(capsys, regression_csv, "nope")
    assert code == 2 and out == ""
    assert only_error_line(err) == (
        f"error: column 'nope' not in {regression_csv} (columns: a, y, b)"
    )


def test_missing_column_suggests_a_close_name(regression_csv, capsys):
    code, _, err = run_csv(capsys, regression_csv, "Y")
    assert code == 2
    assert only_error_line(err).endswith("(columns: a, y, b); did you mean 'y'?")


def test_csv_needs_target(regression_csv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--csv", str(regression_csv)])
    assert exc.value.code == 2
    assert "--target" in capsys.readouterr().err


def test_convergence_warning_marks_row(monkeypatch, capsys):
    from onestep_sklearn._cli import command as cli

    # max_iter=1 with the default tol always raises a ConvergenceWarning.
    sgd = SGDRegressor(max_iter=1, random_state=0)
    rows = [("SGDRegressor (sklearn)", sgd, "x")]
    monkeypatch.setattr(cli, "demo_models", lambda: rows)
    assert cli.main([]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^SGDRegressor \(sklearn\)\*", out, re.MULTILINE)
    assert "* did not converge" in out


def houses(n=200):
    """A small house-price table with categories, booleans, gaps and an ID column.

    ``price`` (the target) is missing in rows 7, 57, 107 and 157.
    """
    rng = np.random.default_rng(0)
    rows = np.arange(n)
    sqft = rng.normal(1500, 300, n).round(1)
    bedrooms = rng.integers(1, 5, n)
    city = rng.choice(["Austin", "Boston", "Chicago"], n)
    pool = rng.choice([True, False], n)
    price = (
        100 * sqft
        + 5000 * bedrooms
        + np.where(city == "Boston", 50000, 0)
        + 20000 * pool
        + rng.normal(0, 5000, n)
    ).round(2)
    frame = pd.DataFrame(
        {
            "sqft": sqft,
            "bedrooms": bedrooms,
            "city": city,
            "pool": pool,
            "owner": [f"owner {i}" for i in rows],
            "price": price,
        }
    )
    frame["sqft"] = frame["sqft"].mask(rows % 23 == 5)
    frame["city"] = frame["city"].mask(rows % 17 == 3)
    frame["pool"] = frame["pool"].astype(object).mask(rows % 19 == 4)
    frame["price"] = frame["price"].mask(rows % 50 == 7)
    return frame


def write_table(path, frame, sep):
    """Write ``frame`` as a newcomer's file would hold it: empty cells for gaps,
    prices with thousands separators (quoted when they clash with ``sep``)."""

    def cell(name, value):
        if pd.isna(value):
            return ""
        if name == "price":
            text = f"{value:,.2f}"
            return f'"{text}"' if sep == "," else text
        return str(value)

    lines = [sep.join(frame.columns)]
    lines += [
        sep.join(cell(k, v) for k, v in row.items()) for _, row in frame.iterrows()
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def houses_reference():
    """The LinearRegression cell for :func:`houses`, from scikit-learn alone."""
    frame = houses().dropna(subset=["price"])
    preprocessor = ColumnTransformer(
        [
            (
                "numeric",
                make_pipeline(SimpleImputer(strategy="median"), StandardScaler()),
                ["sqft", "bedrooms"],
            ),
            (
                "categorical",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                ["city", "pool"],
            ),
        ]
    )
    return reference_r2(
        frame.drop(columns=["owner", "price"]), frame["price"], preprocessor
    )


@pytest.mark.parametrize("sep, sep_name", [(",", "','"), (";", "';'"), ("\t", "tab")])
def test_mixed_table_any_separator(tmp_path, capsys, sep, sep_name):
    path = tmp_path / "houses.txt"
    frame = houses()
    write_table(path, frame, sep)
    code, out, _ = run_csv(capsys, path, "price")
    assert code == 0
    kept = frame.dropna(subset=["price"])
    n_gaps = int(kept[["sqft", "city", "pool"]].isna().sum().sum())
    assert n_gaps > 20
    assert out.splitlines()[:7] == [
        f"data: {path} ({sep_name}-separated, UTF-8), target 'price'",
        "rows: 196 used, 4 dropped (no target)",
        # 2 numeric + 3 cities + 2 booleans after one-hot encoding
        "columns: 2 numeric, 1 categorical, 1 boolean, 1 dropped -> 7 model features",
        "note: column 'price': numbers with thousands separators",
        "note: column 'owner' dropped: 196 distinct text values (e.g. 'owner 0'), "
        "more than --max-categories 50; free text or an ID, not a category",
        f"note: {n_gaps} missing feature values imputed (numeric: median; "
        "categorical, boolean: most frequent)",
        out.splitlines()[6],
    ]
    assert out.splitlines()[6].startswith("standardised: L = ")
    rows = parse_table(out)
    assert sorted(rows) == sorted(ROW_NAMES)
    assert {label: cells[1] for label, cells in rows.items()} == ROW_CALLS
    assert rows["LinearRegression (sklearn)"][2] == houses_reference()
    assert r2(rows["one Newton step"]) > 0.9
    assert rows["one Newton step"][2] == rows["LinearRegression (sklearn)"][2]
    described = "make_pipeline(ColumnTransformer(...), model) with\n  numeric columns: "
    assert described in out


def test_sep_overrides_sniffing(tmp_path, capsys):
    path = tmp_path / "houses.csv"
    write_table(path, houses(), ";")
    code, out, _ = run_csv(capsys, path, "price", "--sep", ";")
    assert code == 0
    assert parse_table(out)["LinearRegression (sklearn)"][2] == houses_reference()
    code, out, err = run_csv(capsys, path, "price", "--sep", ",")
    assert code == 2 and out == ""
    assert only_error_line(err) == (
        f"error: column 'price' not in {path} (columns: "
        "sqft;bedrooms;city;pool;owner;price); the header looks ';'-separated: "
        "try --sep ';'"
    )


def test_sep_tab_escape(tmp_path, capsys):
    path = tmp_path / "houses.tsv"
    write_table(path, houses(), "\t")
    code, out, _ = run_csv(capsys, path, "price", "--sep", "\\t")
    assert code == 0
    assert f"data: {path} (tab-separated, UTF-8)" in out


def test_sep_must_be_one_character(regression_csv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--csv", str(regression_csv), "--target", "y", "--sep", "::"])
    assert exc.value.code == 2
    assert "error: --sep must be one character, not '::'" in capsys.readouterr().err


def test_decimal_commas_are_not_thousands(tmp_path, capsys):
    # "1,5" in a ';' file is one and a half, not 15. (Issue 22 changed this
    # expectation: the column was read as text categories before; it is a
    # number with a decimal comma now.)
    path = tmp_path / "decimal.csv"
    rows = [f"{i};{i % 7},5" for i in range(30)]
    path.write_text("y;x\n" + "\n".join(rows) + "\n")
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert "columns: 1 numeric -> 1 model feature" in out
    assert "note: numbers with decimal commas" in out
    assert "thousands" not in out


def test_duplicated_column_names(tmp_path, capsys):
    path = tmp_path / "dup.csv"
    rows = [f"{i},{2 * i},{i % 3},{2 * i}" for i in range(20)]
    path.write_text("a,y,b,y\n" + "\n".join(rows) + "\n")
    code, out, err = run_csv(capsys, path, "y")
    assert code == 2 and out == ""
    assert only_error_line(err) == (
        f"error: duplicated column names in {path}: 'y' (columns 2, 4); "
        "give every column its own name"
    )


@pytest.mark.parametrize("target, sample", [("city", "Austin"), ("pool", "True")])
def test_non_numeric_target(tmp_path, capsys, target, sample):
    path = tmp_path / "houses.csv"
    frame = houses()
    frame.loc[0, "pool"] = True
    write_table(path, frame, ",")
    code, out, err = run_csv(capsys, path, target)
    assert code == 2 and out == ""
    first = frame[target].dropna().iloc[0]
    assert str(first) == sample
    assert only_error_line(err) == (
        f"error: target column {target!r} in {path} is not numeric "
        f"(e.g. {sample!r}); the target must be a number"
    )


def test_too_few_rows(tmp_path, capsys):
    path = tmp_path / "five.csv"
    path.write_text("a,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(5)))
    code, out, err = run_csv(capsys, path, "y")
    assert code == 2 and out == ""
    assert only_error_line(err) == (
        f"error: {path}: 5 rows with a target; 5-fold cross-validation needs "
        "at least 10 (2 per test fold, for R²)"
    )


def test_rows_without_target_count_against_the_folds(tmp_path, capsys):
    path = tmp_path / "gaps.csv"
    rows = [f"{i},{'' if i % 2 else 2 * i}" for i in range(12)]
    path.write_text("x,y\n" + "\n".join(rows) + "\n")
    code, _, err = run_csv(capsys, path, "y")
    assert code == 2
    assert "6 rows with a target" in only_error_line(err)


def test_huge_feature_subprocess(tmp_path):
    rng = np.random.default_rng(0)
    a, huge, noise = rng.normal(size=(3, 60))
    y = 2 * a - huge + 0.1 * noise
    path = tmp_path / "huge.csv"
    np.savetxt(
        path,
        np.column_stack([a, huge * 1e299, y]),
        delimiter=",",
        header="a,huge,y",
        comments="",
        fmt="%.17g",
    )
    proc = run_module("--csv", str(path), "--target", "y")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = parse_table(proc.stdout)
    assert sorted(rows) == sorted(ROW_NAMES)
    assert all(np.isfinite(r2(cells)) for cells in rows.values())
    # Standardising is scale-free: the same scores as with the column / 1e299.
    expected = reference_r2(np.column_stack([a, huge]), y)
    assert rows["LinearRegression (sklearn)"][2] == expected
    assert rows["one Newton step"][2] == expected
    assert "make_pipeline(MaxAbsScaler(), StandardScaler(), model)" in proc.stdout


def test_huge_target_is_rescaled(tmp_path, capsys):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 60))
    y = (3 * a - b + 0.1 * rng.normal(size=60)) * 1e305
    path = tmp_path / "huge_target.csv"
    np.savetxt(
        path,
        np.column_stack([a, b, y]),
        delimiter=",",
        header="a,b,y",
        comments="",
        fmt="%.17g",
    )
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert "note: target 'y' divided by 2**" in out
    rows = parse_table(out)
    expected = reference_r2(np.column_stack([a, b]), y / 1e305)
    assert rows["one Newton step"][2] == expected
    assert "nan" not in out


def test_odd_columns(tmp_path, capsys):
    """An empty column, infinities, a Latin-1 category: noted, and every row runs."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    lines = ["x;empty;place;y"]
    for i, value in enumerate(x):
        cell = "inf" if i == 3 else f"{value:.6f}"
        place = ["café", "gare", "port"][i % 3]
        lines.append(f"{cell};;{place};{2 * value + (i % 3)}")
    path = tmp_path / "odd.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert f"data: {path} (';'-separated, Latin-1), target 'y'" in out
    assert "columns: 1 numeric, 1 categorical, 1 dropped -> 4 model features" in out
    assert f"note: {path} is not UTF-8: read as Latin-1" in out
    assert "note: column 'empty' dropped: no values" in out
    assert "note: column 'x': 1 infinite values treated as missing" in out
    rows = parse_table(out)
    assert sorted(rows) == sorted(ROW_NAMES)
    assert r2(rows["one Newton step"]) > 0.9


@pytest.mark.parametrize(
    "content, message",
    [
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
            "is not a text table (it holds binary data); save it as CSV "
            "(comma- or tab-separated text) first",
        ),
        (
            b"a,y\n1,2\n3,4,5,6\n7,8\n",
            "is not a table with one header row: C error: Expected 2 fields in "
            "line 3, saw 4 (every row needs as many fields as the header; --sep "
            "sets the separator)",
        ),
        (b"", "is empty"),
    ],
    ids=["binary", "ragged", "empty"],
)
def test_not_a_table_subprocess(tmp_path, content, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    proc = run_module("--csv", str(path), "--target", "y")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == f"error: {path} {message}\n"


def test_mixed_types_across_chunks_become_text(tmp_path):
    from onestep_sklearn._cli.read import read_table

    # pandas types a large file by chunk: here ints first, then text.
    n_rows = 300_000
    code = np.where(np.arange(n_rows) < 290_000, np.arange(n_rows) % 3, -1)
    frame = pd.DataFrame({"code": code.astype(str), "y": np.arange(n_rows) % 7})
    frame.loc[frame["code"] == "-1", "code"] = "x"
    path = tmp_path / "mixed.csv"
    frame.to_csv(path, index=False)
    table = read_table(str(path), "y")
    assert set(table.X["code"].unique()) == {"0", "1", "2", "x"}
    assert table.notes == ["column 'code': numbers and text mixed, read as text"]


def test_trailing_separator_gives_an_empty_column(tmp_path, capsys):
    path = tmp_path / "trailing.csv"
    path.write_text(
        "a,y,\n" + "".join(f"{i},{2 * i + i % 3}," + "\n" for i in range(30))
    )
    code, out, _ = run_csv(capsys, path, "y")
    assert code == 0
    assert "columns: 1 numeric, 1 dropped -> 1 model feature\n" in out
    assert "note: column 'Unnamed: 2' dropped: no values" in out


def test_directory_is_not_a_file(tmp_path, capsys):
    code, out, err = run_csv(capsys, tmp_path, "y")
    assert code == 2 and out == ""
    assert only_error_line(err) == f"error: {tmp_path} is a directory, not a file"


def test_failed_row_shows_its_reason(monkeypatch, capsys):
    from onestep_sklearn._cli import command as cli

    rows = [
        ("one Newton step", OneStepRegressor(), "1 (Newton)"),
        ("one gradient step, eta=0.01", OneStepRegressor(learning_rate=-1.0), None),
    ]
    monkeypatch.setattr(cli, "demo_models", lambda: rows)
    assert cli.main([]) == 0
    table = parse_table(capsys.readouterr().out)
    assert r2(table["one Newton step"]) > 0.4
    failed = table["one gradient step, eta=0.01"]
    assert failed[1] == "OneStepRegressor(learning_rate=-1.0)"
    assert failed[2:7] == ["failed", "-", "-", "-", "-"]
    assert failed[7].startswith("InvalidParameterError: The 'learning_rate' parameter")
    assert failed[7].endswith("Got -1.0 instead.")


def test_every_row_failed_exits_1(monkeypatch, capsys):
    from onestep_sklearn._cli import command as cli

    rows = [("one Newton step", OneStepRegressor(alpha=-1.0), "1 (Newton)")]
    monkeypatch.setattr(cli, "demo_models", lambda: rows)
    assert cli.main([]) == 1
    captured = capsys.readouterr()
    assert parse_table(captured.out)["one Newton step"][2] == "failed"
    assert "every model failed: see the notes under the table" in captured.err


def test_progress_lines_on_slow_runs(monkeypatch, capsys):
    from onestep_sklearn._cli import table as _cli_table

    monkeypatch.setattr(_cli_table, "PROGRESS_AFTER_SECONDS", 0.0)
    assert main([]) == 0
    err = capsys.readouterr().err.splitlines()
    progress = [line for line in err if "cross-validating" in line]
    assert len(progress) == len(ROW_CALLS)
    n = len(ROW_CALLS)
    for i, (line, call) in enumerate(zip(progress, ROW_CALLS.values()), start=1):
        assert re.fullmatch(
            rf"\[{i}/{n}\] cross-validating {re.escape(call)} \(\d+\.\d s elapsed\)",
            line,
        )


def test_default_run_prints_no_progress(capsys):
    assert main([]) == 0
    assert capsys.readouterr().err == ""


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
        del cells[3], expected[3]  # the fit time varies
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
