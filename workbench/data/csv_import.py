"""Read a user's CSV file into feature and target arrays (stdlib ``csv`` + NumPy).

Format, as read by :func:`read_csv`:

* UTF-8 text (a UTF-8 byte-order mark is skipped; a gzip-compressed file is
  decompressed first).  UTF-16 and other encodings are rejected with a message.
* Delimiter: comma, semicolon or tab, detected from the first lines (see
  :func:`detect_delimiter`).  Fields may be quoted (``"a, b"``); a quoted field
  may contain the delimiter, doubled quotes and line breaks.  Spaces after a
  delimiter are skipped.  The decimal separator is ``.``.
* Header: the first row is a header when one of its cells is text in a column
  whose second-row cell is a number (the numeric check); when no column is
  numeric in the second row, :meth:`csv.Sniffer.has_header` decides.  Without a
  header the columns are called ``column_1, column_2, ...``.
* Blank lines (and rows whose cells are all empty) are skipped.
* The target is ``target_column`` (a header name) or, by default, the last
  column.  Every other column is a feature and must hold finite numbers.
* Missing values (empty cell, ``NA``, ``N/A``, ``NaN``, ``null``, ``None``, ``?``,
  ``-``) are errors: fill them in or drop the row.

Task (``task="auto"``, the rule): a target with any non-numeric label is
classification; a numeric target is classification when every value is an
integer and there are at most ``AUTO_MAX_CLASSES`` (20) distinct values, and
regression otherwise.  ``task="classification"`` or ``"regression"`` forces it
(regression needs a numeric target).  Class labels map to class indices in
sorted order: numerically when every label is a number (``2 < 10``), else as
strings; the label texts are kept as ``class_names``.

Errors are :class:`DataError` whose message names the place: ``line 7, column
'petal_width': missing value ('NA')`` (1-based line numbers as in a text editor;
the line where the record starts; columns by header name, or by 1-based number
when the file has no header).  Numbers are shown as written in the file
(``1e39 is too large for float32``), never as a NumPy repr.

Only a regular file is read: a directory (``... is a directory, not a CSV file``),
a device, FIFO or socket (``... is not a regular file (a character device)``) is
rejected from its ``stat`` before it is opened (``/dev/zero`` never ends, a FIFO
blocks); the file is then opened without blocking and checked again.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import math
import os
import stat
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

import numpy as np

from .errors import DataError

from ..limits import MAX_CLASSES, MAX_CSV_BYTES as MAX_BYTES, MAX_CSV_COLS as MAX_COLS, MAX_CSV_ROWS as MAX_ROWS
MIN_ROWS = 4  # data rows
MIN_PER_CLASS = 2  # rows of each class (stratified splitting needs two)
AUTO_MAX_CLASSES = 20  # task="auto": integer targets with at most this many values are classes
DELIMITERS = (",", ";", "\t")
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})
TASKS = ("auto", "classification", "regression")

_SNIFF_CHARS = 64 * 1024
_SNIFF_ROWS = 100

PathLike = Union[str, Path]


@dataclass(frozen=True, eq=False)
class CsvTable:
    """A parsed CSV file.

    ``X`` float32 ``(n, d)``; ``y`` int64 ``(n,)`` class indices (classification)
    or float32 ``(n, 1)`` (regression); ``class_names[i]`` is the label text of
    class ``i`` (empty for regression); ``line_numbers[i]`` is the 1-based line
    where data row ``i`` starts."""

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

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def n_classes(self) -> int:
        return len(self.class_names) if self.task == "classification" else 0


# ---------------------------------------------------------------------------
def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def not_a_csv_file(path: PathLike, mode: int) -> Optional[str]:
    """Why a path whose ``st_mode`` is ``mode`` cannot be read as a CSV file, or None
    for a regular file: ``"/tmp/x is a directory, not a CSV file"``,
    ``"/dev/zero is not a regular file (a character device)"``."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return f"{path} is a directory, not a CSV file"
    return f"{path} is not a regular file ({_special_kind(mode)})"


def csv_path_problem(path: PathLike) -> Optional[str]:
    """Why ``path`` cannot be read as a CSV file, from its ``stat`` alone (nothing is
    opened), or None: ``file not found: <path>``, ``<path> is a directory, not a CSV
    file``, ``<path> is not a regular file (a named pipe)``, ``cannot read ...``."""
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return f"file not found: {path}"
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    except ValueError as exc:  # e.g. an embedded NUL character in the path
        return f"cannot read {str(path)!r}: {exc}"
    return not_a_csv_file(path, mode)


def _open_regular(path: PathLike):
    """A binary file object of the regular file ``path``; raises :class:`DataError`
    (``file not found: ...``, ``... is a directory, not a CSV file``, ...).

    The type is checked before opening (a FIFO would block ``open``, a device such as
    ``/dev/zero`` never ends), then the file is opened non-blocking and checked again
    (the path may have been replaced in between)."""
    problem = csv_path_problem(path)
    if problem is not None:
        raise DataError(problem)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
    try:
        problem = not_a_csv_file(path, os.fstat(fd).st_mode)
    except OSError as exc:
        os.close(fd)
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if problem is not None:
        os.close(fd)
        raise DataError(problem)
    return os.fdopen(fd, "rb")


def file_sha256(path: PathLike) -> str:
    """Hex SHA-256 of the file's bytes (read in 1 MiB chunks).  Regular files only
    (see :func:`csv_path_problem`)."""
    h = hashlib.sha256()
    with _open_regular(path) as f:
        try:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    return h.hexdigest()


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def _read_bytes(path: PathLike, max_bytes: int) -> bytes:
    p = Path(path)
    with _open_regular(p) as f:
        try:
            size = os.fstat(f.fileno()).st_size
            if size > max_bytes:
                raise DataError(f"file is too large: {_mb(size)} ({size} bytes); the limit is {_mb(max_bytes)}")
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise DataError(f"cannot read {p}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise DataError(f"file is too large: more than {_mb(max_bytes)}; the limit is {_mb(max_bytes)}")
    if data[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as g:
                data = g.read(max_bytes + 1)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"the gzip file is damaged: {exc}") from None
        if len(data) > max_bytes:
            raise DataError(f"file is too large: more than {_mb(max_bytes)} once decompressed; "
                            f"the limit is {_mb(max_bytes)}")
    return data


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def decode_text(data: bytes) -> str:
    """UTF-8 bytes -> text: skips a UTF-8 BOM; rejects UTF-16, NUL bytes and invalid UTF-8
    with a :class:`DataError` naming the line."""
    if data.startswith(codecs.BOM_UTF16_LE) or data.startswith(codecs.BOM_UTF16_BE):
        raise DataError("the file is UTF-16 text; save it as UTF-8 (\"CSV UTF-8\")")
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    nul = data.find(b"\x00")
    if nul >= 0:
        raise DataError(f"line {_line_of(data, nul)}: contains a NUL byte: this looks like a binary file "
                        f"(a spreadsheet?), not CSV text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DataError(f"line {line}: byte 0x{data[exc.start]:02x} at character {col} is not valid UTF-8; "
                        f"save the file as UTF-8") from None


def _is_number(cell: str) -> bool:
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING_TOKENS


def _sample_rows(sample: str, delimiter: str) -> list[list[str]]:
    rows = []
    try:
        for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, skipinitialspace=True):
            if row and any(c.strip() for c in row):
                rows.append(row)
                if len(rows) >= _SNIFF_ROWS:
                    break
    except csv.Error:
        pass
    return rows


def detect_delimiter(sample: str) -> str:
    """The delimiter among comma, semicolon and tab that splits the sample's rows.

    For each candidate the first rows are parsed; candidates that give every row
    the same number of fields, more than one, are preferred; among those, the one
    whose cells (after the first row) are most often numbers, then the one with
    more fields, then the earlier in (comma, semicolon, tab).  If no candidate
    splits the rows consistently, the one whose most common field count is
    largest wins (the ragged row is then reported by the parser)."""
    best_key, best = None, ","
    for rank, d in enumerate(DELIMITERS):
        rows = _sample_rows(sample, d)
        if not rows:
            continue
        widths = [len(r) for r in rows]
        mode = max(set(widths), key=lambda w: (widths.count(w), w))
        consistent = mode > 1 and all(w == mode for w in widths)
        cells = [c for r in rows[1:] for c in r]
        numeric = sum(_is_number(c) for c in cells) / len(cells) if cells else 0.0
        key = (consistent, numeric if consistent else 0.0, mode, -rank)
        if best_key is None or key > best_key:
            best_key, best = key, d
    return best


def _detect_header(first: list[str], second: Optional[list[str]], sample: str) -> bool:
    """The numeric check (see the module docstring), with ``csv.Sniffer`` as the tie-break."""
    if second is None:
        return any(not _is_number(c) and not _is_missing(c) for c in first)
    numeric_cols = [j for j, c in enumerate(second) if j < len(first) and _is_number(c)]
    if numeric_cols:
        return any(not _is_number(first[j]) and not _is_missing(first[j]) for j in numeric_cols)
    try:
        return bool(csv.Sniffer().has_header(sample))
    except csv.Error:
        return False


def _records(text: str, delimiter: str):
    """``(start_line, fields)`` for every record (blank ones skipped)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True, strict=True)
    prev = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"line {prev + 1}: malformed CSV: {exc}") from None
        start, prev = prev + 1, reader.line_num
        if not row or not any(c.strip() for c in row):
            continue
        yield start, row


def _as_written(cell: Optional[str], value: float) -> str:
    """A number for a message: the cell's text as the user wrote it (``1e39``, ``-inf``),
    else (no cell, or a cell over 40 characters) the plain float (``1e+39``), never a
    NumPy repr (``np.float64(1e+39)``)."""
    text = cell.strip() if cell is not None else ""
    return text if 0 < len(text) <= 40 else repr(float(value))


def _cell_at(text: str, delimiter: str, line: int, column: int) -> Optional[str]:
    """The field ``column`` (0-based) of the record that starts on ``line``; only called
    for an error, so parsing again up to that record is fine."""
    for start, row in _records(text, delimiter):
        if start == line:
            return row[column] if column < len(row) else None
        if start > line:
            break
    return None


def _format_label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


# ---------------------------------------------------------------------------
def read_csv(
    path: PathLike,
    target_column: Optional[str] = None,
    task: str = "auto",
    max_bytes: int = MAX_BYTES,
    max_rows: int = MAX_ROWS,
    max_cols: int = MAX_COLS,
) -> CsvTable:
    """Read ``path`` into a :class:`CsvTable`; see the module docstring for the format
    and the rules.  Raises only :class:`DataError`."""
    data = _read_bytes(path, max_bytes)
    return parse_csv_bytes(data, target_column, task, max_rows=max_rows, max_cols=max_cols)


def parse_csv_bytes(
    data: bytes,
    target_column: Optional[str] = None,
    task: str = "auto",
    *,
    max_rows: int = MAX_ROWS,
    max_cols: int = MAX_COLS,
) -> CsvTable:
    """:func:`read_csv` on bytes already in memory (decoded as UTF-8)."""
    if task not in TASKS:
        raise DataError(f"data.task: must be one of {', '.join(TASKS)}, got {task!r}")
    text = decode_text(data)
    if not text.strip():
        raise DataError("the file is empty")

    sample = text[:_SNIFF_CHARS]
    if len(text) > _SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rfind("\n") + 1]
    delimiter = detect_delimiter(sample)

    records = _records(text, delimiter)
    first = next(records, None)
    if first is None:
        raise DataError("the file is empty")
    first_line, first_row = first
    second = next(records, None)
    has_header = _detect_header(first_row, second[1] if second else None, sample)

    width = len(first_row)
    if width > max_cols:
        raise DataError(f"line {first_line}: {width} columns; the limit is {max_cols}")
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

    # data rows
    values = array("d")
    targets: list[str] = []
    lines = array("l")
    reference = "the header" if has_header else f"line {first_line}"

    def rows():
        if not has_header:
            yield first
        if second is not None:
            yield second
        yield from records

    for line, row in rows():
        if len(row) != width:
            raise DataError(f"line {line}: expected {width} fields (as in {reference}), found {len(row)}")
        if len(targets) >= max_rows:
            raise DataError(f"line {line}: more than {max_rows} data rows; the limit is {max_rows}")
        cells = [row[j] for j in feature_idx]
        try:
            values.extend(map(float, cells))
        except ValueError:
            for j in feature_idx:
                cell = row[j]
                try:
                    float(cell)
                except ValueError:
                    if _is_missing(cell):
                        shown = f"({cell.strip()!r})" if cell.strip() else "(empty cell)"
                        raise DataError(f"line {line}, {col_label(j)}: missing value {shown}; "
                                        f"fill it in or remove the row") from None
                    raise DataError(f"line {line}, {col_label(j)}: not a number ({cell.strip()!r}); "
                                    f"feature columns must be numeric") from None
            raise DataError(f"line {line}: a feature cell is not a number")  # pragma: no cover
        label = row[t].strip()
        if label.lower() in MISSING_TOKENS:
            shown = f"({label!r})" if label else "(empty cell)"
            raise DataError(f"line {line}, {col_label(t)}: missing target value {shown}; "
                            f"fill it in or remove the row")
        targets.append(label)
        lines.append(line)

    n = len(targets)
    if n == 0:
        raise DataError("the file has a header but no data rows" if has_header else "the file has no data rows")
    if n < MIN_ROWS:
        raise DataError(f"only {n} data row{'s' if n != 1 else ''}; at least {MIN_ROWS} are needed")
    line_numbers = np.frombuffer(lines, dtype=np.int64 if lines.itemsize == 8 else np.int32).astype(np.int64)

    X64 = np.frombuffer(values, dtype=np.float64).reshape(n, len(feature_idx))
    with np.errstate(over="ignore", invalid="ignore"):
        X = X64.astype(np.float32)
    bad = ~np.isfinite(X)
    if bad.any():
        i, k = (int(v) for v in np.argwhere(bad)[0])
        v = float(X64[i, k])
        shown = _as_written(_cell_at(text, delimiter, int(line_numbers[i]), feature_idx[k]), v)
        what = "missing value (NaN)" if math.isnan(v) else (
            f"not a finite number ({shown})" if math.isinf(v) else f"{shown} is too large for float32")
        raise DataError(f"line {int(line_numbers[i])}, {col_label(feature_idx[k])}: {what}")

    warnings: list[str] = []
    target_name = names[t]
    numeric: Optional[np.ndarray] = None
    try:
        numeric = np.array([float(s) for s in targets], dtype=np.float64)
        if not np.isfinite(numeric).all():
            numeric = None
    except ValueError:
        numeric = None

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
            for line, s in zip(lines, targets):
                if not _is_number(s):
                    raise DataError(f"line {line}, {col_label(t)}: not a number ({s!r}); "
                                    f"a regression target must be numeric")
        with np.errstate(over="ignore", invalid="ignore"):
            y = numeric.astype(np.float32).reshape(-1, 1)
        if not np.isfinite(y).all():
            i = int(np.argwhere(~np.isfinite(y))[0, 0])
            shown = _as_written(targets[i], float(numeric[i]))
            raise DataError(f"line {int(line_numbers[i])}, {col_label(t)}: {shown} is too large for float32")
        if float(numeric.max()) == float(numeric.min()):
            warnings.append(f"target {target_name!r} has the same value in every row")
        class_names: tuple[str, ...] = ()
    else:
        if numeric is not None:
            keys, inverse = np.unique(numeric, return_inverse=True)
            class_names = tuple(_format_label(v) for v in keys)
        else:
            labels = sorted(set(targets))
            index = {lab: i for i, lab in enumerate(labels)}
            inverse = np.array([index[s] for s in targets], dtype=np.int64)
            class_names = tuple(labels)
        y = np.asarray(inverse, dtype=np.int64).reshape(-1)
        k = len(class_names)
        if k > MAX_CLASSES:
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

    return CsvTable(
        X=X,
        y=y,
        feature_names=feature_names,
        class_names=class_names,
        task=task,
        target_column=target_name,
        delimiter=delimiter,
        has_header=has_header,
        warnings=tuple(warnings),
        line_numbers=line_numbers,
    )
