"""Checking a parsed document against the schema (:mod:`workbench.spec`): arrays, histories
and weights that pydantic would check item by item are checked first
(:func:`precheck`: a hostile file cannot make it report a million errors), then
:func:`validate` validates strictly (JSON types only: ``"0.1"`` is not a number and ``1``
is not ``true``)."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..limits import MAX_FINAL_METRICS, MAX_HISTORY, MAX_RUNS, MAX_SAVED_PARAMETERS
from ..spec import HISTORY_COLUMNS, ArchitectureSpec, DataSpec, RunResult, ScheduleSpec, SpecError, spec_error_from
from .strict_json import find_problems, path_text, shown_value

HISTORIES = ("history", "followup_history")
RESULT_KEYS = ("results", "result")  # a version-1 file's results, a run's result


def _max_len(cls: type, field: str) -> int:
    for meta in cls.__pydantic_fields__[field].metadata:
        if hasattr(meta, "max_length"):
            return meta.max_length
    raise LookupError(f"{cls.__name__}.{field} has no max_length")


# Arrays whose items pydantic would validate one by one before checking the length:
# checked first, so a hostile file cannot make it report a million errors.
ARRAY_BOUNDS = (  # by the end of their path: in the spec, in a run's spec, in a result
    (("architecture", "layers"), _max_len(ArchitectureSpec, "layers")),
    (("data", "derived_features"), _max_len(DataSpec, "derived_features")),
    (("schedule", "milestones"), _max_len(ScheduleSpec, "milestones")),
    (("result", "markers"), _max_len(RunResult, "markers")),
    (("results", "markers"), _max_len(RunResult, "markers")),  # (version 1)
)
_NUMBER_TYPES = (float, int, type(None))


def precheck(doc: dict) -> list[tuple[str, str]]:
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
    for path, bound in ARRAY_BOUNDS[:3]:
        node: Any = spec
        for key in path:
            node = node.get(key) if isinstance(node, dict) else None
        if isinstance(node, list) and len(node) > bound:
            errors.append((f"{prefix}.{path_text(path)}", f"must have at most {bound} items, got {len(node)}"))
    return errors


def _precheck_result(results: Any, prefix: str) -> list[tuple[str, str]]:
    if not isinstance(results, dict):
        return []
    errors = []
    markers, bound = results.get("markers"), ARRAY_BOUNDS[3][1]
    if isinstance(markers, list) and len(markers) > bound:
        errors.append((f"{prefix}.markers", f"must have at most {bound} items, got {len(markers)}"))
    for name in HISTORIES:
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
                    errors.append((f"{where}.{bad}", f"must be a number or null, got {shown_value(values[bad])}"))
    weights = results.get("weights")
    n_params = weights.get("n_params") if isinstance(weights, dict) else None
    if type(n_params) is int and n_params > MAX_SAVED_PARAMETERS:
        errors.append((f"{prefix}.weights.n_params", f"must be <= {MAX_SAVED_PARAMETERS} (the most weights a file "
                                                     f"stores), got {n_params}"))
    metrics = results.get("final_metrics")
    if isinstance(metrics, dict) and len(metrics) > MAX_FINAL_METRICS:
        errors.append((f"{prefix}.final_metrics", f"must have at most {MAX_FINAL_METRICS} entries, "
                                                  f"got {len(metrics)}"))
    return errors


_ADAPTERS: dict[type, TypeAdapter] = {}
_LEADING_PATH_RE = re.compile(r"^([A-Za-z_]\w*(?:\.\w+)*): (.+)$", re.S)


def validate(cls: type, data: Any, prefix: str) -> Any:
    """Validate JSON data strictly (JSON types only: no string-to-number coercion)."""
    adapter = _ADAPTERS.setdefault(cls, TypeAdapter(cls))
    try:
        payload = json.dumps(data, allow_nan=False, separators=(",", ":"))
    except ValueError:  # a number overflowed to infinity while parsing (e.g. 1e999)
        problems = find_problems(data, (prefix,), check_floats=True)
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
