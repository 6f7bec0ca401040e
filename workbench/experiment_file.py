"""Experiment files: an :class:`~workbench.spec.ExperimentSpec` and the runs of a session
(each a :class:`~workbench.spec.SavedRun`: its settings and its
:class:`~workbench.spec.RunResult`) as JSON a person can read and diff.

The document (version 2)::

    {
      "format": "mlp-workbench-experiment",
      "version": 2,
      "spec": { ...the experiment being edited, keys in dataclass order... },
      "runs": [ {"name": ..., "spec": {...}, "result": {...RunResult...}, "parent": null,
                 "group": null, "color": 0, "visible": true, "pinned": false}, ... ],
      "current": 0,                               <- the run shown; null or absent: none
      "view": {"pace": 10}                        <- how to watch it; optional
    }

Version 1 held one run's ``"results"`` beside the spec; it is read through
:data:`MIGRATIONS` (its results become run 1, and since they were trained before
regression targets were standardised, its specs keep ``standardize_targets: false`` so
a re-run reproduces them).

Objects are written one key per line (indent 2), except that a small record in an
array (a layer, a marker) takes one line; arrays of plain values are written eight to
a line, so a changed number changes one line of a diff.  Floats are written with
Python's shortest round-tripping ``repr``, so saving and loading is lossless.  In
results, a value that is NaN or infinite (a diverged loss, say) is written as ``null``.
Trained weights are base64 of little-endian float32 (:func:`encode_weights`,
:func:`decode_weights`); nothing is ever pickled or evaluated.

Reading is strict.  Every failure of :func:`load` / :func:`loads` raises
:class:`ExperimentFileError`, whose lines name the JSON path and the bad value::

    spec.optimizer.lr: must be > 0.0, got -0.1
    spec.optimizer.foo: unknown key

Only regular files are opened (a FIFO or a device is refused without blocking:
:func:`regular_file_problem`), and files larger than :data:`MAX_FILE_BYTES` are refused
before they are read.  The raw text is then bounded before anything is built from it
(:func:`_bound_document`, see :mod:`workbench.limits`): nesting deeper than
:data:`MAX_DEPTH`, more values, containers, strings or keys than the largest valid file
has, an object with more than ``MAX_JSON_KEYS`` keys, an array longer than its place
allows, a string longer than ``MAX_JSON_STRING`` (the weights: ``MAX_SAVED_WEIGHTS_B64``).
Refused as well: the non-standard constants ``NaN``/``Infinity``, numbers out of range,
duplicate object keys and text that is not UTF-8.  Keys missing from ``spec`` take their
defaults (hand-written files may be short); unknown keys are errors.  Values are checked
strictly: ``"0.1"`` is not a number and ``1`` is not ``true``.

Versions: a file records the :data:`CURRENT_VERSION` it was written with.  An older
file is upgraded on load by :data:`MIGRATIONS`, which maps a version ``v`` to a
function turning a version-``v`` document (a dict) into a version ``v + 1`` one; a
newer file is refused.

:func:`save` is atomic: it writes a temporary file in the same directory, flushes and
fsyncs it, then renames it over the target, so the target is either the old file or
the new one, never a mixture.  Temporary files are named after their target and their
process (``.NAME.HOST-PID-TOKEN.mlpw-tmp``), so the next save of the same file removes
those a crash left behind.  ``save`` refuses a read-only target (:class:`ReadOnlyFile`)
unless told to overwrite it, weights larger than :data:`MAX_SAVED_PARAMETERS`
(:class:`WeightsTooLarge`) unless told to leave them out, and a symbolic link owned by
another user (in a shared folder such as /tmp such a link could point anywhere).  A CSV
file beside or below the experiment file is stored relative to it.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import math
import os
import re
import secrets
import socket
import stat
import time
from pathlib import Path, PurePath
from typing import Any, Callable, Optional, Union

import numpy as np
from pydantic import TypeAdapter, ValidationError

from workbench.spec import (
    HISTORY_COLUMNS,
    MAX_HISTORY,
    ArchitectureSpec,
    DataSpec,
    ExperimentSpec,
    RunResult,
    SavedRun,
    ScheduleSpec,
    SpecError,
    ViewHints,
    WeightsBlob,
    spec_error_from,
    to_plain,
)

__all__ = [
    "FORMAT_ID",
    "CURRENT_VERSION",
    "MIGRATIONS",
    "MAX_FILE_BYTES",
    "MAX_DEPTH",
    "MAX_SAVED_PARAMETERS",
    "Experiment",
    "ExperimentFileError",
    "WeightsTooLarge",
    "ReadOnlyFile",
    "weights_fit",
    "regular_file_problem",
    "write_problem",
    "load",
    "loads",
    "dumps",
    "save",
    "encode_weights",
    "decode_weights",
]

FORMAT_ID = "mlp-workbench-experiment"
CURRENT_VERSION = 2

#: ``MIGRATIONS[v]`` turns a version-``v`` document into a version-``v + 1`` one.
#: ``load`` applies them in order and then sets ``"version"`` itself.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}

from .limits import (  # noqa: E402  (bounds live in one module)
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_JSON_ARRAY,
    MAX_JSON_CONTAINERS,
    MAX_JSON_ELEMENTS,
    MAX_JSON_KEYS,
    MAX_JSON_KEYS_TOTAL,
    MAX_JSON_STRING,
    MAX_JSON_STRINGS,
    MAX_MARKERS,
    MAX_REPORTED_ERRORS,
    MAX_RUNS,
    MAX_SAVED_PARAMETERS,
    MAX_SAVED_WEIGHTS_B64,
)

_TOP_KEYS = ("format", "version", "spec", "runs", "current", "view", "sweep")
_MAX_INT_DIGITS = 40
_ITEMS_PER_LINE = 8


class ExperimentFileError(SpecError):
    """An experiment file cannot be read (or written).

    ``errors`` is a list of ``(path, message)`` pairs, the path being the dotted JSON
    path (``spec.optimizer.lr``) or ``""`` for the file as a whole; ``str()`` gives
    one line per error.  ``source`` names the file (or ``"<string>"``).
    """

    def __init__(self, errors: list[tuple[str, str]], source: str = "<string>"):
        errors = list(errors)
        if len(errors) > MAX_REPORTED_ERRORS:
            more = len(errors) - MAX_REPORTED_ERRORS
            errors = errors[:MAX_REPORTED_ERRORS] + [("", f"... and {more} more problems")]
        self.source = source
        super().__init__(errors)


class WeightsTooLarge(ExperimentFileError):
    """The run's trained weights are more than a file stores (:data:`MAX_SAVED_PARAMETERS`);
    ``save(..., without_weights=True)`` saves everything else.  ``n_params`` and ``limit``
    give the numbers."""

    def __init__(self, n_params: int, source: str = "<string>", path: str = "runs.0.result.weights"):
        self.n_params = int(n_params)
        self.limit = MAX_SAVED_PARAMETERS
        super().__init__(
            [(path, f"the trained weights have {self.n_params:,} parameters, more than the "
                                 f"{self.limit:,} an experiment file stores; save without weights")],
            source,
        )


class ReadOnlyFile(ExperimentFileError):
    """The file to be replaced is read-only; ``save(..., overwrite_readonly=True)``
    replaces it all the same (keeping its mode).  ``path`` and ``mode`` say which."""

    def __init__(self, path: str, mode: int):
        self.path = path
        self.mode = mode
        super().__init__([("", f"{path} is read-only (mode {mode:04o})")], path)


def weights_fit(n_params: int) -> bool:
    """Whether a file can store ``n_params`` trained weights (at most :data:`MAX_SAVED_PARAMETERS`)."""
    return 0 <= int(n_params) <= MAX_SAVED_PARAMETERS


@dataclasses.dataclass(frozen=True)
class Experiment:
    """What an experiment file holds: the spec, the runs (``current``: the index of the
    one shown, or None), how to watch it, the file's path (``None`` from :func:`loads`)
    and the version it was written with (files of an older version were upgraded by
    :data:`MIGRATIONS`)."""

    spec: ExperimentSpec
    runs: tuple[SavedRun, ...] = ()
    current: Optional[int] = None
    view: ViewHints = ViewHints()
    path: Optional[Path] = None
    source_version: int = CURRENT_VERSION
    sweep: Optional[Any] = None  # a workbench.sweep.spec.SweepSpec: the file's "sweep" key

    @property
    def result(self) -> Optional[RunResult]:
        """The result of the run shown (None without one)."""
        return None if self.current is None else self.runs[self.current].result


def _v1_to_v2(doc: dict) -> dict:
    """Version 1 -> 2: ``results`` become the one run.  Results of version 1 were trained
    on raw regression targets: specs that had results keep ``standardize_targets: false``."""
    out = {k: v for k, v in doc.items() if k != "results"}
    results = doc.get("results")
    if results is not None:
        spec = doc.get("spec")
        if isinstance(spec, dict):
            data = spec.get("data")
            data = dict(data) if isinstance(data, dict) else ({} if data is None else data)
            if isinstance(data, dict):
                data.setdefault("standardize_targets", False)
            spec = {**spec, "data": data}
            out["spec"] = spec
        out["runs"] = [{"name": "run 1", "spec": spec, "result": results}]
        out["current"] = 0
    return out


MIGRATIONS[1] = _v1_to_v2


# ---------------------------------------------------------------------------
# Weights


def encode_weights(params: np.ndarray) -> WeightsBlob:
    """The flat parameter vector as a :class:`WeightsBlob`: base64 of its values as
    little-endian float32 (values of another float dtype are converted)."""
    arr = np.asarray(params)
    if arr.ndim != 1:
        raise ValueError(f"weights: expected a flat (1-D) parameter vector, got shape {arr.shape}")
    if arr.dtype.kind not in "fiu":
        raise ValueError(f"weights: expected real numbers, got dtype {arr.dtype}")
    raw = np.ascontiguousarray(arr, dtype="<f4").tobytes()
    try:
        return WeightsBlob(n_params=int(arr.size), data_b64=base64.b64encode(raw).decode("ascii"))
    except ValidationError as exc:
        raise spec_error_from(exc, "weights") from None


def decode_weights(blob: WeightsBlob) -> np.ndarray:
    """The parameter vector of ``blob`` as a new float32 array.

    Raises :class:`ExperimentFileError` if the base64 is malformed or does not hold
    exactly ``4 * n_params`` bytes.
    """
    raw = _weights_bytes(blob)
    return np.frombuffer(raw, dtype="<f4").astype(np.float32, copy=True)


def _weights_bytes(blob: WeightsBlob, path: str = "weights") -> bytes:
    if not isinstance(blob, WeightsBlob):
        raise ExperimentFileError([(path, f"expected a WeightsBlob, got {type(blob).__name__}")])
    if blob.dtype != "<f4":
        raise ExperimentFileError([(f"{path}.dtype", f"must be '<f4', got {blob.dtype!r}")])
    try:
        raw = binascii.a2b_base64(blob.data_b64, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise ExperimentFileError([(f"{path}.data_b64", f"is not valid base64 ({exc})")]) from None
    if len(raw) != 4 * blob.n_params:
        raise ExperimentFileError(
            [(f"{path}.data_b64", f"holds {len(raw)} bytes, but n_params {blob.n_params} needs {4 * blob.n_params}")]
        )
    return raw


# ---------------------------------------------------------------------------
# Writing


def dumps(spec: ExperimentSpec, result: Optional[RunResult] = None, *, runs: Optional[tuple] = None,
          current: Optional[int] = None, view: Optional[ViewHints] = None, without_weights: bool = False,
          sweep=None) -> str:
    """The experiment file text for ``spec`` and its ``runs`` (SavedRun) with ``current``
    the one shown; ``result`` alone saves one run ("run 1", trained with ``spec``).

    ``without_weights`` leaves the trained weights out.  Weights larger than a file stores
    raise :class:`WeightsTooLarge`, a document larger than a file may be (in bytes, or in
    any count :func:`load` bounds) :class:`ExperimentFileError` -- before anything is
    written, so every file saved can be read back."""
    if not isinstance(spec, ExperimentSpec):
        raise TypeError(f"spec must be an ExperimentSpec, got {type(spec).__name__}")
    if result is not None:
        if not isinstance(result, RunResult):
            raise TypeError(f"result must be a RunResult or None, got {type(result).__name__}")
        if runs is not None:
            raise TypeError("give result or runs, not both")
        runs, current = (SavedRun(name="run 1", spec=spec, result=result),), 0
    runs = tuple(runs or ())
    if len(runs) > MAX_RUNS:
        raise ExperimentFileError([("runs", f"a file keeps at most {MAX_RUNS} runs, got {len(runs)}")])
    if current is not None and not 0 <= current < len(runs):
        raise ValueError(f"current: must be an index into the {len(runs)} runs, got {current}")
    doc: dict[str, Any] = {"format": FORMAT_ID, "version": CURRENT_VERSION, "spec": to_plain(spec)}
    if runs:
        doc["runs"] = [_plain_run(run, i, without_weights) for i, run in enumerate(runs)]
        doc["current"] = current
    if view is not None and view != ViewHints():
        doc["view"] = to_plain(view)
    if sweep is not None:
        from .sweep.file import sweep_to_plain
        doc["sweep"] = sweep_to_plain(sweep)
    parts: list[str] = []
    _emit(doc, 0, parts)
    parts.append("\n")
    text = "".join(parts)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise ExperimentFileError(
            [("", f"the file would be {size} bytes, more than the limit of {MAX_FILE_BYTES}; "
                  "save it without weights, with fewer runs or with a shorter history")]
        )
    try:
        _bound_document(text, "the file")  # what load would refuse is never written
    except ExperimentFileError as exc:
        raise ExperimentFileError([(p, f"{m}; save fewer runs") for p, m in exc.errors]) from None
    return text


def _plain_run(run: SavedRun, index: int, without_weights: bool) -> dict:
    if not isinstance(run, SavedRun):
        raise TypeError(f"runs[{index}] must be a SavedRun, got {type(run).__name__}")
    weights = run.result.weights if run.result is not None else None
    if weights is not None and not without_weights and not weights_fit(weights.n_params):
        raise WeightsTooLarge(weights.n_params, path=f"runs.{index}.result.weights")
    plain = to_plain(run)
    if run.result is not None:
        result = plain["result"]
        if without_weights:
            result["weights"] = None
        result = _finite_or_null(result)
        for key in ("history", "followup_history"):
            hist = result.get(key)
            if isinstance(hist, dict):  # stable column order
                result[key] = {c: hist[c] for c in HISTORY_COLUMNS if c in hist}
        plain["result"] = result
    return plain


def _result_adapter() -> TypeAdapter:
    return _ADAPTERS.setdefault(RunResult, TypeAdapter(RunResult))


def save(
    path: Union[str, os.PathLike],
    spec: ExperimentSpec,
    result: Optional[RunResult] = None,
    *,
    runs: Optional[tuple] = None,
    current: Optional[int] = None,
    view: Optional[ViewHints] = None,
    without_weights: bool = False,
    overwrite_readonly: bool = False,
    base_dir: Union[str, os.PathLike, None] = None,
    sweep=None,
) -> None:
    """Write the experiment file atomically: the file at ``path`` is afterwards either
    the complete new file or (after an exception) untouched, and no temporary file
    is left behind.  Errors of the file system are raised as ``OSError``.

    Refused with an :class:`ExperimentFileError` before anything is written:

    * weights over :data:`MAX_SAVED_PARAMETERS` (:class:`WeightsTooLarge`) unless
      ``without_weights``, which leaves the weights out;
    * an existing read-only file (:class:`ReadOnlyFile`) unless ``overwrite_readonly``
      (the new file keeps the old one's mode, as every replaced file does);
    * a path that leads through a symbolic link owned by another user (not root), and
      a path that is a folder, a FIFO or a device.

    A user's own symbolic link is followed: its target is replaced.  ``base_dir`` is the
    folder a relative ``data.csv_path`` of ``spec`` is relative to (the folder of the
    file it was loaded from); a CSV file in the experiment file's folder or below it is
    stored relative to that folder (POSIX separators), any other as an absolute path.
    Temporary files that an earlier save of the same file left behind (its process
    died, or it is older than :data:`STALE_TEMP_SECONDS`) are removed.
    """
    given = os.fspath(path)
    target, mode = _writable_target(given, overwrite_readonly)
    directory = os.path.dirname(target) or "."
    base = os.path.basename(target)
    spec = _with_csv_path_for(spec, given, directory, base_dir)
    if result is not None:
        runs, current, result = (SavedRun(name="run 1", spec=spec, result=result),), 0, None
    runs = tuple(dataclasses.replace(run, spec=_with_csv_path_for(run.spec, given, directory, base_dir))
                 for run in (runs or ()))
    data = dumps(spec, runs=runs, current=current, view=view, without_weights=without_weights,
                 sweep=sweep).encode("utf-8")
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


def write_problem(path: Union[str, os.PathLike], *, overwrite_readonly: bool = False) -> Optional[str]:
    """Why :func:`save` would refuse ``path`` before writing anything, or None: a symbolic
    link of another user on the way, a folder, FIFO or device, a read-only file (unless
    ``overwrite_readonly``).  For a caller to tell the user before a long run, not after."""
    try:
        _writable_target(os.fspath(path), overwrite_readonly)
    except ExperimentFileError as exc:
        return exc.errors[0][1]
    except OSError as exc:
        return f"cannot write {os.fspath(path)}: {exc.strerror or exc}"
    return None


def _writable_target(given: str, overwrite_readonly: bool) -> tuple[str, Optional[int]]:
    """The real path ``save`` writes for ``given`` and the mode of the file it replaces
    (None: a new file); raises the refusals of :func:`save`."""
    target = _resolve_for_writing(given)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        return target, None
    if not stat.S_ISREG(st.st_mode):
        raise ExperimentFileError([("", f"{given} is {_special_kind(st.st_mode)}, not an experiment file")], given)
    mode = stat.S_IMODE(st.st_mode)
    if not overwrite_readonly and _read_only(target, mode):
        raise ReadOnlyFile(given, mode)
    return target, mode


def _read_only(path: str, mode: int) -> bool:
    """No write permission bits at all (0444: even root is told), or none for this user."""
    return not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or not os.access(path, os.W_OK)


def _special_kind(mode: int) -> str:
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


_MAX_SYMLINKS = 40


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
        if hops > _MAX_SYMLINKS:
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


def _with_csv_path_for(spec: ExperimentSpec, given: str, folder: str, base_dir) -> ExperimentSpec:
    """``spec`` with ``data.csv_path`` relative to ``folder`` (the experiment file's real
    folder) when the CSV file lies in it or below it, else absolute as it was.  A relative
    path is read against ``base_dir``; without one it is kept as it is."""
    data = spec.data
    if data.source != "csv" or not data.csv_path:
        return spec
    csv = os.path.expanduser(data.csv_path)
    if not os.path.isabs(csv):
        if base_dir is None:
            return spec
        csv = os.path.join(os.fspath(base_dir), csv)
    csv = os.path.abspath(csv)
    folder = os.path.realpath(folder)
    new = csv
    # the loader reads a relative path against the folder of the path it opens: only
    # when that is the file's real folder (not a link from elsewhere) is relative safe
    if os.path.realpath(os.path.dirname(os.path.abspath(given))) == folder:
        csv_dir = os.path.realpath(os.path.dirname(csv))
        if csv_dir == folder or csv_dir.startswith(folder.rstrip(os.sep) + os.sep):
            new = PurePath(os.path.relpath(os.path.join(csv_dir, os.path.basename(csv)), folder)).as_posix()
    if new == data.csv_path:
        return spec
    return dataclasses.replace(spec, data=dataclasses.replace(data, csv_path=new))


# -- temporary files of save ----------------------------------------------------------------

#: A temporary file older than this is removed by the next save of its target even when
#: its process may still live (a save takes seconds; a pid may be reused or be on another host).
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
    """Remove the temporary files an interrupted :func:`save` of ``directory/base`` left:
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


def _finite_or_null(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [
            _finite_or_null(v) if isinstance(v, (dict, list)) else None if isinstance(v, float) and not math.isfinite(v) else v
            for v in value
        ]
    return value


_CONTAINERS = (dict, list, tuple)


def _all_scalars(values: Any) -> bool:
    return not any(issubclass(kind, _CONTAINERS) for kind in set(map(type, values)))


def _scalars(values: list) -> list[str]:
    """JSON text of each plain value; a fast path for the long float columns of a history."""
    kinds = set(map(type, values))
    if kinds <= {float, type(None)}:
        floats = [v for v in values if v is not None] if type(None) in kinds else values
        if not all(map(math.isfinite, floats)):
            raise ValueError("cannot write a non-finite number")
        rep = float.__repr__
        return ["null" if v is None else rep(v) for v in values]
    return [_scalar(v) for v in values]


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return int.__repr__(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot write the non-finite number {value!r}")
        return float.__repr__(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    raise TypeError(f"cannot write a {type(value).__name__} to an experiment file")


def _emit(value: Any, indent: int, out: list[str]) -> None:
    pad = "  " * (indent + 1)
    if isinstance(value, dict):
        if not value:
            out.append("{}")
            return
        out.append("{\n")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",\n")
            out.append(pad + _scalar(str(key)) + ": ")
            _emit(item, indent + 1, out)
        out.append("\n" + "  " * indent + "}")
    elif isinstance(value, (list, tuple)):
        if not value:
            out.append("[]")
            return
        if _all_scalars(value):
            items = _scalars(value)
            if len(items) <= _ITEMS_PER_LINE and sum(map(len, items)) <= 100:
                out.append("[" + ", ".join(items) + "]")
                return
            lines = [", ".join(items[i : i + _ITEMS_PER_LINE]) for i in range(0, len(items), _ITEMS_PER_LINE)]
            out.append("[\n" + pad + (",\n" + pad).join(lines) + "\n" + "  " * indent + "]")
            return
        out.append("[\n")
        for i, item in enumerate(value):
            if i:
                out.append(",\n")
            out.append(pad)
            if isinstance(item, dict) and item and _all_scalars(item.values()):
                line = "{" + ", ".join(f"{_scalar(str(k))}: {_scalar(v)}" for k, v in item.items()) + "}"
                if len(line) <= 120:  # a small record (a layer, a marker): one line
                    out.append(line)
                    continue
            _emit(item, indent + 1, out)
        out.append("\n" + "  " * indent + "]")
    else:
        out.append(_scalar(value))


# ---------------------------------------------------------------------------
# Reading


def regular_file_problem(path: Union[str, os.PathLike]) -> Optional[str]:
    """Why ``path`` cannot be opened as an experiment file, from its ``stat`` alone
    (nothing is opened, so a FIFO cannot block), or None: ``file not found: ...``,
    ``... is a FIFO, not an experiment file`` (a folder, a device, a socket), ``the file
    is too large: ...``, ``cannot read ...``.  :func:`load` checks the same itself on the
    opened file; this lets a caller tell the user before it tries."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return f"file not found: {os.fspath(path)}"
    except OSError as exc:
        return f"cannot read {os.fspath(path)}: {exc.strerror or exc}"
    except ValueError as exc:  # e.g. an embedded NUL character
        return f"cannot read {os.fspath(path)!r}: {exc}"
    return _not_an_experiment_file(os.fspath(path), st)


def _not_an_experiment_file(source: str, st: os.stat_result) -> Optional[str]:
    if not stat.S_ISREG(st.st_mode):
        return f"{source} is {_special_kind(st.st_mode)}, not an experiment file"
    if st.st_size > MAX_FILE_BYTES:
        return _too_big(st.st_size)
    return None


def load(path: Union[str, os.PathLike]) -> Experiment:
    """Read the experiment file at ``path``; raise :class:`ExperimentFileError`.

    Safe on any path: it is opened non-blocking and checked on the open descriptor
    (``fstat``) to be a regular file no larger than :data:`MAX_FILE_BYTES` before a byte
    is read, so a FIFO, a device or a huge file is refused at once."""
    source = os.fspath(path)

    def fail(message: str) -> ExperimentFileError:
        return ExperimentFileError([("", message)], source)

    flags = os.O_RDONLY
    for name in ("O_NONBLOCK", "O_NOCTTY", "O_CLOEXEC", "O_BINARY"):
        flags |= getattr(os, name, 0)
    try:
        fd = os.open(source, flags)
    except OSError as exc:
        raise fail(f"cannot read {source}: {exc.strerror or exc}") from exc
    except ValueError as exc:  # an embedded NUL character
        raise fail(f"cannot read {source!r}: {exc}") from None
    try:
        problem = _not_an_experiment_file(source, os.fstat(fd))
        if problem is None:
            with os.fdopen(fd, "rb", closefd=False) as f:
                data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise fail(f"cannot read {source}: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if problem is not None:
        raise fail(problem)
    if len(data) > MAX_FILE_BYTES:  # it grew while being read
        raise fail(f"the file is too large: more than {MAX_FILE_BYTES} bytes, the limit is {MAX_FILE_BYTES}")
    return dataclasses.replace(loads(data, source=source), path=Path(source))


def loads(text: Union[str, bytes, bytearray], source: str = "<string>") -> Experiment:
    """Read experiment file text (``str``, or UTF-8 ``bytes``); raise :class:`ExperimentFileError`."""

    def fail(path: str, message: str) -> ExperimentFileError:
        return ExperimentFileError([(path, message)], source)

    if isinstance(text, (bytes, bytearray)):
        if len(text) > MAX_FILE_BYTES:
            raise fail("", _too_big(len(text)))
        try:
            text = bytes(text).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise fail("", f"not UTF-8 text: bad byte 0x{exc.object[exc.start]:02x} at offset {exc.start}") from None
    elif not isinstance(text, str):
        raise fail("", f"expected text or bytes, got {type(text).__name__}")
    if len(text) > MAX_FILE_BYTES:
        raise fail("", _too_big(len(text)))
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise fail("", "the file is empty")
    _bound_document(text, source)

    doc = _parse_json(text, source)
    if not isinstance(doc, dict):
        raise fail("", f"the top level must be a JSON object, got {_json_type(doc)}")
    if "format" not in doc:
        raise fail("format", f"required key is missing (expected {FORMAT_ID!r})")
    if doc["format"] != FORMAT_ID:
        raise fail("format", f"must be {FORMAT_ID!r}, got {_short(doc['format'])}")
    if "version" not in doc:
        raise fail("version", "required key is missing")
    version = doc["version"]
    if type(version) is not int:
        raise fail("version", f"must be an integer, got {_short(version)}")
    if version > CURRENT_VERSION:
        raise fail("version", f"version {version} is newer than this program supports ({CURRENT_VERSION})")
    doc = _migrate(doc, version, source)
    unknown = [k for k in doc if k not in _TOP_KEYS]
    if unknown:
        raise ExperimentFileError([(k, "unknown key") for k in unknown], source)

    if "spec" not in doc:
        raise fail("spec", "required key is missing")
    errors = _precheck(doc)
    if errors:
        raise ExperimentFileError(errors, source)
    spec, runs, view = None, [], ViewHints()
    try:
        spec = _validate(ExperimentSpec, doc["spec"], "spec")
    except SpecError as exc:
        errors.extend(exc.errors)
    raw_runs = doc.get("runs", [])
    if not isinstance(raw_runs, list):
        raise fail("runs", f"must be an array, got {_json_type(raw_runs)}")
    for i, raw in enumerate(raw_runs):
        try:
            run = _validate(SavedRun, raw, f"runs.{i}")
            if run.result is not None and run.result.weights is not None:
                _weights_bytes(run.result.weights, f"runs.{i}.result.weights")
            if run.parent is not None and run.parent >= len(raw_runs):
                errors.append((f"runs.{i}.parent", f"must be the index of one of the {len(raw_runs)} runs, "
                                                   f"got {run.parent}"))
            runs.append(run)
        except SpecError as exc:
            errors.extend(exc.errors)
    current = doc.get("current")
    if current is not None and (type(current) is not int or not 0 <= current < len(raw_runs)):
        errors.append(("current", f"must be the index of one of the {len(raw_runs)} runs or null, "
                                  f"got {_short(current)}"))
    if "view" in doc:
        try:
            view = _validate(ViewHints, doc["view"], "view")
        except SpecError as exc:
            errors.extend(exc.errors)
    sweep = None
    if "sweep" in doc and spec is not None:
        from .sweep.file import parse_sweep
        try:
            sweep = parse_sweep(doc["sweep"], spec, "sweep")
        except SpecError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ExperimentFileError(errors, source)
    return Experiment(spec=spec, runs=tuple(runs), current=current, view=view, path=None, source_version=version,
                      sweep=sweep)


def _too_big(size: int) -> str:
    return f"the file is too large: {size} bytes, the limit is {MAX_FILE_BYTES}"


def _short(value: Any) -> str:
    shown = repr(value) if not isinstance(value, (list, dict)) else _json_type(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


# ---------------------------------------------------------------------------
# The pre-pass: bound the raw document before anything is built from it.
#
# json.loads of millions of tiny containers costs hundreds of MB, and the schema library
# many times more, so the text is scanned first, token by token, with C-speed regexes: a
# token is a string, a bracket, a colon, or a *run* of anything else (numbers, literals,
# commas, white space) -- so the long arrays of numbers of a history are one token each,
# and the Python loop sees only strings and containers, which are bounded (a valid file
# of maximal size has about 150,000 tokens).  The quantifiers are possessive: a string
# of millions of escapes is matched without a backtracking stack (the plain pattern took
# 2.3 GB for a 40 MB string).  Anything that is not JSON ends the scan early; the parser
# then names the line and column, having read only text the scan bounded.

_TOKEN_RE = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{}:]|[^\[\]{}":]++|"', re.S)
_VALUE_CHAR_RE = re.compile(r"[^\s,]")
_STRING_RE = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
# the rest of an array that holds no arrays or objects, up to its closing bracket
_FLAT_REST_RE = re.compile(r'(?:"[^"\\]*+(?:\\.[^"\\]*+)*+"|[^\[\]{}"]++)*+\]', re.S)
_HISTORIES = ("history", "followup_history")
_RESULT_KEYS = ("results", "result")  # a version-1 file's results, a run's result
_MAX_PATH_PARTS = 12
_MAX_KEY_SHOWN = 40


class _Open:
    """An array or object the scan is inside of."""

    __slots__ = ("is_object", "start", "bound", "count", "nonempty", "keys", "key", "expect_key")

    def __init__(self, is_object: bool, start: int, bound: int):
        self.is_object = is_object
        self.start = start  # where its content begins in the text
        self.bound = bound  # arrays: most items allowed here
        self.count = 0  # commas so far (arrays: the index of the current item)
        self.nonempty = False
        self.keys = 0
        self.key: Optional[str] = None  # objects: the key of the current value
        self.expect_key = True


def _array_bound(path: list) -> int:
    """Most items the array at ``path`` may have: the runs MAX_RUNS, a history column
    MAX_HISTORY, the markers MAX_MARKERS, the layers, milestones and derived features their
    schema bound (:data:`_ARRAY_BOUNDS`, by the path's end: in the spec and in every run's),
    any other MAX_JSON_ARRAY."""
    if path == ["runs"]:
        return MAX_RUNS
    if len(path) >= 3 and path[-3] in _RESULT_KEYS and path[-2] in _HISTORIES:
        return MAX_HISTORY
    for where, bound in _ARRAY_BOUNDS:
        if tuple(path[-len(where):]) == where:
            return bound
    return MAX_JSON_ARRAY


def _weights_string(path: list) -> bool:
    """Whether ``path`` leads to a weights string (bounded by MAX_SAVED_WEIGHTS_B64)."""
    return len(path) >= 3 and path[-3] in _RESULT_KEYS and path[-2:] == ["weights", "data_b64"]


def _flat_items(text: str, array: _Open) -> Optional[int]:
    """The number of items of ``array`` if it holds only strings and scalars (one
    C-speed scan to its closing bracket), else None."""
    m = _FLAT_REST_RE.match(text, array.start)
    if m is None:
        return None
    inner = _STRING_RE.sub('""', text[array.start : m.end() - 1])
    return inner.count(",") + 1 if inner.strip() else 0


def _key_text(token: str) -> str:
    if "\\" in token:
        try:
            return json.loads(token)
        except ValueError:
            pass
    return token[1:-1]


def _shown_path(path: list) -> str:
    parts = [p if not isinstance(p, str) or len(p) <= _MAX_KEY_SHOWN else p[:_MAX_KEY_SHOWN] + "..." for p in path]
    if len(parts) > _MAX_PATH_PARTS:
        return _path_text(tuple(parts[:_MAX_PATH_PARTS])) + "..."
    return _path_text(tuple(parts))


def _bound_document(text: str, source: str) -> None:
    """Raise :class:`ExperimentFileError` naming the JSON path if the raw document asks
    for more than a valid experiment file of maximal size needs (see workbench.limits):
    nesting deeper than MAX_DEPTH; an array longer than its place allows (a history
    column MAX_HISTORY, the markers MAX_MARKERS, any other MAX_JSON_ARRAY); an object
    with more than MAX_JSON_KEYS keys; a string longer than MAX_JSON_STRING (the weights:
    MAX_SAVED_WEIGHTS_B64); in all, more than MAX_JSON_ELEMENTS values, MAX_JSON_CONTAINERS
    arrays and objects, MAX_JSON_STRINGS strings or MAX_JSON_KEYS_TOTAL keys.  Stops at
    the first excess, having spent time linear in the text and memory for the nesting."""

    stack: list[_Open] = []
    names: list = []  # the path of the innermost open container
    containers = strings = keys = commas = 0
    count = text.count
    # an array found longer than its bound and not flat: its exact length is reported
    # when it closes; the scan goes on meanwhile, under all the other bounds
    over: Optional[tuple[_Open, list, int]] = None

    def over_error(closed: bool) -> ExperimentFileError:
        array, path, bound = over
        got = f"{array.count + array.nonempty}{'' if closed else ' or more'}"
        return ExperimentFileError([(_shown_path(path), f"must have at most {bound} items, got {got}")], source)

    def fail(path: list, message: str) -> ExperimentFileError:
        if over is not None:  # an array already too long is the first thing to tell
            return over_error(closed=False)
        return ExperimentFileError([(_shown_path(path), message)], source)

    def too_long(array: _Open) -> Optional[ExperimentFileError]:
        nonlocal over
        flat = _flat_items(text, array)
        if flat is not None:
            return fail(names, f"must have at most {array.bound} items, got {flat}")
        over = (array, list(names), array.bound)
        array.bound = MAX_JSON_ELEMENTS
        return None

    for m in _TOKEN_RE.finditer(text):
        start, end = m.span()
        c = text[start]
        top = stack[-1] if stack else None
        if c == '"':
            if end - start < 2:
                break  # an unterminated string: the parser says where
            strings += 1
            length = end - start - 2
            if top is not None and top.is_object and top.expect_key:
                if strings > MAX_JSON_STRINGS:
                    raise fail(names, f"the document has more than {MAX_JSON_STRINGS:,} strings, more than a valid "
                                      "experiment file")
                if length > MAX_JSON_STRING:
                    raise fail(names, f"a key of {length:,} characters, more than the {MAX_JSON_STRING:,} allowed")
                top.key = _key_text(text[start:end])
                top.expect_key = False
                continue
            where = names + [(top.key if top.is_object else top.count)] if top is not None else []
            if strings > MAX_JSON_STRINGS:
                raise fail(where, f"the document has more than {MAX_JSON_STRINGS:,} strings, more than a valid "
                                  "experiment file")
            limit = MAX_SAVED_WEIGHTS_B64 if _weights_string(where) else MAX_JSON_STRING
            if length > limit:
                raise fail(where, f"a string of {length:,} characters, more than the {limit:,} allowed here")
            if top is not None and not top.is_object and not top.nonempty:
                top.nonempty = True
                if top.count + 1 > top.bound:
                    error = too_long(top)
                    if error is not None:
                        raise error
        elif c == "[" or c == "{":
            if top is not None:
                name = top.key if top.is_object else top.count
                if not top.is_object and not top.nonempty:
                    top.nonempty = True
                    if top.count + 1 > top.bound:
                        error = too_long(top)
                        if error is not None:
                            raise error
                names.append(name)
            containers += 1
            if len(stack) + 1 > MAX_DEPTH:
                raise fail(names, f"JSON nesting is deeper than {MAX_DEPTH} levels")
            if containers > MAX_JSON_CONTAINERS:
                raise fail(names, f"the document has more than {MAX_JSON_CONTAINERS:,} arrays and objects, more "
                                  "than a valid experiment file")
            stack.append(_Open(c == "{", end, 0 if c == "{" else _array_bound(names)))
        elif c == "]" or c == "}":
            if top is None or top.is_object != (c == "}"):
                break  # not JSON: the parser says where
            if over is not None and over[0] is top:
                raise over_error(closed=True)
            stack.pop()
            if stack:
                names.pop()
        elif c == ":":
            if top is None or not top.is_object or top.key is None:
                break  # not JSON: the parser says where
            top.keys += 1
            keys += 1
            if top.keys > MAX_JSON_KEYS:
                raise fail(names, f"must have at most {MAX_JSON_KEYS} entries, got {top.keys} or more")
            if keys > MAX_JSON_KEYS_TOTAL:
                raise fail(names + [top.key], f"the document has more than {MAX_JSON_KEYS_TOTAL:,} keys, more than "
                                              "a valid experiment file")
        else:  # a run of numbers, literals, commas and white space
            n = count(",", start, end)
            if top is None:
                continue
            if top.is_object:
                if n:
                    top.expect_key = True
                    top.key = None
            else:
                top.count += n
                if not top.nonempty and _VALUE_CHAR_RE.search(text, start, end) is not None:
                    top.nonempty = True
                items = top.count + top.nonempty
                if items > top.bound:
                    error = too_long(top)
                    if error is not None:
                        raise error
            if n:
                commas += n
                if 1 + commas + containers > MAX_JSON_ELEMENTS:
                    raise fail(names, f"the document has more than {MAX_JSON_ELEMENTS:,} values, more than a valid "
                                      "experiment file")
    if over is not None:  # the text ended inside the array
        raise over_error(closed=False)


# A surrogate escape (\ud800), or a raw surrogate in text handed to loads() as str.
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")
_RAW_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _may_hold_surrogates(text: str) -> bool:
    """Whether ``text`` has a surrogate escape (\\ud800) or a raw surrogate (only text
    handed to loads() as str).  A search led by a literal is fast (0.07 s on a 140 MB file,
    where one alternation took 1 s); ASCII text (told in O(1)) has no raw surrogates."""
    if "\\u" in text and _SURROGATE_ESCAPE_RE.search(text):
        return True
    return not text.isascii() and _RAW_SURROGATE_RE.search(text) is not None


def _text_problem(text: str) -> Optional[str]:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return f"contains an unpaired surrogate \\u{ord(text[exc.start]):04x}"
    return None


class _Bad:
    """A value the JSON parser met that an experiment file must not hold."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


class _DuplicateKeys(dict):
    __slots__ = ("duplicates",)


def _parse_json(text: str, source: str) -> Any:
    def fail(path: str, message: str) -> ExperimentFileError:
        return ExperimentFileError([(path, message)], source)

    flagged = []

    def constant(name: str) -> _Bad:
        flagged.append(True)
        return _Bad(f"{name} is not allowed (JSON has no NaN or Infinity)")

    def integer(digits: str) -> Union[int, _Bad]:
        if len(digits) > _MAX_INT_DIGITS:
            flagged.append(True)
            return _Bad(f"integer with {len(digits)} digits is out of range")
        return int(digits)

    def pairs(items: list[tuple[str, Any]]) -> dict:
        obj = dict(items)
        if len(obj) == len(items):
            return obj
        seen: set[str] = set()
        dups = []
        for key, _ in items:
            if key in seen and key not in dups:
                dups.append(key)
            seen.add(key)
        flagged.append(True)
        out = _DuplicateKeys(obj)
        out.duplicates = dups
        return out

    if _may_hold_surrogates(text):
        flagged.append(True)  # look for unpaired surrogates once parsed
    try:
        doc = json.loads(text, parse_constant=constant, parse_int=integer, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise fail("", f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise fail("", f"JSON nesting is deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise fail("", f"not valid JSON: {exc}") from None
    if flagged:
        problems = _find_problems(doc, ())
        if problems:
            raise ExperimentFileError(problems, source)
    return doc


def _path_text(path: tuple) -> str:
    return ".".join(str(p) for p in path)


def _find_problems(value: Any, path: tuple, check_floats: bool = False) -> list[tuple[str, str]]:
    """Paths to parser sentinels, duplicate keys, unpaired surrogates and (``check_floats``)
    non-finite floats."""
    problems: list[tuple[str, str]] = []
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if len(where) > MAX_DEPTH + 1:
            problems.append((_path_text(where), f"nesting is deeper than {MAX_DEPTH} levels"))
        elif isinstance(item, _Bad):
            problems.append((_path_text(where), item.message))
        elif isinstance(item, float):
            if check_floats and not math.isfinite(item):
                problems.append((_path_text(where), f"number out of range, got {item!r}"))
        elif isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                problems.append((_path_text(where), problem))
        elif isinstance(item, dict):
            for key in item:
                problem = _text_problem(key)
                if problem:
                    problems.append((_path_text(where + (key.encode("utf-8", "backslashreplace").decode(),)), f"key {problem}"))
            if isinstance(item, _DuplicateKeys):
                for key in item.duplicates:
                    problems.append((_path_text(where + (key,)), "duplicate key"))
            stack.extend((v, where + (k,)) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, where + (i,)) for i, v in reversed(list(enumerate(item))))
    return problems


def _migrate(doc: dict, version: int, source: str) -> dict:
    def fail(path: str, message: str) -> ExperimentFileError:
        return ExperimentFileError([(path, message)], source)

    for v in range(version, CURRENT_VERSION):
        step = MIGRATIONS.get(v)
        if step is None:
            raise fail("version", f"version {version} files cannot be read (no upgrade from version {v})")
        try:
            doc = step(doc)
        except SpecError:
            raise
        except Exception as exc:  # a migration met a document it did not expect
            raise fail("version", f"upgrading from version {v} failed: {type(exc).__name__}: {exc}") from None
        if not isinstance(doc, dict):
            raise fail("version", f"upgrading from version {v} did not give a JSON object")
        doc["version"] = v + 1
    return doc


def _max_len(cls: type, field: str) -> int:
    for meta in cls.__pydantic_fields__[field].metadata:
        if hasattr(meta, "max_length"):
            return meta.max_length
    raise LookupError(f"{cls.__name__}.{field} has no max_length")


# Arrays whose items pydantic would validate one by one before checking the length:
# checked first, so a hostile file cannot make it report a million errors.
_ARRAY_BOUNDS = (  # by the end of their path: in the spec, in a run's spec, in a result
    (("architecture", "layers"), _max_len(ArchitectureSpec, "layers")),
    (("data", "derived_features"), _max_len(DataSpec, "derived_features")),
    (("schedule", "milestones"), _max_len(ScheduleSpec, "milestones")),
    (("result", "markers"), _max_len(RunResult, "markers")),
    (("results", "markers"), _max_len(RunResult, "markers")),  # (version 1)
)
_NUMBER_TYPES = (float, int, type(None))
_MAX_METRICS = 64


def _precheck(doc: dict) -> list[tuple[str, str]]:
    """What pydantic would check item by item, checked first (a hostile file cannot make it
    report a million errors): the spec's and every run's arrays, histories and weights."""
    runs = doc.get("runs")
    runs = runs if isinstance(runs, list) and len(runs) <= MAX_RUNS else []
    errors = _precheck_spec(doc.get("spec"), "spec")
    for i, run in enumerate(runs):
        if isinstance(run, dict):
            errors += _precheck_spec(run.get("spec"), f"runs.{i}.spec")
            errors += _precheck_result(run.get("result"), f"runs.{i}.result")
    return errors


def _precheck_spec(spec: Any, prefix: str) -> list[tuple[str, str]]:
    errors = []
    for path, bound in _ARRAY_BOUNDS[:3]:
        node: Any = spec
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, list) and len(node) > bound:
            errors.append((f"{prefix}.{_path_text(path)}", f"must have at most {bound} items, got {len(node)}"))
    return errors


def _precheck_result(results: Any, prefix: str) -> list[tuple[str, str]]:
    if not isinstance(results, dict):
        return []
    errors = []
    markers, bound = results.get("markers"), _ARRAY_BOUNDS[3][1]
    if isinstance(markers, list) and len(markers) > bound:
        errors.append((f"{prefix}.markers", f"must have at most {bound} items, got {len(markers)}"))
    for name in _HISTORIES:
        hist = results.get(name)
        if not isinstance(hist, dict):
            continue
        for column, values in hist.items():
            where = f"{prefix}.{name}.{column}"
            if column not in HISTORY_COLUMNS:
                errors.append((where, f"unknown column (known: {', '.join(HISTORY_COLUMNS)})"))
            elif isinstance(values, list):
                if len(values) > MAX_HISTORY:
                    errors.append((where, f"must have at most {MAX_HISTORY} items, got {len(values)}"))
                    continue
                bad = next((i for i, v in enumerate(values) if type(v) not in _NUMBER_TYPES), None)
                if bad is not None:
                    errors.append((f"{where}.{bad}", f"must be a number or null, got {_short(values[bad])}"))
    weights = results.get("weights")
    n_params = weights.get("n_params") if isinstance(weights, dict) else None
    if type(n_params) is int and n_params > MAX_SAVED_PARAMETERS:
        errors.append((f"{prefix}.weights.n_params", f"must be <= {MAX_SAVED_PARAMETERS} (the most weights a file "
                                                     f"stores), got {n_params}"))
    metrics = results.get("final_metrics")
    if isinstance(metrics, dict) and len(metrics) > _MAX_METRICS:
        errors.append((f"{prefix}.final_metrics", f"must have at most {_MAX_METRICS} entries, got {len(metrics)}"))
    return errors


_ADAPTERS: dict[type, TypeAdapter] = {}
_LEADING_PATH_RE = re.compile(r"^([A-Za-z_]\w*(?:\.\w+)*): (.+)$", re.S)


def _validate(cls: type, data: Any, prefix: str) -> Any:
    """Validate JSON data strictly (JSON types only: no string-to-number coercion)."""
    adapter = _ADAPTERS.setdefault(cls, TypeAdapter(cls))
    try:
        payload = json.dumps(data, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a number overflowed to infinity while parsing (e.g. 1e999)
        problems = _find_problems(data, (prefix,), check_floats=True)
        raise SpecError(problems or [(prefix, "cannot be checked (not plain JSON data)")]) from None
    try:
        return adapter.validate_json(payload, strict=True)
    except ValidationError as exc:
        errors = []
        for path, message in spec_error_from(exc, prefix).errors:
            # A whole-object check names its field in the message ("data.val_fraction: ..."):
            # move that name into the path.
            match = _LEADING_PATH_RE.match(message)
            if match:
                path, message = f"{path}.{match.group(1)}" if path else match.group(1), match.group(2)
            errors.append((path, message))
        raise SpecError(errors) from None
