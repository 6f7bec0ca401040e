"""A rate limit for an optional measurement taken while training (a health snapshot, the
network diagram): it is due at most every ``min_interval`` seconds and may use at most
``budget`` of the wall time.

With ``t`` the clock now, ``start`` when the limit was made, ``last_end`` when the
previous measurement ended and ``spent`` the seconds all measurements took::

    due  <=>  no measurement yet
              or (t - last_end >= min_interval  and  spent <= budget * (t - start))

``min_interval=0, budget=math.inf``: due every time it is asked.
"""

from __future__ import annotations

import time
from typing import Callable, Optional, TypeVar

T = TypeVar("T")


class RateLimit:
    """``due()`` by the rule above; :meth:`measured` takes one measurement and books its
    time.  ``clock`` is injectable for tests (no sleeping); ``count`` measurements so far."""

    def __init__(self, min_interval: float, budget: float, clock: Callable[[], float] = time.perf_counter):
        self.min_interval = float(min_interval)
        self.budget = float(budget)
        self.clock = clock
        self.start = clock()
        self.last_end: Optional[float] = None
        self.spent = 0.0
        self.count = 0

    def due(self) -> bool:
        if self.last_end is None:
            return True
        now = self.clock()
        if now - self.last_end < self.min_interval:
            return False
        return self.spent <= self.budget * (now - self.start)

    def measured(self, measure: Callable[[], T]) -> T:
        """``measure()``, its time added to ``spent`` (two reads of the clock)."""
        t0 = self.clock()
        out = measure()
        self.last_end = self.clock()
        self.spent += self.last_end - t0
        self.count += 1
        return out
