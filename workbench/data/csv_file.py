"""The CSV file on disk: only a regular file is read, and its size is checked from its
``stat`` before it is hashed or read (``/dev/zero`` never ends, a FIFO blocks ``open``, a
sparse 1 TB file would take hours to hash); the file is then opened without blocking and
checked again on the open descriptor.  Messages: ``file not found: <path>``,
``<path> is a directory, not a CSV file``, ``<path> is not a regular file (a named pipe)``,
``file is too large: ...``."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path
from typing import Optional, Union

from ..limits import MAX_CSV_BYTES as MAX_BYTES
from .errors import DataError

PathLike = Union[str, Path]


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


def megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"


def too_large(size: int, max_bytes: int = MAX_BYTES) -> Optional[str]:
    """``file is too large: 953674.3 MB (1000000000000 bytes); the limit is 50.0 MB``, or None."""
    if size > max_bytes:
        return f"file is too large: {megabytes(size)} ({size} bytes); the limit is {megabytes(max_bytes)}"
    return None


def open_regular(path: PathLike, max_bytes: Optional[int] = None):
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
    with open_regular(path, max_bytes) as f:
        try:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                seen += len(chunk)
                if seen > max_bytes:  # the file grew after its size was checked
                    raise DataError(f"file is too large: more than {megabytes(max_bytes)}; the limit is {megabytes(max_bytes)}")
                h.update(chunk)
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    return h.hexdigest()


def read_file_bytes(path: PathLike, max_bytes: int = MAX_BYTES) -> bytes:
    """The file's bytes as stored (still compressed for a ``.gz`` file); refused from its
    ``stat`` when larger than ``max_bytes``."""
    with open_regular(path, max_bytes) as f:
        try:
            data = f.read(max_bytes + 1)
        except OSError as exc:
            raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise DataError(f"file is too large: more than {megabytes(max_bytes)}; the limit is {megabytes(max_bytes)}")
    return data
