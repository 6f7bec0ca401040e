"""A speed limit for watching training: as fast as it trains, or ``R`` epochs a second.

The training worker calls :meth:`Pace.before_epoch` before each epoch; the GUI calls
:meth:`Pace.set_rate`, :meth:`Pace.interrupt` (Pause, Stop) and :meth:`Pace.reset` (after
a pause).  The pace only waits: it never touches a number of the run.  No Qt here.

The schedule.  The pace is *anchored* at a time ``t0`` (its epoch 0 starts then) and
counts the epochs ``k`` started since.  With rate ``R`` (period ``P = 1/R``):

1. **On schedule**: epoch ``k`` starts no earlier than its slot ``t0 + k P``
   (:meth:`before_epoch` waits for it).  An epoch that starts at most
   :data:`LATE_SLACK` ``P`` after its slot (the wait woke a little late, or the epoch
   before ran a little long) still counts as on schedule, so these small delays do not
   add up: while epochs take less than a period the long-run rate is exactly ``R``.
2. **Fell behind**: if epoch ``k`` would start more than ``LATE_SLACK P`` after its slot
   (the epoch before took longer than its period), it starts at once and the pace
   re-anchors there (``t0 = now``, ``k = 0``).  It never waits to catch up and never
   rushes through missed slots: two consecutive epochs start at least
   ``(1 - LATE_SLACK) P`` apart (no burst).
3. **No wait is longer than one period**: the previous epoch started at or after its
   slot ``t0 + (k-1) P``, so the wait for ``t0 + k P`` is at most ``P``.
4. **Rate change** (:meth:`set_rate`, any thread, any time): re-anchors at the moment
   the epoch that started last started (``t0 = that time``, ``k = 0``) and wakes a wait
   in progress, which re-plans with the new rate: the next epoch starts one new period
   after the last one started (or at once if that is past), so rules 2 and 3 hold
   across the change too.  ``None`` ends any wait.
5. **First epoch, and after** :meth:`reset`: the pace is unanchored; the next epoch
   starts at once and anchors the pace.  After a pause, the next epoch starts at once,
   then the pace resumes.
6. **Interrupt** (:meth:`interrupt`, Pause and Stop): a wait in progress returns at once
   and :meth:`before_epoch` returns ``True`` ("interrupted: check your flags").  An
   interrupt is never lost: if no wait is in progress, the *next* ``before_epoch``
   returns ``True`` at once.  An interrupted call does not count its epoch; calling
   ``before_epoch`` again waits for the same slot.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable, Optional, Protocol

#: An epoch starting at most this share of a period after its slot is on schedule (see
#: the module docstring, rules 1 and 2).
LATE_SLACK = 0.25


class Waiter(Protocol):
    """An interruptible wait: ``wait(timeout)`` blocks for at most ``timeout`` seconds
    and returns ``True`` if :meth:`interrupt` woke it early (consuming that interrupt),
    ``False`` when the timeout passed.  An ``interrupt()`` made while nobody waits makes
    the next ``wait`` return ``True`` at once.  Spurious early returns are allowed (the
    :class:`Pace` re-plans after every return)."""

    def wait(self, timeout: float) -> bool: ...

    def interrupt(self) -> None: ...


class EventWaiter:
    """The default :class:`Waiter`, over one :class:`threading.Event`."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def wait(self, timeout: float) -> bool:
        woke = self._event.wait(max(0.0, min(timeout, threading.TIMEOUT_MAX)))
        if woke:
            self._event.clear()
        return woke

    def interrupt(self) -> None:
        self._event.set()


def _check_rate(rate: Optional[float]) -> Optional[float]:
    if rate is None:
        return None
    if isinstance(rate, bool) or not isinstance(rate, (int, float)):
        raise TypeError(f"pace: rate must be a number of epochs per second or None, got {rate!r}")
    rate = float(rate)
    if not (math.isfinite(rate) and rate > 0.0):
        raise ValueError(f"pace: rate must be > 0 epochs per second, got {rate!r}")
    return rate


class Pace:
    """Waits between epochs so that training runs at most ``rate`` epochs a second
    (``None``: as fast as possible).  Thread-safe; see the module docstring for the
    exact schedule.

    ``clock`` returns seconds (monotonic); ``waiter`` is a :class:`Waiter` (default: an
    :class:`EventWaiter`)."""

    def __init__(
        self,
        rate: Optional[float] = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        waiter: Optional[Waiter] = None,
    ) -> None:
        self._rate = _check_rate(rate)
        self._clock = clock
        self._waiter: Waiter = waiter if waiter is not None else EventWaiter()
        self._lock = threading.Lock()
        self._t0: Optional[float] = None  # None: unanchored (rule 5)
        self._k = 0  # epochs started since t0
        self._started: Optional[float] = None  # when the epoch that started last started
        self._interrupted = False  # an interrupt not yet reported (rule 6)
        self._throttling = False  # see throttling

    @property
    def rate(self) -> Optional[float]:
        """Epochs per second, or ``None`` (as fast as possible)."""
        with self._lock:
            return self._rate

    @property
    def throttling(self) -> bool:
        """Whether the pace holds training back: the epoch that started last waited for
        its slot.  False as fast as possible, after :meth:`reset`, and while training
        cannot keep ahead of the rate (it fell behind, rule 2, or starts its epochs late
        within the slack, rule 1, without waiting): then the run goes as fast as it can."""
        return self._throttling

    def set_rate(self, rate: Optional[float]) -> None:
        """Change the rate now (rule 4): a wait in progress is cut short and re-planned.
        Raises ``ValueError`` for a rate that is not > 0 (and finite)."""
        rate = _check_rate(rate)
        with self._lock:
            if self._t0 is not None:
                self._t0, self._k = self._started, 0
            self._rate = rate
            self._throttling = self._throttling and rate is not None
        self._waiter.interrupt()

    def interrupt(self) -> None:
        """Pause and Stop: a wait in progress returns ``True`` at once; without one, the
        next :meth:`before_epoch` does (rule 6)."""
        with self._lock:
            self._interrupted = True
        self._waiter.interrupt()

    def reset(self) -> None:
        """Forget the anchor: the next epoch starts at once and re-anchors (rule 5).  A
        pending interrupt stays pending."""
        with self._lock:
            self._t0 = None
            self._k = 0
            self._throttling = False

    def before_epoch(self) -> bool:
        """Block until the next epoch may start (the worker thread calls this before
        each epoch).  Returns ``False`` when the epoch may start now, ``True`` when
        :meth:`interrupt` cut the wait short (the epoch was not counted: check the
        pause/stop flags, then call again to wait for the same slot)."""
        waited = False
        while True:
            with self._lock:
                if self._interrupted:
                    self._interrupted = False
                    return True
                now = self._clock()
                if self._rate is None or self._t0 is None:
                    # as fast as possible (the epoch's start is still the anchor a later
                    # set_rate plans from), or unanchored: start at once and anchor here
                    self._t0, self._k = now, 0
                    self._started = now
                    self._throttling = waited and self._rate is not None
                    return False
                period = 1.0 / self._rate
                slot = self._t0 + (self._k + 1) * period
                if now >= slot:
                    if now - slot <= LATE_SLACK * period:
                        self._k += 1  # on schedule (rule 1)
                    else:
                        self._t0, self._k = now, 0  # fell behind: re-anchor (rule 2)
                    self._started = now
                    self._throttling = waited
                    return False
                timeout = slot - now  # <= period (rule 3)
            self._waiter.wait(timeout)
            waited = True
            # woken by the timeout, an interrupt or a rate change: re-plan under the lock
