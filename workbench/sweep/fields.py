"""The settings a sweep can vary, each with its kind and valid range, read off the spec.

A sweepable field is named by its dotted path in :class:`~workbench.spec.ExperimentSpec`:
``optimizer.lr``, ``regularization.l2``, ``schedule.gamma``, ``architecture.layers.0.units``
(``architecture.layers.*.units``: every hidden layer at once), ``optimizer.kind``.  Its
:class:`FieldInfo` says whether it is a ``float``, an ``int``, a ``choice`` or a ``bool``
and its range; the optimizer's and the schedule's fields are read off the engine's
registries (:class:`~workbench.engine.setting.Setting`: range, log or linear scale, label),
the others off the pydantic metadata of the spec classes (``Field(ge=..., le=...)``,
``Literal[...]``) -- so a range is written down once, in the spec, and a new field is
sweepable without a change here.

Not sweepable: the data recipe (one data set is loaded, scattered once and shared by every
trial), ``training.seed`` (a sweep's ``repeats`` give each point its seeds), the name and
description, and ``schedule.milestones`` (a list).
"""

from __future__ import annotations

import dataclasses
import math
import typing
from dataclasses import dataclass
from typing import Any, Literal, Optional

from ..changes import NAMES, short_name
from ..engine.optimizers import HYPERPARAMETERS
from ..engine.schedules import SETTINGS as SCHEDULE_SETTINGS
from ..engine.setting import Setting
from ..spec import OPTIMIZERS, SCHEDULES, ExperimentSpec, LayerSpec
from ..spec import replace as spec_replace

FieldKind = Literal["float", "int", "choice", "bool"]

#: Spec sections whose fields a sweep may vary (the data recipe is shared by all trials).
SECTIONS = ("optimizer", "regularization", "architecture", "schedule", "early_stopping", "training")
#: Fields that are not sweepable, with the reason a sweep file is told.
NOT_SWEEPABLE = {
    "data": "the data set is loaded once and shared by every trial; a sweep cannot vary it",
    "training.seed": "give the sweep 'repeats' instead: each point then trains with seeds seed, seed+1, ...",
    "name": "the name is not a setting",
    "description": "the description is not a setting",
    "schedule.milestones": "a list of epochs cannot be swept; sweep schedule.gamma or schedule.step_size",
}
#: Fields outside the registries whose values span decades (their ranges are log-scaled).
LOG_FIELDS = frozenset({"regularization.l1", "regularization.l2", "regularization.weight_decay",
                        "early_stopping.min_delta"})
_LAYER_FIELDS = tuple(f.name for f in dataclasses.fields(LayerSpec))
_SUBSCRIPTS = str.maketrans("0123456789*", "₀₁₂₃₄₅₆₇₈₉*")


@dataclass(frozen=True)
class FieldInfo:
    """One sweepable field: ``path`` (dotted), ``kind``, ``label`` (a short legend name in
    the notes' notation: ``η``, ``L2 α``, ``units₁``), the valid range ``low``/``high``
    (None: unbounded; ``*_open``: the bound itself excluded), ``scale`` (``log``: values
    span decades, a range is best sampled log-uniformly) and ``choices`` (choice/bool)."""

    path: str
    kind: FieldKind
    label: str
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    high_open: bool = False
    scale: str = "linear"
    choices: tuple = ()

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int")

    @property
    def rule(self) -> str:
        """The valid range in words: ``in (0, 10]``, ``an integer in [1, 4096]``, ``one of a, b``."""
        if not self.numeric:
            return "one of " + ", ".join(map(_plain, self.choices))
        shown = (lambda x: str(int(x))) if self.kind == "int" else format_value
        lo = "-inf" if self.low is None else shown(self.low)
        hi = "inf" if self.high is None else shown(self.high)
        text = f"in {'(' if self.low_open or self.low is None else '['}{lo}, {hi}{')' if self.high_open or self.high is None else ']'}"
        return ("an integer " if self.kind == "int" else "") + text

    def in_range(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        if self.low is not None and not (x > self.low if self.low_open else x >= self.low):
            return False
        return self.high is None or (x < self.high if self.high_open else x <= self.high)

    def check(self, value: Any) -> Any:
        """``value`` as this field takes it (an int field's ``3``, a float field's ``0.1``
        or ``1``), or ValueError saying what is wrong (the caller names the field)."""
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"must be true or false, got {_plain(value)}")
            return value
        if self.kind == "choice":
            if isinstance(value, bool) or value not in self.choices:
                raise ValueError(f"must be {self.rule}, got {_plain(value)}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"must be a number {self.rule}, got {_plain(value)}")
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"must be {self.rule}, got {_plain(value)}")
                value = int(value)
        else:
            value = float(value)
        if not self.in_range(value):
            raise ValueError(f"must be {self.rule}, got {_plain(value)}")
        return value


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_value(value)
    return str(value)


def format_value(value: Any, digits: int = 4) -> str:
    """A value for a table or a legend: on/off, whole numbers as they are, floats with
    ``digits`` significant digits, below 0.001 with a short exponent (0.01, 1e-4, 2.5e-5,
    2.5e6), text as it is."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value == 0:
            return "0"
        text = f"{value:.{digits}g}"
        if abs(value) < 1e-3:  # 1e-4, not 0.0001
            text = f"{value:.{digits - 1}e}"
            mantissa, exponent = text.split("e")
            text = (mantissa.rstrip("0").rstrip(".") if "." in mantissa else mantissa) + "e" + exponent
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}e{int(exponent)}"
        return text
    return str(value)


# ---------------------------------------------------------------------------
# The catalogue


def _from_setting(path: str, setting: Setting, label: str) -> Optional[FieldInfo]:
    if setting.kind == "ints":
        return None
    if setting.kind in ("bool", "choice"):
        choices = (False, True) if setting.kind == "bool" else tuple(setting.choices)
        return FieldInfo(path, setting.kind, label, choices=choices)
    return FieldInfo(path, setting.kind, label, setting.low, setting.high, setting.low_open, setting.high_open,
                     setting.scale)


def _from_pydantic(cls: type, name: str, path: str, label: str) -> Optional[FieldInfo]:
    """The FieldInfo of field ``name`` of the pydantic dataclass ``cls``: a Literal is a
    choice, bool a bool, int/float a number with the Field's bounds (None: not sweepable)."""
    info = cls.__pydantic_fields__[name]
    annotation = info.annotation
    if typing.get_origin(annotation) is Literal:
        return FieldInfo(path, "choice", label, choices=typing.get_args(annotation))
    if annotation is bool:
        return FieldInfo(path, "bool", label, choices=(False, True))
    if annotation not in (int, float):
        return None
    low = high = None
    low_open = high_open = False
    for item in info.metadata:
        if getattr(item, "ge", None) is not None:
            low = float(item.ge)
        if getattr(item, "gt", None) is not None:
            low, low_open = float(item.gt), True
        if getattr(item, "le", None) is not None:
            high = float(item.le)
        if getattr(item, "lt", None) is not None:
            high, high_open = float(item.lt), True
    kind = "int" if annotation is int else "float"
    return FieldInfo(path, kind, label, low, high, low_open, high_open, "log" if path in LOG_FIELDS else "linear")


def _layer_label(field: str, index: str) -> str:
    name = {"units": "units", "activation": "activation", "dropout": "dropout p", "init": "init"}[field]
    return name + str(index).translate(_SUBSCRIPTS) if index != "*" else name


def sweepable_fields(base: ExperimentSpec) -> dict[str, FieldInfo]:
    """Every field a sweep over ``base`` can vary, by dotted path, in the order the
    window lists them: optimizer (rule, then each hyperparameter of the registry),
    regularization, architecture (every layer's fields for each of ``base``'s layers and
    for all layers at once, ``architecture.layers.*.units``), schedule, early stopping,
    training."""
    out: dict[str, FieldInfo] = {}

    def add(info: Optional[FieldInfo]) -> None:
        if info is not None:
            out[info.path] = info

    add(FieldInfo("optimizer.kind", "choice", "optimizer", choices=tuple(OPTIMIZERS)))
    for name, setting in HYPERPARAMETERS.items():
        add(_from_setting(f"optimizer.{name}", setting, short_name(setting.label)))
    for section in ("regularization", "architecture"):
        cls = type(getattr(base, section))
        for f in dataclasses.fields(cls):
            path = f"{section}.{f.name}"
            if f.name != "layers":
                add(_from_pydantic(cls, f.name, path, NAMES.get(path, f.name.replace("_", " "))))
    n_layers = len(base.architecture.layers)
    for index in (["*"] if n_layers else []) + [str(i) for i in range(n_layers)]:
        for name in _LAYER_FIELDS:
            add(_from_pydantic(LayerSpec, name, f"architecture.layers.{index}.{name}",
                               _layer_label(name, index if index == "*" else str(int(index) + 1))))
    add(FieldInfo("schedule.kind", "choice", "schedule", choices=tuple(SCHEDULES)))
    for name, setting in SCHEDULE_SETTINGS.items():
        add(_from_setting(f"schedule.{name}", setting, "schedule " + short_name(setting.label)))
    for section in ("early_stopping", "training"):
        cls = type(getattr(base, section))
        for f in dataclasses.fields(cls):
            path = f"{section}.{f.name}"
            if path not in NOT_SWEEPABLE:
                add(_from_pydantic(cls, f.name, path, NAMES.get(path, f.name.replace("_", " "))))
    return out


def field_info(base: ExperimentSpec, path: str) -> FieldInfo:
    """The :class:`FieldInfo` of ``path`` over ``base``; ValueError saying why a path
    cannot be swept (unknown, the data recipe, the seed, a layer ``base`` does not have)."""
    fields = sweepable_fields(base)
    if path in fields:
        return fields[path]
    for prefix, why in NOT_SWEEPABLE.items():
        if path == prefix or path.startswith(prefix + "."):
            raise ValueError(f"{path!r} cannot be swept: {why}")
    parts = path.split(".")
    if parts[:2] == ["architecture", "layers"] and len(parts) == 4 and parts[2].isdigit():
        n = len(base.architecture.layers)
        if int(parts[2]) >= n:
            raise ValueError(f"{path!r}: the network has {n} hidden layer{'s' if n != 1 else ''} "
                             f"(layers 0 to {n - 1})")
    sections = ", ".join(SECTIONS)
    raise ValueError(f"{path!r} is not a sweepable setting (a dotted path into {sections}, "
                     "e.g. optimizer.lr, regularization.l2, architecture.layers.0.units)")


# ---------------------------------------------------------------------------
# Setting a value


def with_value(spec: ExperimentSpec, path: str, value: Any) -> ExperimentSpec:
    """``spec`` with the field at ``path`` set to ``value`` (``architecture.layers.*.f``:
    every layer's).  Every rule of the spec is checked; :class:`SpecError` names the field
    (``optimizer.momentum: must be > 0 for nesterov, got 0``)."""
    section, _, rest = path.partition(".")
    part = getattr(spec, section)
    if section == "architecture" and rest.startswith("layers."):
        _, index, name = rest.split(".")
        layers = tuple(
            spec_replace(layer, f"architecture.layers.{i}", **{name: value}) if index in ("*", str(i)) else layer
            for i, layer in enumerate(part.layers))
        new_part = spec_replace(part, section, layers=layers)
    else:
        new_part = spec_replace(part, section, **{rest: value})
    return spec_replace(spec, **{section: new_part})


def with_values(spec: ExperimentSpec, point: dict[str, Any]) -> ExperimentSpec:
    """``spec`` with every ``path: value`` of ``point`` set, in order (SpecError naming
    the field whose value, alone or with the others, breaks a rule)."""
    for path, value in point.items():
        spec = with_value(spec, path, value)
    return spec


def value_of(spec: ExperimentSpec, path: str) -> Any:
    """The value of ``path`` in ``spec`` (``layers.*``: the first layer's)."""
    node: Any = spec
    for part in path.split("."):
        if isinstance(node, tuple):
            node = node[0 if part == "*" else int(part)]
        else:
            node = getattr(node, part)
    return node


__all__ = ["FieldInfo", "NOT_SWEEPABLE", "SECTIONS", "field_info", "format_value",
           "sweepable_fields", "value_of", "with_value", "with_values"]
