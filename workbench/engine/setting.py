"""A setting described once: its name, default, valid range, and how it is shown.

The optimizer and schedule registries describe their hyperparameters with :class:`Setting`;
the spec builds its ``OptimizerSpec`` and ``ScheduleSpec`` fields from them, the window's
editors build their rows from them, and the engine validates with them.  So a new
hyperparameter is written down in one place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

KINDS = ("float", "int", "bool", "choice", "ints")


@dataclass(frozen=True)
class Setting:
    """One setting.

    ``kind``: ``float``, ``int``, ``bool``, ``choice`` (one of ``choices``, shown as
    ``choice_labels``) or ``ints`` (a strictly increasing tuple of integers, e.g. epochs).
    ``low``/``high``: the valid range (None: unbounded; ``*_open``: the bound itself is
    excluded; for ``ints`` the range of each entry).  ``label`` and ``doc`` (a tooltip in
    the lecture notes' notation) are what the window shows; ``scale`` ``log`` means the
    value spans decades (its box steps 1-2-3-5 per decade), ``linear`` steps by ``step``
    with ``decimals`` digits; ``smallest`` is the first arrow step above 0 of a ``log``
    box; ``special`` is the text a box shows at its minimum (``period`` 0 = "whole run").
    """

    name: str
    default: Any
    label: str
    doc: str
    kind: str = "float"
    scale: str = "linear"
    low: Optional[float] = None
    high: Optional[float] = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    choice_labels: tuple = ()
    step: float = 0.05
    decimals: int = 4
    special: str = ""
    smallest: float = 1e-8
    max_items: int = 64

    @property
    def rule(self) -> str:
        """The valid range in words: ``in [0, 1)``, ``> 0 and <= 1``, ``one of a, b``."""
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        lo, hi = self.low, self.high
        if lo is not None and hi is not None and self.kind == "float":
            return f"in {'(' if self.low_open else '['}{lo:g}, {hi:g}{')' if self.high_open else ']'}"
        parts = []
        if lo is not None:
            parts.append(f"{'>' if self.low_open else '>='} {lo:g}")
        if hi is not None:
            parts.append(f"{'<' if self.high_open else '<='} {hi:g}")
        return " and ".join(parts) or "any number"

    def _in_range(self, x: float) -> bool:
        if not math.isfinite(x):
            return False
        if self.low is not None and not (x > self.low if self.low_open else x >= self.low):
            return False
        if self.high is not None and not (x < self.high if self.high_open else x <= self.high):
            return False
        return True

    def check(self, value: Any) -> Any:
        """``value`` validated and normalised (ValueError naming the setting otherwise)."""
        name = self.name
        if self.kind == "bool":
            return bool(value)
        if self.kind == "choice":
            if value not in self.choices:
                raise ValueError(f"{name}: must be {self.rule}, got {value!r}")
            return value
        if self.kind == "int":
            if isinstance(value, bool) or not isinstance(value, int) and not _is_np_int(value) or not self._in_range(value):
                raise ValueError(f"{name}: must be an integer {self.rule}, got {value!r}")
            return int(value)
        if self.kind == "ints":
            try:
                items = tuple(value)
            except TypeError:
                raise ValueError(f"{name}: must be a sequence of integers {self.rule}, got {value!r}") from None
            if len(items) > self.max_items or any(
                isinstance(v, bool) or not (isinstance(v, int) or _is_np_int(v)) or not self._in_range(v) for v in items
            ):
                raise ValueError(f"{name}: must be a sequence of at most {self.max_items} integers {self.rule}, "
                                 f"got {value!r}")
            items = tuple(int(v) for v in items)
            if list(items) != sorted(set(items)):
                raise ValueError(f"{name}: must be strictly increasing, got {list(items)}")
            return items
        try:
            x = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"{name}: must be a number {self.rule}, got {value!r}") from None
        if not self._in_range(x):
            raise ValueError(f"{name}: must be {self.rule}, got {x:g}")
        return x


def _is_np_int(value: Any) -> bool:
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    return kind in "iu" and kind != "" and getattr(value, "ndim", 1) == 0
