"""The command: ``python -m onestep_sklearn [--csv PATH --target COLUMN]``.

Compares, by 5-fold cross-validated R² and fit time, the textbook single
gradient step (learning rate 0.01), the best single gradient step (exact line
search), the single Newton step and gradient descent with scikit-learn's
``LinearRegression`` and ``SGDRegressor``; each row names the estimator call
that produced it. Every model is ``make_pipeline(preprocessing, model)``, with
what the data need (``_cli.columns``): numeric columns standardised (and
imputed with the median where they have gaps), categorical and boolean columns
imputed with the most frequent value and one-hot encoded, so the textbook
step size means the same thing on any data set. Without arguments it runs on
scikit-learn's bundled diabetes data (no download); ``--csv`` reads any
delimited text file with a header row (pandas; the separator is sniffed
unless ``--sep`` gives it). ``--plot FILE.png`` also writes a figure: the loss
curves of the gradient methods and a learning-rate sweep with the stability
limit 2/L marked (needs matplotlib, the ``plot`` extra).
"""

import argparse
import os
import sys
import textwrap
import warnings

import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_diabetes
from sklearn.pipeline import Pipeline

from onestep_sklearn import __version__, suggest_learning_rate
from onestep_sklearn._cli.collinear import near_singular_note
from onestep_sklearn._cli.columns import (
    MAX_CATEGORIES,
    classify_columns,
    design_input,
    make_preprocessor,
    rescale_target,
)
from onestep_sklearn._cli.plot import check_plot_path, plot_figure
from onestep_sklearn._cli.read import (
    SEPARATOR_NAMES,
    DataError,
    parse_separator,
    read_table,
)
from onestep_sklearn._cli.shared_folds import (
    MAX_SHARED_ENTRIES,
    FoldPreprocessor,
    SharedFolds,
)
from onestep_sklearn._cli.table import (
    MAX_WIDTH,
    N_FOLDS,
    Progress,
    compare,
    demo_cv,
    demo_models,
    format_table,
)

# R² of a test fold needs two of its rows.
MIN_ROWS = 2 * N_FOLDS
# A sparse design (one-hot columns) with at most this many entries is given
# to ``suggest_learning_rate`` dense: it then forms the d × d Hessian and
# takes its eigenvalues exactly (0.04 s on 1,500 × 895), where on sparse
# input above 500 columns it runs Lanczos for the smallest eigenvalue, which
# on the singular Hessian of one-hot blocks beside the intercept exhausts
# its iterations before falling back to that same formed Hessian (1.1 s).
DENSE_FACTS_MAX_ENTRIES = 4_000_000
DENSE_FACTS_MAX_FEATURES = 2000


def load_data(args):
    """The data to compare on, from ``--csv`` or the bundled diabetes set.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_columns)
    y : ndarray of shape (n_samples,)
    source : str
        Where the data came from, for the summary.
    n_rows_read : int
        Data rows before rows without a target were dropped.
    notes : list of str
        What the reader did to the data.

    Raises
    ------
    DataError
        If the file cannot be used (see :func:`read_table`).
    """
    if args.csv is None:
        diabetes = load_diabetes(as_frame=True)
        X, y = diabetes.data, diabetes.target.to_numpy()
        return X, y, "diabetes (scikit-learn, bundled)", len(y), []
    separator = None if args.sep is None else parse_separator(args.sep)
    table = read_table(args.csv, args.target, separator, args.decimal)
    separator_name = SEPARATOR_NAMES.get(table.separator, repr(table.separator))
    source = f"{args.csv} ({separator_name}-separated, {table.encoding})"
    return table.X, table.y, source, table.n_rows_read, table.notes


def _steps(transformer):
    """``"A(), B()"``: a Pipeline's steps, or the one transformer, as code."""
    if isinstance(transformer, Pipeline):
        return ", ".join(repr(step) for _, step in transformer.steps)
    return repr(transformer)


def describe_preprocessing(preprocessor):
    """``make_pipeline(<preprocessing>, model)``, in code as far as it is short.

    A ColumnTransformer is described by its column groups' steps, a line
    each; its column lists would not fit on a line.
    """
    if not isinstance(preprocessor, ColumnTransformer):
        return f"make_pipeline({_steps(preprocessor)}, model)"
    groups = ";\n".join(
        f"  {name} columns: {_steps(transformer)}"
        for name, transformer, _ in preprocessor.transformers
    )
    return f"make_pipeline(ColumnTransformer(...), model) with\n{groups}"


def prepare(X, y, data_name, max_categories):
    """Sort the columns, check there is enough to cross-validate, build the steps.

    Returns
    -------
    kinds : ColumnKinds
    preprocessor : estimator
        Unfitted; see :func:`make_preprocessor`.
    X_input : ndarray or pandas.DataFrame
        The kept columns, as ``preprocessor`` takes them.

    Raises
    ------
    DataError
        With no usable feature column, or fewer rows than the folds need.
    """
    kinds = classify_columns(X, max_categories)
    if not (kinds.numeric or kinds.categorical or kinds.boolean):
        dropped = f" (dropped: {', '.join(kinds.dropped)})" if kinds.dropped else ""
        raise DataError(f"{data_name}: no feature columns to fit on{dropped}")
    if len(y) < MIN_ROWS:
        raise DataError(
            f"{data_name}: {len(y)} rows with a target; {N_FOLDS}-fold "
            f"cross-validation needs at least {MIN_ROWS} (2 per test fold, "
            "for R²)"
        )
    return kinds, make_preprocessor(kinds), design_input(X, kinds)


def learning_rate_facts(preprocessor, X):
    """``suggest_learning_rate`` of the preprocessed data, or a reason it failed."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            design = clone(preprocessor).fit_transform(X)
            n_rows, n_features = design.shape
            if (
                sp.issparse(design)
                and n_features <= DENSE_FACTS_MAX_FEATURES
                and n_rows * n_features <= DENSE_FACTS_MAX_ENTRIES
            ):
                design = design.toarray()
            return suggest_learning_rate(design), n_features, None
    except (ValueError, FloatingPointError, ArithmeticError) as exc:
        return None, None, f"{type(exc).__name__}: {exc}"


def shared_preprocessing(X, y, preprocessor, n_features):
    """The preprocessing of every fold of the comparison, fitted once
    (``_cli.shared_folds``), or None for a design too large to keep five
    times (or unknown: ``n_features`` None) or a preprocessing that fails on
    a fold (the rows then report it)."""
    if n_features is None or len(y) * n_features > MAX_SHARED_ENTRIES:
        return None
    shared = SharedFolds(preprocessor)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shared.warm(X, y, demo_cv())
    except Exception:  # each row's own pipeline then says what failed
        return None
    return shared


def print_summary(source, target, n_rows_read, n_rows, kinds, n_features, notes):
    """Print what was read and what the preprocessing does with it.

    Parameters
    ----------
    source : str
        Where the data came from.
    target : str
        Name of the target column.
    n_rows_read, n_rows : int
        Data rows read, and rows used (those with a target).
    kinds : ColumnKinds
        The feature columns by kind.
    n_features : int or None
        Columns of the preprocessed design matrix, if it could be formed.
    notes : list of str
        What was done to the data, one line each.
    """
    print(f"data: {source}, target {target!r}")
    n_dropped = n_rows_read - n_rows
    dropped = f", {n_dropped} dropped (no target)" if n_dropped else ""
    print(f"rows: {n_rows} used{dropped}")
    design = ""
    if n_features is not None:
        design = f" -> {n_features} model feature{'s' * (n_features != 1)}"
    print(f"columns: {kinds.summary()}{design}")
    for note in notes:
        print(f"note: {note}")


def build_parser():
    """The command line; ``main`` documents the exit codes."""
    parser = argparse.ArgumentParser(
        prog="python -m onestep_sklearn",
        description="Single gradient / Newton steps against scikit-learn, "
        "by 5-fold CV R² (default data: diabetes).",
    )
    parser.add_argument(
        "--csv",
        metavar="PATH",
        help="delimited text file with a header row (separator sniffed)",
    )
    parser.add_argument("--target", metavar="COLUMN", help="column to predict")
    parser.add_argument(
        "--sep",
        metavar="CHAR",
        help="field separator of --csv, instead of sniffing it ('\\t' or tab: a tab)",
    )
    parser.add_argument(
        "--decimal",
        metavar="CHAR",
        choices=[".", ","],
        help="decimal mark of --csv's numbers, '.' or ',' (default: ',' in a "
        "';'-separated file whose numbers all use it, else '.')",
    )
    parser.add_argument(
        "--max-categories",
        metavar="N",
        type=int,
        default=MAX_CATEGORIES,
        help="a text column with more distinct values is dropped as free text "
        f"or an ID (default: {MAX_CATEGORIES})",
    )
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="also write a figure (e.g. FILE.png): loss curves and a "
        "learning-rate sweep with 2/L marked; needs matplotlib",
    )
    parser.add_argument(
        "--version", action="version", version=f"onestep_sklearn {__version__}"
    )
    return parser


def main(argv=None):
    """Run the comparison and print the table.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        Exit code: 0 on success, 1 if every model failed (the table says
        why), 2 on bad input (one ``error:`` line on stderr).
    """
    progress = Progress()
    parser = build_parser()
    args = parser.parse_args(argv)
    if (args.csv is None) != (args.target is None):
        parser.error("--csv and --target go together")
    if args.sep is not None and args.csv is None:
        parser.error("--sep needs --csv")
    if args.decimal is not None and args.csv is None:
        parser.error("--decimal needs --csv")
    if args.decimal is not None and args.sep is not None:
        if parse_separator(args.sep) == args.decimal:
            parser.error(f"--decimal {args.decimal} is also the separator (--sep)")
    if args.sep is not None and len(parse_separator(args.sep)) != 1:
        # pandas would fall back to its slow Python engine and read a regex.
        parser.error(f"--sep must be one character, not {args.sep!r}")
    if args.max_categories < 1:
        parser.error("--max-categories must be at least 1")
    target = "target" if args.target is None else args.target
    try:
        if args.plot is not None:
            check_plot_path(args.plot)
        X, y, source, n_rows_read, notes = load_data(args)
        data_name = "diabetes" if args.csv is None else args.csv
        kinds, preprocessor, X = prepare(X, y, data_name, args.max_categories)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    progress.report(f"read {source}: {n_rows_read} rows")
    y, target_note = rescale_target(y, target)
    notes += kinds.notes + ([target_note] if target_note else [])

    facts, n_features, facts_failure = learning_rate_facts(preprocessor, X)
    print_summary(source, target, n_rows_read, len(y), kinds, n_features, notes)
    if facts is None:
        print(f"standardised: L unknown ({facts_failure})")
    else:
        print(
            f"standardised: L = {facts.lipschitz:.4g}, 1/L = {facts.auto:.4g}, "
            f"2/L = {facts.max_stable:.4g} (stability limit), "
            f"condition number = {facts.condition_number:.4g}"
        )
    print()
    max_stable = None if facts is None else facts.max_stable
    progress.report("checking the training folds for near-collinear columns")
    columns = [
        str(name) for name in (kinds.kept if hasattr(X, "iloc") else kinds.numeric)
    ]
    shared = shared_preprocessing(X, y, preprocessor, n_features)
    row_steps = preprocessor if shared is None else FoldPreprocessor(shared)
    note = near_singular_note(X, y, row_steps, demo_cv(), columns)
    results = compare(
        X, y, row_steps, demo_models(), max_stable, progress, note is not None
    )
    print(format_table(results, note))
    print()
    print(
        f"{N_FOLDS}-fold KFold(shuffle=True, random_state=0); every model is "
        f"{describe_preprocessing(preprocessor)}."
    )
    for paragraph in [
        "learning rate: the mean learning_rate_ of the fold estimators "
        "(cross_validate(return_estimator=True)); for IterativeGDRegressorCV, "
        "the rate and iteration count it chose by its own 5-fold CV, averaged "
        "over the folds.",
    ] + [
        "fit (ms): the mean time of the model's fit on a fold's preprocessed "
        "rows (the preprocessing is fitted once per fold, for every row)."
    ] * (shared is not None):
        print(textwrap.fill(paragraph, MAX_WIDTH, break_on_hyphens=False))
    if results["failed"].all():
        print("every model failed: see the notes under the table", file=sys.stderr)
        return 1
    if args.plot is not None:
        progress.report(f"drawing {args.plot}")
        try:
            plot_figure(X, y, preprocessor, facts, args.plot)
        except OSError as exc:
            print(f"error: cannot write {args.plot}: {exc}", file=sys.stderr)
            return 2
        print(f"figure written to {args.plot}")
    return 0


def run():
    """``main`` as a program: output piped into ``head`` ends quietly.

    When the reader of stdout closes it early, the rest of the output is sent
    to /dev/null (so that the interpreter's final flush does not fail too) and
    the exit code is 1, Python's own for a broken pipe.
    """
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return code
