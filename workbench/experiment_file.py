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
:func:`decode_weights`); nothing is ever pickled or evaluated.  (The layout:
:mod:`workbench.files.json_layout`.)

Reading is strict.  Every failure of :func:`load` / :func:`loads` raises
:class:`ExperimentFileError`, whose lines name the JSON path and the bad value::

    spec.optimizer.lr: must be > 0.0, got -0.1
    spec.optimizer.foo: unknown key

Only regular files are opened (a FIFO or a device is refused without blocking:
:func:`regular_file_problem`), and files larger than :data:`MAX_FILE_BYTES` are refused
before they are read.  The raw text is then bounded before anything is built from it
(:func:`workbench.files.json_bounds.bound_document`, see :mod:`workbench.limits`): nesting deeper than
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
newer file is refused (:mod:`workbench.files.migrations`).

:func:`save` is atomic: it writes a temporary file in the same directory, flushes and
fsyncs it, then renames it over the target, so the target is either the old file or
the new one, never a mixture.  Temporary files are named after their target and their
process (``.NAME.HOST-PID-TOKEN.mlpw-tmp``), so the next save of the same file removes
those a crash left behind.  ``save`` refuses a read-only target (:class:`ReadOnlyFile`)
unless told to overwrite it, weights larger than :data:`MAX_SAVED_PARAMETERS`
(:class:`WeightsTooLarge`) unless told to leave them out, and a symbolic link owned by
another user (in a shared folder such as /tmp such a link could point anywhere)
(:mod:`workbench.files.safe_write`).  A CSV file beside or below the experiment file is
stored relative to it.

This module reads and writes whole files; each step has a module of its own in
:mod:`workbench.files`, and the public names of those import from here too.
"""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path, PurePath
from typing import Any, Optional, Union

from .files.errors import ExperimentFileError, ReadOnlyFile, WeightsTooLarge
from .files.json_bounds import bound_document
from .files.json_layout import finite_or_null, json_text
from .files.migrations import CURRENT_VERSION, MIGRATIONS, upgrade
from .files.safe_write import (  # noqa: F401  (STALE_TEMP_SECONDS, remove_stale_temporaries: re-exported)
    STALE_TEMP_SECONDS,
    file_kind,
    remove_stale_temporaries,
    replace_file,
    writable_target,
    write_problem,
)
from .files.schema_check import HISTORIES, precheck, validate
from .files.strict_json import json_type, parse_json, shown_value
from .files.weights import decode_weights, encode_weights, weights_bytes
from .limits import (  # noqa: F401  (MAX_DEPTH, MAX_REPORTED_ERRORS, MAX_FILE_HISTORY: re-exported)
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_FILE_HISTORY,
    MAX_FILE_MARKERS,
    MAX_REPORTED_ERRORS,
    MAX_RUNS,
    MAX_SAVED_PARAMETERS,
)
from .markers import fit_runs
from .spec import HISTORY_COLUMNS, ExperimentSpec, RunResult, SavedRun, SpecError, ViewHints, to_plain

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

_TOP_KEYS = ("format", "version", "spec", "runs", "current", "view", "sweep")


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


# ---------------------------------------------------------------------------
# Writing


def dumps(spec: ExperimentSpec, result: Optional[RunResult] = None, *, runs: Optional[tuple] = None,
          current: Optional[int] = None, view: Optional[ViewHints] = None, without_weights: bool = False,
          sweep=None) -> str:
    """The experiment file text for ``spec`` and its ``runs`` (SavedRun) with ``current``
    the one shown; ``result`` alone saves one run ("run 1", trained with ``spec``).

    The runs share the file's budget (:mod:`workbench.limits`).  Their markers together
    are at most :data:`MAX_FILE_MARKERS`: past that, each run's automatic markers
    (plateau drops, restarts) are thinned to its share and counted in its
    ``markers_left_out`` (:func:`workbench.markers.fit_runs`: the user's changes,
    divergence and phases are kept unless they alone are too many).  Their histories
    together hold at most :data:`MAX_FILE_HISTORY` numbers, which the session keeps to
    (:meth:`workbench.runs.RunList.evictable`).

    ``without_weights`` leaves the trained weights out.  Weights larger than a file stores,
    or the weights of several runs that make the file larger than :data:`MAX_FILE_BYTES`
    together, raise :class:`WeightsTooLarge` (without them the runs always fit:
    ``MAX_FILE_BYTES_WITHOUT_WEIGHTS``); a document larger than a file may be in any
    other way (in bytes, or in any count :func:`load` bounds) raises
    :class:`ExperimentFileError` -- before anything is written, so every file saved can
    be read back."""
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
    for i, run in enumerate(runs):
        if not isinstance(run, SavedRun):
            raise TypeError(f"runs[{i}] must be a SavedRun, got {type(run).__name__}")
    fitted = fit_runs([run.result for run in runs], MAX_FILE_MARKERS)
    runs = tuple(run if new is run.result else dataclasses.replace(run, result=new) for run, new in zip(runs, fitted))
    doc: dict[str, Any] = {"format": FORMAT_ID, "version": CURRENT_VERSION, "spec": to_plain(spec)}
    if runs:
        doc["runs"] = [_plain_run(run, i, without_weights) for i, run in enumerate(runs)]
        doc["current"] = current
    if view is not None and view != ViewHints():
        doc["view"] = to_plain(view)
    if sweep is not None:
        from .sweep.file import sweep_to_plain
        doc["sweep"] = sweep_to_plain(sweep)
    text = json_text(doc)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        weighed = [] if without_weights else [r.result.weights for r in runs
                                              if r.result is not None and r.result.weights is not None]
        if weighed:  # the curves fit without them (MAX_FILE_BYTES_WITHOUT_WEIGHTS): offer that
            room = MAX_FILE_BYTES - (size - sum(len(w.data_b64) for w in weighed))
            raise WeightsTooLarge(sum(w.n_params for w in weighed), path="runs", runs=len(weighed),
                                  limit=max(0, room) * 3 // 16)  # 16/3 base64 characters a parameter
        raise ExperimentFileError(
            [("", f"the file would be {size} bytes, more than the limit of {MAX_FILE_BYTES}; "
                  "save it without weights, with fewer runs or with a shorter history")]
        )
    try:
        bound_document(text, "the file")  # what load would refuse is never written
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
        result = finite_or_null(result)
        for key in HISTORIES:
            hist = result.get(key)
            if isinstance(hist, dict):  # stable column order
                result[key] = {c: hist[c] for c in HISTORY_COLUMNS if c in hist}
        plain["result"] = result
    return plain


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
    target, mode = writable_target(given, overwrite_readonly)
    directory = os.path.dirname(target) or "."
    spec = _with_csv_path_for(spec, given, directory, base_dir)
    if result is not None:
        runs, current, result = (SavedRun(name="run 1", spec=spec, result=result),), 0, None
    runs = tuple(dataclasses.replace(run, spec=_with_csv_path_for(run.spec, given, directory, base_dir))
                 for run in (runs or ()))
    data = dumps(spec, runs=runs, current=current, view=view, without_weights=without_weights,
                 sweep=sweep).encode("utf-8")
    replace_file(target, data, mode)


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
        return f"{source} is {file_kind(st.st_mode)}, not an experiment file"
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
    bound_document(text, source)

    doc = parse_json(text, source)
    if not isinstance(doc, dict):
        raise fail("", f"the top level must be a JSON object, got {json_type(doc)}")
    if "format" not in doc:
        raise fail("format", f"required key is missing (expected {FORMAT_ID!r})")
    if doc["format"] != FORMAT_ID:
        raise fail("format", f"must be {FORMAT_ID!r}, got {shown_value(doc['format'])}")
    if "version" not in doc:
        raise fail("version", "required key is missing")
    version = doc["version"]
    if type(version) is not int:
        raise fail("version", f"must be an integer, got {shown_value(version)}")
    doc = upgrade(doc, version, source)
    unknown = [k for k in doc if k not in _TOP_KEYS]
    if unknown:
        raise ExperimentFileError([(k, "unknown key") for k in unknown], source)

    if "spec" not in doc:
        raise fail("spec", "required key is missing")
    errors = precheck(doc)
    if errors:
        raise ExperimentFileError(errors, source)
    spec, runs, view = None, [], ViewHints()
    try:
        spec = validate(ExperimentSpec, doc["spec"], "spec")
    except SpecError as exc:
        errors.extend(exc.errors)
    raw_runs = doc.get("runs", [])
    if not isinstance(raw_runs, list):
        raise fail("runs", f"must be an array, got {json_type(raw_runs)}")
    for i, raw in enumerate(raw_runs):
        try:
            run = validate(SavedRun, raw, f"runs.{i}")
            if run.result is not None and run.result.weights is not None:
                weights_bytes(run.result.weights, f"runs.{i}.result.weights")
            if run.parent is not None and run.parent >= len(raw_runs):
                errors.append((f"runs.{i}.parent", f"must be the index of one of the {len(raw_runs)} runs, "
                                                   f"got {run.parent}"))
            runs.append(run)
        except SpecError as exc:
            errors.extend(exc.errors)
    current = doc.get("current")
    if current is not None and (type(current) is not int or not 0 <= current < len(raw_runs)):
        errors.append(("current", f"must be the index of one of the {len(raw_runs)} runs or null, "
                                  f"got {shown_value(current)}"))
    if "view" in doc:
        try:
            view = validate(ViewHints, doc["view"], "view")
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
