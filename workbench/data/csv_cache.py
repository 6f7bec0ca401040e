"""Parsed CSV tables kept for the next load of the same content: keyed by the SHA-256 of the
file's bytes and the parse options, at most :data:`CACHE_BYTES` in total, least recently
used first out.  Shared by threads (a lock guards it); cached arrays are read-only."""

from __future__ import annotations

import threading
from collections import OrderedDict

from ..limits import CSV_CACHE_BYTES

CACHE_BYTES = CSV_CACHE_BYTES  # read at every insertion (tests lower it)
_CACHE: "OrderedDict[tuple, tuple[object, int]]" = OrderedDict()
_CACHE_LOCK = threading.Lock()


def table_bytes(table) -> int:
    """Memory a cached table holds (its arrays and names, roughly)."""
    names = sum(len(s) + 64 for s in (*table.feature_names, *table.class_names, *table.warnings))
    return int(table.X.nbytes + table.y.nbytes + table.line_numbers.nbytes + table.missing_target_lines.nbytes
               + names + 1024)


def cache_bytes() -> int:
    """Bytes of the tables in the cache now."""
    with _CACHE_LOCK:
        return sum(size for _, size in _CACHE.values())


def clear_cache() -> None:
    """Forget every cached table."""
    with _CACHE_LOCK:
        _CACHE.clear()


def cache_put(key: tuple, value: object, size: int) -> None:
    with _CACHE_LOCK:
        _CACHE.pop(key, None)
        budget = CACHE_BYTES
        if size > budget:
            return
        total = sum(s for _, s in _CACHE.values())
        while _CACHE and total + size > budget:
            _, (_, old) = _CACHE.popitem(last=False)
            total -= old
        _CACHE[key] = (value, size)


def cache_get(key: tuple):
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit[0]
    return None
