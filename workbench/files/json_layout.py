"""The text of an experiment file: JSON a person can read and diff.

Objects are written one key per line (indent 2), except that a small record in an
array (a layer, a marker) takes one line; arrays of plain values are written eight to
a line, so a changed number changes one line of a diff.  Floats are written with
Python's shortest round-tripping ``repr``, so saving and loading is lossless; a
non-finite float is refused (:func:`finite_or_null` turns those of results into ``null``).
"""

from __future__ import annotations

import json
import math
from typing import Any

_ITEMS_PER_LINE = 8


def json_text(doc: Any) -> str:
    """The file text of the plain document ``doc`` (dicts, lists, str, int, float, bool,
    None), ending with a newline."""
    parts: list[str] = []
    _emit(doc, 0, parts)
    parts.append("\n")
    return "".join(parts)


def finite_or_null(value: Any) -> Any:
    """``value`` with every non-finite float (a diverged loss, say) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_null(v) for k, v in value.items()}
    if isinstance(value, list):
        return [
            finite_or_null(v) if isinstance(v, (dict, list)) else None if isinstance(v, float) and not math.isfinite(v) else v
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
