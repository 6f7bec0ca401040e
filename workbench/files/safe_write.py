"""Replacing a file safely, for :func:`workbench.experiment_file.save`.

:func:`replace_file` is atomic: it writes a temporary file in the same directory, flushes
and fsyncs it, then renames it over the target, so the target is either the old file or
the new one, never a mixture.  Temporary files are named after their target and their
process (``.NAME.HOST-PID-TOKEN.mlpw-tmp``), so the next save of the same file removes
those a crash left behind (:func:`remove_stale_temporaries`).  :func:`writable_target`
refuses, before anything is written, a read-only target (:class:`ReadOnlyFile`) unless
told to overwrite it, a folder, FIFO or device, and a symbolic link owned by another user
(in a shared folder such as /tmp such a link could point anywhere).
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import socket
import stat
import time
from typing import Any, Optional, Union

from ..limits import MAX_SYMLINKS
from .errors import ExperimentFileError, ReadOnlyFile


def write_problem(path: Union[str, os.PathLike], *, overwrite_readonly: bool = False) -> Optional[str]:
    """Why ``save`` would refuse ``path`` before writing anything, or None: a symbolic
    link of another user on the way, a folder, FIFO or device, a read-only file (unless
    ``overwrite_readonly``).  For a caller to tell the user before a long run, not after."""
    try:
        writable_target(os.fspath(path), overwrite_readonly)
    except ExperimentFileError as exc:
        return exc.errors[0][1]
    except OSError as exc:
        return f"cannot write {os.fspath(path)}: {exc.strerror or exc}"
    return None


def writable_target(given: str, overwrite_readonly: bool) -> tuple[str, Optional[int]]:
    """The real path ``save`` writes for ``given`` and the mode of the file it replaces
    (None: a new file); raises the refusals of ``save``."""
    target = _resolve_for_writing(given)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, None
    if not stat.S_ISREG(st.st_mode):
        raise ExperimentFileError([("", f"{given} is {file_kind(st.st_mode)}, not an experiment file")], given)
    mode = stat.S_IMODE(st.st_mode)
    if not overwrite_readonly and _read_only(target, mode):
        raise ReadOnlyFile(given, mode)
    return target, mode


def _read_only(path: str, mode: int) -> bool:
    """No write permission bits at all (0444: even root is told), or none for this user."""
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)


def file_kind(mode: int) -> str:
    """What a path whose ``st_mode`` is ``mode`` is, for a message: ``"a folder"``, ``"a FIFO"``, ..."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _resolve_for_writing(path: str) -> str:
    """The real path ``path`` names, following symbolic links (as ``os.path.realpath``)
    but refusing one that belongs to another user than this one or root: in a shared
    folder (/tmp) someone else's link could make a save overwrite any file of ours."""
    if not hasattr(os, "getuid") or not hasattr(os, "readlink"):
        return os.path.realpath(path)
    me = os.getuid()
    pending = os.path.join(os.getcwd(), path).split(os.sep)[::-1]
    resolved = os.sep
    hops = 0
    while pending:
        name = pending.pop()
        if name in ("", "."):
            continue
        if name == "..":
            resolved = os.path.dirname(resolved)
            continue
        candidate = os.path.join(resolved, name)
        try:
            st = os.lstat(candidate)
        except (FileNotFoundError, NotADirectoryError):
            resolved = candidate
            continue
        if not stat.S_ISLNK(st.st_mode):
            resolved = candidate
            continue
        hops += 1
        if hops > MAX_SYMLINKS:
            raise ExperimentFileError([("", f"{path}: too many levels of symbolic links")], path)
        link = os.readlink(candidate)
        if st.st_uid not in (me, 0):
            raise ExperimentFileError(
                [("", f"{candidate} is a symbolic link owned by another user (uid {st.st_uid}) pointing to "
                      f"{link}; it is not followed: save under another name or remove the link")],
                path,
            )
        if os.path.isabs(link):
            resolved = os.sep
        pending.extend(link.split(os.sep)[::-1])
    return resolved


# -- temporary files ---------------------------------------------------------------------------

STALE_TEMP_SECONDS = 15 * 60
_TEMP_SUFFIX = ".mlpw-tmp"
_HOST_TAG = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_TEMP_TAIL_RE = re.compile(r"(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]{1,10})-[0-9a-f]{12}" + re.escape(_TEMP_SUFFIX))
_OLD_TEMP_TAIL_RE = re.compile(r"[0-9a-f]{12}\.tmp")  # the names before version 2 of save


def _temporary_name(base: str) -> str:
    return f".{base}.{_HOST_TAG}-{os.getpid()}-{secrets.token_hex(6)}{_TEMP_SUFFIX}"


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this host lives (True when it cannot be told)."""
    if os.name != "posix" or pid <= 0:
        return True  # (on Windows os.kill(pid, 0) would stop the process)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # e.g. PermissionError: another user's process
    return True


def remove_stale_temporaries(directory: Union[str, os.PathLike], base: str) -> list[str]:
    """Remove the temporary files an interrupted save of ``directory/base`` left:
    those of a process of this host that no longer runs, and any older than
    :data:`STALE_TEMP_SECONDS`.  Only regular files of this user named like save's
    temporary files of exactly this target are touched; a save in progress (its process
    alive) keeps its file.  Returns the paths removed."""
    prefix = f".{base}."
    now = time.time()
    me = os.getuid() if hasattr(os, "getuid") else None
    removed: list[str] = []
    try:
        entries = os.scandir(directory)
    except OSError:
        return removed
    with entries:
        for entry in entries:
            name = entry.name
            if not name.startswith(prefix):
                continue
            tail = name[len(prefix):]
            ours = _TEMP_TAIL_RE.fullmatch(tail)
            if ours is None and _OLD_TEMP_TAIL_RE.fullmatch(tail) is None:
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode) or (me is not None and st.st_uid != me):
                continue
            dead = ours is not None and ours["host"] == _HOST_TAG and not _process_alive(int(ours["pid"]))
            if dead or now - st.st_mtime > STALE_TEMP_SECONDS:
                try:
                    os.unlink(entry.path)
                    removed.append(entry.path)
                except OSError:
                    pass
    return removed


# -- the write --------------------------------------------------------------------------------

def replace_file(target: str, data: bytes, mode: Optional[int]) -> None:
    """Write ``data`` as the file ``target`` atomically (see the module docstring), with
    ``mode`` (None: a new file's default), after removing the stale temporary files of
    ``target``.  The file at ``target`` is afterwards either the complete new file or
    (after an exception) untouched, and no temporary file is left behind."""
    directory = os.path.dirname(target) or "."
    base = os.path.basename(target)
    remove_stale_temporaries(directory, base)
    while True:
        tmp = os.path.join(directory, _temporary_name(base))
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            _write_all(f, data)
            f.flush()
            os.fsync(f.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _write_all(f: Any, data: bytes, chunk: int = 1 << 20) -> None:
    for start in range(0, len(data), chunk):
        f.write(data[start : start + chunk])


def _fsync_directory(directory: str) -> None:
    """Make the rename durable (POSIX); silently skipped where directories cannot be opened."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)
