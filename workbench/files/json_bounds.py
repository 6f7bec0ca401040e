"""The pre-pass: bound the raw text of an experiment file before anything is built from it
(:func:`bound_document`; the bounds live in :mod:`workbench.limits`).

json.loads of millions of tiny containers costs hundreds of MB, and the schema library
many times more, so the text is scanned first, token by token, with C-speed regexes: a
token is a string, a bracket, a colon, or a *run* of anything else (numbers, literals,
commas, white space) -- so the long arrays of numbers of a history are one token each,
and the Python loop sees only strings and containers, which are bounded (a valid file
of maximal size has about 150,000 tokens).  The quantifiers are possessive: a string
of millions of escapes is matched without a backtracking stack (the plain pattern took
2.3 GB for a 40 MB string).  Anything that is not JSON ends the scan early; the parser
then names the line and column, having read only text the scan bounded.
"""

from __future__ import annotations

import json
import re
from typing import Optional

from ..limits import (
    MAX_DEPTH,
    MAX_HISTORY,
    MAX_JSON_ARRAY,
    MAX_JSON_CONTAINERS,
    MAX_JSON_ELEMENTS,
    MAX_JSON_KEYS,
    MAX_JSON_KEYS_TOTAL,
    MAX_JSON_STRING,
    MAX_JSON_STRINGS,
    MAX_RUNS,
    MAX_SAVED_WEIGHTS_B64,
)
from .errors import ExperimentFileError
from .schema_check import ARRAY_BOUNDS, HISTORIES, RESULT_KEYS
from .strict_json import path_text

_TOKEN_RE = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[\[\]{}:]|[^\[\]{}":]++|"', re.S)
_VALUE_CHAR_RE = re.compile(r"[^\s,]")
_STRING_RE = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S)
# the rest of an array that holds no arrays or objects, up to its closing bracket
_FLAT_REST_RE = re.compile(r'(?:"[^"\\]*+(?:\\.[^"\\]*+)*+"|[^\[\]{}"]++)*+\]', re.S)
_MAX_PATH_PARTS = 12
_MAX_KEY_SHOWN = 40


class _Open:
    """An array or object the scan is inside of."""

    __slots__ = ("is_object", "start", "bound", "count", "nonempty", "keys", "key", "expect_key")

    def __init__(self, is_object: bool, start: int, bound: int):
        self.is_object = is_object
        self.start = start  # where its content begins in the text
        self.bound = bound  # arrays: most items allowed here
        self.count = 0  # commas so far (arrays: the index of the current item)
        self.nonempty = False
        self.keys = 0
        self.key: Optional[str] = None  # objects: the key of the current value
        self.expect_key = True


def _array_bound(path: list) -> int:
    """Most items the array at ``path`` may have: the runs MAX_RUNS, a history column
    MAX_HISTORY, the markers MAX_MARKERS, the layers, milestones and derived features their
    schema bound (:data:`ARRAY_BOUNDS`, by the path's end: in the spec and in every run's),
    any other MAX_JSON_ARRAY."""
    if path == ["runs"]:
        return MAX_RUNS
    if len(path) >= 3 and path[-3] in RESULT_KEYS and path[-2] in HISTORIES:
        return MAX_HISTORY
    for where, bound in ARRAY_BOUNDS:
        if tuple(path[-len(where):]) == where:
            return bound
    return MAX_JSON_ARRAY


def _weights_string(path: list) -> bool:
    """Whether ``path`` leads to a weights string (bounded by MAX_SAVED_WEIGHTS_B64)."""
    return len(path) >= 3 and path[-3] in RESULT_KEYS and path[-2:] == ["weights", "data_b64"]


def _flat_items(text: str, array: _Open) -> Optional[int]:
    """The number of items of ``array`` if it holds only strings and scalars (one
    C-speed scan to its closing bracket), else None."""
    m = _FLAT_REST_RE.match(text, array.start)
    if m is None:
        return None
    inner = _STRING_RE.sub('""', text[array.start : m.end() - 1])
    return inner.count(",") + 1 if inner.strip() else 0


def _key_text(token: str) -> str:
    if "\\" in token:
        try:
            return json.loads(token)
        except ValueError:
            pass
    return token[1:-1]


def _shown_path(path: list) -> str:
    parts = [p if not isinstance(p, str) or len(p) <= _MAX_KEY_SHOWN else p[:_MAX_KEY_SHOWN] + "..." for p in path]
    if len(parts) > _MAX_PATH_PARTS:
        return path_text(tuple(parts[:_MAX_PATH_PARTS])) + "..."
    return path_text(tuple(parts))


def bound_document(text: str, source: str) -> None:
    """Raise :class:`ExperimentFileError` naming the JSON path if the raw document asks
    for more than a valid experiment file of maximal size needs (see workbench.limits):
    nesting deeper than MAX_DEPTH; an array longer than its place allows (a history
    column MAX_HISTORY, the markers MAX_MARKERS, any other MAX_JSON_ARRAY); an object
    with more than MAX_JSON_KEYS keys; a string longer than MAX_JSON_STRING (the weights:
    MAX_SAVED_WEIGHTS_B64); in all, more than MAX_JSON_ELEMENTS values, MAX_JSON_CONTAINERS
    arrays and objects, MAX_JSON_STRINGS strings or MAX_JSON_KEYS_TOTAL keys.  Stops at
    the first excess, having spent time linear in the text and memory for the nesting."""

    stack: list[_Open] = []
    names: list = []  # the path of the innermost open container
    containers = strings = keys = commas = 0
    count = text.count
    # an array found longer than its bound and not flat: its exact length is reported
    # when it closes; the scan goes on meanwhile, under all the other bounds
    over: Optional[tuple[_Open, list, int]] = None

    def over_error(closed: bool) -> ExperimentFileError:
        array, path, bound = over
        got = f"{array.count + array.nonempty}{'' if closed else ' or more'}"
        return ExperimentFileError([(_shown_path(path), f"must have at most {bound} items, got {got}")], source)

    def fail(path: list, message: str) -> ExperimentFileError:
        if over is not None:  # an array already too long is the first thing to tell
            return over_error(closed=False)
        return ExperimentFileError([(_shown_path(path), message)], source)

    def too_long(array: _Open) -> Optional[ExperimentFileError]:
        nonlocal over
        flat = _flat_items(text, array)
        if flat is not None:
            return fail(names, f"must have at most {array.bound} items, got {flat}")
        over = (array, list(names), array.bound)
        array.bound = MAX_JSON_ELEMENTS
        return None

    for m in _TOKEN_RE.finditer(text):
        start, end = m.span()
        c = text[start]
        top = stack[-1] if stack else None
        if c == '"':
            if end - start < 2:
                break  # an unterminated string: the parser says where
            strings += 1
            length = end - start - 2
            if top is not None and top.is_object and top.expect_key:
                if strings > MAX_JSON_STRINGS:
                    raise fail(names, f"the document has more than {MAX_JSON_STRINGS:,} strings, more than a valid "
                                      "experiment file")
                if length > MAX_JSON_STRING:
                    raise fail(names, f"a key of {length:,} characters, more than the {MAX_JSON_STRING:,} allowed")
                top.key = _key_text(text[start:end])
                top.expect_key = False
                continue
            where = names + [(top.key if top.is_object else top.count)] if top is not None else []
            if strings > MAX_JSON_STRINGS:
                raise fail(where, f"the document has more than {MAX_JSON_STRINGS:,} strings, more than a valid "
                                  "experiment file")
            limit = MAX_SAVED_WEIGHTS_B64 if _weights_string(where) else MAX_JSON_STRING
            if length > limit:
                raise fail(where, f"a string of {length:,} characters, more than the {limit:,} allowed here")
            if top is not None and not top.is_object and not top.nonempty:
                top.nonempty = True
                if top.count + 1 > top.bound:
                    error = too_long(top)
                    if error is not None:
                        raise error
        elif c == "[" or c == "{":
            if top is not None:
                name = top.key if top.is_object else top.count
                if not top.is_object and not top.nonempty:
                    top.nonempty = True
                    if top.count + 1 > top.bound:
                        error = too_long(top)
                        if error is not None:
                            raise error
                names.append(name)
            containers += 1
            if len(stack) + 1 > MAX_DEPTH:
                raise fail(names, f"JSON nesting is deeper than {MAX_DEPTH} levels")
            if containers > MAX_JSON_CONTAINERS:
                raise fail(names, f"the document has more than {MAX_JSON_CONTAINERS:,} arrays and objects, more "
                                  "than a valid experiment file")
            stack.append(_Open(c == "{", end, 0 if c == "{" else _array_bound(names)))
        elif c == "]" or c == "}":
            if top is None or top.is_object != (c == "}"):
                break  # not JSON: the parser says where
            if over is not None and over[0] is top:
                raise over_error(closed=True)
            stack.pop()
            if stack:
                names.pop()
        elif c == ":":
            if top is None or not top.is_object or top.key is None:
                break  # not JSON: the parser says where
            top.keys += 1
            keys += 1
            if top.keys > MAX_JSON_KEYS:
                raise fail(names, f"must have at most {MAX_JSON_KEYS} entries, got {top.keys} or more")
            if keys > MAX_JSON_KEYS_TOTAL:
                raise fail(names + [top.key], f"the document has more than {MAX_JSON_KEYS_TOTAL:,} keys, more than "
                                              "a valid experiment file")
        else:  # a run of numbers, literals, commas and white space
            n = count(",", start, end)
            if top is None:
                continue
            if top.is_object:
                if n:
                    top.expect_key = True
                    top.key = None
            else:
                top.count += n
                if not top.nonempty and _VALUE_CHAR_RE.search(text, start, end) is not None:
                    top.nonempty = True
                items = top.count + top.nonempty
                if items > top.bound:
                    error = too_long(top)
                    if error is not None:
                        raise error
            if n:
                commas += n
                if 1 + commas + containers > MAX_JSON_ELEMENTS:
                    raise fail(names, f"the document has more than {MAX_JSON_ELEMENTS:,} values, more than a valid "
                                      "experiment file")
    if over is not None:  # the text ended inside the array
        raise over_error(closed=False)
