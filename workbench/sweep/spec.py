"""A sweep as plain data: the settings to vary, how to choose points, repeats and a budget.

A :class:`SweepSpec` goes with a base experiment (an :class:`~workbench.spec.ExperimentSpec`):
each *point* of the sweep is the base with some fields changed, and each point trains
``repeats`` times with seeds ``seed, seed + 1, ...`` (``training.seed`` of the base) -- one
*trial* per seed.  Its parts are frozen pydantic dataclasses like the spec's, so building
one validates every field and bounds every size; :func:`check_sweep` then checks it
against the base (every field path exists and is sweepable, every range and value is
valid for its field) and raises :class:`~workbench.spec.SpecError` naming the field::

    sweep.axes.0.low: optimizer.lr must be in (0, 10], got 0
    sweep.axes.1.field: 'optimizer.foo' is not a sweepable setting (...)

An :class:`Axis` varies one field:

* ``log_uniform`` over ``[low, high]`` (``low > 0``): random points ``exp(U(ln low, ln high))``,
  grid points ``low (high/low)^(k/(n-1))``, k = 0..n-1 (geometrically spaced);
* ``uniform`` over ``[low, high]``: ``U(low, high)``, grid ``low + k (high-low)/(n-1)``;
* ``int_uniform`` over the integers ``low..high`` (whole-number fields): each equally
  likely, grid the rounded linear spacing (distinct);
* ``values``: a list (any kind of field; the only kind for choices and on/off fields).

An integer field sampled by ``log_uniform``/``uniform`` takes the rounded value.

``method="grid"`` takes every combination of the axes' points (``points_per_axis`` per
range axis, every listed value), the first axis varying slowest; ``method="random"``
draws ``samples`` points, axis i from its own stream ``SeedSequence([seed, i])`` -- so
adding an axis at the end leaves the others' values as they were.  Random floats are
rounded to 4 significant digits and grid floats to 6 (readable names, stable files; a
rounding that would leave the field's range is not made).

Bounds (checked before anything is expanded): at most :data:`MAX_SWEEP_AXES` axes,
:data:`MAX_AXIS_VALUES` values or grid points per axis, :data:`MAX_REPEATS` repeats, and
in all at most ``budget.max_runs`` <= :data:`MAX_SWEEP_RUNS` runs (points x repeats).
``budget.max_seconds`` stops the sweep's trials at their next epoch when the time is up.

:func:`trials` expands a sweep deterministically into :class:`Trial` s.  A point whose
values break a rule of the experiment only together (Nesterov with momentum 0) is a
trial with ``spec=None`` and its ``problem``: the sweep shows it as a failed row and goes on.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass as plain_dataclass
from typing import Annotated, Any, Literal, Optional, Union

import numpy as np
from pydantic import ConfigDict, Field, StrictBool, StrictFloat, StrictInt, model_validator
from pydantic.dataclasses import dataclass

from ..limits import MAX_RUNS, MAX_SEED
from ..spec import ExperimentSpec, SpecError
from ..spec import replace as spec_replace
from .fields import FieldInfo, field_info, format_value, with_values

#: The most runs (points x repeats) one sweep may train.
MAX_SWEEP_RUNS = 512
#: The most settings one sweep varies.
MAX_SWEEP_AXES = 8
#: The most values (or grid points) of one axis.
MAX_AXIS_VALUES = 32
#: The most seeds per point.
MAX_REPEATS = MAX_RUNS
#: The longest time budget, in seconds (a week).
MAX_SWEEP_SECONDS = 7 * 24 * 3600.0
#: Significant digits of random (and grid) float values.
RANDOM_DIGITS, GRID_DIGITS = 4, 6

_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
AxisKind = Literal["log_uniform", "uniform", "int_uniform", "values"]
RANGE_KINDS = ("log_uniform", "uniform", "int_uniform")
Value = Union[StrictBool, StrictInt, StrictFloat, Annotated[str, Field(max_length=64)]]
FieldPath = Annotated[str, Field(min_length=1, max_length=120, pattern=r"^[a-z_][a-z0-9_]*(\.([a-z0-9_]+|\*))+$")]


@dataclass(config=_CONFIG)
class Axis:
    """One setting to vary: ``field`` (dotted path, e.g. ``optimizer.lr``), ``kind``
    (``log_uniform``, ``uniform``, ``int_uniform`` over ``low..high``; or ``values``)."""

    field: FieldPath
    kind: AxisKind = "values"
    low: Optional[float] = None
    high: Optional[float] = None
    values: Optional[Annotated[tuple[Value, ...], Field(min_length=1, max_length=MAX_AXIS_VALUES)]] = None

    @model_validator(mode="after")
    def _check(self) -> "Axis":
        if self.kind == "values":
            if self.values is None:
                raise ValueError("values: a 'values' axis needs a list of values")
            if self.low is not None or self.high is not None:
                raise ValueError("low: a 'values' axis takes values, not low/high")
            seen = [(type(v), v) for v in self.values]
            if len(set(seen)) != len(seen):
                raise ValueError(f"values: a value is listed twice in {list(self.values)}")
            return self
        if self.values is not None:
            raise ValueError(f"values: a '{self.kind}' axis takes low and high, not values")
        if self.low is None or self.high is None:
            raise ValueError(f"{'low' if self.low is None else 'high'}: a '{self.kind}' axis needs low and high")
        if not self.low < self.high:
            raise ValueError(f"high: must be > low ({self.low:g}), got {self.high:g}")
        if self.kind == "log_uniform" and self.low <= 0:
            raise ValueError(f"low: a log-uniform range needs low > 0, got {self.low:g}")
        if self.kind == "int_uniform" and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError(f"low: an int_uniform range needs whole numbers, got {self.low:g} to {self.high:g}")
        return self

    def grid_size(self, points_per_axis: int) -> int:
        """How many points this axis has in a grid, at most (arithmetic: nothing expanded)."""
        if self.kind == "values":
            return len(self.values)
        if self.kind == "int_uniform":
            return min(points_per_axis, int(self.high - self.low) + 1)
        return points_per_axis


@dataclass(config=_CONFIG)
class Budget:
    """At most ``max_runs`` runs (points x repeats; a larger sweep is refused before it
    starts) and, if given, ``max_seconds`` of wall time: then running trials stop at
    their next epoch (cut short) and trials not started are left out."""

    max_runs: Annotated[int, Field(ge=1, le=MAX_SWEEP_RUNS)] = 64
    max_seconds: Optional[Annotated[float, Field(gt=0.0, le=MAX_SWEEP_SECONDS)]] = None


@dataclass(config=_CONFIG)
class SweepSpec:
    """The settings to vary (``axes``), ``method`` ``grid`` (``points_per_axis`` points
    per range) or ``random`` (``samples`` points drawn with ``seed``), ``repeats`` seeds
    per point and the ``budget``.  See the module docstring."""

    axes: Annotated[tuple[Axis, ...], Field(min_length=1, max_length=MAX_SWEEP_AXES)]
    method: Literal["grid", "random"] = "random"
    samples: Annotated[int, Field(ge=1, le=MAX_SWEEP_RUNS)] = 16
    points_per_axis: Annotated[int, Field(ge=2, le=MAX_AXIS_VALUES)] = 3
    seed: Annotated[int, Field(ge=0, le=MAX_SEED)] = 0
    repeats: Annotated[int, Field(ge=1, le=MAX_REPEATS)] = 1
    budget: Budget = Budget()

    @model_validator(mode="after")
    def _check(self) -> "SweepSpec":
        paths = [axis.field for axis in self.axes]
        for i, path in enumerate(paths):
            if path in paths[:i]:
                raise ValueError(f"axes.{i}.field: {path!r} is varied by two axes")
        points = self.n_points
        runs = points * self.repeats
        if runs > self.budget.max_runs:
            what = ("x".join(str(a.grid_size(self.points_per_axis)) for a in self.axes) + " grid points"
                    if self.method == "grid" else f"{self.samples} samples")
            raise ValueError(f"budget.max_runs: {what} x {self.repeats} repeat{'s' if self.repeats != 1 else ''} "
                             f"= {runs} runs, more than max_runs {self.budget.max_runs}"
                             + (f" (at most {MAX_SWEEP_RUNS})" if runs > MAX_SWEEP_RUNS else ""))
        return self

    @property
    def n_points(self) -> int:
        """Points of the sweep (arithmetic, before expanding)."""
        if self.method == "random":
            return self.samples
        return math.prod(axis.grid_size(self.points_per_axis) for axis in self.axes)

    @property
    def n_runs(self) -> int:
        """Runs of the sweep, at most: points x repeats."""
        return self.n_points * self.repeats


@plain_dataclass(frozen=True)
class Trial:
    """One run of a sweep: ``index`` (0-based, point-major), ``point_index``, ``point``
    (field path -> value, in the axes' order), ``seed`` and the ``spec`` it trains (None
    when the point's values break a rule of the experiment together: ``problem`` says which)."""

    index: int
    point_index: int
    point: dict
    seed: int
    spec: Optional[ExperimentSpec]
    problem: str = ""


# ---------------------------------------------------------------------------
# Validation against the base experiment


def _field_or_error(base: ExperimentSpec, axis: Axis, where: str, errors: list) -> Optional[FieldInfo]:
    try:
        return field_info(base, axis.field)
    except ValueError as exc:
        errors.append((f"{where}.field", str(exc)))
        return None


def check_sweep(base: ExperimentSpec, sweep: SweepSpec, prefix: str = "sweep") -> dict[str, FieldInfo]:
    """Check ``sweep`` against ``base``: each axis names a sweepable field, its kind fits
    the field (a choice or on/off field takes ``values``; ``int_uniform`` a whole-number
    field), its range ends and values are valid for the field (and for the experiment:
    each is set into ``base``), and the seeds stay within ``MAX_SEED``.  Raises
    :class:`SpecError` listing every problem (paths under ``prefix``); returns the axes'
    :class:`FieldInfo` by path."""
    errors: list[tuple[str, str]] = []
    infos: dict[str, FieldInfo] = {}
    for i, axis in enumerate(sweep.axes):
        where = f"{prefix}.axes.{i}"
        info = _field_or_error(base, axis, where, errors)
        if info is None:
            continue
        infos[axis.field] = info
        if axis.kind != "values" and not info.numeric:
            errors.append((f"{where}.kind", f"{axis.field} is {'an on/off setting' if info.kind == 'bool' else 'a choice'}"
                                            f" ({info.rule}); list the ones to try with kind 'values'"))
            continue
        if axis.kind == "int_uniform" and info.kind != "int":
            errors.append((f"{where}.kind", f"{axis.field} is not a whole number; use uniform or log_uniform"))
            continue
        ends = [("low", axis.low), ("high", axis.high)] if axis.kind != "values" else [
            (f"values.{j}", v) for j, v in enumerate(axis.values)]
        for name, value in ends:
            try:
                value = info.check(value)
                with_values(base, {axis.field: value})
            except SpecError as exc:
                errors.append((f"{where}.{name}", exc.first_line))
            except ValueError as exc:
                errors.append((f"{where}.{name}", f"{axis.field} {exc}"))
    last_seed = base.training.seed + sweep.repeats - 1
    if last_seed > MAX_SEED:
        errors.append((f"{prefix}.repeats", f"seeds {base.training.seed} to {last_seed} go past the largest seed "
                                            f"{MAX_SEED}"))
    if errors:
        raise SpecError(errors)
    return infos


# ---------------------------------------------------------------------------
# Expansion


def _rounded(x: float, digits: int, info: FieldInfo) -> Any:
    """``x`` as the field takes it: an int field's nearest whole number (kept in range),
    a float rounded to ``digits`` significant digits unless that leaves the range."""
    if info.kind == "int":
        value = int(round(x))
        lo = -math.inf if info.low is None else info.low
        hi = math.inf if info.high is None else info.high
        return int(min(max(value, math.ceil(lo)), math.floor(hi)))
    rounded = float(f"{x:.{digits}g}")
    return rounded if info.in_range(rounded) else float(x)


def _grid_values(axis: Axis, n: int, info: FieldInfo) -> list:
    if axis.kind == "values":
        return [info.check(v) for v in axis.values]
    if axis.kind == "log_uniform":
        raw = np.geomspace(axis.low, axis.high, n)
    elif axis.kind == "int_uniform":
        raw = np.round(np.linspace(axis.low, axis.high, min(n, int(axis.high - axis.low) + 1)))
    else:
        raw = np.linspace(axis.low, axis.high, n)
    values = []
    for x in raw:
        v = _rounded(float(x), GRID_DIGITS, info)
        if v not in values:  # a rounded int range can repeat a value
            values.append(v)
    return values


def _random_values(axis: Axis, n: int, info: FieldInfo, stream: np.random.Generator) -> list:
    if axis.kind == "values":
        return [info.check(axis.values[k]) for k in stream.integers(0, len(axis.values), size=n)]
    if axis.kind == "int_uniform":
        return [int(k) for k in stream.integers(int(axis.low), int(axis.high) + 1, size=n)]
    if axis.kind == "log_uniform":
        raw = np.exp(stream.uniform(math.log(axis.low), math.log(axis.high), size=n))
    else:
        raw = stream.uniform(axis.low, axis.high, size=n)
    return [_rounded(float(x), RANDOM_DIGITS, info) for x in raw]


def points(base: ExperimentSpec, sweep: SweepSpec) -> list[dict]:
    """The sweep's points (field path -> value, in the axes' order), deterministically:
    the grid's combinations (first axis slowest) or ``samples`` random draws."""
    infos = check_sweep(base, sweep)
    axes = sweep.axes
    if sweep.method == "grid":
        columns = [_grid_values(axis, sweep.points_per_axis, infos[axis.field]) for axis in axes]
        return [dict(zip((a.field for a in axes), combo)) for combo in itertools.product(*columns)]
    columns = [_random_values(axis, sweep.samples, infos[axis.field],
                              np.random.default_rng(np.random.SeedSequence([sweep.seed, i])))
               for i, axis in enumerate(axes)]
    return [dict(zip((a.field for a in axes), values)) for values in zip(*columns)]


def trials(base: ExperimentSpec, sweep: SweepSpec) -> list[Trial]:
    """The sweep expanded into its runs: for each point (in order) ``repeats`` trials with
    seeds ``base.training.seed + k``.  SpecError (naming the field) for a sweep that does
    not fit ``base``; a point that breaks a rule only in combination becomes trials
    without a spec and with the ``problem``."""
    out: list[Trial] = []
    seed0 = base.training.seed
    for p, point in enumerate(points(base, sweep)):
        try:
            spec, problem = with_values(base, point), ""
        except SpecError as exc:
            spec, problem = None, f"invalid settings: {exc.first_line}"
        for k in range(sweep.repeats):
            seeded = None
            if spec is not None:
                seeded = spec_replace(spec, training=dataclasses.replace(spec.training, seed=seed0 + k))
            out.append(Trial(len(out), p, dict(point), seed0 + k, seeded, problem))
    return out


def plan_text(sweep: SweepSpec) -> str:
    """``"grid of 3×2 points × 2 seeds = 12 runs"``, ``"16 random points (seed 0) = 16 runs"``."""
    if sweep.method == "grid":
        how = "grid of " + "×".join(str(a.grid_size(sweep.points_per_axis)) for a in sweep.axes) + " points"
    else:
        how = f"{sweep.samples} random points (seed {sweep.seed})"
    seeds = f" × {sweep.repeats} seeds" if sweep.repeats > 1 else ""
    return f"{how}{seeds} = {sweep.n_runs} run{'s' if sweep.n_runs != 1 else ''}"


def point_label(point: dict, infos: dict[str, FieldInfo], separator: str = ", ") -> str:
    """``"η 0.01, L2 α 0.0001"``: each field's short label and value."""
    return separator.join(f"{infos[path].label if path in infos else path} {format_value(value)}"
                          for path, value in point.items())


__all__ = ["Axis", "Budget", "MAX_AXIS_VALUES", "MAX_REPEATS", "MAX_SWEEP_AXES", "MAX_SWEEP_RUNS",
           "MAX_SWEEP_SECONDS", "SweepSpec", "Trial", "check_sweep", "plan_text", "point_label",
           "points", "trials"]
