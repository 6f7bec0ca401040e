"""What the cells of a CSV file say: numbers with either decimal mark, missing values,
labels; and what its first lines say: the delimiter, the decimal mark and whether the
first row is a header (the rules are in :mod:`.csv_import`'s docstring)."""

from __future__ import annotations

import csv
import io
import math
import re
from typing import Optional

DELIMITERS = (",", ";", "\t")
DECIMALS = (".", ",")
MISSING_TOKENS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})
_SNIFF_ROWS = 100

_COMMA_NUMBER = re.compile(r"\s*[+-]?(?:\d+,\d*|,\d+)(?:[eE][+-]?\d+)?\s*$")


def to_float(cell: str, decimal: str = ".") -> float:
    """``float`` of a cell written with ``decimal`` as its decimal mark (ValueError if it
    is not a number; with a decimal comma a ``.`` is refused)."""
    if decimal == ",":
        if "." in cell:
            raise ValueError(cell)
        return float(cell.replace(",", "."))
    return float(cell)


def is_number(cell: str, decimal: str = ".") -> bool:
    try:
        return math.isfinite(to_float(cell, decimal))
    except ValueError:
        return False


def is_comma_number(cell: str) -> bool:
    return _COMMA_NUMBER.match(cell) is not None


def is_missing(cell: str) -> bool:
    return cell.strip().lower() in MISSING_TOKENS


def sample_rows(sample: str, delimiter: str) -> list[list[str]]:
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
        rows = sample_rows(sample, d)
        if not rows:
            continue
        widths = [len(r) for r in rows]
        mode = max(set(widths), key=lambda w: (widths.count(w), w))
        consistent = mode > 1 and all(w == mode for w in widths)
        cells = [c for r in rows[1:] for c in r]
        comma_ok = d != "," and decimal != "."
        numeric = (sum(is_number(c) or (comma_ok and is_comma_number(c)) for c in cells) / len(cells)
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
            if is_comma_number(c):
                comma = True
            elif "." in c and is_number(c):
                dot = True
    return "," if comma and not dot else "."


def detect_header(first: list[str], second: Optional[list[str]], sample: str, decimal: str) -> bool:
    """The numeric check (see the module docstring), with ``csv.Sniffer`` as the tie-break."""
    if second is None:
        return any(not is_number(c, decimal) and not is_missing(c) for c in first)
    numeric_cols = [j for j, c in enumerate(second) if j < len(first) and is_number(c, decimal)]
    if numeric_cols:
        return any(not is_number(first[j], decimal) and not is_missing(first[j]) for j in numeric_cols)
    try:
        return bool(csv.Sniffer().has_header(sample))
    except csv.Error:
        return False


def as_written(cell: Optional[str], value: float) -> str:
    """A number for a message: the cell's text as the user wrote it (``1e39``, ``-inf``),
    else (no cell, or a cell over 40 characters) the plain float (``1e+39``), never a
    NumPy repr (``np.float64(1e+39)``)."""
    text = cell.strip() if cell is not None else ""
    return text if 0 < len(text) <= 40 else repr(float(value))


def format_label(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))
