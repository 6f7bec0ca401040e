"""Streaming a CSV file's bytes: bytes -> (decompressed, bounded) -> checked lines ->
records.  A gzip file is decompressed while it is read and refused as soon as it inflates
past the byte limit; each line is read with a bounded ``readline`` and refused when it is
UTF-16, holds a NUL byte or invalid UTF-8, or is longer than the record limit; records
come from :class:`csv.reader`.  Progress is reported at a bounded rate."""

from __future__ import annotations

import csv
import gzip
import io
import math
import re
import time
import zlib
from typing import Callable, Iterator, Optional

from ..limits import MAX_CSV_CELL_CHARS as MAX_CELL_CHARS, MAX_CSV_COLS as MAX_COLS
from .csv_file import megabytes
from .errors import DataError

PROGRESS_INTERVAL = 0.1  # seconds: progress is reported at most 10 times a second (plus start and end)
_READ_CHUNK = 64 * 1024

_clock = time.monotonic  # replaced by tests

Progress = Callable[[float, str], None]
"""``progress(fraction, message)``: how far reading a file has come."""

_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that are not UTF-8, kept by errors="surrogateescape"
_UTF16_BOMS = ("\udcff\udcfe", "\udcfe\udcff")  # FF FE / FE FF as escaped by surrogateescape


class ProgressMeter:
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
            self.callback(0.0, f"{self.label}: reading {megabytes(self.total)}")

    def update(self, done: int) -> None:
        if self.callback is None:
            return
        now = _clock()
        if now - self.last_time < PROGRESS_INTERVAL:
            return
        fraction = max(self.last_fraction, min(done / self.total, 1.0))
        self.last_time, self.last_fraction = now, fraction
        self.callback(fraction, f"{self.label}: {done / 2**20:.1f} of {megabytes(self.total)} read")

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
            raise DataError(f"file is too large: more than {megabytes(self.max_bytes)} once decompressed; "
                            f"the limit is {megabytes(self.max_bytes)}")
        return n

    @property
    def consumed(self) -> int:
        """Bytes of ``data`` (compressed, for gzip) read so far."""
        return self.raw.tell()


def check_gzip_size(data: bytes, max_bytes: int) -> None:
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
                    raise DataError(f"file is too large: more than {megabytes(max_bytes)} once decompressed; "
                                    f"the limit is {megabytes(max_bytes)}")
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"the gzip file is damaged: {exc}") from None


class Lines:
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


def records_of(lines: Lines, stream, delimiter: str, max_cols: int) -> Iterator[tuple[int, list[str]]]:
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
