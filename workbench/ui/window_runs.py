"""The window's runs: Run, Pause, Step, Stop, Repeat x N, and what follows a run.

:class:`RunActions` is a part of :class:`~workbench.ui.main_window.MainWindow` (a mixin:
the actions table names these methods on the window).  It orchestrates: the session
keeps the runs (:meth:`Session.begin_runs`, :meth:`Session.finish_runs`), the run
controller trains them, the run view and the comparison draw them, the timeline and the
Inside dock follow them.
"""

from __future__ import annotations

import traceback
from typing import Optional

from PySide6.QtCore import QSignalBlocker

from workbench.build import check_fits, count_parameters, task_of
from workbench.changes import describe_change
from workbench.engine.events import BatchEnd
from workbench.spec import SpecError, ViewHints

from . import boundary_source
from .frame_pacer import BATCH_FRAME_RATE, MAX_FRAME_RATE, QUIET_FRAME_RATE
from .runs_panel import MAX_SEEDS


class RunActions:
    """Run-related methods of the main window (see the module docstring)."""

    def start_run(self, *, paused: bool = False, seeds=None) -> bool:
        """Run (F5): start a new run of the current spec (or resume a paused one);
        ``seeds``: train one run per seed, as a group (Repeat × N)."""
        if self.running:
            if self.paused and not paused:
                self.set_paused(False)
            return False
        reason = self.commit_typed()
        if reason:
            self._status(f"Cannot run: {reason}", 15000)
            return False
        if self.dataset is None:
            self._status(f"Cannot run: {self.session.data_error or 'No data set loaded.'}", 10000)
            return False
        spec = self.spec
        try:
            check_fits(spec, self.dataset)
        except SpecError as exc:
            self._status(f"Cannot run: {exc.first_line}", 15000)
            section = exc.errors[0][0].split(".")[0]
            if section in self.editors:
                self.editors[section].show_error(f"Cannot run: {exc.first_line}")
                self._bring_to_front(section)
            return False
        self._starting = True  # the new run is drawn below, not as "another run shown"
        try:
            runs, evicted = self.session.begin_runs(spec, seeds)
        except ValueError as exc:
            self._status(f"Cannot run: {exc}", 15000)
            return False
        finally:
            self._starting = False
        self._live_runs = runs
        try:
            self.comparison.begin(runs)
            self.run_view.begin(runs[0].spec, "accuracy" if self.dataset.task == "classification" else "r2",
                                self.actions["batches"].isChecked())
            self._show_points(keep=True)
            self.timeline.begin_live(runs[0].id)
            self.inside.begin(runs[0].spec)
            self.run_controller.start([r.spec for r in runs], self.dataset,
                                      boundary_source.make_boundary_fn(self.dataset), paused=paused,
                                      run_ids=[r.id for r in runs], snapshots=self.session.snapshots,
                                      inside_grid=self.inside.grid(), inside=self.panels["inside"].isVisible())
        except Exception as exc:  # a view that cannot show the run: the run fails, never stays "running"
            traceback.print_exc()
            self._on_failed(f"could not start: {type(exc).__name__}: {exc}")
            return False
        self.runs_panel.update_buttons()
        self._show_stale()  # the curves are the docks' settings again
        for editor in self.editors.values():
            editor.set_running(True)
        with QSignalBlocker(self.act_pause):
            self.act_pause.setChecked(paused)
        self._update_actions()
        if evicted:  # said after the run started, so the next message does not hide it
            self._status(f"Training — removed the oldest runs to make room: {', '.join(evicted)}", 10000)
        else:
            # short enough for a 1280-pixel status bar, also in presentation mode
            self._status("Training — η, L1, L2 and weight decay stay live; the rest is locked", 8000)
        self.run_started.emit()
        return True

    def repeat_run(self, n: int) -> bool:
        """Repeat × N: train the current settings with seeds s, s+1, …, s+N−1 (s: the
        Training dock's seed) as one group; N from 2 to the Runs dock's MAX_SEEDS (else
        nothing starts and the status bar says so)."""
        if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= MAX_SEEDS:
            self._status(f"Repeat × N trains 2 to {MAX_SEEDS} seeds, not {n!r}", 8000)
            return False
        seed = self.spec.training.seed
        return self.start_run(seeds=list(range(seed, seed + n)))

    def repeat_default(self) -> bool:
        """Repeat × N with the Runs dock's N."""
        return self.repeat_run(self.runs_panel.seeds_spin.value())

    def replay(self) -> None:
        """Replay the shown run (Ctrl+P; again: stop)."""
        self.timeline.toggle_replay()

    def _parameters_of(self, run) -> Optional[int]:
        """A run's parameter count: from its saved weights, else from the data set."""
        if run.result is not None and run.result.weights is not None:
            return run.result.weights.n_params
        ds = self.dataset
        if ds is None or run.spec.data != self.spec.data:
            return None
        return count_parameters(run.spec, int(ds.X_train.shape[1]), task_of(ds)[1])

    def set_paused(self, paused: bool) -> None:
        """Pause/Resume (F6)."""
        self.run_controller.set_paused(paused)
        with QSignalBlocker(self.act_pause):
            self.act_pause.setChecked(paused and self.running)

    def step_epoch(self) -> None:
        """Step one epoch (F10): train one more epoch, then pause (starts a paused run)."""
        if not self.running and not self.start_run(paused=True):
            return
        reason = self.commit_typed()  # a typed η or L1/L2 counts from this epoch on
        if reason:
            self._status(f"Cannot step: {reason}", 15000)
            return
        self.run_controller.step()
        with QSignalBlocker(self.act_pause):
            self.act_pause.setChecked(True)

    def stop_run(self) -> None:
        """Stop (Esc): end the run after the current batch; the results so far are kept."""
        if self.running:
            self.run_controller.stop()
            self._status("Stopping…", 3000)

    def reset_curves(self) -> None:
        """Clear the curves: no run is shown (the runs stay in the Runs dock)."""
        if self.running:
            return
        self.session.select_run(None)
        self.curves.reset()
        self._show_plan()
        self._show_points(keep=True)
        self.run_view.clear(self.spec.training.epochs)
        self._update_actions()

    def shutdown_worker(self, timeout_ms: Optional[int] = None) -> bool:
        """Stop a live run at once (close, New, Open); True if its thread ended in time."""
        ok = self.run_controller.shutdown() if timeout_ms is None else self.run_controller.shutdown(timeout_ms)
        self.curves.set_live(False)
        self._run_over()
        return ok

    def _on_frame_events(self, events: list) -> None:
        if self._closing:
            return
        if self.comparison.several:
            events = self.comparison.route(events)
        if self.run_view.show(events, self.run_controller.active_seconds()):
            self.timeline.live_epochs(self.run_view.epochs_done)
            self.epochs_shown.emit(self.run_view.epochs_done)

    def _on_frame_boundary(self, payload) -> None:
        if not self._closing and self.timeline.following:
            boundary_source.show_payload(self.boundary, payload)
            self.boundary_shown.emit()

    def _frame_rate(self, events: list) -> float:
        """The most frames a second ``events`` are worth: batch losses alone change only the
        clock while their curve is hidden, and only that curve while it is shown (see
        frame_pacer.QUIET_FRAME_RATE and BATCH_FRAME_RATE); anything else, every frame."""
        if not all(type(ev) is BatchEnd for ev in events):
            return MAX_FRAME_RATE
        return BATCH_FRAME_RATE if self.act_batches.isChecked() else QUIET_FRAME_RATE

    def _is_exposed(self) -> bool:
        window = self.windowHandle()
        return window is not None and window.isExposed()

    def _on_pause_changed(self, paused: bool) -> None:
        if self._closing:
            return
        with QSignalBlocker(self.act_pause):
            self.act_pause.setChecked(paused)
        if paused:
            self._status(f"Paused after epoch {self.run_view.epochs_done} — F6 resumes, F10 steps one epoch", 0)
        else:
            self.statusBar().clearMessage()
        self._update_actions()
        self.pause_changed.emit(paused)

    def _on_finished(self, results: list) -> None:
        if self._closing:
            return
        self.curves.set_live(False)
        runs, self._live_runs = self._live_runs, []
        self.comparison.end()
        self.session.finish_runs([(run.id, result) for run, result in zip(runs, results)])
        self.run_view.end(results[0], self.run_controller.active_seconds())
        self._run_over()
        self.timeline.end_live()
        self.run_finished.emit(results[0])

    def _on_failed(self, message: str) -> None:
        if self._closing:
            return
        self.curves.set_live(False)
        runs, self._live_runs = self._live_runs, []
        self.comparison.end()
        self.session.finish_runs([(run.id, None) for run in runs])
        self.run_view.fail(message)
        self._run_over()
        self.timeline.end_live()
        self.run_failed.emit(message)

    def _on_current_changed(self) -> None:
        """Another run is shown (not while one trains or starts: the live run stays on
        the curves)."""
        if self.running or self._closing or self._starting:
            return
        run = self.session.current_run
        self.curves.reset()
        self.run_view.clear(self.spec.training.epochs)
        self._show_points(keep=True)
        if run is not None and run.result is not None:
            self.run_view.load(run.result, run.spec)
            if run.result.weights is not None and run.spec.data == self.spec.data:
                self._show_boundary_from_weights(run)
        else:
            self._show_plan()
        self.timeline.show_run()
        self.inside.set_epoch(run, None)
        self._show_stale()
        self._update_actions()

    def _show_stale(self) -> None:
        """Say when the shown run's settings are not the docks' (until the next run)."""
        run = self.session.current_run
        differs = "" if run is None or self.running else describe_change(run.spec, self.spec)
        self.stale_note.setText(f"<i>The curves show {run.name}; the docks differ: {differs} — Run (F5) trains "
                                "them.</i>" if differs else "")
        self.stale_note.setVisible(bool(differs))

    def show_inside(self) -> None:
        """Look inside (Ctrl+I): the Inside dock."""
        self.panels.show_bottom("inside")

    def show_sweep(self) -> None:
        """Sweep (Ctrl+Shift+W): the Sweep dock."""
        self.panels.show_bottom("sweep")

    def open_playground(self):
        """See the optimizers (Ctrl+Shift+O): the optimizer playground window."""
        from .playground import open_playground

        return open_playground(self)

    def find_learning_rate(self):
        """Find a learning rate (Ctrl+Shift+F): the range test on the current settings; its
        suggestion goes into the docks as an undo step."""
        from .lr_range import LrRangeDialog

        if self.dataset is None:
            return None
        dialog = self.findChild(LrRangeDialog)
        if dialog is None:
            dialog = LrRangeDialog(self, self.spec, self.dataset,
                                   apply=lambda spec: self.set_spec(spec, "learning rate from the range test"))
            self.spec_changed.connect(lambda spec: dialog.set_spec(spec, self.dataset) if dialog.isVisible() else None)
        else:
            dialog.set_spec(self.spec, self.dataset)
        dialog.show()
        return dialog

    def _sweep_started(self) -> None:
        """A sweep started: the file keeps it."""
        self.session.sweep = self.sweep_panel.sweep()
        self.session.mark_changed()

    def _inside_at_epoch(self, k: int) -> None:
        """The timeline's epoch k in the Inside dock (the network from that snapshot); at
        the newest epoch of a live run, the worker's pictures again."""
        run = self.session.runs.get(self.timeline.run_id())
        self.inside.set_epoch(run, None if self.timeline.following else k)

    def _open_trial(self, saved) -> None:
        """A sweep trial (or a point's seeds) becomes runs in the Runs dock, shown."""
        try:
            added = self.session.add_saved(saved if isinstance(saved, tuple) else (saved,))
        except ValueError as exc:
            self._status(f"Cannot open the trial: {exc}", 10000)
            return
        self.session.select_run(added[0].id)
        self.panels.show_bottom("runs")

    def _on_pace_changed(self) -> None:
        """The speed: the worker waits between epochs (a replay follows it); the file keeps it."""
        rate = self.timeline.pace.rate()
        self.run_controller.pace.set_rate(rate)
        self.timeline.set_rate(rate)
        self.session.view = ViewHints(pace=rate)

    def change_pace(self, direction: int) -> None:
        """Slower (Ctrl+[) or faster (Ctrl+])."""
        self.timeline.pace.step(direction)

    def slower(self) -> None:
        self.change_pace(-1)

    def faster(self) -> None:
        self.change_pace(+1)

    def _run_over(self) -> None:
        for editor in self.editors.values():
            editor.set_running(False)
        self.runs_panel.update_buttons()
        with QSignalBlocker(self.act_pause):
            self.act_pause.setChecked(False)
        self._update_actions()
