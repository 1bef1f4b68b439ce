"""Reading the CLI's ``--csv PATH --target COLUMN`` into a table and a target.

pandas does the parsing (quoting, missing values, booleans, the C engine's
speed); this module adds what a newcomer's file needs on top of it: the
separator sniffed from a sample, duplicated header names caught before pandas
renames them, quoted thousands (``"288,216.23"``) recognised only when every
value of the column has that form, decimal commas (``3,14``) in
``;``-separated files whose numbers all use them (``--decimal`` decides
otherwise), a written index (an unnamed first column counting the rows, as
``DataFrame.to_csv()`` and R's ``write.csv`` write it) dropped, and a numeric
target with the rows that lack one dropped. Every problem is a
:class:`DataError`: one line for the user, no traceback.
"""

import csv
import difflib
import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

SNIFF_BYTES = 64 * 1024
SEPARATORS = ",;\t|"
SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
# Strict digit grouping: "1,5" in a ';' file is a decimal comma, not 15.
THOUSANDS = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?")
# A number written with a decimal comma, and one with a decimal point.
COMMA_DECIMAL = re.compile(r"[+-]?\d*,\d+(?:[eE][+-]?\d+)?")
POINT_DECIMAL = re.compile(r"[+-]?\d*\.\d+(?:[eE][+-]?\d+)?")
# Values checked before a whole column is: most text columns fail at once.
THOUSANDS_PROBE = 1000
MAX_LISTED_COLUMNS = 12


class DataError(Exception):
    """Bad user input: reported as one ``error:`` line and exit code 2."""


@dataclass
class Table:
    """A file read for the CLI.

    Attributes
    ----------
    X : pandas.DataFrame of shape (n_samples, n_columns)
        Every column but the target, rows with a target only.
    y : ndarray of shape (n_samples,)
        The target, float64 and finite.
    separator : str
        The separator used (sniffed or given).
    encoding : str
        The text encoding the file was read with.
    n_rows_read : int
        Data rows in the file, before rows without a target were dropped.
    notes : list of str
        What was done to the data that the user should know.
    """

    X: pd.DataFrame
    y: np.ndarray
    separator: str
    encoding: str
    n_rows_read: int
    notes: list = field(default_factory=list)


def parse_separator(text):
    """The separator given to ``--sep``: ``\\t`` and ``tab`` mean a tab."""
    return "\t" if text in ("\\t", "tab", "TAB") else text


def _sample(path):
    """The first bytes of ``path``, or a DataError saying why they cannot be read."""
    try:
        with open(path, "rb") as f:
            return f.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise DataError(f"file not found: {path}") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a directory, not a file") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _encoding(path, sample):
    """UTF-8 if the sample decodes as UTF-8, else Latin-1 (any byte decodes)."""
    if b"\x00" in sample:
        # Text tables hold no NUL bytes; spreadsheets, images and archives do.
        raise DataError(
            f"{path} is not a text table (it holds binary data); "
            "save it as CSV (comma- or tab-separated text) first"
        )
    try:
        sample.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still UTF-8.
        if len(sample) < SNIFF_BYTES or exc.start < SNIFF_BYTES - 3:
            return "latin-1"
    return "utf-8-sig"


def _sniff_separator(sample, encoding):
    """The separator of the sample's complete lines; ',' if it is ambiguous."""
    text = sample.decode(encoding, errors="ignore")
    if len(sample) == SNIFF_BYTES:
        text = text[: text.rfind("\n") + 1] or text
    try:
        return csv.Sniffer().sniff(text, delimiters=SEPARATORS).delimiter
    except csv.Error:
        return ","


def _sniff_decimal(sample, encoding, separator):
    """``","`` if the sample's fields write decimals with a comma, else ``"."``.

    Only a ``;``-separated file can (a comma separator leaves commas to
    quoted thousands); it must hold a number like ``3,14`` and none like
    ``3.14``, so that a ``;`` file with decimal points keeps them.
    """
    if separator != ";":
        return "."
    text = sample.decode(encoding, errors="ignore")
    if len(sample) == SNIFF_BYTES:
        text = text[: text.rfind("\n") + 1] or text
    rows = list(csv.reader(text.splitlines()[1:], delimiter=separator))
    fields = [field.strip() for row in rows for field in row]
    commas = any(COMMA_DECIMAL.fullmatch(field) for field in fields)
    points = any(POINT_DECIMAL.fullmatch(field) for field in fields)
    return "," if commas and not points else "."


def _is_written_index(column, name, position):
    """Whether ``column`` is a written row index: the unnamed first column,
    counting 0..n−1 (pandas' ``to_csv()``) or 1..n (R's ``write.csv``)."""
    if position != 0 or not name.startswith("Unnamed: "):
        return False
    if not pd.api.types.is_integer_dtype(column) or column.empty:
        return False
    values = column.to_numpy()
    first = values[0]
    counting = np.arange(first, first + len(values))
    return first in (0, 1) and np.array_equal(values, counting)


def _read_csv(path, **kwargs):
    """``pandas.read_csv`` with its errors as DataErrors."""
    try:
        with warnings.catch_warnings():
            # index_col=False drops surplus fields with only a warning.
            warnings.simplefilter("error", pd.errors.ParserWarning)
            # Mixed types (numbers in some chunks, text in others) are made
            # text by _as_text.
            warnings.simplefilter("ignore", pd.errors.DtypeWarning)
            return pd.read_csv(path, index_col=False, skipinitialspace=True, **kwargs)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty") from None
    except (pd.errors.ParserError, pd.errors.ParserWarning) as exc:
        reason = (
            str(exc).strip().splitlines()[0].removeprefix("Error tokenizing data. ")
        )
        raise DataError(
            f"{path} is not a table with one header row: {reason} "
            "(every row needs as many fields as the header; --sep sets the "
            "separator)"
        ) from None
    except UnicodeDecodeError:
        raise
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read {path}: {exc}") from None


def _header(path, separator, encoding):
    """Column names from the header row, stripped, duplicates refused.

    pandas would rename a second ``y`` to ``y.1`` and let it in as a feature
    (a copy of the target: every model scores R² = 1), so the header is read
    as a data row and checked here.
    """
    first_row = _read_csv(
        path,
        sep=separator,
        encoding=encoding,
        header=None,
        nrows=1,
        dtype=str,
        keep_default_na=False,
    )
    names = [
        str(name).strip() or f"Unnamed: {i}" for i, name in enumerate(first_row.iloc[0])
    ]
    positions = {}
    for i, name in enumerate(names):
        positions.setdefault(name, []).append(i + 1)
    duplicated = {name: at for name, at in positions.items() if len(at) > 1}
    if duplicated:
        listed = "; ".join(
            f"{name!r} (columns {', '.join(map(str, at))})"
            for name, at in duplicated.items()
        )
        raise DataError(
            f"duplicated column names in {path}: {listed}; "
            "give every column its own name"
        )
    return names


def _listed(names):
    shown = ", ".join(names[:MAX_LISTED_COLUMNS])
    if len(names) > MAX_LISTED_COLUMNS:
        shown += f", … ({len(names) - MAX_LISTED_COLUMNS} more)"
    return shown


def _check_target_present(path, names, target, separator):
    if target in names:
        return
    message = f"column {target!r} not in {path} (columns: {_listed(names)})"
    close = [name for name in names if name.lower() == target.lower()]
    close = close or difflib.get_close_matches(target, names, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    other = [s for s in SEPARATORS if s != separator and any(s in n for n in names)]
    if len(names) <= 2 and other:
        message += (
            f"; the header looks {SEPARATOR_NAMES[other[0]]}-separated: "
            f"try --sep {other[0]!r}"
        )
    raise DataError(message)


def _as_text(column):
    """``column`` with every value as text, if it mixes numbers and text.

    pandas parses a large file in chunks and can type a column by chunk
    (0, 1 and "x"); the encoders need one type, and "0" and 0 are one value.
    """
    if column.dtype != object:
        return None
    types = set(column.dropna().map(type).unique())
    if len(types) < 2 or types <= {bool, np.bool_}:
        return None
    return column.where(column.isna(), column.astype(str))


def _numeric_from_thousands(column):
    """``column`` as floats if every value is a number like ``288,216.23``."""
    values = column.dropna()
    if values.empty or not pd.api.types.is_string_dtype(values):
        return None
    probe = values.iloc[:THOUSANDS_PROBE]
    # na=False: an object column of non-strings (booleans) is not numbers.
    if not probe.str.fullmatch(THOUSANDS, na=False).all():
        return None
    if not values.str.fullmatch(THOUSANDS, na=False).all():
        return None
    return pd.to_numeric(column.str.replace(",", "", regex=False))


def _first_non_numeric(column):
    """A value of ``column`` that is not a number, as text for a message."""
    values = column.dropna()
    if pd.api.types.is_bool_dtype(values):
        return str(values.iloc[0])
    bad = values[pd.to_numeric(values, errors="coerce").isna()]
    return str(bad.iloc[0] if len(bad) else values.iloc[0])


def read_table(path, target, separator=None, decimal=None):
    """Read a delimited text file with a header row; ``target`` becomes y.

    Parameters
    ----------
    path : str
        The file.
    target : str
        Name of the column to predict; it must hold numbers.
    separator : str, default=None
        Field separator; ``None`` sniffs it from the first 64 KiB.
    decimal : str, default=None
        Decimal mark of the numbers; ``None`` sniffs it (``","`` only in a
        ``;``-separated file whose numbers all use it).

    Returns
    -------
    Table
        The feature columns, the target and notes on what was done.

    Raises
    ------
    DataError
        If the file cannot be read or is not a table, a header name is
        duplicated, ``target`` is not a column or is not numeric.
    """
    sample = _sample(path)
    encoding = _encoding(path, sample)
    if separator is None:
        separator = _sniff_separator(sample, encoding)
    names = _header(path, separator, encoding)
    _check_target_present(path, names, target, separator)
    notes = []
    if decimal is None:
        decimal = _sniff_decimal(sample, encoding, separator)
        if decimal == ",":
            notes.append(
                "numbers with decimal commas (3,14 is 3.14); --decimal . reads "
                "them otherwise"
            )
    options = dict(sep=separator, header=0, names=names, decimal=decimal)
    try:
        frame = _read_csv(path, encoding=encoding, **options)
    except UnicodeDecodeError:
        # Past the sniffed sample: the rest of the file is not UTF-8.
        encoding = "latin-1"
        frame = _read_csv(path, encoding=encoding, **options)
    if encoding == "latin-1":
        notes.append(f"{path} is not UTF-8: read as Latin-1")
    first = frame.columns[0]
    if first != target and _is_written_index(frame[first], first, 0):
        frame = frame.drop(columns=first)
        notes.append(
            f"first column ({first!r}, unnamed, counting the rows) dropped: a "
            "written row index, not a feature"
        )
    for name in frame.columns:
        text = _as_text(frame[name])
        if text is not None:
            frame[name] = text
            notes.append(f"column {name!r}: numbers and text mixed, read as text")
        # Thousands are grouped by commas only where the decimal mark is a point.
        numbers = _numeric_from_thousands(frame[name]) if decimal == "." else None
        if numbers is not None:
            frame[name] = numbers
            notes.append(f"column {name!r}: numbers with thousands separators")
    y = frame.pop(target)
    if pd.api.types.is_bool_dtype(y) or not pd.api.types.is_numeric_dtype(y):
        if y.isna().all():
            raise DataError(f"target column {target!r} in {path} is empty")
        raise DataError(
            f"target column {target!r} in {path} is not numeric "
            f"(e.g. {_first_non_numeric(y)!r}); the target must be a number"
        )
    y = y.to_numpy(dtype=np.float64)
    n_rows_read = len(y)
    has_target = np.isfinite(y)
    if not has_target.all():
        frame, y = frame[has_target], y[has_target]
    return Table(
        X=frame,
        y=y,
        separator=separator,
        encoding="UTF-8" if encoding == "utf-8-sig" else "Latin-1",
        n_rows_read=n_rows_read,
        notes=notes,
    )
