"""The training worker: iterates the engine's trainer generator in a ``QThread``.

The GUI thread never trains.  :class:`TrainingWorker` is a ``QObject`` moved to a
``QThread``; its :meth:`run` slot builds the run from the spec
(``build_run(spec, dataset)``) *in the worker thread*, then walks ``run.events()``:

* every event is fed to a :class:`~workbench.history.Recorder` (the run's result);
* events are collected and emitted as one ``events_ready(list)`` signal when the run's
  :class:`~workbench.ui.frame_pacer.FrameGate` says so (``gate.due``: at most 30 times a
  second, and with back-pressure only after the GUI has drawn the last batch), so the
  GUI does a bounded amount of Python work per frame however fast the engine is; between
  events the worker waits while the GUI draws a frame (``gate.wait_if_held``).  All the
  pacing numbers live in :mod:`workbench.ui.frame_pacer`;
* a decision-boundary (or fitted-curve) payload is computed by the ``boundary``
  callable, in this thread, when events are emitted after an epoch has ended, at most
  ``1 / boundary_interval`` times a second (<= 4 Hz by default), when pausing and at
  the end, and emitted as ``boundary_ready`` just before its events;
* live settings (:meth:`set_live`) go straight to the run's
  :class:`~workbench.engine.trainer.LiveSettings` (thread-safe, validated there: a bad
  value raises at once), which the trainer applies at the start of the next epoch;
* between events the stop and pause flags are checked: pause blocks on a
  ``threading.Event`` (no busy loop); stop ends the iteration (the generator is
  closed) and the partial result is still reported through ``finished``.

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
from workbench.engine.trainer import LiveSettings

from .frame_pacer import EMIT_INTERVAL, FrameGate

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
        emit_interval: float = EMIT_INTERVAL,
        boundary_interval: float = 0.25,
        gui_budget: Optional[float] = None,
        max_hold: float = 1.0,
        max_hold_frame: float = 0.25,
        start_paused: bool = False,
        build=None,
        recorder=None,
        live=None,
    ) -> None:
        super().__init__()
        self._spec = spec
        self._dataset = dataset
        self._boundary = boundary
        #: where this run meets the GUI's frames (see workbench.ui.frame_pacer)
        self.gate = FrameGate(emit_interval, gui_budget, max_hold, max_hold_frame)
        self.boundary_interval = float(boundary_interval)
        self._build = build
        self._recorder_cls = recorder
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._go = threading.Event()  # set = running, clear = paused
        if not start_paused:
            self._go.set()
        self._step_pending = False
        #: the run's live settings (the one channel for changes mid-run; see set_live)
        self.live = live if live is not None else LiveSettings()
        self.emissions = 0  # events_ready signals emitted (for tests / benchmarks)
        self.run_object = None  # the engine Run, once built (worker thread only)

    @property
    def held_seconds(self) -> float:
        """Total time the worker waited for the GUI's frames (benchmarks)."""
        return self.gate.held_seconds

    # -- control (any thread) -------------------------------------------------
    def stop(self) -> None:
        """Ask the run to end after the current event; wakes a paused worker."""
        self._stop.set()
        self._go.set()
        self.gate.open()

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

    def set_live(self, **values: float) -> None:
        """Change live settings (lr, l1, l2, weight_decay) from the next epoch on; a bad
        value raises ValueError naming it (``run.live.set`` validates)."""
        self.live.set(**values)

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

    def _run(self):
        from workbench.build import build_run
        from workbench.history import Recorder as DefaultRecorder

        if self._build is None:
            run = build_run(self._spec, self._dataset, live=self.live)
        else:  # tests' stand-in runs
            run = self._build(self._spec, self._dataset)
        Recorder = self._recorder_cls or DefaultRecorder  # noqa: N806
        self.run_object = run
        recorder = Recorder(self._spec)
        pending: list = []
        clock = time.perf_counter
        gate = self.gate
        gate.sent(clock())
        last_boundary = -1e9  # first epoch's boundary is sent at once
        boundary_dirty = False

        def flush() -> None:
            nonlocal pending
            if pending:
                gate.sending()
                self.events_ready.emit(pending)
                self.emissions += 1
                pending = []
            gate.sent(clock())

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

        events = run.events()
        has_boundary = self._boundary is not None
        go, stop = self._go, self._stop
        add = recorder.add
        try:
            for event in events:
                add(event)
                pending.append(event)
                now = clock()
                epoch_done = type(event) is EpochEnd
                if epoch_done and has_boundary:
                    boundary_dirty = True
                if gate.due(now):
                    # the boundary goes out just before the events it belongs to, so the
                    # GUI's acknowledgement covers drawing both
                    if boundary_dirty and now - last_boundary >= self.boundary_interval:
                        send_boundary()
                    flush()
                # -- between events: drawing hold, live settings, step, pause, stop
                gate.wait_if_held()
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
                    gate.sent(clock())
                if stop.is_set():
                    break
        finally:
            events.close()
        flush()
        if self._boundary is not None and boundary_dirty:
            send_boundary()
        return recorder.result(weights=run.network.params)
