"""Live frames: the worker's batches are queued (cheap) and drawn in paced frames.

A frame holds the worker (``TrainingWorker.hold``), shows the queued events and the
newest boundary image, and releases the worker when the changed views have painted.
The next frame comes no sooner than ``held x (1 / GUI_BUDGET - 1)`` later, so drawing
holds training for at most ``GUI_BUDGET`` of the run whatever the plots cost, and never
for more than one frame at a time.

The worker's next batch waits for the acknowledgement, which comes when the frame
showing this batch is over: one batch per frame, so a worker busy in Python is not
interrupted 30 times a second for batches that would only wait for the next frame.
(Measured in ``benchmarks/ui_responsiveness.py``.)
"""

from __future__ import annotations

import gc
import math
import time
from typing import Callable, Optional, Sequence

from PySide6.QtCore import QObject, QTimer

#: Share of a run's wall time that drawing live frames may take.  The worker is held
#: while a frame is drawn and painted, so this is also the most training throughput the
#: plots may cost.
GUI_BUDGET = 0.1
#: At most this many frames a second, however cheap they are (plenty for training curves;
#: each frame costs the trainer a few milliseconds of CPU and of the interpreter lock).
MAX_FRAME_RATE = 12.0
#: A frame whose paint does not come within this time releases the worker anyway.
FRAME_TIMEOUT_MS = 60
#: During a run, the GUI thread collects cyclic garbage this often (see GcGuard).
GC_INTERVAL_MS = 1000


class FramePacer(QObject):
    """Paces live frames for one window.

    ``views``: widgets with a ``painted`` signal, ``needs_paint()`` and ``isVisible()``;
    ``show_events(events)`` and ``show_boundary(payload)`` draw (in the GUI thread);
    ``exposed()`` says whether the window is on screen (else no paint will come).
    :meth:`attach` a run's worker, queue with :meth:`add_events` / :meth:`set_boundary`,
    :meth:`flush` to show everything now (pause, end of run), :meth:`reset` to forget."""

    def __init__(self, parent: QObject, views: Sequence, show_events: Callable[[list], None],
                 show_boundary: Callable[[dict], None], exposed: Callable[[], bool]):
        super().__init__(parent)
        self._views = tuple(views)
        self._show_events = show_events
        self._show_boundary = show_boundary
        self._exposed = exposed
        self._worker = None  # the run's worker: acknowledged after every frame
        self._events: list = []
        self._boundary = None  # only the newest image is worth drawing
        self._frame_worker = None  # held while the current frame paints
        self._waiting: set = set()  # views whose paint ends the current frame
        self._frame_t0 = 0.0
        self._next_frame_at = 0.0
        #: frames drawn during runs, the seconds the worker was held for them, the longest hold
        self.stats = {"frames": 0, "held_seconds": 0.0, "longest_seconds": 0.0}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._draw)
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(self._end_frame)
        for view in self._views:
            view.painted.connect(lambda view=view: self._painted(view))

    def attach(self, worker) -> None:
        """A new run: forget what was queued, acknowledge ``worker`` from now on."""
        self.reset()
        self._worker = worker

    def detach(self) -> None:
        """The run is over: show what is queued; no worker is held or acknowledged."""
        self._worker = None
        self._stop_frame()
        self.flush()

    def add_events(self, events: list) -> None:
        self._events.extend(events)
        self._request()

    def set_boundary(self, payload: dict) -> None:
        self._boundary = payload
        self._request()

    def flush(self) -> None:
        """Show the queued boundary image and events now (no frame, no hold)."""
        self._timer.stop()
        payload, self._boundary = self._boundary, None
        events, self._events = self._events, []
        if payload is not None:
            self._show_boundary(payload)
        if events:
            self._show_events(events)

    def reset(self) -> None:
        """Forget queued events and frames (a new run, or the window is closing)."""
        self._worker = None
        self._stop_frame()
        self._events = []
        self._boundary = None
        self._next_frame_at = 0.0

    # ------------------------------------------------------------------ frames
    def _request(self) -> None:
        if self._timer.isActive() or self._frame_worker is not None:
            return  # a frame is scheduled or being painted; it takes the queue with it
        delay = max(0.0, self._next_frame_at - time.perf_counter())
        self._timer.start(int(math.ceil(delay * 1000)))

    def _draw(self) -> None:
        """Show everything queued; hold the worker until the changed views have painted."""
        worker = self._worker
        if not self._events and self._boundary is None:
            if worker is not None:
                worker.acknowledge(0.0)
            return
        self._frame_t0 = time.perf_counter()
        if worker is not None:
            worker.hold()
        self.flush()
        waiting = {v for v in self._views if v.needs_paint() and v.isVisible()}
        self._frame_worker = worker
        if worker is not None and waiting and self._exposed():
            self._waiting = waiting
            self._timeout.start(FRAME_TIMEOUT_MS)
        else:
            self._end_frame()

    def _painted(self, view) -> None:
        if self._frame_worker is None:
            return
        self._waiting.discard(view)
        if not self._waiting:
            self._end_frame()

    def _end_frame(self) -> None:
        self._timeout.stop()
        worker, self._frame_worker = self._frame_worker, None
        self._waiting = set()
        now = time.perf_counter()
        held = now - self._frame_t0
        if worker is not None:
            worker.release()
            worker.acknowledge(held)
            self.stats["frames"] += 1
            self.stats["held_seconds"] += held
            self.stats["longest_seconds"] = max(self.stats["longest_seconds"], held)
        self._next_frame_at = now + max(1.0 / MAX_FRAME_RATE, held * (1.0 / GUI_BUDGET - 1.0))
        if self._events or self._boundary is not None:
            self._request()

    def _stop_frame(self) -> None:
        """End the current frame at once: release a held worker, stop the timers."""
        self._timer.stop()
        self._timeout.stop()
        if self._frame_worker is not None:
            self._frame_worker.release()
        self._frame_worker = None
        self._waiting = set()


class GcGuard(QObject):
    """Keep the cyclic garbage collector out of the training thread.

    Python collects cycles in whichever thread happens to allocate, and the worker
    allocates most; a cycle holding Qt objects (pyqtgraph items, a closed window's
    widgets) collected there destroys widgets outside the GUI thread, which deadlocked
    on Qt's and the interpreter's locks.  While a run is live (:meth:`set_running`)
    automatic collection is off and the GUI thread collects every ``GC_INTERVAL_MS``."""

    def __init__(self, parent: QObject):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(GC_INTERVAL_MS)
        self._timer.timeout.connect(lambda: gc.collect(1))
        self._was_enabled: Optional[bool] = None

    def set_running(self, running: bool) -> None:
        if running:
            if self._was_enabled is None:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._timer.start()
        else:
            self._timer.stop()
            if self._was_enabled is not None:
                if self._was_enabled:
                    gc.enable()
                self._was_enabled = None
