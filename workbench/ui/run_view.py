"""What a run looks like: the curves, the read-out, the progress bar and the status line,
while it trains (paced frames of events), when it ends, and when a saved result is opened.

Events become markers and the early-stopping overlay through :mod:`workbench.markers`, the
translation the saved file uses too.
"""

from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtWidgets import QLabel, QProgressBar

from workbench.engine.events import BatchEnd, Diverged, EarlyStop, EpochEnd, SettingChanged
from workbench.markers import SETTING_LABELS, Translator, early_stop_summary
from workbench.runs import STATUS_TEXT
from workbench.spec import ExperimentSpec, RunResult

from .readout import ReadOut, fmt_duration

Status = Callable[[str, int], None]


class RunView:
    """Draws one run at a time on the window's ``curves``, ``readout``, ``progress``,
    ``speed`` and ``clock`` labels; ``status(text, ms)`` shows a status-bar message."""

    def __init__(self, curves, readout: ReadOut, progress: QProgressBar, speed: QLabel, clock: QLabel,
                 status: Status):
        self.curves = curves
        self.readout = readout
        self.progress = progress
        self.speed = speed
        self.clock = clock
        self.status = status
        self._spec: Optional[ExperimentSpec] = None
        self._translator = Translator()
        self.epochs_done = 0
        self.last_epoch: Optional[EpochEnd] = None
        self.last_train_epoch: Optional[EpochEnd] = None  # the training phase's last (before a follow-up)
        self.diverged_text = ""

    # -- a run -----------------------------------------------------------------------------
    def begin(self, spec: ExperimentSpec, metric_kind: str, show_batches: bool) -> None:
        """A new run of ``spec`` starts: empty curves that grow live."""
        self._spec = spec
        self._translator = Translator()
        self.epochs_done = 0
        self.last_epoch = None
        self.last_train_epoch = None
        self.diverged_text = ""
        self.curves.reset()
        self.curves.set_metric_kind(metric_kind)
        self.curves.set_show_batches(show_batches)
        self.curves.set_live(True, spec.training.epochs)
        set_progress(self.progress, 0, max(1, spec.training.epochs))
        self.readout.setText(f"<b>Epoch 0</b> / {spec.training.epochs} — starting…")

    def show(self, events: list, active_seconds: float) -> bool:
        """Draw a frame's events (in order: a frame may carry thousands); True if it
        finished an epoch."""
        last = self.last_epoch
        epochs: list[EpochEnd] = []
        batches: list[BatchEnd] = []
        translate = self._translator.marker
        for ev in events:
            kind = type(ev)
            if kind is BatchEnd:
                batches.append(ev)
                continue
            if kind is EpochEnd:
                epochs.append(ev)
                if ev.phase == "train":
                    self.epochs_done = ev.epoch
            marker = translate(ev)
            if marker is not None:
                if batches or epochs:  # what came before the marker is drawn first
                    self._add(batches, epochs)
                    batches, epochs = [], []
                self.curves.add_marker(marker.kind, marker.epoch, marker.text)
            self._note(ev)
        self._add(batches, epochs)
        if events:
            self.curves.settle()
        if self.last_epoch is not None:
            self._update_progress(active_seconds)
        return self.last_epoch is not last

    def _add(self, batches: list, epochs: list) -> None:
        if batches:
            self.curves.add_batches(batches)
        if epochs:
            self.curves.add_epochs(epochs)
            self.last_epoch = epochs[-1]
            train = [ev for ev in epochs if ev.phase == "train"]
            if train:
                self.last_train_epoch = train[-1]

    def _note(self, ev) -> None:
        """What an event says beyond its marker: the overlay, a message."""
        kind = type(ev)
        if kind is SettingChanged:
            label = SETTING_LABELS.get(ev.name, ev.name)
            self.status(f"{label} changed to {ev.new:.3g} from epoch {ev.epoch}", 5000)
        elif kind is EarlyStop:
            summary = early_stop_summary(ev, self._spec.early_stopping.patience)
            self.curves.set_early_stop(summary)
            restored = f" — weights restored from epoch {ev.best_epoch}" if ev.restored else ""
            if ev.fired:
                self.status(f"Early stopping after epoch {ev.stopped_epoch}: best {ev.monitor} "
                            f"{ev.best_value:.4g} at epoch {ev.best_epoch}{restored}", 15000)
        elif kind is Diverged:
            self.diverged_text = (f"Diverged at epoch {ev.epoch}, batch {ev.batch}: {ev.reason}. "
                                  "Try a smaller learning rate.")
            self.curves.show_message(self.diverged_text, "error")
            self.status(self.diverged_text, 0)

    def end(self, result: RunResult, active_seconds: float) -> None:
        """The run is over: the result's numbers (the restored model's, if restored)."""
        n = len(result.history.get("epoch", ()))
        es = result.early_stop
        if result.status == "diverged":
            text = self.diverged_text or result.message or "The run diverged."
            self.curves.show_message(text, "error")
            self.status(text, 0)
        elif result.status == "failed":
            self.curves.show_message(f"Training failed: {result.message}", "error")
            self.status(f"Training failed: {result.message.splitlines()[0] if result.message else ''}", 0)
        elif result.status == "stopped":
            self.status(f"Stopped after {n} epochs — the results so far are kept", 10000)
        elif result.status == "early_stopped" and es is not None:
            self.status(f"Early stopping after epoch {es.stopped_epoch}: best {es.monitor} at epoch {es.best_epoch}"
                        + (" (weights restored)" if es.restored else "") + f" — {result.wall_time:.1f} s", 15000)
        else:
            restored = f" — weights of epoch {es.best_epoch} restored" if es is not None and es.restored else ""
            self.status(f"Finished {n} epoch{'s' if n != 1 else ''} in {result.wall_time:.1f} s{restored}", 10000)
        if result.status == "early_stopped" and es is not None:
            note = f"early stop · best epoch {es.best_epoch}"
        elif result.status == "finished":
            note = "done"
        else:
            note = result.status
        total = self._spec.training.epochs if self._spec else n
        if self.last_epoch is None:  # over before its first epoch ended (diverged or stopped in epoch 1)
            self.readout.clear_values(f"<b>{note}</b> — in epoch 1, before any epoch ended")
        elif result.final_metrics and result.status in ("finished", "early_stopped", "stopped"):
            restored = es.best_epoch if es is not None and es.restored and es.best_epoch != self.epochs_done else None
            followup = self._spec.early_stopping.followup if self._spec and result.followup_history is not None else None
            self.readout.show_result(result.final_metrics, restored, self.last_train_epoch or self.last_epoch, total,
                                     note, followup=followup)
        else:
            self._show_epoch(total, note)
        set_progress(self.progress, self.epochs_done, max(1, total, self.epochs_done))
        self.clock.setText(f"took {fmt_duration(active_seconds)}")

    def fail(self, message: str) -> None:
        first = message.splitlines()[0] if message else "training failed"
        self.readout.clear_values("<b>Training failed</b> — the reason is on the plot")
        self.curves.show_message(f"Training failed: {first}", "error")
        self.status(f"Training failed: {first}", 0)

    # -- a saved result -----------------------------------------------------------------------
    def load(self, result: RunResult, spec: ExperimentSpec) -> None:
        """Draw a finished run's result (read from a file, or a run of this session shown
        again): its curves and the model it ended with, as its end showed them."""
        self._spec = spec
        try:
            self.curves.load_result(result)
        except Exception as exc:  # validated, but never let a drawing problem half-load a file
            self.curves.reset()
            self.curves.show_message(f"The saved results could not be drawn: {exc}", "error")
        n = len(result.history.get("epoch", ()))
        set_progress(self.progress, n, max(1, spec.training.epochs, n))
        note = f"{n} epoch{'s' if n != 1 else ''} · {STATUS_TEXT.get(result.status, result.status)}"
        es = result.early_stop
        if result.final_metrics and result.status in ("finished", "early_stopped", "stopped"):
            restored = es.best_epoch if es is not None and es.restored and es.best_epoch != n else None
            self.readout.show_result(result.final_metrics, restored, None, spec.training.epochs, note)
        else:
            self.readout.clear_values(f"<b>{note}</b>")
        if result.status == "diverged" and result.message:
            self.curves.show_message(result.message, "error")

    def clear(self, epochs: int) -> None:
        """No run: the ready state."""
        self.readout.clear_values()
        self.speed.setText("")
        self.clock.setText("")
        set_progress(self.progress, 0, max(1, epochs))

    # -- internals -------------------------------------------------------------------------------
    def _show_epoch(self, total: int, note: str = "") -> None:
        ev = self.last_epoch
        metric = next(((n, float(ev.metrics[n])) for n in ("val_accuracy", "train_accuracy", "val_r2", "train_r2")
                       if ev.metrics.get(n) is not None), None)
        self.readout.show_epoch(ev.epoch, total, ev, metric, ev.phase, note)

    def _update_progress(self, active: float) -> None:
        ev = self.last_epoch
        total = self._spec.training.epochs
        self._show_epoch(total)
        done = self.epochs_done
        set_progress(self.progress, min(done, total), max(1, total))
        if active > 0 and ev.samples:
            self.speed.setText(f"{ev.samples / active:,.0f} samples/s")
        remaining = (total - done) * active / done if done else float("nan")
        self.clock.setText(f"elapsed {fmt_duration(active)} · left {fmt_duration(remaining)}")


def set_progress(bar: QProgressBar, value: int, maximum: int) -> None:
    """Set a progress bar without its synchronous repaint: ``QProgressBar.setValue``
    repaints at once (~2 ms with the status bar behind it, on every frame); this only
    schedules the paint with the rest of the window's.  A value above the maximum (more
    epochs run than the spec now asks for) raises the maximum: the bar never goes blank."""
    maximum = max(maximum, value)
    if bar.maximum() == maximum and bar.value() == value:
        return
    bar.setUpdatesEnabled(False)
    try:
        if bar.maximum() != maximum or bar.minimum() != 0:
            bar.setRange(0, maximum)
        bar.setValue(value)
    finally:
        bar.setUpdatesEnabled(True)
    bar.update()
