"""Parsing an experiment file's text strictly: JSON only, and refused (each problem named
by its JSON path) are the constants ``NaN``/``Infinity``, integers of more than 40 digits,
duplicate object keys and unpaired surrogates.  Also the helpers that show a JSON value or
path in a message."""

from __future__ import annotations

import json
import math
import re
from typing import Any, Optional, Union

from ..limits import MAX_DEPTH, MAX_INT_DIGITS
from .errors import ExperimentFileError


def shown_value(value: Any) -> str:
    """``repr`` of a plain value (an array or object: its JSON type), cut to 60 characters."""
    shown = repr(value) if not isinstance(value, (list, dict)) else json_type(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def json_type(value: Any) -> str:
    """``"a number"``, ``"an array"``, ... : what ``value`` is in JSON terms."""
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


def path_text(path: tuple) -> str:
    """A JSON path as the messages write it: ``spec.optimizer.lr``."""
    return ".".join(str(p) for p in path)


# A surrogate escape (\\ud800), or a raw surrogate in text handed to loads() as str.
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


def parse_json(text: str, source: str) -> Any:
    """The document of ``text`` (already bounded, see :mod:`.json_bounds`); raises
    :class:`ExperimentFileError` naming the line and column, or every refused value."""
    def fail(path: str, message: str) -> ExperimentFileError:
        return ExperimentFileError([(path, message)], source)

    flagged = []

    def constant(name: str) -> _Bad:
        flagged.append(True)
        return _Bad(f"{name} is not allowed (JSON has no NaN or Infinity)")

    def integer(digits: str) -> Union[int, _Bad]:
        if len(digits) > MAX_INT_DIGITS:
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
        problems = find_problems(doc, ())
        if problems:
            raise ExperimentFileError(problems, source)
    return doc


def find_problems(value: Any, path: tuple, check_floats: bool = False) -> list[tuple[str, str]]:
    """Paths to parser sentinels, duplicate keys, unpaired surrogates and (``check_floats``)
    non-finite floats."""
    problems: list[tuple[str, str]] = []
    stack = [(value, path)]
    while stack:
        item, where = stack.pop()
        if len(where) > MAX_DEPTH + 1:
            problems.append((path_text(where), f"nesting is deeper than {MAX_DEPTH} levels"))
        elif isinstance(item, _Bad):
            problems.append((path_text(where), item.message))
        elif isinstance(item, float):
            if check_floats and not math.isfinite(item):
                problems.append((path_text(where), f"number out of range, got {item!r}"))
        elif isinstance(item, str):
            problem = _text_problem(item)
            if problem:
                problems.append((path_text(where), problem))
        elif isinstance(item, dict):
            for key in item:
                problem = _text_problem(key)
                if problem:
                    problems.append((path_text(where + (key.encode("utf-8", "backslashreplace").decode(),)), f"key {problem}"))
            if isinstance(item, _DuplicateKeys):
                for key in item.duplicates:
                    problems.append((path_text(where + (key,)), "duplicate key"))
            stack.extend((v, where + (k,)) for k, v in reversed(list(item.items())))
        elif isinstance(item, list):
            stack.extend((v, where + (i,)) for i, v in reversed(list(enumerate(item))))
    return problems
