"""Weight snapshots for the timeline: the network of any epoch of a run, within a budget.

The training worker :meth:`~SnapshotStore.add`\\ s the flat parameter vector after each
epoch (epoch 0: the initial weights) and :meth:`~SnapshotStore.protect`\\ s the
early-stopping best epoch when it improves; the window asks for
:meth:`~SnapshotStore.nearest` to rebuild the network of the epoch under the timeline's
cursor.  No Qt here.

The rules (per run; a run id is any hashable, an epoch an int >= 0):

* **Copies, float32, never mutated.**  ``add`` stores a flat float32 copy; a stored
  array is read-only and never changed in place, so an array ``nearest`` returned may be
  kept as long as the caller likes (it is a read-only view; copy it to write).
* **Budget.**  The arrays held never total more than ``budget_bytes``
  (:data:`SNAPSHOT_BUDGET`, 64 MiB, by default) — not even during an ``add``: room is
  made *before* the copy is allocated.  A vector larger than the whole budget is refused
  (``add`` returns False) before anything is allocated; so is one that cannot fit even
  after every run is thinned down to its keepers (below).
* **Keepers.**  The first and the most recent snapshot of every run, and the run's
  protected epoch, are never thinned.  A run has one protected epoch (the best so far):
  protecting another releases the previous one to the stride rule.
* **Stride.**  Each run has a stride ``s`` (1 at first, a power of two).  Apart from the
  keepers a run only holds epochs that are multiples of ``s``: when an ``add`` makes the
  previous most recent snapshot an ordinary one, it is dropped unless its epoch is a
  multiple of ``s``.  So after a thinning the kept snapshots stay evenly spaced, later
  ones included.
* **Thinning.**  While the new snapshot would take the total over the budget, the run
  holding the most bytes (counting the new snapshot; among runs that still have
  something to drop; ties: the run added first) doubles its stride and drops its
  snapshots that are not keepers and whose epoch is not a multiple of the new stride —
  every other one of an evenly spaced series.
* Epochs are added in increasing order per run (``ValueError`` otherwise; ``drop`` the
  run to start again).

Thread-safe: one lock around everything (the worker adds, the GUI reads); the lock is
held during an ``add``'s copy, at most ``budget_bytes`` of memory traffic.
"""

from __future__ import annotations

import bisect
import numbers
import threading
from typing import Callable, Hashable, Optional

import numpy as np

from .limits import SNAPSHOT_BUDGET  # noqa: F401  (bytes of weight snapshots a session keeps, all runs together)

_FLOAT32 = np.dtype(np.float32)
_ITEM = _FLOAT32.itemsize


class _Run:
    __slots__ = ("epochs", "arrays", "nbytes", "stride", "protected")

    def __init__(self) -> None:
        self.epochs: list[int] = []  # sorted
        self.arrays: dict[int, np.ndarray] = {}
        self.nbytes = 0
        self.stride = 1
        self.protected: Optional[int] = None

    def is_keeper(self, epoch: int) -> bool:
        return epoch == self.epochs[0] or epoch == self.epochs[-1] or epoch == self.protected

    def keepers(self, with_last: bool = True) -> set[int]:
        """The epochs thinning never drops (``with_last=False``: as if the most recent
        one were about to be followed by a new snapshot)."""
        if not self.epochs:
            return set()
        keep = {self.epochs[0]}
        if with_last:
            keep.add(self.epochs[-1])
        if self.protected in self.arrays:
            keep.add(self.protected)
        return keep

    def droppable(self) -> bool:
        return len(self.epochs) > len(self.keepers())

    def remove(self, epoch: int) -> None:
        i = bisect.bisect_left(self.epochs, epoch)
        del self.epochs[i]
        self.nbytes -= self.arrays.pop(epoch).nbytes

    def unreserve(self, nbytes: int) -> None:
        """Undo a failed ``add``'s reservation of the most recent place."""
        del self.arrays[self.epochs.pop()]
        self.nbytes -= nbytes

    def thin(self) -> None:
        """Double the stride; drop non-keepers off it."""
        self.stride *= 2
        keep = []
        for e in self.epochs:
            if self.is_keeper(e) or e % self.stride == 0:
                keep.append(e)
            else:
                self.nbytes -= self.arrays.pop(e).nbytes
        self.epochs = keep


def _check_epoch(epoch) -> int:
    if type(epoch) is int and epoch >= 0:  # the common case, without the ABC check
        return epoch
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 0:
        raise ValueError(f"snapshots: epoch must be an int >= 0, got {epoch!r}")
    return int(epoch)


class SnapshotStore:
    """Weight snapshots of a session's runs, keyed by (run, epoch), within
    ``budget_bytes``; see the module docstring for the rules.  Thread-safe."""

    def __init__(self, budget_bytes: int = SNAPSHOT_BUDGET) -> None:
        if isinstance(budget_bytes, bool) or not isinstance(budget_bytes, numbers.Integral) or budget_bytes <= 0:
            raise ValueError(f"snapshots: budget_bytes must be an int > 0, got {budget_bytes!r}")
        self.budget_bytes = int(budget_bytes)
        self._lock = threading.Lock()
        self._runs: dict[Hashable, _Run] = {}
        self._nbytes = 0
        self._count = 0

    # -- writing ------------------------------------------------------------------------

    def add(self, run: Hashable, epoch: int, params: np.ndarray) -> bool:
        """Store a flat float32 copy of ``params`` as ``run``'s snapshot of ``epoch``,
        thinning first if the budget asks for it.  Returns False, storing and dropping
        nothing, when the vector cannot fit (larger than the budget, or larger than what
        thinning every run down to its keepers would free).  ``params``: a real-valued
        NumPy array of any shape.  Raises ``ValueError`` for an epoch that is not after
        the run's most recent one."""
        epoch = _check_epoch(epoch)
        if not isinstance(params, np.ndarray):
            raise TypeError(f"snapshots: params must be a NumPy array, got {type(params).__name__}")
        if params.dtype != _FLOAT32 and not np.can_cast(params.dtype, np.float32, casting="same_kind"):
            raise TypeError(f"snapshots: params must be real numbers, got dtype {params.dtype}")
        need = int(params.size) * _ITEM
        if need > self.budget_bytes:
            return False
        with self._lock:
            r = self._runs.get(run)
            if r is not None and r.epochs and epoch <= r.epochs[-1]:
                raise ValueError(
                    f"snapshots: run {run!r}: epoch {epoch} is not after the most recent one ({r.epochs[-1]})"
                )
            # what no thinning can free, with the new snapshot as this run's most recent
            # (at most everything held plus the new one: only counted when that is over)
            if self._nbytes + need > self.budget_bytes:
                floor = need
                for x in self._runs.values():
                    floor += sum(x.arrays[e].nbytes for e in x.keepers(with_last=x is not r))
                if floor > self.budget_bytes:
                    return False
            if r is None:
                r = self._runs[run] = _Run()
            # reserve the new snapshot's place (the most recent: a keeper from now on)
            r.epochs.append(epoch)
            r.arrays[epoch] = None
            r.nbytes += need
            self._nbytes += need
            self._count += 1
            try:
                # the previous most recent snapshot is an ordinary one now: the stride rule
                if len(r.epochs) > 1:
                    last = r.epochs[-2]
                    if not r.is_keeper(last) and last % r.stride != 0:
                        self._change(r, lambda: r.remove(last))
                while self._nbytes > self.budget_bytes:
                    victim = self._largest_droppable()
                    self._change(victim, victim.thin)
                if params.ndim == 1:
                    arr = params.astype(np.float32, subok=False)  # a plain copy that owns its memory
                else:
                    arr = np.empty(params.size, dtype=np.float32)  # owns its memory
                    np.copyto(arr.reshape(params.shape), params, casting="same_kind")
            except BaseException:
                self._change(r, lambda: r.unreserve(need))
                raise
            arr.flags.writeable = False  # and its views cannot be made writeable
            r.arrays[epoch] = arr
            return True

    def _change(self, r: _Run, change: Callable[[], None]) -> None:
        """Apply ``change()`` (which alters run ``r``) and keep the totals in step."""
        b, n = r.nbytes, len(r.epochs)
        change()
        self._nbytes -= b - r.nbytes
        self._count -= n - len(r.epochs)

    def _largest_droppable(self) -> _Run:
        best = None
        for x in self._runs.values():  # dict order is the order runs came: ties go first
            if x.droppable() and (best is None or x.nbytes > best.nbytes):
                best = x
        assert best is not None, "the floor check guarantees something can be dropped"
        return best

    def protect(self, run: Hashable, epoch: int) -> bool:
        """Make ``epoch`` the run's protected epoch (the early-stopping best): never
        thinned.  The previously protected epoch becomes ordinary (and is dropped at once
        unless it is the first, the most recent or on the run's stride).  Returns whether
        that epoch's snapshot is held (protecting an epoch not held records it all the
        same; a run not yet seen is created)."""
        epoch = _check_epoch(epoch)
        with self._lock:
            r = self._runs.get(run)
            if r is None:
                r = self._runs[run] = _Run()
            old, r.protected = r.protected, epoch
            if (
                old is not None and old != epoch and old in r.arrays
                and not r.is_keeper(old) and old % r.stride != 0
            ):
                self._change(r, lambda: r.remove(old))
            return epoch in r.arrays

    def drop(self, run: Hashable) -> None:
        """Forget a run and all its snapshots (nothing happens for an unknown run)."""
        with self._lock:
            r = self._runs.pop(run, None)
            if r is not None:
                self._nbytes -= r.nbytes
                self._count -= len(r.epochs)

    # -- reading ------------------------------------------------------------------------

    def epochs(self, run: Hashable) -> list[int]:
        """The epochs held for ``run``, ascending (empty for an unknown run)."""
        with self._lock:
            r = self._runs.get(run)
            return list(r.epochs) if r is not None else []

    def nearest(self, run: Hashable, epoch: int) -> Optional[tuple[int, np.ndarray]]:
        """``(e, params)`` of the latest snapshot at or before ``epoch``, else the
        earliest one; None when the run holds none.  ``params`` is a read-only flat
        float32 view the caller may keep (the store never writes to it)."""
        with self._lock:
            r = self._runs.get(run)
            if r is None or not r.epochs:
                return None
            i = bisect.bisect_right(r.epochs, epoch) - 1
            e = r.epochs[max(i, 0)]
            return e, r.arrays[e].view()

    def stride(self, run: Hashable) -> int:
        """The run's stride (1 until it was thinned; 1 for an unknown run)."""
        with self._lock:
            r = self._runs.get(run)
            return r.stride if r is not None else 1

    def protected(self, run: Hashable) -> Optional[int]:
        """The run's protected epoch, or None."""
        with self._lock:
            r = self._runs.get(run)
            return r.protected if r is not None else None

    @property
    def nbytes(self) -> int:
        """Bytes of all arrays held (the sum of their ``nbytes``)."""
        with self._lock:
            return self._nbytes

    def __len__(self) -> int:
        """Number of snapshots held, all runs together."""
        with self._lock:
            return self._count

    def __contains__(self, key) -> bool:
        """``(run, epoch) in store``."""
        run, epoch = key
        with self._lock:
            r = self._runs.get(run)
            return r is not None and epoch in r.arrays

    def _arrays(self) -> list[np.ndarray]:
        """Every array held (for tests: their nbytes must sum to :attr:`nbytes`)."""
        with self._lock:
            return [a for r in self._runs.values() for a in r.arrays.values()]
