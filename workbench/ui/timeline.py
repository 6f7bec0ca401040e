"""The timeline: a slider over the shown run's epochs, Replay, and the speed control.

Moving the slider to epoch k puts a cursor on the curves and shows the decision boundary
(or fitted curve) of the network at epoch k, rebuilt from the weight snapshot the worker
kept (:class:`~workbench.snapshots.SnapshotStore`: every epoch while the budget allows,
thinned evenly beyond it, the best epoch always kept; the nearest snapshot at or before k
is used and the label says which).  While a run trains the slider follows the newest
epoch until it is moved back; the live boundary then waits until it is moved to the end.
Replay plays a finished run back at the chosen pace (10 epochs/s at full speed),
curves revealed epoch by epoch and the boundary following.

The speed (:data:`workbench.spec.PACES`) throttles the training worker between epochs
(:class:`~workbench.pace.Pace`): nothing about the numbers changes.
"""

from __future__ import annotations

from typing import Callable, Optional

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget

from workbench.spec import PACES

from . import boundary_source

#: epochs per second of a replay at "full speed"
REPLAY_RATE = 10.0


def pace_label(rate: Optional[float]) -> str:
    return "Full speed" if rate is None else f"{rate:g} epoch{'s' if rate != 1 else ''}/s"


class PaceCombo(QComboBox):
    """Full speed, or one of :data:`PACES` epochs per second."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("paceCombo")
        self.addItem(pace_label(None), None)
        for rate in PACES:
            self.addItem(pace_label(rate), rate)
        self.setToolTip("Speed: train as fast as possible, or at most 1 to 100 epochs a second so learning can be "
                        "watched\n(it only waits between epochs: the numbers are the same).  Ctrl+[ slower, "
                        "Ctrl+] faster")

    def rate(self) -> Optional[float]:
        return self.currentData()

    def set_rate(self, rate: Optional[float]) -> None:
        index = self.findData(rate)
        self.setCurrentIndex(index if index >= 0 else 0)

    def step(self, direction: int) -> None:
        """One step slower (-1) or faster (+1); full speed is the fastest."""
        index = self.currentIndex()
        order = list(range(1, self.count())) + [0]  # 1 epoch/s ... 100 epochs/s, full speed
        pos = order.index(index) + direction
        self.setCurrentIndex(order[max(0, min(len(order) - 1, pos))])


class Timeline(QWidget):
    """The slider, its label and Replay (see the module docstring).

    ``session`` gives the shown run and its weight snapshots, ``dataset()`` the data set
    shown, ``rate()`` the speed; ``curves`` and ``boundary`` are the views it draws on."""

    epoch_shown = Signal(int)

    def __init__(self, session, curves, boundary, dataset: Callable, rate: Callable, parent=None):
        super().__init__(parent)
        self.setObjectName("timeline")
        self.session = session
        self.curves = curves
        self.boundary = boundary
        self._dataset = dataset
        self._rate = rate
        self._boundary_fn = None
        self._fn_for = None
        self._live_run: Optional[int] = None
        self._replaying = False
        self.replay_button = QToolButton(self)
        self.replay_button.setObjectName("replayButton")
        self.replay_button.setAutoRaise(True)
        self.replay_button.clicked.connect(self.toggle_replay)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setObjectName("timelineSlider")
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Move through the epochs of the shown run: the cursor on the curves and the "
                               "boundary at that epoch (←/→ step, Home/End)")
        self.slider.valueChanged.connect(self._on_value)
        self.label = QLabel(self)
        self.label.setObjectName("timelineLabel")
        # the slider keeps room to be dragged on a laptop screen; the label takes what is left
        self.slider.setMinimumWidth(self.fontMetrics().horizontalAdvance("epoch 1000 / 1000"))
        self.label.setMinimumWidth(self.fontMetrics().horizontalAdvance("epoch 1000 / 1000"))
        self.pace = PaceCombo(self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.addWidget(self.replay_button)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.label)
        layout.addSpacing(self.fontMetrics().horizontalAdvance("  "))  # "… / 427" and "Speed" apart
        layout.addWidget(QLabel("Speed", self))
        layout.addWidget(self.pace)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._replay_step)
        self._set_replay_icon()
        self.show_run()

    # -- what it covers --------------------------------------------------------------------
    @property
    def following(self) -> bool:
        """The slider is at the newest epoch (a live run's boundary is drawn as it comes)."""
        return self.slider.value() >= self.slider.maximum()

    def show_run(self) -> None:
        """The shown run changed: the slider spans its epochs, at the end."""
        self.stop_replay()
        run = self.session.current_run
        n = len(run.result.history.get("epoch", ())) if run is not None and run.result is not None else 0
        self._set_range(n)
        self.slider.setEnabled(n > 0)
        self.replay_button.setEnabled(n > 0)
        self.curves.set_cursor(None)
        self._update_label(n)

    def begin_live(self, run_id: int) -> None:
        """A run starts: the slider follows its epochs."""
        self.stop_replay()
        self._live_run = run_id
        self._set_range(0)
        self.slider.setEnabled(False)
        self.replay_button.setEnabled(False)
        self.curves.set_cursor(None)
        self._update_label(0)

    def live_epochs(self, n: int) -> None:
        """The live run has ``n`` epochs: the range grows; a following slider moves along."""
        follow, k = self.following, self.slider.value()
        self._set_range(n, None if follow else k)
        self.slider.setEnabled(n > 0)
        if follow:
            self._set_value(n)
        else:
            self._update_label(k)  # the cursor, read-out and boundary stay at epoch k

    def end_live(self) -> None:
        self._live_run = None
        self.replay_button.setEnabled(self.slider.maximum() > 0)

    def _set_range(self, n: int, value: Optional[int] = None) -> None:
        """Epochs 0..``n``, the slider at ``value`` (None: at the end)."""
        self.slider.blockSignals(True)
        self.slider.setRange(0, n)
        self.slider.setValue(n if value is None else min(value, n))
        self.slider.blockSignals(False)

    def _set_value(self, k: int) -> None:
        self.slider.blockSignals(True)
        self.slider.setValue(k)
        self.slider.blockSignals(False)
        self._update_label(k)

    # -- moving ---------------------------------------------------------------------------------
    def run_id(self) -> Optional[int]:
        """The run the slider covers: the one training, else the one shown."""
        if self._live_run is not None:
            return self._live_run
        run = self.session.current_run
        return run.id if run is not None else None

    def _on_value(self, k: int) -> None:
        self.show_epoch(k)

    def show_epoch(self, k: int) -> Optional[int]:
        """Cursor and boundary at epoch ``k``; returns the snapshot's epoch used (None: none)."""
        at_end = k >= self.slider.maximum()
        self.curves.set_cursor(None if at_end and not self._replaying else max(k, 0))
        if at_end or k < 1:
            self.curves.hover.end()  # the read-out follows the newest epoch again
        else:
            self.curves.hover_at(k)  # the read-out gives the values at epoch k
        used = self._show_boundary(k)
        self._update_label(k, used)
        self.epoch_shown.emit(k)
        return used

    def _show_boundary(self, k: int) -> Optional[int]:
        run_id = self.run_id()
        ds = self._dataset()
        run = self.session.runs.get(run_id)
        if run is None or ds is None or run.spec.data != self.session.spec.data:
            return None
        found = self.session.snapshots.nearest(run_id, k)
        if found is None:
            return None
        epoch, params = found
        if self._fn_for is not ds:
            self._boundary_fn, self._fn_for = boundary_source.make_boundary_fn(ds), ds
        if self._boundary_fn is None:
            return epoch
        payload = boundary_source.payload_from_params(run.spec, ds, params, self._boundary_fn)
        if payload is not None:
            boundary_source.show_payload(self.boundary, payload)
        return epoch

    def _update_label(self, k: int, snapshot: Optional[int] = None) -> None:
        n = self.slider.maximum()
        text = f"epoch {k} / {n}"
        if snapshot is not None and snapshot != k:
            text += f" (snapshot {snapshot})"
        self.label.setText(text if n else "no epochs yet")

    # -- replay -----------------------------------------------------------------------------------
    def toggle_replay(self) -> None:
        if self._replaying:
            self.stop_replay()
        else:
            self.start_replay()

    def start_replay(self) -> bool:
        """Play the shown (finished) run back from epoch 1 at the chosen pace."""
        if self._live_run is not None or self.slider.maximum() < 1:
            return False
        self._replaying = True
        rate = self._rate() or REPLAY_RATE
        self._timer.start(max(1, int(round(1000.0 / rate))))
        self._set_value(0)
        self.curves.show_until(0)
        self._set_replay_icon()
        return True

    def stop_replay(self) -> None:
        if not self._replaying:
            return
        self._replaying = False
        self._timer.stop()
        self.curves.show_until(None)
        self._set_replay_icon()
        self.show_epoch(self.slider.value())

    def replay_step(self) -> bool:
        """One epoch further (the replay's timer calls it); False when it reached the end."""
        return self._replay_step()

    def _replay_step(self) -> bool:
        k = self.slider.value() + 1
        if k > self.slider.maximum():
            self.stop_replay()
            return False
        self._set_value(k)
        self.curves.show_until(k)
        self.show_epoch(k)
        return True

    @property
    def replaying(self) -> bool:
        return self._replaying

    def set_rate(self, rate: Optional[float]) -> None:
        """The pace changed: a replay follows it."""
        if self._replaying:
            self._timer.setInterval(max(1, int(round(1000.0 / (rate or REPLAY_RATE)))))

    def _set_replay_icon(self) -> None:
        icon = QStyle.StandardPixmap.SP_MediaPause if self._replaying else QStyle.StandardPixmap.SP_MediaPlay
        self.replay_button.setIcon(self.style().standardIcon(icon))
        self.replay_button.setText("Replay")
        self.replay_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.replay_button.setToolTip("Stop the replay" if self._replaying else
                                      "Replay the shown run at the chosen speed, the boundary included")
