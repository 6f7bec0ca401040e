"""The run controller: one training run's worker and thread, from Run to the result.

:class:`RunController` starts a :class:`~workbench.ui.worker.TrainingWorker` on a
``QThread``, pauses, steps, stops and shuts it down, hands live changes to the trainer
(one channel: the run's :class:`~workbench.engine.trainer.LiveSettings`), and paces what
the worker reports into frames (:class:`~workbench.ui.frame_pacer.FramePacer`).  It knows
nothing of plots: the window draws what ``frame_events`` and ``frame_boundary`` carry.

A run that does not stop in time when the window closes (a batch of seconds) is never
destroyed while its thread runs: it is kept (:func:`wait_for_stragglers` joins it before
the application exits), so closing can never abort the process.
"""

from __future__ import annotations

import time
from typing import Callable, Optional, Sequence

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QThread, Signal, Slot
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget

from workbench.engine.trainer import LiveSettings
from workbench.spec import ExperimentSpec

from workbench.pace import Pace

from .frame_pacer import GUI_BUDGET, MAX_FRAME_RATE, FramePacer, GcGuard, frame_budget
from .worker import TrainingWorker

#: how long closing, New or Open wait for a run to stop before leaving it to finish alone
SHUTDOWN_TIMEOUT_MS = 2000
#: a run that does not finish within this after Save-on-close shows a progress dialog
FINISH_NOTICE_MS = 300

_STRAGGLERS: list = []  # (worker, thread) pairs that did not stop in time: never destroyed while running


def wait_for_stragglers() -> None:
    """Join every run that did not stop in time (called when the application exits)."""
    for worker, thread in list(_STRAGGLERS):
        worker.stop()
        thread.quit()
        thread.wait()
    _STRAGGLERS.clear()


class RunController(QObject):
    """Owns the run in progress (see the module docstring).

    ``views`` are the widgets whose paint ends a frame, ``exposed()`` says whether the
    window is on screen and ``frame_rate(events)`` the most frames a second those events
    are worth (see FramePacer).  Signals: ``started``, ``frame_events(list)``
    and ``frame_boundary(object)`` (a paced frame to draw), ``pause_changed(bool)``,
    ``finished(list)`` (one RunResult per spec started), ``failed(str)``,
    ``live_refused(str)`` (a live change the run did not take, and why)."""

    started = Signal()
    frame_events = Signal(list)
    frame_boundary = Signal(object)
    inside_ready = Signal(object)
    pause_changed = Signal(bool)
    finished = Signal(object)
    failed = Signal(str)
    live_refused = Signal(str)

    def __init__(self, parent: QWidget, views: Sequence, exposed: Callable[[], bool],
                 frame_rate: Callable[[list], float] = lambda events: MAX_FRAME_RATE):
        super().__init__(parent)
        self._parent = parent
        #: how fast runs are shown (see workbench.pace); the worker of a run shares it
        self.pace = Pace(None)
        self.pacer = FramePacer(self, views, self.frame_events.emit, self.frame_boundary.emit, exposed, frame_rate,
                                budget=lambda: frame_budget(self.pace, len(self._specs)))
        self._gc_guard = GcGuard(self)
        self._worker: Optional[TrainingWorker] = None
        self._thread: Optional[QThread] = None
        self._specs: tuple = ()
        self._paused = False
        self._t_start = 0.0
        self._t_paused = 0.0
        self._t_pause_began: Optional[float] = None

    # -- state -------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._worker is not None

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def worker(self) -> Optional[TrainingWorker]:
        return self._worker

    @property
    def spec(self) -> Optional[ExperimentSpec]:
        """The spec the current (or last) run's first member started with."""
        return self._specs[0] if self._specs else None

    @property
    def specs(self) -> tuple:
        """The specs the current (or last) run started with, one per member."""
        return self._specs

    @property
    def frame_stats(self) -> dict:
        """Frames drawn during runs, the seconds the worker was held for them, the longest hold."""
        return self.pacer.stats

    def active_seconds(self) -> float:
        """Seconds the current run has trained, pauses excluded."""
        now = time.perf_counter()
        paused = self._t_paused + ((now - self._t_pause_began) if self._t_pause_began is not None else 0.0)
        return max(0.0, now - self._t_start - paused)

    # -- control -----------------------------------------------------------------------
    def start(self, specs, dataset, boundary=None, *, paused: bool = False, run_ids: Sequence = (),
              snapshots=None, inside_grid=None, inside: bool = False) -> None:
        """Train ``specs`` (one spec, or several: a lockstep group when they can be one) on
        ``dataset`` in a new thread.  ``boundary``: the worker-thread callable that computes
        the boundary image of the first member's network; ``snapshots`` (a
        :class:`~workbench.snapshots.SnapshotStore`) keeps each member's weights per epoch
        under its id in ``run_ids``; ``inside``: compute what the Inside dock draws (its maps
        on ``inside_grid``)."""
        specs = tuple(specs) if isinstance(specs, (list, tuple)) else (specs,)
        self.pace.reset()
        worker = TrainingWorker(specs, dataset, boundary=boundary, start_paused=paused, gui_budget=GUI_BUDGET,
                                run_ids=run_ids, snapshots=snapshots, pace=self.pace, inside_grid=inside_grid)
        worker.set_inside(inside)
        thread = QThread()
        thread.setObjectName("trainingThread")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # quit the thread's event loop as soon as run() is over (direct: called in the worker thread)
        worker.finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.failed.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.events_ready.connect(self._on_events)
        worker.boundary_ready.connect(self._on_boundary)
        worker.inside_ready.connect(self.inside_ready)
        worker.pause_changed.connect(self._on_pause_changed)
        worker.finished.connect(self._on_finished)
        worker.failed.connect(self._on_failed)
        self._worker, self._thread, self._specs = worker, thread, specs
        self.pacer.attach(worker.gate)
        self._gc_guard.set_running(True)
        self._paused = paused
        self._t_start = time.perf_counter()
        self._t_paused = 0.0
        self._t_pause_began = self._t_start if paused else None
        thread.start()
        self.started.emit()

    def set_paused(self, paused: bool) -> None:
        if self._worker is None:
            return
        if paused:
            self._worker.pause()
        else:
            self._worker.resume()

    def step(self) -> None:
        """Train one more epoch, then pause."""
        if self._worker is not None:
            self._worker.step_epoch()

    def stop(self) -> None:
        """End the run after the current batch; its result comes through ``finished``."""
        if self._worker is not None:
            self._worker.stop()

    def set_inside(self, on: bool) -> None:
        """The Inside dock was shown or hidden: the worker computes its pictures or not."""
        if self._worker is not None:
            self._worker.set_inside(on)

    def set_live(self, changes: dict) -> None:
        """Hand live settings to every member of the run (validated once; applied from
        the next epoch); a refusal is reported (``live_refused``), never swallowed."""
        if self._worker is None:
            self.live_refused.emit("no run is training")
            return
        try:
            LiveSettings.set_all(self._worker.lives, **changes)
        except ValueError as exc:
            self.live_refused.emit(str(exc))

    def finish_now(self) -> Optional[list]:
        """Stop the run and wait for its result (Save while closing): a batch that takes
        long shows a progress dialog instead of freezing the window."""
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return None
        result: list = []
        worker.finished.connect(result.append, Qt.ConnectionType.DirectConnection)
        worker.stop()
        if not thread.wait(FINISH_NOTICE_MS):
            dialog = QProgressDialog("Finishing the current batch…", "", 0, 0, self._parent)
            dialog.setCancelButton(None)
            dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
            dialog.setMinimumDuration(0)
            loop = QEventLoop()
            thread.finished.connect(loop.quit)
            dialog.show()
            if thread.isRunning():
                loop.exec()
            dialog.close()
            thread.wait()
        QApplication.sendPostedEvents(self, QEvent.Type.MetaCall)  # deliver finished/failed now
        return result[0] if result else None

    def shutdown(self, timeout_ms: int = SHUTDOWN_TIMEOUT_MS) -> bool:
        """Stop a live run without waiting for its result (close, New, Open).  Returns True
        if the thread ended within ``timeout_ms``; otherwise it finishes alone."""
        worker, thread = self._worker, self._thread
        if worker is None or thread is None:
            return True
        for sig, slot in ((worker.events_ready, self._on_events), (worker.boundary_ready, self._on_boundary),
                          (worker.inside_ready, self.inside_ready),
                          (worker.pause_changed, self._on_pause_changed), (worker.finished, self._on_finished),
                          (worker.failed, self._on_failed)):
            try:
                sig.disconnect(slot)
            except (RuntimeError, TypeError):
                pass
        self.pacer.reset()
        worker.stop()
        self._gc_guard.set_running(False)
        thread.quit()
        ok = thread.wait(timeout_ms)
        if not ok:  # never destroy a running QThread: keep it until it ends
            pair = (worker, thread)
            _STRAGGLERS.append(pair)
            thread.finished.connect(lambda: _STRAGGLERS.remove(pair) if pair in _STRAGGLERS else None)
        self._forget()
        return ok

    # -- the worker's reports (queued to this thread) -------------------------------------
    @Slot(list)
    def _on_events(self, events: list) -> None:
        self.pacer.add_events(events)

    @Slot(object)
    def _on_boundary(self, payload) -> None:
        if payload is not None:
            self.pacer.set_boundary(payload)

    @Slot(bool)
    def _on_pause_changed(self, paused: bool) -> None:
        now = time.perf_counter()
        if paused and self._t_pause_began is None:
            self._t_pause_began = now
        elif not paused and self._t_pause_began is not None:
            self._t_paused += now - self._t_pause_began
            self._t_pause_began = None
        self._paused = paused
        if paused:  # everything up to the pause point is on screen while paused
            self.pacer.flush()
        self.pause_changed.emit(paused)

    @Slot(object)
    def _on_finished(self, results: list) -> None:
        self._end_thread()
        self.finished.emit(results)

    @Slot(str)
    def _on_failed(self, message: str) -> None:
        self._end_thread()
        self.failed.emit(message)

    def _end_thread(self) -> None:
        thread = self._thread
        if thread is not None:
            thread.quit()
            thread.wait()
        self.pacer.detach()  # shows what is queued
        self._gc_guard.set_running(False)
        self._forget()

    def _forget(self) -> None:
        self._worker = None
        self._thread = None
        self._paused = False
        self._t_pause_began = None
