"""A sweep in an experiment file: the optional top-level key ``"sweep"``.

The base experiment is the file's ``spec``; the sweep beside it says what to vary::

    {
      "format": "mlp-workbench-experiment", "version": 2,
      "spec": {...the base experiment...},
      "runs": [...],                      <- a finished sweep's trials, best points first kept
      "sweep": {
        "axes": [{"field": "optimizer.lr", "kind": "log_uniform", "low": 0.001, "high": 0.1},
                 {"field": "regularization.l2", "kind": "values", "values": [0, 0.0001, 0.001]}],
        "method": "random", "samples": 16, "seed": 0, "repeats": 1,
        "budget": {"max_runs": 64, "max_seconds": 600}
      }
    }

Keys left out take their defaults (``method`` random, ``samples`` 16, ``points_per_axis``
3, ``seed`` 0, ``repeats`` 1, ``budget`` 64 runs and no time limit); unknown keys are
errors.  The key is read with the file's own safety rules: the whole document is bounded
before it is parsed (an axis list or a value list is an array of at most
``MAX_JSON_ARRAY`` items there; :func:`parse_sweep` then holds them to
:data:`~workbench.sweep.spec.MAX_SWEEP_AXES` and :data:`~workbench.sweep.spec.MAX_AXIS_VALUES`
before validating an item), values are checked strictly (``"0.1"`` is not a number, ``1`` is
not ``true``), the sweep is checked against the file's spec (:func:`~workbench.sweep.spec.check_sweep`),
and nothing is unpickled or evaluated.  Errors name the JSON path:
``sweep.axes.0.low: optimizer.lr must be in (0, 10], got 0``.

:func:`parse_sweep` and :func:`sweep_to_plain` are what :mod:`workbench.experiment_file`
calls for the key.  :func:`load` / :func:`loads` / :func:`dumps` / :func:`save` read and
write a file with its sweep through :mod:`workbench.experiment_file` (while that module
does not know the key yet, they take it out of the document and put it back themselves,
under the same bounds).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Union

from pydantic import TypeAdapter, ValidationError

from .. import experiment_file as ef
from ..spec import ExperimentSpec, SpecError, spec_error_from, to_plain
from .spec import MAX_AXIS_VALUES, MAX_SWEEP_AXES, SweepSpec, check_sweep

SWEEP_KEY = "sweep"
_ADAPTER: Optional[TypeAdapter] = None


def _adapter() -> TypeAdapter:
    global _ADAPTER
    if _ADAPTER is None:
        _ADAPTER = TypeAdapter(SweepSpec)
    return _ADAPTER


def _precheck(data: Any, prefix: str) -> list[tuple[str, str]]:
    """Array lengths, checked before pydantic validates any item."""
    if not isinstance(data, dict):
        return [(prefix, f"must be an object, got {type(data).__name__}")]
    axes = data.get("axes")
    if not isinstance(axes, list):
        return []
    if len(axes) > MAX_SWEEP_AXES:
        return [(f"{prefix}.axes", f"must have at most {MAX_SWEEP_AXES} items, got {len(axes)}")]
    errors = []
    for i, axis in enumerate(axes):
        values = axis.get("values") if isinstance(axis, dict) else None
        if isinstance(values, list) and len(values) > MAX_AXIS_VALUES:
            errors.append((f"{prefix}.axes.{i}.values", f"must have at most {MAX_AXIS_VALUES} items, got {len(values)}"))
    return errors


def parse_sweep(data: Any, base: Optional[ExperimentSpec] = None, prefix: str = SWEEP_KEY) -> SweepSpec:
    """The :class:`SweepSpec` of plain JSON ``data`` (strict: JSON types only), checked
    against ``base`` when given; :class:`SpecError` naming the path under ``prefix``."""
    errors = _precheck(data, prefix)
    if errors:
        raise SpecError(errors)
    try:
        payload = json.dumps(data, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError):
        raise SpecError([(prefix, "is not plain JSON data (or holds a number out of range)")]) from None
    try:
        sweep = _adapter().validate_json(payload, strict=True)
    except ValidationError as exc:
        raise spec_error_from(exc, prefix) from None
    if base is not None:
        check_sweep(base, sweep, prefix)
    return sweep


def sweep_to_plain(sweep: SweepSpec) -> dict:
    """``sweep`` as JSON-ready data (an axis leaves out what its kind does not use)."""
    plain = to_plain(sweep)
    plain["axes"] = [{k: v for k, v in axis.items() if v is not None} for axis in plain["axes"]]
    if plain["budget"].get("max_seconds") is None:
        plain["budget"].pop("max_seconds", None)
    return plain


# ---------------------------------------------------------------------------
# Files


@dataclass(frozen=True)
class SweepFile:
    """An experiment file and its sweep (None: the file has none)."""

    experiment: ef.Experiment
    sweep: Optional[SweepSpec]

    @property
    def spec(self) -> ExperimentSpec:
        return self.experiment.spec


def _file_knows_sweeps() -> bool:
    return SWEEP_KEY in {f.name for f in dataclasses.fields(ef.Experiment)}


def loads(text: Union[str, bytes, bytearray], source: str = "<string>") -> SweepFile:
    """Read experiment file text with its sweep; :class:`~workbench.experiment_file.ExperimentFileError`
    naming the JSON path."""
    try:
        experiment = ef.loads(text, source)
        return SweepFile(experiment, getattr(experiment, SWEEP_KEY, None))
    except ef.ExperimentFileError as exc:
        if _file_knows_sweeps() or exc.errors != [(SWEEP_KEY, "unknown key")]:
            raise
    # the file's reader does not know the key yet: it has bounded and parsed the document
    # already (the unknown key is found after that), so it is safe to parse it here
    if isinstance(text, (bytes, bytearray)):
        text = bytes(text).decode("utf-8-sig")
    doc = json.loads(text.lstrip("\ufeff"))
    raw = doc.pop(SWEEP_KEY)
    experiment = ef.loads(json.dumps(doc), source)
    try:
        sweep = parse_sweep(raw, experiment.spec)
    except SpecError as exc:
        raise ef.ExperimentFileError(exc.errors, source) from None
    return SweepFile(experiment, sweep)


def load(path: Union[str, os.PathLike]) -> SweepFile:
    """Read an experiment file with its sweep (the safety rules of
    :func:`workbench.experiment_file.load`: regular files only, bounded, strict)."""
    if _file_knows_sweeps():
        experiment = ef.load(path)
        return SweepFile(experiment, getattr(experiment, SWEEP_KEY))
    problem = ef.regular_file_problem(path)
    if problem:
        raise ef.ExperimentFileError([("", problem)], os.fspath(path))
    with open(path, "rb") as f:
        data = f.read(ef.MAX_FILE_BYTES + 1)
    found = loads(data, os.fspath(path))
    return dataclasses.replace(found, experiment=dataclasses.replace(found.experiment, path=os.fspath(path)))


def _with_sweep(text: str, sweep: SweepSpec) -> str:
    """Experiment file ``text`` with the ``sweep`` key added at its end (while the file's
    writer does not know the key)."""
    body = json.dumps(sweep_to_plain(sweep), indent=2, ensure_ascii=False).replace("\n", "\n  ")
    text = text.rstrip()[:-1].rstrip() + f',\n  "{SWEEP_KEY}": {body}\n}}\n'
    loads(text)  # what cannot be read back is never written
    return text


def dumps(spec: ExperimentSpec, sweep: Optional[SweepSpec], **content) -> str:
    """The experiment file text of ``spec`` with ``sweep`` (``content``: ``runs``,
    ``current``, ``view``, ``without_weights`` as :func:`workbench.experiment_file.dumps`)."""
    if sweep is not None:
        check_sweep(spec, sweep)
    if _file_knows_sweeps():
        return ef.dumps(spec, **content, **{SWEEP_KEY: sweep})
    text = ef.dumps(spec, **content)
    return text if sweep is None else _with_sweep(text, sweep)


def save(path: Union[str, os.PathLike], spec: ExperimentSpec, sweep: Optional[SweepSpec], **content) -> None:
    """Write the experiment file with its sweep atomically (see
    :func:`workbench.experiment_file.save`; ``content`` as there)."""
    if sweep is not None:
        check_sweep(spec, sweep)
    if _file_knows_sweeps():
        ef.save(path, spec, **content, **{SWEEP_KEY: sweep})
        return
    ef.save(path, spec, **content)  # every rule of the file's writer (atomic, CSV paths, links)
    if sweep is None:
        return
    target = Path(os.path.realpath(path))
    text = _with_sweep(target.read_text(encoding="utf-8"), sweep)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.sweep-tmp")
    try:  # the file's writer checked the target above; the sweep goes in by one more rename
        tmp.write_text(text, encoding="utf-8")
        os.chmod(tmp, target.stat().st_mode & 0o7777)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def save_experiment(sweep: Optional[SweepSpec]):
    """A function with the signature of :func:`workbench.experiment_file.save` that writes
    the file with ``sweep`` (for callers that take a writer)."""
    return lambda path, spec, **content: save(path, spec, sweep, **content)


__all__ = ["SWEEP_KEY", "SweepFile", "dumps", "load", "loads", "parse_sweep", "save", "save_experiment",
           "sweep_to_plain"]
