"""The training worker: iterates the engine's trainer generator in a ``QThread``.

The GUI thread never trains.  :class:`TrainingWorker` is a ``QObject`` moved to a
``QThread``; its :meth:`run` slot builds the run from the spec
(``build_run(spec, dataset)``) *in the worker thread*, then walks ``run.events()``:

* every event is fed to a :class:`~workbench.history.Recorder` (the run's result);
* events are collected and emitted as one ``events_ready(list)`` signal at most
  ``1 / emit_interval`` times a second (time-based throttle, ~30 Hz by default), so the
  GUI does a bounded amount of Python work per frame however fast the engine is;
* optional back-pressure (``gui_budget``): the GUI calls :meth:`acknowledge` with the
  time it spent drawing the last batch; the next batch is emitted only after that
  acknowledgement and no sooner than ``cost / gui_budget`` after the last one, so
  drawing takes at most about ``gui_budget`` of the GUI thread (and of the interpreter
  lock the trainer needs), whatever the plots cost.  The main window acknowledges a
  batch when the frame that shows it has painted.  A missing acknowledgement delays
  the next batch by at most ``max_hold`` seconds;
* a decision-boundary (or fitted-curve) payload is computed by the ``boundary``
  callable, in this thread, when events are emitted after an epoch has ended, at most
  ``1 / boundary_interval`` times a second (<= 4 Hz by default), when pausing and at
  the end, and emitted as ``boundary_ready`` just before its events;
* between events the stop and pause flags are checked: pause blocks on a
  ``threading.Event`` (no busy loop); stop ends the iteration (the generator is
  closed) and the partial result is still reported through ``finished``;
* drawing hold: the GUI calls :meth:`hold` before it draws a frame and
  :meth:`release` when the frame is painted; in between the worker waits at the next
  event boundary (at most ``max_hold_frame`` seconds).  Both threads need the
  interpreter lock: a frame's many short Python calls (pyqtgraph items paint from
  Python) each wait up to the switch interval (5 ms) for a worker busy in Python,
  so an uncontended frame of a few milliseconds took a hundred.  Holding the worker
  for the frame costs it exactly the frame's time; the main window paces frames so
  that this stays a small share of the run (``GUI_BUDGET``).

Signals carry copies (frozen events, fresh arrays, a frozen ``RunResult``), never live
engine arrays.  The control methods (:meth:`stop`, :meth:`pause`, :meth:`resume`,
:meth:`step_epoch`, :meth:`set_live`) are plain thread-safe methods meant to be called
*directly* from the GUI thread (not through queued signals: the worker thread is busy
in :meth:`run` and has no free event loop).
"""

from __future__ import annotations

import threading
import time
import traceback
from typing import Any, Callable, Optional

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from workbench.engine.events import EpochEnd

BoundaryFn = Callable[[Any], Any]


def _copy_payload(payload: Any) -> Any:
    """Deep-enough copy of a boundary payload: arrays copied, containers rebuilt."""
    if isinstance(payload, np.ndarray):
        return np.array(payload, copy=True)
    if isinstance(payload, dict):
        return {k: _copy_payload(v) for k, v in payload.items()}
    if isinstance(payload, (list, tuple)):
        return type(payload)(_copy_payload(v) for v in payload)
    return payload


class TrainingWorker(QObject):
    """Runs one experiment; create a new worker for every run.

    Signals (emitted from the worker thread, delivered queued to the GUI):

    ``events_ready(list)``
        engine events since the last emission, in order.
    ``boundary_ready(object)``
        whatever the ``boundary`` callable returned (copied).
    ``pause_changed(bool)``
        True when the worker has actually stopped and waits, False when it resumes.
        All events up to the pause point are emitted before ``pause_changed(True)``.
    ``finished(object)``
        the :class:`~workbench.spec.RunResult` (also after :meth:`stop`: status
        ``stopped``).
    ``failed(str)``
        an unexpected exception (a message with the exception type).
    Exactly one of ``finished``/``failed`` is emitted, as the last signal.
    """

    events_ready = Signal(list)
    boundary_ready = Signal(object)
    pause_changed = Signal(bool)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        spec,
        dataset,
        *,
        boundary: Optional[BoundaryFn] = None,
        emit_interval: float = 1.0 / 30.0,
        boundary_interval: float = 0.25,
        gui_budget: Optional[float] = None,
        max_hold: float = 1.0,
        max_hold_frame: float = 0.25,
        start_paused: bool = False,
        build=None,
        recorder=None,
    ) -> None:
        super().__init__()
        self._spec = spec
        self._dataset = dataset
        self._boundary = boundary
        self.emit_interval = float(emit_interval)
        self.gui_budget = gui_budget
        self.max_hold = float(max_hold)
        self._acked = threading.Event()
        self._acked.set()
        self._gap = self.emit_interval  # current minimum time between two batches
        self.boundary_interval = float(boundary_interval)
        self._build = build
        self._recorder_cls = recorder
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._go = threading.Event()  # set = running, clear = paused
        self._free = threading.Event()  # set = not held for drawing
        self._free.set()
        self.max_hold_frame = float(max_hold_frame)
        self.held_seconds = 0.0  # total time waited for the GUI's frames (benchmarks)
        if not start_paused:
            self._go.set()
        self._step_pending = False
        self._live_pending: dict[str, float] = {}
        self.emissions = 0  # events_ready signals emitted (for tests / benchmarks)
        self.run_object = None  # the engine Run, once built (worker thread only)

    # -- control (any thread) -------------------------------------------------
    def stop(self) -> None:
        """Ask the run to end after the current event; wakes a paused worker."""
        self._stop.set()
        self._go.set()
        self._free.set()

    def hold(self) -> None:
        """The GUI is about to draw: wait at the next event boundary until :meth:`release`
        (or ``max_hold_frame`` seconds)."""
        self._free.clear()

    def release(self) -> None:
        """The GUI's frame is painted: train on."""
        self._free.set()

    def pause(self) -> None:
        """Pause before the next event (between batches)."""
        with self._lock:
            self._step_pending = False
        self._go.clear()

    def resume(self) -> None:
        with self._lock:
            self._step_pending = False
        self._go.set()

    def step_epoch(self) -> None:
        """Run until the next epoch ends, then pause (pauses a running worker too)."""
        with self._lock:
            self._step_pending = True
        self._go.set()

    def acknowledge(self, cost: float) -> None:
        """The GUI has drawn the last batch, spending ``cost`` seconds on it."""
        if self.gui_budget:
            gap = max(self.emit_interval, float(cost) / self.gui_budget)
            self._gap = min(gap, self.max_hold)
        self._acked.set()

    def set_live(self, **values: float) -> None:
        """Queue live settings (lr, l1, l2, weight_decay) for ``run.live.set``."""
        with self._lock:
            self._live_pending.update(values)

    @property
    def is_stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop (worker thread) ---------------------------------------------
    @Slot()
    def run(self) -> None:
        try:
            result = self._run()
        except Exception as exc:  # reported to the GUI, never raised into Qt
            detail = traceback.format_exc(limit=6)
            self.failed.emit(f"{type(exc).__name__}: {exc}\n\n{detail}")
            return
        self.finished.emit(result)

    def _take_live(self) -> dict[str, float]:
        with self._lock:
            pending, self._live_pending = self._live_pending, {}
        return pending

    def _run(self):
        if self._build is None:
            from workbench.build import build_run
        else:
            build_run = self._build
        if self._recorder_cls is None:
            from workbench.history import Recorder
        else:
            Recorder = self._recorder_cls

        run = build_run(self._spec, self._dataset)
        self.run_object = run
        recorder = Recorder(self._spec)
        pending: list = []
        clock = time.perf_counter
        last_emit = clock()
        last_boundary = -1e9  # first epoch's boundary is sent at once
        boundary_dirty = False

        def flush() -> None:
            nonlocal pending, last_emit
            if pending:
                if self.gui_budget:
                    self._acked.clear()
                self.events_ready.emit(pending)
                self.emissions += 1
                pending = []
            last_emit = clock()

        def due(now: float) -> bool:
            waited = now - last_emit
            if not self.gui_budget:
                return waited >= self.emit_interval
            return (self._acked.is_set() and waited >= self._gap) or waited >= self.max_hold

        def send_boundary() -> None:
            nonlocal last_boundary, boundary_dirty
            last_boundary = clock()
            boundary_dirty = False
            try:
                payload = self._boundary(run.network)
            except Exception:  # a view helper must never kill the run
                return
            if payload is not None:
                self.boundary_ready.emit(_copy_payload(payload))

        self._apply_live(run)
        events = run.events()
        has_boundary = self._boundary is not None
        free, go, stop = self._free, self._go, self._stop
        add = recorder.add
        try:
            for event in events:
                add(event)
                pending.append(event)
                now = clock()
                epoch_done = type(event) is EpochEnd
                if epoch_done and has_boundary:
                    boundary_dirty = True
                if due(now):
                    # the boundary goes out just before the events it belongs to, so the
                    # GUI's acknowledgement covers drawing both
                    if boundary_dirty and now - last_boundary >= self.boundary_interval:
                        send_boundary()
                    flush()
                # -- between events: drawing hold, live settings, step, pause, stop
                if not free.is_set():
                    t_hold = clock()
                    if not free.wait(self.max_hold_frame):
                        free.set()  # the frame never came: do not wait again for it
                    self.held_seconds += clock() - t_hold
                if self._live_pending:
                    self._apply_live(run)
                if epoch_done:
                    with self._lock:
                        if self._step_pending:
                            self._step_pending = False
                            go.clear()
                if not go.is_set() and not stop.is_set():
                    flush()
                    if boundary_dirty and has_boundary:
                        send_boundary()
                    self.pause_changed.emit(True)
                    go.wait()
                    self.pause_changed.emit(False)
                    last_emit = clock()
                    self._apply_live(run)
                if stop.is_set():
                    break
        finally:
            events.close()
        flush()
        if self._boundary is not None and boundary_dirty:
            send_boundary()
        return recorder.result(weights=run.network.params)

    def _apply_live(self, run) -> None:
        live = self._take_live()
        if live:
            try:
                run.live.set(**live)
            except ValueError:
                pass  # the spec validated it already; a bad value is simply ignored
