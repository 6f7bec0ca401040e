"""Live frames, paced in one place: the worker's batches are queued (cheap) and drawn in
paced frames, and the worker waits while a frame is drawn.

Two threads meet in a :class:`FrameGate`, one per run:

* the worker (training thread) asks :meth:`FrameGate.due` whether to send its collected
  events now, tells it :meth:`FrameGate.sending` and :meth:`FrameGate.sent`, and calls
  :meth:`FrameGate.wait_if_held` between events;
* the :class:`FramePacer` (GUI thread) draws a frame: :meth:`FrameGate.hold` first, then,
  when the changed views have painted, :meth:`FrameGate.release` and
  :meth:`FrameGate.acknowledge` with the time the frame held the worker.

The numbers, and why.  Both threads need the interpreter lock: a frame's many short
Python calls (pyqtgraph items paint from Python) each wait up to the switch interval
(5 ms) for a worker busy in Python, so an uncontended frame of a few milliseconds took a
hundred.  Holding the worker for the frame costs it exactly the frame's time.  After a
frame that held the worker ``h`` seconds, the next frame comes no sooner than
``h (1 / b - 1)`` later, so drawing holds training for at most a share ``b`` of the run
whatever the plots cost, and never more than :data:`MAX_FRAME_RATE` (12) frames a second.
The budget ``b`` (:func:`frame_budget`) is :data:`GUI_BUDGET` (10 %) for a run going as
fast as it can, :data:`GROUP_GUI_BUDGET` (5 %) for several runs trained together (Repeat
× N: in lockstep, or one after the other when they cannot be), and
:data:`PACED_GUI_BUDGET` while a pace holds training back (the worker waits between
epochs anyway, so frames may come as often as the frame rate allows; a run that falls
behind its pace is back to the full-speed budget).  The worker sends a batch only after
the last one was acknowledged and no sooner than ``cost / b`` after it
(:data:`EMIT_INTERVAL` at least, 30 Hz), so a worker busy in Python is not interrupted
for batches that would wait for the next frame anyway; a missing acknowledgement delays
a batch at most ``max_hold`` (1 s), a frame that never paints holds the worker at most
``max_hold_frame`` (0.25 s; the pacer itself gives up after :data:`FRAME_TIMEOUT_MS`).
Measured in ``benchmarks/ui_responsiveness.py`` (medium case, a 2.5 s run; three runs,
51 rounds): the window trains at 96.8 % of headless throughput, 95.3 % with batch losses
shown (the GUI thread's ~0.07-0.11 s of CPU a run); in ``bench_window_runs.py`` eight
overlaid tiny runs at ~91 % (benchmarks/README.md).
"""

from __future__ import annotations

import gc
import math
import threading
import time
from typing import Callable, Optional, Sequence

from PySide6.QtCore import QObject, QTimer

#: Share of a run's wall time that drawing live frames may take while it trains as fast as
#: it can.  The worker is held while a frame is drawn and painted, so this is also the
#: most training throughput the plots may cost.  A cheap frame is not limited by it:
#: medium runs' frames come at MAX_FRAME_RATE; the default two-spirals run's at ~6-9 a
#: second (at 5 %, 2-3: too few to watch a 1 s run, for 3 % of its time).
GUI_BUDGET = 0.1
#: The budget of several runs trained together (Repeat x N): what a group is for is its
#: numbers, and its frames cost more (N members' band and stars).  At 10 % eight overlaid
#: tiny runs trained at 85 % of their headless speed (frames of ~17 ms, 6 a second); at
#: 5 % at ~90 %, frames ~3 a second (benchmarks/README.md, "Eight live runs").
GROUP_GUI_BUDGET = 0.05
#: The budget while a pace holds training back (``Pace.throttling``): watching is what a
#: pace is for, and the held worker would be waiting for its next epoch anyway.
PACED_GUI_BUDGET = 0.25
#: At most this many frames a second, however cheap they are (plenty for training curves;
#: each frame costs the trainer a few milliseconds of CPU and of the interpreter lock).
MAX_FRAME_RATE = 12.0
#: Frames whose events change nothing on screen but the clock (batch losses while their
#: curve is hidden: a medium run's ~470 batches an epoch) come at most this often: 4 Hz
#: keeps the elapsed time and speed alive, and saves the ~2 ms of GUI CPU (which a
#: BLAS-bound trainer loses 1:1 on two cores) of two frames in three.
QUIET_FRAME_RATE = 4.0
#: Frames whose events only extend the per-batch loss curve (View -> Show batch losses, a
#: run with long epochs) come at most this often: a noisy curve growing by a few pixels
#: needs no more, and each such frame costs ~5 ms of GUI CPU (medium case: 6.9 % of the
#: GUI thread at 12 a second, ~5 % at 6).
BATCH_FRAME_RATE = 6.0
#: A frame whose paint does not come within this time releases the worker anyway.
FRAME_TIMEOUT_MS = 60
#: During a run, the GUI thread collects cyclic garbage this often (see GcGuard).
GC_INTERVAL_MS = 1000
#: The application's guard collects every generation every this many intervals (30 s):
#: what automatic collection would do now and then, in the GUI thread instead.
FULL_GC_EVERY = 30
#: The worker sends its collected events at most this often (without back-pressure: this often).
EMIT_INTERVAL = 1.0 / 30.0


def frame_budget(pace, members: int = 1) -> float:
    """The share of the run drawing may take now: :data:`PACED_GUI_BUDGET` while ``pace``
    (a :class:`workbench.pace.Pace`) throttles training, else :data:`GROUP_GUI_BUDGET` for
    a run of several ``members``, :data:`GUI_BUDGET` for one."""
    if pace.throttling:
        return PACED_GUI_BUDGET
    return GROUP_GUI_BUDGET if members > 1 else GUI_BUDGET


class FrameGate:
    """Where a run's worker and the GUI's frames meet (thread-safe; see the module docstring).

    ``emit_interval``: least time between two batches; ``gui_budget`` (None: no
    back-pressure, a batch every ``emit_interval``): share of the time drawing may take;
    ``max_hold``: longest wait for an acknowledgement; ``max_hold_frame``: longest wait
    for a frame to end.  ``held_seconds`` is the total time the worker waited for frames."""

    def __init__(self, emit_interval: float = EMIT_INTERVAL, gui_budget: Optional[float] = None,
                 max_hold: float = 1.0, max_hold_frame: float = 0.25):
        self.emit_interval = float(emit_interval)
        self.gui_budget = gui_budget
        self.max_hold = float(max_hold)
        self.max_hold_frame = float(max_hold_frame)
        self.held_seconds = 0.0
        self._acked = threading.Event()
        self._acked.set()
        self._free = threading.Event()  # set = not held for drawing
        self._free.set()
        self._gap = self.emit_interval  # current least time between two batches
        self._last = time.perf_counter()

    # -- the GUI's side ---------------------------------------------------------------
    def hold(self) -> None:
        """The GUI is about to draw: the worker waits at its next event boundary until
        :meth:`release` (or ``max_hold_frame`` seconds)."""
        self._free.clear()

    def release(self) -> None:
        """The GUI's frame is painted: train on."""
        self._free.set()

    def acknowledge(self, cost: float, budget: Optional[float] = None) -> None:
        """The GUI has drawn the last batch, spending ``cost`` seconds on it: the next batch
        comes no sooner than ``cost / budget`` after the last (``budget``: the GUI's budget
        now, default ``gui_budget``; no back-pressure when ``gui_budget`` is None)."""
        if self.gui_budget:
            share = budget if budget else self.gui_budget
            self._gap = min(max(self.emit_interval, float(cost) / share), self.max_hold)
        self._acked.set()

    # -- the worker's side --------------------------------------------------------------
    def due(self, now: float) -> bool:
        """Whether the worker should send its collected events now."""
        waited = now - self._last
        if not self.gui_budget:
            return waited >= self.emit_interval
        return (self._acked.is_set() and waited >= self._gap) or waited >= self.max_hold

    def sending(self) -> None:
        """The worker is about to send a batch: the next one waits for its acknowledgement
        (cleared before the signal goes out, since the acknowledgement may come at once)."""
        if self.gui_budget:
            self._acked.clear()

    def sent(self, now: float) -> None:
        """The worker sent a batch, or resumed after a pause, at ``now``: the next batch is
        timed from here."""
        self._last = now

    def wait_if_held(self) -> None:
        """Between two events: wait while a frame holds the worker (at most ``max_hold_frame``)."""
        free = self._free
        if free.is_set():
            return
        t0 = time.perf_counter()
        if not free.wait(self.max_hold_frame):
            free.set()  # the frame never came: do not wait again for it
        self.held_seconds += time.perf_counter() - t0

    def open(self) -> None:
        """Never hold again (the run is stopping)."""
        self._free.set()


class FramePacer(QObject):
    """Paces live frames for one window.

    ``views``: widgets with a ``painted`` signal, ``needs_paint()`` and ``isVisible()``;
    ``show_events(events)`` and ``show_boundary(payload)`` draw (in the GUI thread);
    ``exposed()`` says whether the window is on screen (else no paint will come);
    ``frame_rate(events)`` the most frames a second those events are worth (e.g.
    :data:`QUIET_FRAME_RATE` for events that change only the clock; the frame of several
    batches of events comes at the highest of their rates, kept within
    :data:`QUIET_FRAME_RATE` .. :data:`MAX_FRAME_RATE`); ``budget()`` the share of the run
    drawing may take now (see :func:`frame_budget`).  :meth:`attach` a run's
    :class:`FrameGate`, queue with :meth:`add_events` / :meth:`set_boundary`,
    :meth:`flush` to show everything now (pause, end of run), :meth:`reset` to forget."""

    def __init__(self, parent: QObject, views: Sequence, show_events: Callable[[list], None],
                 show_boundary: Callable[[dict], None], exposed: Callable[[], bool],
                 frame_rate: Callable[[list], float] = lambda events: MAX_FRAME_RATE,
                 budget: Callable[[], float] = lambda: GUI_BUDGET):
        super().__init__(parent)
        self._views = tuple(views)
        self._budget = budget
        self._frame_rate = frame_rate
        self._rate = 0.0  # the highest frame rate of what is queued (0: nothing)
        self._frame_end = -math.inf  # when the last frame ended
        self._scheduled_at = 0.0  # when the scheduled frame is due
        self._show_events = show_events
        self._show_boundary = show_boundary
        self._exposed = exposed
        self._gate = None  # the run's FrameGate: acknowledged after every frame
        self._events: list = []
        self._boundary = None  # only the newest image is worth drawing
        self._frame_gate = None  # held while the current frame paints
        self._waiting: set = set()  # views whose paint ends the current frame
        self._frame_t0 = 0.0
        self._next_frame_at = 0.0
        #: frames drawn during runs, the seconds the gate was held for them, the longest hold
        self.stats = {"frames": 0, "held_seconds": 0.0, "longest_seconds": 0.0}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._draw)
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.timeout.connect(self._end_frame)
        for view in self._views:
            view.painted.connect(lambda view=view: self._painted(view))

    def attach(self, gate) -> None:
        """A new run: forget what was queued, acknowledge ``gate`` from now on."""
        self.reset()
        self._gate = gate

    def detach(self) -> None:
        """The run is over: show what is queued; no gate is held or acknowledged."""
        self._gate = None
        self._stop_frame()
        self.flush()

    def add_events(self, events: list) -> None:
        self._events.extend(events)
        self._rate = max(self._rate, min(MAX_FRAME_RATE, max(QUIET_FRAME_RATE, self._frame_rate(events))))
        self._request()

    def set_boundary(self, payload: dict) -> None:
        self._boundary = payload
        self._rate = MAX_FRAME_RATE
        self._request()

    def flush(self) -> None:
        """Show the queued boundary image and events now (no frame, no hold)."""
        self._timer.stop()
        payload, self._boundary = self._boundary, None
        events, self._events = self._events, []
        self._rate = 0.0
        if payload is not None:
            self._show_boundary(payload)
        if events:
            self._show_events(events)

    def reset(self) -> None:
        """Forget queued events and frames (a new run, or the window is closing)."""
        self._gate = None
        self._stop_frame()
        self._events = []
        self._boundary = None
        self._rate = 0.0
        self._next_frame_at = 0.0
        self._frame_end = -math.inf

    # ------------------------------------------------------------------ frames
    def _request(self) -> None:
        if self._frame_gate is not None:
            return  # a frame is being painted; the next is requested when it ends
        at = max(self._next_frame_at, self._frame_end + 1.0 / (self._rate or QUIET_FRAME_RATE))
        if self._timer.isActive() and self._scheduled_at <= at:
            return  # the frame scheduled takes the queue with it
        self._scheduled_at = at
        self._timer.start(int(math.ceil(max(0.0, at - time.perf_counter()) * 1000)))

    def _draw(self) -> None:
        """Show everything queued; hold the gate until the changed views have painted."""
        gate = self._gate
        if not self._events and self._boundary is None:
            if gate is not None:
                gate.acknowledge(0.0)
            return
        self._frame_t0 = time.perf_counter()
        if gate is not None:
            gate.hold()
        self.flush()
        waiting = {v for v in self._views if v.needs_paint() and v.isVisible()}
        self._frame_gate = gate
        if gate is not None and waiting and self._exposed():
            self._waiting = waiting
            self._timeout.start(FRAME_TIMEOUT_MS)
        else:
            self._end_frame()

    def _painted(self, view) -> None:
        if self._frame_gate is None:
            return
        self._waiting.discard(view)
        if not self._waiting:
            self._end_frame()

    def _end_frame(self) -> None:
        self._timeout.stop()
        gate, self._frame_gate = self._frame_gate, None
        self._waiting = set()
        now = time.perf_counter()
        held = now - self._frame_t0
        budget = self._budget()
        if gate is not None:
            gate.release()
            gate.acknowledge(held, budget)
            self.stats["frames"] += 1
            self.stats["held_seconds"] += held
            self.stats["longest_seconds"] = max(self.stats["longest_seconds"], held)
        self._next_frame_at = now + held * (1.0 / budget - 1.0)
        self._frame_end = now
        if self._events or self._boundary is not None:
            self._request()

    def _stop_frame(self) -> None:
        """End the current frame at once: release a held gate, stop the timers."""
        self._timer.stop()
        self._timeout.stop()
        if self._frame_gate is not None:
            self._frame_gate.release()
        self._frame_gate = None
        self._waiting = set()


class GcGuard(QObject):
    """Keep the cyclic garbage collector out of other threads than the GUI's.

    Python collects cycles in whichever thread happens to allocate, and a worker
    allocates most; a cycle holding Qt objects (pyqtgraph items, a closed window's
    widgets) collected there destroys widgets outside the GUI thread, which deadlocked
    on Qt's and the interpreter's locks.  While active (:meth:`set_running`) automatic
    collection is off and the GUI thread collects every ``GC_INTERVAL_MS`` (the young
    generations; everything every ``full_every``-th time when that is > 0).  The
    window's run controller keeps one active while a run is live; the application keeps
    one active all along (``full_every``: :data:`FULL_GC_EVERY`), for the threads that
    are not runs (a sweep's, the data loader's, Dask's)."""

    def __init__(self, parent: QObject, full_every: int = 0):
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(GC_INTERVAL_MS)
        self._timer.timeout.connect(self._collect)
        self._full_every = int(full_every)
        self._ticks = 0
        self._was_enabled: Optional[bool] = None

    def _collect(self) -> None:
        self._ticks += 1
        if self._full_every > 0 and self._ticks % self._full_every == 0:
            gc.collect()
        else:
            gc.collect(1)
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
