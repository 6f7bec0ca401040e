"""Experiment files: an :class:`~workbench.spec.ExperimentSpec` (and optionally the
:class:`~workbench.spec.RunResult` of a run) as JSON a person can read and diff.

The document::

    {
      "format": "mlp-workbench-experiment",
      "version": 1,
      "spec": { ...the complete ExperimentSpec, keys in dataclass order... },
      "results": { ...RunResult... }            <- absent when there are no results
    }

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

Files larger than :data:`MAX_FILE_BYTES` are refused before parsing; so are nesting
deeper than :data:`MAX_DEPTH`, the non-standard constants ``NaN``/``Infinity``,
numbers out of range, duplicate object keys and text that is not UTF-8.  Keys missing
from ``spec`` take their defaults (hand-written files may be short); unknown keys are
errors.  Values are checked strictly: ``"0.1"`` is not a number and ``1`` is not ``true``.

Versions: a file records the :data:`CURRENT_VERSION` it was written with.  An older
file is upgraded on load by :data:`MIGRATIONS`, which maps a version ``v`` to a
function turning a version-``v`` document (a dict) into a version ``v + 1`` one; a
newer file is refused.

:func:`save` is atomic: it writes a temporary file in the same directory, flushes and
fsyncs it, then renames it over the target, so the target is either the old file or
the new one, never a mixture.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import math
import os
import re
import secrets
import stat
from pathlib import Path
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
    ScheduleSpec,
    SpecError,
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
    "Experiment",
    "ExperimentFileError",
    "load",
    "loads",
    "dumps",
    "save",
    "encode_weights",
    "decode_weights",
]

FORMAT_ID = "mlp-workbench-experiment"
CURRENT_VERSION = 1

#: ``MIGRATIONS[v]`` turns a version-``v`` document into a version-``v + 1`` one.
#: ``load`` applies them in order and then sets ``"version"`` itself.
MIGRATIONS: dict[int, Callable[[dict], dict]] = {}

from .limits import MAX_DEPTH, MAX_FILE_BYTES, MAX_REPORTED_ERRORS  # noqa: E402  (bounds live in one module)

_TOP_KEYS = ("format", "version", "spec", "results")
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


@dataclasses.dataclass(frozen=True)
class Experiment:
    """What an experiment file holds: the spec, the run result if saved, the file's
    path (``None`` from :func:`loads`) and the version it was written with (files
    of an older version were upgraded by :data:`MIGRATIONS`)."""

    spec: ExperimentSpec
    result: Optional[RunResult] = None
    path: Optional[Path] = None
    source_version: int = CURRENT_VERSION


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


def _weights_bytes(blob: WeightsBlob, path: str = "results.weights") -> bytes:
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


def dumps(spec: ExperimentSpec, result: Optional[RunResult] = None) -> str:
    """The experiment file text for ``spec`` and (optionally) ``result``."""
    if not isinstance(spec, ExperimentSpec):
        raise TypeError(f"spec must be an ExperimentSpec, got {type(spec).__name__}")
    if result is not None and not isinstance(result, RunResult):
        raise TypeError(f"result must be a RunResult or None, got {type(result).__name__}")
    doc: dict[str, Any] = {"format": FORMAT_ID, "version": CURRENT_VERSION, "spec": to_plain(spec)}
    if result is not None:
        plain = _finite_or_null(to_plain(result))
        for key in ("history", "followup_history"):
            hist = plain.get(key)
            if isinstance(hist, dict):  # stable column order
                plain[key] = {c: hist[c] for c in HISTORY_COLUMNS if c in hist}
        doc["results"] = plain
    parts: list[str] = []
    _emit(doc, 0, parts)
    parts.append("\n")
    text = "".join(parts)
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        raise ExperimentFileError(
            [("", f"the file would be {size} bytes, more than the limit of {MAX_FILE_BYTES}; "
                  "save it without weights or with a shorter history")]
        )
    return text


def save(path: Union[str, os.PathLike], spec: ExperimentSpec, result: Optional[RunResult] = None) -> None:
    """Write the experiment file atomically: the file at ``path`` is afterwards either
    the complete new file or (after an exception) untouched, and no temporary file
    is left behind.  Errors of the file system are raised as ``OSError``."""
    data = dumps(spec, result).encode("utf-8")
    target = os.path.realpath(os.fspath(path))
    directory = os.path.dirname(target) or "."
    base = os.path.basename(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
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


def load(path: Union[str, os.PathLike]) -> Experiment:
    """Read the experiment file at ``path``; raise :class:`ExperimentFileError`."""
    source = os.fspath(path)
    try:
        with open(source, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_FILE_BYTES:
                raise ExperimentFileError([("", _too_big(size))], source)
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ExperimentFileError([("", f"cannot read {source}: {exc.strerror or exc}")], source) from exc
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
    if _nesting_depth_exceeds(text, MAX_DEPTH):
        raise fail("", f"JSON nesting is deeper than {MAX_DEPTH} levels")

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
    spec = result = None
    try:
        spec = _validate(ExperimentSpec, doc["spec"], "spec")
    except SpecError as exc:
        errors.extend(exc.errors)
    raw_result = doc.get("results")
    if raw_result is not None:
        try:
            result = _validate(RunResult, raw_result, "results")
            if result.weights is not None:
                _weights_bytes(result.weights)
        except SpecError as exc:
            errors.extend(exc.errors)
    if errors:
        raise ExperimentFileError(errors, source)
    return Experiment(spec=spec, result=result, path=None, source_version=version)


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


_STRING_RE = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_NOT_BRACKET_RE = re.compile(r"[^\[\]{}]+")


def _nesting_depth_exceeds(text: str, limit: int) -> bool:
    """Whether arrays/objects nest deeper than ``limit`` (brackets inside strings do not count).

    Checked before parsing so that no parser or validator ever recurses deeply."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET_RE.sub("", _STRING_RE.sub("", text)).encode("ascii")
    codes = np.frombuffer(brackets, dtype=np.uint8)
    depth = 0
    chunk = 1 << 20
    for start in range(0, codes.size, chunk):
        c = codes[start : start + chunk]
        steps = np.where((c == ord("[")) | (c == ord("{")), 1, -1).astype(np.int64)
        levels = np.cumsum(steps) + depth
        if int(levels.max()) > limit:
            return True
        depth = int(levels[-1])
    return False


# A surrogate escape (\ud800), or a raw surrogate in text handed to loads() as str.
_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]" "|[\ud800-\udfff]")


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

    if _SURROGATE_ESCAPE_RE.search(text):
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
_ARRAY_BOUNDS = (
    (("spec", "architecture", "layers"), _max_len(ArchitectureSpec, "layers")),
    (("spec", "data", "derived_features"), _max_len(DataSpec, "derived_features")),
    (("spec", "schedule", "milestones"), _max_len(ScheduleSpec, "milestones")),
    (("results", "markers"), _max_len(RunResult, "markers")),
)
_NUMBER_TYPES = (float, int, type(None))
_MAX_METRICS = 64


def _precheck(doc: dict) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for path, bound in _ARRAY_BOUNDS:
        node: Any = doc
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, list) and len(node) > bound:
            errors.append((_path_text(path), f"must have at most {bound} items, got {len(node)}"))
    results = doc.get("results")
    if not isinstance(results, dict):
        return errors
    for name in ("history", "followup_history"):
        hist = results.get(name)
        if not isinstance(hist, dict):
            continue
        for column, values in hist.items():
            where = f"results.{name}.{column}"
            if column not in HISTORY_COLUMNS:
                errors.append((where, f"unknown column (known: {', '.join(HISTORY_COLUMNS)})"))
            elif isinstance(values, list):
                if len(values) > MAX_HISTORY:
                    errors.append((where, f"must have at most {MAX_HISTORY} items, got {len(values)}"))
                    continue
                bad = next((i for i, v in enumerate(values) if type(v) not in _NUMBER_TYPES), None)
                if bad is not None:
                    errors.append((f"{where}.{bad}", f"must be a number or null, got {_short(values[bad])}"))
    metrics = results.get("final_metrics")
    if isinstance(metrics, dict) and len(metrics) > _MAX_METRICS:
        errors.append(("results.final_metrics", f"must have at most {_MAX_METRICS} entries, got {len(metrics)}"))
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
