"""Read a user's CSV file into feature and target arrays (stdlib ``csv`` + NumPy).

Format, as read by :func:`read_csv`:

* UTF-8 text (a UTF-8 byte-order mark is skipped; a gzip-compressed file is
  decompressed while it is read).  UTF-16 and other encodings are rejected with a message.
* Delimiter: comma, semicolon or tab, detected from the first lines (see
  :func:`detect_delimiter`) or forced (``delimiter=``, ``data.csv_delimiter``).  Fields
  may be quoted (``"a, b"``); a quoted field may contain the delimiter, doubled quotes
  and line breaks.  Spaces after a delimiter are skipped.
* Decimal mark: ``.``, or ``,`` when the delimiter is not a comma and the first lines
  hold numbers written with a decimal comma (``1,5``) and none with a decimal point
  (see :func:`detect_decimal`); or forced (``decimal=``, ``data.csv_decimal``).  With a
  decimal comma a cell with a ``.`` is refused (it may be a thousands separator).
* Header: the first row is a header when one of its cells is text in a column
  whose second-row cell is a number (the numeric check); when no column is
  numeric in the second row, :meth:`csv.Sniffer.has_header` decides.  Without a
  header the columns are called ``column_1, column_2, ...``.
* Blank lines (and rows whose cells are all empty) are skipped.
* The target is ``target_column`` (a header name) or, by default, the last
  column.  Every other column is a feature and must hold finite numbers.
* Missing values (empty cell, ``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``?``,
  ``-``): a missing feature value is kept as NaN in ``X`` and counted
  (``missing_values``); a row whose *target* is missing is left out
  (``missing_target_lines``).  ``missing="refuse"`` refuses the first missing value in
  file order instead (:class:`MissingValueError`).  What
  :func:`~workbench.data.load_dataset` does with them is ``data.missing``.

Task (``task="auto"``, the rule): a target with any non-numeric label is
classification; a numeric target is classification when every value is an
integer and there are at most ``AUTO_MAX_CLASSES`` (20) distinct values, and
regression otherwise.  ``task="classification"`` or ``"regression"`` forces it
(regression needs a numeric target).  Class labels map to class indices in
sorted order: numerically when every label is a number (``2 < 10``), else as
strings; the label texts are kept as ``class_names``.  A numeric target with an
infinite value (``inf``, ``1e999``) is refused, naming its line.

Errors are :class:`DataError` whose message names the place: ``line 7, column
'petal_width': not a number ('abc')`` (1-based line numbers as in a text editor;
the line where the record starts; columns by header name, or by 1-based number
when the file has no header).  Numbers are shown as written in the file
(``1e39 is too large for float32``), never as a NumPy repr.

Bounds (``workbench.limits``), each checked before the memory or time it protects is
spent: the file's size from its ``stat`` before it is hashed or read; the decompressed
size while a ``.gz`` file is decompressed; each record's length while it is read
(``MAX_CSV_LINE_CHARS = MAX_CSV_COLS x (MAX_CSV_CELL_CHARS + 1)``, so a 50 kB gzip file
holding a 50 MB first line is refused after reading about 250 kB of it), its column count
as soon as it is split, the row count at each row and the class count at each new label.

Only a regular file is read: a directory (``... is a directory, not a CSV file``),
a device, FIFO or socket (``... is not a regular file (a character device)``) is
rejected from its ``stat`` before it is opened (``/dev/zero`` never ends, a FIFO
blocks); the file is then opened without blocking and checked again.

Parsed tables are cached (:func:`load_table`): keyed by the SHA-256 of the file's bytes and
the parse options, at most ``CSV_CACHE_BYTES`` in total, least recently used first out.
Cached arrays are read-only.  The cache is shared by threads (a lock guards it).

This module parses (:func:`parse_csv_bytes`) and loads (:func:`load_table`,
:func:`read_csv`); its parts have modules of their own, whose public names import from
here too: :mod:`.csv_file` (the file on disk), :mod:`.csv_stream` (bytes to records),
:mod:`.csv_cells` (cells, delimiter, decimal mark, header) and :mod:`.csv_cache`.

Why this module is long: its parts are already split out (see the previous paragraph); what
is left is one job, the parse of bytes into arrays, whose loop keeps the line and column of
every cell so that each error and each bound can name its place -- and this docstring, which
is the format's specification.
"""


from __future__ import annotations

import hashlib
import itertools
import math
import threading
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np

from ..limits import (
    MAX_CLASSES,
    MAX_CSV_BYTES as MAX_BYTES,
    MAX_CSV_CELL_CHARS as MAX_CELL_CHARS,
    MAX_CSV_COLS as MAX_COLS,
    MAX_CSV_LINE_CHARS as MAX_LINE_CHARS,
    MAX_CSV_ROWS as MAX_ROWS,
)
from .csv_cache import CACHE_BYTES, cache_bytes, cache_get, cache_put, clear_cache, table_bytes  # noqa: F401
from .csv_cells import (  # noqa: F401  (detect_*, DELIMITERS, ... re-exported)
    DECIMALS,
    DELIMITERS,
    MISSING_TOKENS,
    as_written,
    detect_decimal,
    detect_delimiter,
    detect_header,
    format_label,
    is_comma_number,
    is_missing,
    is_number,
    sample_rows,
    to_float,
)
from .csv_file import (  # noqa: F401
    PathLike, open_regular, csv_path_problem, file_sha256, not_a_csv_file, read_file_bytes, too_large,
)
from .csv_stream import PROGRESS_INTERVAL, Lines, Progress, ProgressMeter, check_gzip_size, records_of  # noqa: F401
from .errors import DataError, MissingValueError

MIN_ROWS = 4  # data rows
MIN_PER_CLASS = 2  # rows of each class (stratified splitting needs two)
AUTO_MAX_CLASSES = 20  # task="auto": integer targets with at most this many values are classes
TASKS = ("auto", "classification", "regression")
MISSING_CHOICES = ("keep", "refuse")  # read_csv's; load_dataset's are data.missing's
_PROGRESS_ROWS = 1024  # records between two looks at the clock
_SNIFF_CHARS = 64 * 1024


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False
    return a


_NO_LINES = _readonly(np.zeros(0, np.int64))


@dataclass(frozen=True, eq=False)
class CsvTable:
    """A parsed CSV file.

    ``X`` float32 ``(n, d)`` (NaN where a feature value is missing); ``y`` int64 ``(n,)``
    class indices (classification) or float32 ``(n, 1)`` (regression); ``class_names[i]``
    is the label text of class ``i`` (empty for regression); ``line_numbers[i]`` is the
    1-based line where data row ``i`` starts.  Rows without a target value are not among
    the ``n``: their lines are ``missing_target_lines``.  ``missing_values`` counts the
    NaN cells of ``X``.  The arrays are read-only (tables are cached and shared)."""

    X: np.ndarray
    y: np.ndarray
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    task: str
    target_column: str
    delimiter: str
    has_header: bool
    warnings: tuple[str, ...]
    line_numbers: np.ndarray
    decimal: str = "."
    missing_values: int = 0
    missing_target_lines: np.ndarray = field(default_factory=lambda: _NO_LINES)

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.task == "classification" else 0


# ---------------------------------------------------------------------------
# the parse
_PARSES = 0
_PARSES_LOCK = threading.Lock()


def parse_count() -> int:
    """How many files have been parsed (cache misses) since the program started."""
    return _PARSES


def parse_csv_bytes(
    data: bytes,
    target_column: Optional[str] = None,
    task: str = "auto",
    *,
    max_rows: int = MAX_ROWS,
    max_cols: int = MAX_COLS,
    max_bytes: int = MAX_BYTES,
    delimiter: str = "auto",
    decimal: str = "auto",
    missing: str = "keep",
    progress: Optional[Progress] = None,
    label: str = "data",
) -> CsvTable:
    """:func:`read_csv` on the file's bytes already in memory (gzip or UTF-8 text), not
    cached; ``progress(fraction, message)`` is called while the bytes are read (messages
    start with ``label``)."""
    global _PARSES
    with _PARSES_LOCK:
        _PARSES += 1
    if task not in TASKS:
        raise DataError(f"data.task: must be one of {', '.join(TASKS)}, got {task!r}")
    _check_option("csv_delimiter", delimiter, ("auto",) + DELIMITERS)
    _check_option("csv_decimal", decimal, ("auto",) + DECIMALS)
    _check_option("missing", missing, MISSING_CHOICES)
    refuse = missing == "refuse"
    if delimiter == "," and decimal == ",":
        raise DataError("data.csv_decimal: a decimal comma needs a delimiter other than ','")
    meter = ProgressMeter(progress, label, len(data))
    meter.start()
    check_gzip_size(data, max_bytes)

    lines, records, delimiter, decimal, sample, first, second, has_header, names = \
        _head(data, max_bytes, max_cols, delimiter, decimal)
    first_line, first_row = first
    width = len(first_row)

    def col_label(j: int) -> str:
        return f"column {names[j]!r}" if has_header else f"column {j + 1}"

    # target column
    if target_column is None:
        t = width - 1
    elif target_column in names:
        t = names.index(target_column)
    else:
        folded = [j for j, n in enumerate(names) if n.strip().casefold() == str(target_column).strip().casefold()]
        if len(folded) != 1:
            raise DataError(
                f"data.target_column: target column {target_column!r} not found; the columns are: "
                + ", ".join(names)
            )
        t = folded[0]
    feature_idx = [j for j in range(width) if j != t]
    feature_names = tuple(names[j] for j in feature_idx)
    target_name = names[t]
    target_label = f"target column {target_name!r}" if has_header else f"target column {t + 1}"

    # data rows
    values = array("f")  # float32 as the arrays will be; C's double -> float rounding, as NumPy's astype
    targets: list[str] = []
    lines_kept = array("q")
    missing_target = array("q")
    first_infinite_target: Optional[tuple[int, str]] = None
    text_labels = 0  # targets that are not numbers
    distinct_text: set[str] = set()
    distinct_numbers: set[float] = set()
    reference = "the header" if has_header else f"line {first_line}"
    convert = float if decimal == "." else (lambda c: to_float(c, ","))
    n_data = 0

    def rows():
        if not has_header:
            yield first
        if second is not None:
            yield second
        yield from records

    for line, row in rows():
        if len(row) != width:
            raise DataError(f"line {line}: expected {width} fields (as in {reference}), found {len(row)}")
        if n_data >= max_rows:
            raise DataError(f"line {line}: more than {max_rows} data rows; the limit is {max_rows}")
        n_data += 1
        if n_data % _PROGRESS_ROWS == 0:
            meter.update(lines.source.consumed)
        label = row[t].strip()
        target_missing = label.lower() in MISSING_TOKENS
        if target_missing and not refuse:
            missing_target.append(line)
            continue
        if target_missing and t < feature_idx[0]:  # refused, and the row's first cell
            raise MissingValueError(_missing(line, col_label(t), label, "missing target value"))
        cells = [row[j] for j in feature_idx]
        mark = len(values)
        try:
            values.extend(map(convert, cells))
            if refuse and math.isnan(sum(values[mark:])):  # a "nan" cell (or inf - inf: looked at below)
                raise ValueError
        except ValueError:
            del values[mark:]
            for j, cell in zip(feature_idx, cells):
                try:
                    v = convert(cell)
                except ValueError:
                    if not is_missing(cell):
                        raise DataError(_not_a_number(line, col_label(j), cell, decimal)) from None
                    v = math.nan
                if refuse and math.isnan(v):
                    raise MissingValueError(_missing(line, col_label(j), cell.strip(), "missing value"))
                values.append(v)
        if target_missing:  # refused, after the row's feature cells to its left
            raise MissingValueError(_missing(line, col_label(t), label, "missing target value"))
        # the target: numbers and text labels are told apart as they come, classes counted
        try:
            v = convert(label)
        except ValueError:
            v = None
            text_labels += 1
        if v is not None and not math.isfinite(v) and first_infinite_target is None:
            first_infinite_target = (line, label)
        if task != "regression":
            distinct_text.add(label)
            if v is not None and task == "classification" and not text_labels:
                distinct_numbers.add(v)
            k = len(distinct_text) if text_labels else (len(distinct_numbers) if task == "classification" else 0)
            if k > MAX_CLASSES:
                raise DataError(f"line {line}, {col_label(t)}: {k} distinct labels ({label!r} is one too many); "
                                f"at most {MAX_CLASSES} classes are supported (is {target_name!r} the right "
                                f"target column?)")
        targets.append(label)
        lines_kept.append(line)

    n = len(targets)
    if n == 0:
        if missing_target:
            raise DataError(f"no data row has a target value ({len(missing_target)} rows without one)")
        raise DataError("the file has a header but no data rows" if has_header else "the file has no data rows")
    if n < MIN_ROWS:
        more = f" ({len(missing_target)} more without a target value)" if len(missing_target) else ""
        raise DataError(f"only {n} data row{'s' if n != 1 else ''}{more}; at least {MIN_ROWS} are needed")
    line_numbers = np.frombuffer(lines_kept, dtype=np.int64).copy()
    X = np.frombuffer(values, dtype=np.float32).reshape(n, len(feature_idx)).copy()
    del values
    missing_mask = np.isnan(X)
    n_missing = int(np.count_nonzero(missing_mask))
    infinite = np.isinf(X)
    if infinite.any():
        i, k = (int(v) for v in np.argwhere(infinite)[0])
        cell = _cell_at(data, max_bytes, delimiter, max_cols, int(line_numbers[i]), feature_idx[k])
        try:
            v = to_float(cell, decimal) if cell is not None else math.inf
        except ValueError:  # pragma: no cover - the cell was read as this number
            v = math.inf
        shown = as_written(cell, v)
        what = f"not a finite number ({shown})" if math.isinf(v) else f"{shown} is too large for float32"
        raise DataError(f"line {int(line_numbers[i])}, {col_label(feature_idx[k])}: {what}")

    warnings: list[str] = []
    numeric: Optional[np.ndarray] = None
    if not text_labels:
        if first_infinite_target is not None:
            line, text = first_infinite_target
            raise DataError(f"line {line}, {target_label}: {text} is not a class label or a finite number")
        numeric = np.array([convert(s) for s in targets], dtype=np.float64)

    auto_classes = False
    if task == "auto":
        if numeric is None:
            task = "classification"
        else:
            distinct = np.unique(numeric)
            if np.all(distinct == np.round(distinct)) and len(distinct) <= AUTO_MAX_CLASSES:
                task = "classification"
                auto_classes = True
                warnings.append(
                    f"target {target_name!r} has {len(distinct)} distinct integer values: read as class labels "
                    f"(task 'auto'); choose task 'regression' to predict it as a number"
                )
            else:
                task = "regression"

    if task == "regression":
        if numeric is None:
            for line, s in zip(lines_kept, targets):
                if not is_number(s, decimal):
                    raise DataError(f"line {line}, {col_label(t)}: not a number ({s!r}); "
                                    f"a regression target must be numeric")
        with np.errstate(over="ignore", invalid="ignore"):
            y = numeric.astype(np.float32).reshape(-1, 1)
        if not np.isfinite(y).all():
            i = int(np.argwhere(~np.isfinite(y))[0, 0])
            shown = as_written(targets[i], float(numeric[i]))
            raise DataError(f"line {int(line_numbers[i])}, {col_label(t)}: {shown} is too large for float32")
        if float(numeric.max()) == float(numeric.min()):
            warnings.append(f"target {target_name!r} has the same value in every row")
        class_names: tuple[str, ...] = ()
    else:
        if numeric is not None:
            keys, inverse = np.unique(numeric, return_inverse=True)
            class_names = tuple(format_label(v) for v in keys)
        else:
            labels = sorted(set(targets))
            index = {lab: i for i, lab in enumerate(labels)}
            inverse = np.array([index[s] for s in targets], dtype=np.int64)
            class_names = tuple(labels)
        y = np.asarray(inverse, dtype=np.int64).reshape(-1)
        k = len(class_names)
        if k > MAX_CLASSES:  # pragma: no cover - refused while reading
            raise DataError(f"{col_label(t)}: {k} distinct labels; at most {MAX_CLASSES} classes are supported "
                            f"(is {target_name!r} the right target column?)")
        if k < 2:
            raise DataError(f"{col_label(t)}: every row has the label {class_names[0]!r}; "
                            f"classification needs at least 2 classes")
        counts = np.bincount(y, minlength=k)
        for c in range(k):
            if counts[c] < MIN_PER_CLASS:
                i = int(np.flatnonzero(y == c)[0])
                raise DataError(
                    f"line {int(line_numbers[i])}, {col_label(t)}: class {class_names[c]!r} has a single row; "
                    f"every class needs at least {MIN_PER_CLASS} rows (for stratified splitting)"
                    + ("; or choose task 'regression' to predict the target as a number" if auto_classes else "")
                )

    meter.finish(n)
    return CsvTable(
        X=_readonly(X),
        y=_readonly(y),
        feature_names=feature_names,
        class_names=class_names,
        task=task,
        target_column=target_name,
        delimiter=delimiter,
        has_header=has_header,
        warnings=tuple(warnings),
        line_numbers=_readonly(line_numbers),
        decimal=decimal,
        missing_values=n_missing,
        missing_target_lines=_readonly(np.frombuffer(missing_target, dtype=np.int64).copy()),
    )


def _check_option(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise DataError(f"data.{name}: must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")


def _missing(line: int, column: str, text: str, what: str) -> str:
    shown = f"({text!r})" if text else "(empty cell)"
    return f"line {line}, {column}: {what} {shown}; fill it in or remove the row"


def _not_a_number(line: int, column: str, cell: str, decimal: str) -> str:
    text = cell.strip()
    if decimal == "," and is_number(text):
        return f"line {line}, {column}: {text} has a decimal point, but the decimal mark is ',' (data.csv_decimal)"
    hint = " (a decimal comma? set data.csv_decimal to ',')" if decimal == "." and is_comma_number(text) else ""
    return f"line {line}, {column}: not a number ({text!r}); feature columns must be numeric{hint}"


def _cell_at(data: bytes, max_bytes: int, delimiter: str, max_cols: int, line: int, column: int) -> Optional[str]:
    """The field ``column`` (0-based) of the record that starts on ``line``; only called
    for an error, so reading the file again up to that record is fine."""
    lines = Lines(data, max_bytes, MAX_LINE_CHARS)
    for start, row in records_of(lines, lines.physical(), delimiter, max_cols):
        if start == line:
            return row[column] if column < len(row) else None
        if start > line:
            break
    return None


# ---------------------------------------------------------------------------
# loading: read, hash, parse unless cached
def load_table(
    path: PathLike,
    target_column: Optional[str] = None,
    task: str = "auto",
    *,
    delimiter: str = "auto",
    decimal: str = "auto",
    missing: str = "keep",
    progress: Optional[Progress] = None,
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_cols: int = MAX_COLS,
) -> tuple[CsvTable, str]:
    """``(table, sha256)`` of the CSV file ``path``: its bytes are read once (after its
    size is checked from ``stat``), hashed, and parsed unless a table of the same content
    and options is cached.  A parse error is cached too (raised again at once).
    ``progress(fraction, message)`` is called at a bounded rate while parsing, and once
    with 1.0 for a cached table."""
    data = read_file_bytes(path, max_bytes)
    sha = hashlib.sha256(data).hexdigest()
    key = (sha, target_column, task, delimiter, decimal, missing, max_bytes, max_rows, max_cols)
    label = Path(path).name
    hit = cache_get(key)
    if hit is None:
        try:
            table = parse_csv_bytes(data, target_column, task, max_rows=max_rows, max_cols=max_cols,
                                    max_bytes=max_bytes, delimiter=delimiter, decimal=decimal, missing=missing,
                                    progress=progress, label=label)
        except DataError as exc:
            cache_put(key, exc, len(str(exc)) + 256)
            raise type(exc)(str(exc)) from None
        del data
        cache_put(key, table, table_bytes(table))
        return table, sha
    if isinstance(hit, DataError):
        raise type(hit)(str(hit))
    if progress is not None:
        progress(1.0, f"{label}: {hit.n_rows} rows read")
    return hit, sha



def _head(data: bytes, max_bytes: int, max_cols: int, delimiter: str, decimal: str):
    """The start of a parse: bounded lines of ``data``, the delimiter and decimal mark
    (detected on the first 64 K characters when "auto"), the record iterator, the first
    record ``(line, cells)``, the second (or None), whether the first is a header and the
    column names (``column_1`` ... without a header).  Only the first two records are read."""
    lines = Lines(data, max_bytes, MAX_LINE_CHARS)
    physical = lines.physical()
    sampled: list[str] = []
    chars = 0
    for line in physical:
        sampled.append(line)
        chars += len(line)
        if chars >= _SNIFF_CHARS:
            break
    sample = "".join(sampled)
    if delimiter == "auto":
        delimiter = detect_delimiter(sample, decimal)
    if decimal == "auto":
        decimal = detect_decimal(sample_rows(sample, delimiter), delimiter)
    records = records_of(lines, itertools.chain(sampled, physical), delimiter, max_cols)
    first = next(records, None)
    if first is None:
        raise DataError("the file is empty")
    first_line, first_row = first
    second = next(records, None)
    has_header = detect_header(first_row, second[1] if second else None, sample, decimal)
    width = len(first_row)
    if width < 2:
        raise DataError(
            f"line {first_line}: found a single column; a data file needs feature columns and a target "
            f"column separated by commas, semicolons or tabs"
        )
    if has_header:
        names = [c.strip() or f"column_{j + 1}" for j, c in enumerate(first_row)]
        seen: dict[str, int] = {}
        for j, name in enumerate(names):
            if name in seen:
                raise DataError(f"line {first_line}: the header names column {name!r} twice "
                                f"(columns {seen[name] + 1} and {j + 1})")
            seen[name] = j
    else:
        names = [f"column_{j + 1}" for j in range(width)]
    return lines, records, delimiter, decimal, sample, first, second, has_header, names


HEADER_BYTES = 3 << 20
"""Bytes :func:`read_csv_header` reads of a plain CSV file: two records of the longest
allowed line (MAX_LINE_CHARS characters of up to 4 UTF-8 bytes: 1.03 MB each)."""


def read_csv_header(path: PathLike, delimiter: str = "auto", decimal: str = "auto") -> list[str]:
    """The columns of a CSV file in file order (the target candidates), from its first two
    records only: at most :data:`HEADER_BYTES` of a plain file are read (a ``.gz`` file is
    decompressed only as far as those records), so choosing or re-showing a 50 MB file
    costs milliseconds, not a parse.  Raises :class:`DataError` with the reason."""
    with open_regular(path, MAX_BYTES) as f:
        try:
            data = f.read(HEADER_BYTES + 1)
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if data[:2] == b"\x1f\x8b":
        data = read_file_bytes(path)  # compressed: decompressed below only as far as two records
    elif len(data) > HEADER_BYTES:  # cut after the last complete line
        cut = max(data.rfind(b"\n", 0, HEADER_BYTES), data.rfind(b"\r", 0, HEADER_BYTES))
        data = data[:cut + 1] if cut >= 0 else data[:HEADER_BYTES]
    return list(_head(data, MAX_BYTES, MAX_COLS, delimiter, decimal)[-1])


def read_csv(
    path: PathLike,
    target_column: Optional[str] = None,
    task: str = "auto",
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_cols: int = MAX_COLS,
    *,
    delimiter: str = "auto",
    decimal: str = "auto",
    missing: str = "keep",
    progress: Optional[Progress] = None,
) -> CsvTable:
    """Read ``path`` into a :class:`CsvTable` (cached, see :func:`load_table`); see the
    module docstring for the format and the rules.  ``missing="keep"`` keeps missing
    feature values as NaN (rows without a target are left out), ``"refuse"`` raises at
    the first missing value.  Raises only :class:`DataError`."""
    table, _ = load_table(path, target_column, task, delimiter=delimiter, decimal=decimal, missing=missing,
                          progress=progress, max_bytes=max_bytes, max_rows=max_rows, max_cols=max_cols)
    return table


def decode_text(data: bytes) -> str:
    """UTF-8 bytes -> text: skips a UTF-8 BOM; rejects UTF-16, NUL bytes and invalid UTF-8
    with a :class:`DataError` naming the line (the same checks as the CSV reader)."""
    lines = Lines(data, max(len(data), 1), max(len(data), 1) + 3)
    return "".join(lines.physical())


__all__ = [
    "AUTO_MAX_CLASSES", "CsvTable", "DataError", "MAX_BYTES", "MAX_CELL_CHARS", "MAX_CLASSES", "MAX_COLS",
    "MAX_LINE_CHARS", "MAX_ROWS", "MIN_ROWS", "cache_bytes", "clear_cache", "csv_path_problem", "decode_text",
    "detect_decimal", "detect_delimiter", "file_sha256", "load_table", "parse_count", "parse_csv_bytes",
    "read_csv", "read_csv_header", "read_file_bytes", "table_bytes", "too_large",
]
