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
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import itertools
import math
import os
import re
import stat
import threading
import time
import zlib
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

import numpy as np

from .errors import DataError, MissingValueError

from ..limits import (
    CSV_CACHE_BYTES,
    MAX_CLASSES,
    MAX_CSV_BYTES as MAX_BYTES,
    MAX_CSV_CELL_CHARS as MAX_CELL_CHARS,
    MAX_CSV_COLS as MAX_COLS,
    MAX_CSV_LINE_CHARS as MAX_LINE_CHARS,
    MAX_CSV_ROWS as MAX_ROWS,
)

MIN_ROWS = 4  # data rows
MIN_PER_CLASS = 2  # rows of each class (stratified splitting needs two)
AUTO_MAX_CLASSES = 20  # task="auto": integer targets with at most this many values are classes
DELIMITERS = (",", ";", "\t")
DECIMALS = (".", ",")
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})
TASKS = ("auto", "classification", "regression")
MISSING_CHOICES = ("keep", "refuse")  # read_csv's; load_dataset's are data.missing's

CACHE_BYTES = CSV_CACHE_BYTES  # read at every insertion (tests lower it)
PROGRESS_INTERVAL = 0.1  # seconds: progress is reported at most 10 times a second (plus start and end)
_PROGRESS_ROWS = 1024  # records between two looks at the clock

_SNIFF_CHARS = 64 * 1024
_SNIFF_ROWS = 100
_READ_CHUNK = 64 * 1024

_clock = time.monotonic  # replaced by tests

PathLike = Union[str, Path]
Progress = Callable[[float, str], None]

_COMMA_NUMBER = re.compile(r"\s*[+-]?(?:\d+,\d*|,\d+)(?:[eE][+-]?\d+)?\s*$")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, kept by errors="surrogateescape"
_UTF16_BOMS = ("\udcff\udcfe", "\udcfe\udcff")  # FF FE / FE FF as escaped by surrogateescape


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
# the file: type and size from its stat before anything is read
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


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def too_large(size: int, max_bytes: int = MAX_BYTES) -> Optional[str]:
    """``file is too large: 953674.3 MB (1000000000000 bytes); the limit is 50.0 MB``, or None."""
    if size > max_bytes:
        return f"file is too large: {_mb(size)} ({size} bytes); the limit is {_mb(max_bytes)}"
    return None


def _open_regular(path: PathLike, max_bytes: Optional[int] = None):
    """A binary file object of the regular file ``path`` of at most ``max_bytes`` bytes;
    raises :class:`DataError` (``file not found: ...``, ``... is a directory, not a CSV
    file``, ``file is too large: ...``).

    Type and size are checked from ``os.stat`` before opening (a FIFO would block
    ``open``, a device such as ``/dev/zero`` never ends, a sparse 1 TB file would take
    hours to hash), then again from ``fstat`` of the file opened non-blocking (the path
    may have been replaced in between)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise DataError(f"file not found: {path}") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:  # e.g. an embedded NUL character in the path
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
    problem = not_a_csv_file(path, st.st_mode) or (too_large(st.st_size, max_bytes) if max_bytes is not None else None)
    if problem is not None:
        raise DataError(problem)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise DataError(f"cannot read {str(path)!r}: {exc}") from None
    try:
        st = os.fstat(fd)
        problem = not_a_csv_file(path, st.st_mode) or (
            too_large(st.st_size, max_bytes) if max_bytes is not None else None)
    except OSError as exc:
        os.close(fd)
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if problem is not None:
        os.close(fd)
        raise DataError(problem)
    return os.fdopen(fd, "rb")


def file_sha256(path: PathLike, max_bytes: int = MAX_BYTES) -> str:
    """Hex SHA-256 of the file's bytes (read in 1 MiB chunks).  Regular files of at most
    ``max_bytes`` bytes only: type and size are checked before anything is read."""
    h = hashlib.sha256()
    seen = 0
    with _open_regular(path, max_bytes) as f:
        try:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                seen += len(chunk)
                if seen > max_bytes:  # the file grew after its size was checked
                    raise DataError(f"file is too large: more than {_mb(max_bytes)}; the limit is {_mb(max_bytes)}")
                h.update(chunk)
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    return h.hexdigest()


def read_file_bytes(path: PathLike, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's bytes as stored (still compressed for a ``.gz`` file); refused from its
    ``stat`` when larger than ``max_bytes``."""
    with _open_regular(path, max_bytes) as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise DataError(f"file is too large: more than {_mb(max_bytes)}; the limit is {_mb(max_bytes)}")
    return data


# ---------------------------------------------------------------------------
# streaming: bytes -> (decompressed, bounded) -> checked lines -> records
class _Progress:
    """Calls ``callback(fraction, message)`` at most once per :data:`PROGRESS_INTERVAL`
    (plus the first and the last call); ``fraction`` never decreases."""

    def __init__(self, callback: Optional[Progress], label: str, total: int):
        self.callback = callback
        self.label = label
        self.total = max(int(total), 1)
        self.last_time = -math.inf
        self.last_fraction = 0.0

    def start(self) -> None:
        if self.callback is not None:
            self.last_time = _clock()
            self.callback(0.0, f"{self.label}: reading {_mb(self.total)}")

    def update(self, done: int) -> None:
        if self.callback is None:
            return
        now = _clock()
        if now - self.last_time < PROGRESS_INTERVAL:
            return
        fraction = max(self.last_fraction, min(done / self.total, 1.0))
        self.last_time, self.last_fraction = now, fraction
        self.callback(fraction, f"{self.label}: {done / 2**20:.1f} of {_mb(self.total)} read")

    def finish(self, rows: int) -> None:
        if self.callback is not None:
            self.callback(1.0, f"{self.label}: {rows} rows read")


class _Source(io.RawIOBase):
    """The decompressed bytes of ``data`` (gzip when it starts with the gzip magic bytes),
    refused with a :class:`DataError` as soon as more than ``max_bytes`` have come out."""

    def __init__(self, data: bytes, max_bytes: int):
        super().__init__()
        self.raw = io.BytesIO(data)
        self.gz = gzip.GzipFile(fileobj=self.raw, mode="rb") if data[:2] == b"\x1f\x8b" else None
        self.max_bytes = max_bytes
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        try:
            n = (self.gz or self.raw).readinto(b)
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(f"the gzip file is damaged: {exc}") from None
        self.count += n
        if self.count > self.max_bytes:
            raise DataError(f"file is too large: more than {_mb(self.max_bytes)} once decompressed; "
                            f"the limit is {_mb(self.max_bytes)}")
        return n

    @property
    def consumed(self) -> int:
        """Bytes of ``data`` (compressed, for gzip) read so far."""
        return self.raw.tell()


def _check_gzip_size(data: bytes, max_bytes: int) -> None:
    """Refuse a gzip file that decompresses to more than ``max_bytes`` (or is damaged)
    before anything is parsed: it is decompressed once into a small reused buffer
    (a 50 kB file that inflates to gigabytes costs a fraction of a second, no memory)."""
    if data[:2] != b"\x1f\x8b":
        return
    buf = bytearray(_READ_CHUNK)
    total = 0
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as g:
            while True:
                n = g.readinto(buf)
                if not n:
                    return
                total += n
                if total > max_bytes:
                    raise DataError(f"file is too large: more than {_mb(max_bytes)} once decompressed; "
                                    f"the limit is {_mb(max_bytes)}")
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"the gzip file is damaged: {exc}") from None


class _Lines:
    """Checked lines of the decoded text, for :class:`csv.reader`.

    :meth:`physical` yields the text's lines (line breaks ``\\n``, ``\\r\\n`` or ``\\r``
    kept), each read with a bounded ``readline``: the first ``max_chars + 3``
    characters at most, so a line longer than the bound is refused without being read
    to its end.  It also refuses UTF-16, NUL bytes and invalid UTF-8 (naming the line
    and character) and skips a UTF-8 byte-order mark.  :meth:`records` wraps any line
    iterator and refuses a record (a row, possibly over several lines when a quoted
    field holds line breaks) longer than ``max_chars``; the reader of the records calls
    :meth:`record_done` after each row."""

    def __init__(self, data: bytes, max_bytes: int, max_chars: int):
        self.source = _Source(data, max_bytes)
        self.text = io.TextIOWrapper(io.BufferedReader(self.source, _READ_CHUNK), encoding="utf-8",
                                     errors="surrogateescape", newline="")
        self.max_chars = max_chars
        self.pending = 0  # characters of the current record so far
        self.record_line = 1  # the line where the current record starts
        self.consumed = 0  # lines handed to the reader

    def too_long(self, line: int) -> DataError:
        return DataError(f"line {line}: longer than {self.max_chars} characters; the limit is {MAX_COLS} "
                         f"columns of at most {MAX_CELL_CHARS} characters")

    def physical(self) -> Iterator[str]:
        readline, size, limit = self.text.readline, self.max_chars + 3, self.max_chars
        bad, nul = _NOT_UTF8.search, "\x00"
        n = 0
        for line in iter(lambda: readline(size), ""):
            n += 1
            if n == 1:
                if line.startswith(_UTF16_BOMS):
                    raise DataError("the file is UTF-16 text; save it as UTF-8 (\"CSV UTF-8\")")
                if line.startswith("\ufeff"):
                    line = line[1:]
            if nul in line:
                raise DataError(f"line {n}: contains a NUL byte: this looks like a binary file (a spreadsheet?), "
                                f"not CSV text")
            if not line.isascii():
                m = bad(line)
                if m is not None:
                    raise DataError(f"line {n}: byte 0x{ord(m.group()) - 0xDC00:02x} at character {m.start() + 1} "
                                    f"is not valid UTF-8; save the file as UTF-8")
            if len(line) > limit and len(line.rstrip("\r\n")) > limit:
                raise self.too_long(n)
            yield line

    def records(self, lines) -> Iterator[str]:
        limit = self.max_chars
        for line in lines:
            if self.pending == 0:
                self.record_line = self.consumed + 1
            self.consumed += 1
            self.pending += len(line)
            if self.pending > limit and self.pending - (len(line) - len(line.rstrip("\r\n"))) > limit:
                raise self.too_long(self.record_line)
            yield line

    def record_done(self) -> None:
        self.pending = 0


def _reader(lines: _Lines, stream, delimiter: str, max_cols: int) -> Iterator[tuple[int, list[str]]]:
    """``(start_line, fields)`` of every non-blank record of ``stream`` (lines of ``lines``)."""
    reader = csv.reader(lines.records(stream), delimiter=delimiter, skipinitialspace=True, strict=True)
    prev = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataError(f"line {prev + 1}: malformed CSV: {exc}") from None
        lines.record_done()
        start, prev = prev + 1, reader.line_num
        if len(row) > max_cols:
            raise DataError(f"line {start}: {len(row)} columns; the limit is {max_cols}")
        if not row or not any(c.strip() for c in row):
            continue
        yield start, row


# ---------------------------------------------------------------------------
# cells, delimiter, decimal mark, header
def _to_float(cell: str, decimal: str = ".") -> float:
    """``float`` of a cell written with ``decimal`` as its decimal mark (ValueError if it
    is not a number; with a decimal comma a ``.`` is refused)."""
    if decimal == ",":
        if "." in cell:
            raise ValueError(cell)
        return float(cell.replace(",", "."))
    return float(cell)


def _is_number(cell: str, decimal: str = ".") -> bool:
    try:
        return math.isfinite(_to_float(cell, decimal))
    except ValueError:
        return False


def _is_comma_number(cell: str) -> bool:
    return _COMMA_NUMBER.match(cell) is not None


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


def detect_delimiter(sample: str, decimal: str = "auto") -> str:
    """The delimiter among comma, semicolon and tab that splits the sample's rows.

    For each candidate the first rows are parsed; candidates that give every row
    the same number of fields, more than one, are preferred; among those, the one
    whose cells (after the first row) are most often numbers (with a decimal point, or
    a decimal comma for a delimiter other than the comma), then the one with more
    fields, then the earlier in (comma, semicolon, tab).  If no candidate splits the
    rows consistently, the one whose most common field count is largest wins (the
    ragged row is then reported by the parser).  ``decimal=","`` excludes the comma."""
    best_key, best = None, (";" if decimal == "," else ",")
    for rank, d in enumerate(DELIMITERS):
        if d == "," and decimal == ",":
            continue
        rows = _sample_rows(sample, d)
        if not rows:
            continue
        widths = [len(r) for r in rows]
        mode = max(set(widths), key=lambda w: (widths.count(w), w))
        consistent = mode > 1 and all(w == mode for w in widths)
        cells = [c for r in rows[1:] for c in r]
        comma_ok = d != "," and decimal != "."
        numeric = (sum(_is_number(c) or (comma_ok and _is_comma_number(c)) for c in cells) / len(cells)
                   if cells else 0.0)
        key = (consistent, numeric if consistent else 0.0, mode, -rank)
        if best_key is None or key > best_key:
            best_key, best = key, d
    return best


def detect_decimal(rows: list[list[str]], delimiter: str) -> str:
    """``","`` when ``delimiter`` is not a comma and the rows after the first (which may be
    a header) hold at least one number written with a decimal comma (``1,5``, ``-,25``,
    ``3,0e-2``) and none with a decimal point (``1.5``); else ``"."`` (also when both
    appear: the file is ambiguous, force ``data.csv_decimal``)."""
    if delimiter == ",":
        return "."
    comma = dot = False
    for row in rows[1:]:
        for c in row:
            if _is_comma_number(c):
                comma = True
            elif "." in c and _is_number(c):
                dot = True
    return "," if comma and not dot else "."


def _detect_header(first: list[str], second: Optional[list[str]], sample: str, decimal: str) -> bool:
    """The numeric check (see the module docstring), with ``csv.Sniffer`` as the tie-break."""
    if second is None:
        return any(not _is_number(c, decimal) and not _is_missing(c) for c in first)
    numeric_cols = [j for j, c in enumerate(second) if j < len(first) and _is_number(c, decimal)]
    if numeric_cols:
        return any(not _is_number(first[j], decimal) and not _is_missing(first[j]) for j in numeric_cols)
    try:
        return bool(csv.Sniffer().has_header(sample))
    except csv.Error:
        return False


def _as_written(cell: Optional[str], value: float) -> str:
    """A number for a message: the cell's text as the user wrote it (``1e39``, ``-inf``),
    else (no cell, or a cell over 40 characters) the plain float (``1e+39``), never a
    NumPy repr (``np.float64(1e+39)``)."""
    text = cell.strip() if cell is not None else ""
    return text if 0 < len(text) <= 40 else repr(float(value))


def _format_label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def _check_option(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise DataError(f"data.{name}: must be one of {', '.join(repr(a) for a in allowed)}, got {value!r}")


# ---------------------------------------------------------------------------
# the parse
_PARSES = 0
_CACHE: "OrderedDict[tuple, tuple[object, int]]" = OrderedDict()
_CACHE_LOCK = threading.Lock()


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
    with _CACHE_LOCK:
        _PARSES += 1
    if task not in TASKS:
        raise DataError(f"data.task: must be one of {', '.join(TASKS)}, got {task!r}")
    _check_option("csv_delimiter", delimiter, ("auto",) + DELIMITERS)
    _check_option("csv_decimal", decimal, ("auto",) + DECIMALS)
    _check_option("missing", missing, MISSING_CHOICES)
    refuse = missing == "refuse"
    if delimiter == "," and decimal == ",":
        raise DataError("data.csv_decimal: a decimal comma needs a delimiter other than ','")
    meter = _Progress(progress, label, len(data))
    meter.start()
    _check_gzip_size(data, max_bytes)

    lines = _Lines(data, max_bytes, MAX_LINE_CHARS)
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
        decimal = detect_decimal(_sample_rows(sample, delimiter), delimiter)

    records = _reader(lines, itertools.chain(sampled, physical), delimiter, max_cols)
    first = next(records, None)
    if first is None:
        raise DataError("the file is empty")
    first_line, first_row = first
    second = next(records, None)
    has_header = _detect_header(first_row, second[1] if second else None, sample, decimal)

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
    convert = float if decimal == "." else (lambda c: _to_float(c, ","))
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
                    if not _is_missing(cell):
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
            v = _to_float(cell, decimal) if cell is not None else math.inf
        except ValueError:  # pragma: no cover - the cell was read as this number
            v = math.inf
        shown = _as_written(cell, v)
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
                if not _is_number(s, decimal):
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


def _missing(line: int, column: str, text: str, what: str) -> str:
    shown = f"({text!r})" if text else "(empty cell)"
    return f"line {line}, {column}: {what} {shown}; fill it in or remove the row"


def _not_a_number(line: int, column: str, cell: str, decimal: str) -> str:
    text = cell.strip()
    if decimal == "," and _is_number(text):
        return f"line {line}, {column}: {text} has a decimal point, but the decimal mark is ',' (data.csv_decimal)"
    hint = " (a decimal comma? set data.csv_decimal to ',')" if decimal == "." and _is_comma_number(text) else ""
    return f"line {line}, {column}: not a number ({text!r}); feature columns must be numeric{hint}"


def _cell_at(data: bytes, max_bytes: int, delimiter: str, max_cols: int, line: int, column: int) -> Optional[str]:
    """The field ``column`` (0-based) of the record that starts on ``line``; only called
    for an error, so reading the file again up to that record is fine."""
    lines = _Lines(data, max_bytes, MAX_LINE_CHARS)
    for start, row in _reader(lines, lines.physical(), delimiter, max_cols):
        if start == line:
            return row[column] if column < len(row) else None
        if start > line:
            break
    return None


# ---------------------------------------------------------------------------
# the cache
def table_bytes(table: CsvTable) -> int:
    """Memory a cached table holds (its arrays and names, roughly)."""
    names = sum(len(s) + 64 for s in (*table.feature_names, *table.class_names, *table.warnings))
    return int(table.X.nbytes + table.y.nbytes + table.line_numbers.nbytes + table.missing_target_lines.nbytes
               + names + 1024)


def cache_bytes() -> int:
    """Bytes of the tables in the cache now."""
    with _CACHE_LOCK:
        return sum(size for _, size in _CACHE.values())


def clear_cache() -> None:
    """Forget every cached table."""
    with _CACHE_LOCK:
        _CACHE.clear()


def _cache_put(key: tuple, value: object, size: int) -> None:
    with _CACHE_LOCK:
        _CACHE.pop(key, None)
        budget = CACHE_BYTES
        if size > budget:
            return
        total = sum(s for _, s in _CACHE.values())
        while _CACHE and total + size > budget:
            _, (_, old) = _CACHE.popitem(last=False)
            total -= old
        _CACHE[key] = (value, size)


def _cache_get(key: tuple):
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit[0]
    return None


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
    hit = _cache_get(key)
    if hit is None:
        try:
            table = parse_csv_bytes(data, target_column, task, max_rows=max_rows, max_cols=max_cols,
                                    max_bytes=max_bytes, delimiter=delimiter, decimal=decimal, missing=missing,
                                    progress=progress, label=label)
        except DataError as exc:
            _cache_put(key, exc, len(str(exc)) + 256)
            raise type(exc)(str(exc)) from None
        del data
        _cache_put(key, table, table_bytes(table))
        return table, sha
    if isinstance(hit, DataError):
        raise type(hit)(str(hit))
    if progress is not None:
        progress(1.0, f"{label}: {hit.n_rows} rows read")
    return hit, sha


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
    lines = _Lines(data, max(len(data), 1), max(len(data), 1) + 3)
    return "".join(lines.physical())


__all__ = [
    "AUTO_MAX_CLASSES", "CsvTable", "DataError", "MAX_BYTES", "MAX_CELL_CHARS", "MAX_CLASSES", "MAX_COLS",
    "MAX_LINE_CHARS", "MAX_ROWS", "MIN_ROWS", "cache_bytes", "clear_cache", "csv_path_problem", "decode_text",
    "detect_decimal", "detect_delimiter", "file_sha256", "load_table", "parse_count", "parse_csv_bytes",
    "read_csv", "read_file_bytes", "table_bytes", "too_large",
]
