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
* live settings go straight to the members' channels, :attr:`lives`
  (:meth:`LiveSettings.set_all <workbench.engine.trainer.LiveSettings.set_all>`:
  thread-safe, validated there, a bad value raises at once), which the trainer applies
  at the start of the next epoch;
* between events the stop and pause flags are checked: pause blocks on a
  ``threading.Event`` (no busy loop); stop ends the iteration (the generator is
  closed) and the partial result is still reported through ``finished``.

Signals carry copies (frozen events, fresh arrays, a frozen ``RunResult``), never live
engine arrays.  The control methods (:meth:`stop`, :meth:`pause`, :meth:`resume`,
:meth:`step_epoch`) are plain thread-safe methods meant to be called
*directly* from the GUI thread (not through queued signals: the worker thread is busy
in :meth:`run` and has no free event loop).
"""

from __future__ import annotations

import dataclasses
import threading
import time
import traceback
from typing import Any, Callable, Optional, Sequence

import numpy as np
from PySide6.QtCore import QObject, Signal, Slot

from workbench.engine.events import BatchEnd, EarlyStop, EpochEnd
from workbench.engine.trainer import LiveSettings
from workbench.pace import Pace

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
        the list of :class:`~workbench.spec.RunResult`, one per spec (also after
        :meth:`stop`: status ``stopped``).
    ``failed(str)``
        an unexpected exception (a message with the exception type).

    Exactly one of ``finished``/``failed`` is emitted, as the last signal.
    """

    events_ready = Signal(list)
    boundary_ready = Signal(object)
    inside_ready = Signal(object)
    pause_changed = Signal(bool)
    finished = Signal(object)
    failed = Signal(str)

    def __init__(
        self,
        specs,
        dataset,
        *,
        boundary: Optional[BoundaryFn] = None,
        shown: int = 0,
        snapshots=None,
        run_ids: Sequence = (),
        pace: Optional[Pace] = None,
        emit_interval: float = EMIT_INTERVAL,
        boundary_interval: float = 0.25,
        gui_budget: Optional[float] = None,
        max_hold: float = 1.0,
        max_hold_frame: float = 0.25,
        start_paused: bool = False,
        build=None,
        recorder=None,
        inside_grid=None,
    ) -> None:
        super().__init__()
        self._specs = list(specs) if isinstance(specs, (list, tuple)) else [specs]
        self._dataset = dataset
        self._boundary = boundary
        self._shown = int(shown)
        self._snapshots = snapshots
        self._run_ids = list(run_ids) or list(range(len(self._specs)))
        #: the speed limit (None: as fast as it trains); set_rate() on it from any thread
        self.pace = pace if pace is not None else Pace(None)
        #: where this run meets the GUI's frames (see workbench.ui.frame_pacer)
        self.gate = FrameGate(emit_interval, gui_budget, max_hold, max_hold_frame)
        self.boundary_interval = float(boundary_interval)
        self._build = build
        self._recorder_cls = recorder
        #: the Inside dock is shown: diagram, layer health and errors are computed (see set_inside)
        self._inside = threading.Event()
        self._inside_grid = inside_grid
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._go = threading.Event()  # set = running, clear = paused
        if not start_paused:
            self._go.set()
        self._step_pending = False
        #: each member's live settings: the one channel for changes mid-run (LiveSettings.set_all)
        self.lives = [LiveSettings() for _ in self._specs]
        self.emissions = 0  # events_ready signals emitted (for tests / benchmarks)

    @property
    def held_seconds(self) -> float:
        """Total time the worker waited for the GUI's frames (benchmarks)."""
        return self.gate.held_seconds

    # -- control (any thread) -------------------------------------------------
    def stop(self) -> None:
        """Ask the run to end after the current event; wakes a paused or pacing worker."""
        self._stop.set()
        self._go.set()
        self.gate.open()
        self.pace.interrupt()

    def pause(self) -> None:
        """Pause before the next event (between batches); cuts a pace wait short."""
        with self._lock:
            self._step_pending = False
        self._go.clear()
        self.pace.interrupt()

    def resume(self) -> None:
        with self._lock:
            self._step_pending = False
        self.pace.reset()
        self._go.set()

    def step_epoch(self) -> None:
        """Run until the next epoch ends, then pause (pauses a running worker too)."""
        with self._lock:
            self._step_pending = True
        self.pace.reset()
        self._go.set()

    def set_inside(self, on: bool) -> None:
        """Compute what the Inside dock draws (the dock is shown) or not (any thread)."""
        if on:
            self._inside.set()
        else:
            self._inside.clear()

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

    def _build_members(self) -> "_Members":
        """The engine run(s) of the specs: one solo run, one lockstep group, or -- when
        the specs cannot be one group -- solo runs one after the other."""
        from workbench.build import build_group, build_run, lockstep_plan

        specs, dataset = self._specs, self._dataset
        if self._build is not None or len(specs) == 1:  # (tests' stand-in runs: _build)
            run = build_run(specs[0], dataset, live=self.lives[0]) if self._build is None else \
                self._build(specs[0], dataset)
            return _Members(run.events(), lambda m: run.network.params, lambda m: run.network,
                            [getattr(run, "stopping", None)], False, getattr(run, "data", None))
        if lockstep_plan(specs, dataset)[0]:
            group = build_group(specs, dataset, lives=self.lives)
            return _Members(group.events(), group.member_params, group.member_network, group.stoppings, False,
                            group.data, copies=True)
        runs = [build_run(spec, dataset, live=live) for spec, live in zip(specs, self.lives)]
        return _Members(_one_after_another(runs), lambda m: runs[m].network.params, lambda m: runs[m].network,
                        [run.stopping for run in runs], True, runs[0].data)

    def _run(self):
        from workbench.history import Recorder as DefaultRecorder

        members = self._build_members()
        events, params_of, network_of, sequential = members.events, members.params, members.network, \
            members.sequential
        Recorder = self._recorder_cls or DefaultRecorder  # noqa: N806
        recorders = [Recorder(spec) for spec in self._specs]
        shown = self._shown
        store, ids = self._snapshots, self._run_ids
        protected = [0] * len(self._specs)  # each member's epoch last protected in the store
        if store is not None:
            for m, run_id in enumerate(ids):
                store.add(run_id, 0, params_of(m))
        inside = self._live_diagnostics(members)
        if inside is not None and self._inside.is_set():
            self._send_inside(inside.start())
        pending: list = []
        clock = time.perf_counter
        gate, pace = self.gate, self.pace
        gate.sent(clock())
        last_boundary = -1e9  # first epoch's boundary is sent at once
        boundary_dirty = False
        paced_epoch, paced_member = 1, 0  # the first epoch starts at once

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
                payload = self._boundary(network_of(shown))
            except Exception:  # a view helper must never kill the run
                return
            if payload is not None:
                self.boundary_ready.emit(_copy_payload(payload))

        has_boundary = self._boundary is not None
        go, stop = self._go, self._stop
        try:
            for event in events:
                kind = type(event)
                member = event.member
                epoch = getattr(event, "epoch", 0)
                if pace.rate is not None and (epoch > paced_epoch or (sequential and member != paced_member)):
                    # a new epoch's first event: what came before is shown, then the pace waits
                    if has_boundary and boundary_dirty:
                        send_boundary()
                    flush()
                    pace.before_epoch()
                    paced_epoch, paced_member = epoch, member
                recorders[member].add(event)
                pending.append(event)
                now = clock()
                epoch_done = kind is EpochEnd
                if (inside is not None and (kind is BatchEnd or epoch_done) and member == shown
                        and event.phase == "train" and self._inside.is_set()):
                    if epoch_done:
                        self._send_inside(inside.epoch_done(event.epoch))
                    else:
                        inside.step_done()
                if epoch_done:
                    if member == shown and has_boundary:
                        boundary_dirty = True
                    if store is not None and event.phase == "train":
                        # the best epoch so far (up to the last one) is kept before the
                        # snapshot of this one may thin it away
                        best = members.best_epoch(member)
                        if best and protected[member] != best:
                            store.protect(ids[member], best)
                            protected[member] = best
                        store.add(ids[member], event.epoch, params_of(member))
                elif kind is EarlyStop and store is not None and protected[member] != event.best_epoch:
                    store.protect(ids[member], event.best_epoch)
                    protected[member] = event.best_epoch
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
                    if epoch_done and inside is not None and member == shown and self._inside.is_set():
                        # paused at an epoch's end (a step): the diagram shows this epoch
                        self._send_inside(inside.epoch_done(epoch, force=True, only_new=True))
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
            close = getattr(events, "close", None)
            if close is not None:
                close()
        flush()
        if self._boundary is not None and boundary_dirty:
            send_boundary()
        if inside is not None and self._inside.is_set():
            early = recorders[shown].early
            last = recorders[shown].last_epoch
            self._send_inside(inside.finish(early.best_epoch if early is not None and early.restored else last))
            self._send_inside(_errors_of(network_of(shown), self._dataset))
        return [rec.result(weights=params_of(m)) for m, rec in enumerate(recorders)]

    def _live_diagnostics(self, members: "_Members"):
        """The Inside dock's live source for the shown member (None for tests' stand-ins)."""
        if self._build is not None or members.data is None:
            return None
        from .inside.live import LiveDiagnostics

        shown = self._shown
        seed = self._specs[shown].training.seed
        if members.copies:
            return LiveDiagnostics(None, members.data, self._inside_grid, seed, copy=lambda: members.network(shown))
        return LiveDiagnostics(members.network(shown), members.data, self._inside_grid, seed)

    def _send_inside(self, payloads) -> None:
        for payload in payloads:
            self.inside_ready.emit(payload)


@dataclasses.dataclass
class _Members:
    """What the worker drives: the events (each with its ``member``), member m's
    parameters and network, its early stopping (None: none), and whether the members
    train one after the other."""

    events: Any
    params: Callable
    network: Callable
    stoppings: list
    sequential: bool
    data: Any = None  # the TrainData (the evaluation batch of the layer health)
    copies: bool = False  # network(m) is a fresh copy (a lockstep member)

    def best_epoch(self, member: int) -> int:
        """The best epoch early stopping has seen so far (0: none yet)."""
        stopping = self.stoppings[member] if member < len(self.stoppings) else None
        return int(getattr(stopping, "best_epoch", 0) or 0)


def _one_after_another(runs):
    """The events of solo ``runs`` one run after the other, each event's ``member`` its
    run's index (runs that cannot train in lockstep)."""
    for m, run in enumerate(runs):
        events = run.events()
        try:
            for event in events:
                yield dataclasses.replace(event, member=m) if m else event
        finally:
            events.close()


def _errors_of(network, dataset) -> list:
    """The Errors tab's numbers for the final (restored) network: ``[{"errors": ...}]``."""
    from .inside.errors_view import errors_for

    try:
        return [{"errors": errors_for(network, dataset)}]
    except Exception:  # noqa: BLE001 - a view helper must never fail the run
        return []
