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
calls for the key; :func:`load` / :func:`loads` / :func:`dumps` / :func:`save` read and
write a file with its sweep through it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
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


def loads(text: Union[str, bytes, bytearray], source: str = "<string>") -> SweepFile:
    """Read experiment file text with its sweep; :class:`~workbench.experiment_file.ExperimentFileError`
    naming the JSON path."""
    experiment = ef.loads(text, source)
    return SweepFile(experiment, experiment.sweep)


def load(path: Union[str, os.PathLike]) -> SweepFile:
    """Read an experiment file with its sweep (the rules of :func:`workbench.experiment_file.load`)."""
    experiment = ef.load(path)
    return SweepFile(experiment, experiment.sweep)


def dumps(spec: ExperimentSpec, sweep: Optional[SweepSpec], **content) -> str:
    """The experiment file text of ``spec`` with ``sweep`` (``content``: ``runs``,
    ``current``, ``view``, ``without_weights`` as :func:`workbench.experiment_file.dumps`)."""
    if sweep is not None:
        check_sweep(spec, sweep)
    return ef.dumps(spec, **content, sweep=sweep)


def save(path: Union[str, os.PathLike], spec: ExperimentSpec, sweep: Optional[SweepSpec], **content) -> None:
    """Write the experiment file with its sweep atomically (see
    :func:`workbench.experiment_file.save`; ``content`` as there)."""
    if sweep is not None:
        check_sweep(spec, sweep)
    ef.save(path, spec, **content, sweep=sweep)


def save_experiment(sweep: Optional[SweepSpec]):
    """A function with the signature of :func:`workbench.experiment_file.save` that writes
    the file with ``sweep`` (for callers that take a writer)."""
    return lambda path, spec, **content: save(path, spec, sweep, **content)


__all__ = ["SWEEP_KEY", "SweepFile", "dumps", "load", "loads", "parse_sweep", "save", "save_experiment",
           "sweep_to_plain"]
