"""The learning-rate range test as a dialog (seed 004 "choosing the learning rate").

:class:`LrRangeDialog` runs :func:`workbench.lr_find.lr_find` for the experiment's spec
and data set in a worker thread (:class:`RangeTestThread`; the GUI thread never trains):
η grows exponentially from the lower to the upper bound over the steps, the mini-batch
loss is recorded and smoothed, and the test of each seed stops early once the smoothed
loss exceeds four times its minimum.  The plot shows, against η on a log axis, each
seed's raw loss (faint), its smoothed loss, and -- when every seed is done -- the band of
the smoothed losses over the seeds (mean ± standard deviation) with the suggestions read
off its mean as labelled vertical lines (steepest, minimum/10, valley; see
:mod:`workbench.engine.lr_finder`).  Every number drawn is the engine's.

The test never touches the experiment: each seed builds its own network from the spec,
and those weights are thrown away.  "Use as η (constant)" and "Use as one-cycle peak"
call ``apply(new_spec)`` with the spec given to the dialog changed accordingly
(``optimizer.lr`` = the chosen suggestion's η and a constant schedule, or
``schedule.kind = one_cycle`` with ``optimizer.lr`` = η as its peak).

Cancel stops the test at its next step (the worker checks a flag between steps) and the
thread ends; closing the dialog cancels and waits for it.  Progress shows the steps done
of ``seeds × steps`` and an estimate of the time left.

Signals: ``test_started()``, ``progressed(int done, int total)``, ``test_finished(object)``
(the :class:`~workbench.engine.lr_finder.RangeTestResult`), ``test_failed(str)``,
``test_cancelled()``, ``applied(object)`` (the spec handed to ``apply``).

Why this module is long: it is one dialog and the thread that runs its test; most of the
length is the dialog's own work -- building the form and plot, drawing the seeds' curves
live and the band and suggestions at the end, and the start, cancel and close lifecycle of
the thread.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Callable, Optional

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QThread, Signal
from PySide6.QtWidgets import (
    QApplication,
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from workbench import spec as specmod
from workbench.engine.lr_finder import SUGGESTIONS, RangeCurve, RangeStep, RangeTestResult, Suggestion
from workbench.engine.optimizers import optimizer_class
from workbench.lr_find import MAX_SEEDS, MAX_STEPS, MIN_STEPS, lr_find
from workbench.spec import ExperimentSpec, SpecError

from . import style as st
from .playground.tool_style import FollowsApplicationStyle, palette_is_dark, style_axes, unscaled_base_font
from .plots._axis import fast_axes
from .widgets.forms import label_styles
from .widgets.spinboxes import IntSpinBox, SciSpinBox, format_number

#: defaults of the controls (lr_find's own defaults)
DEFAULT_SEEDS = 3
DEFAULT_STEPS = 100
DEFAULT_LR_MIN = 1e-6
DEFAULT_LR_MAX = 10.0
#: the η range the boxes offer (the spec's learning rate is at most 10)
LR_BOUNDS = (1e-8, 10.0)
#: the worker sends what it has at most this often (s), and at the end of every seed
EMIT_INTERVAL = 0.05
#: how long closing the dialog waits for a cancelled test to end (ms)
JOIN_TIMEOUT_MS = 5000
#: the suggestion selected when a test ends (fastai's default)
DEFAULT_SUGGESTION = "valley"
#: colour of each suggestion's line
SUGGESTION_COLORS = {"steepest": st.VERMILLION, "minimum/10": st.GREEN, "valley": st.PURPLE}
#: vertical position of each suggestion's label (fraction of the plot's height from the top)
SUGGESTION_LABEL_POS = {"steepest": 0.94, "minimum/10": 0.80, "valley": 0.66}

_LIVE_THREADS: list = []  # every started test thread until it has finished: never destroyed while running


def _keep(thread: "RangeTestThread") -> None:
    """Hold ``thread`` until it has finished (a dialog destroyed mid-test cannot take it
    along); finished ones are let go here."""
    _LIVE_THREADS[:] = [t for t in _LIVE_THREADS if not t.isFinished()]
    _LIVE_THREADS.append(thread)


def live_threads() -> list:
    """Test threads still running (any dialog's)."""
    return [t for t in _LIVE_THREADS if t.isRunning()]


class RangeTestThread(QThread):
    """Runs ``lr_find(spec, dataset, seeds=..., steps=..., lr_min=..., lr_max=...)`` and
    reports, queued to the GUI thread: ``items(list)`` (RangeStep and RangeCurve items,
    batched at most every :data:`EMIT_INTERVAL` seconds and at the end of each seed),
    then exactly one of ``result_ready(RangeTestResult)``, ``failed(str)`` or
    ``cancelled()``.  :meth:`cancel` (any thread) stops it before its next step."""

    items = Signal(list)
    result_ready = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, spec: ExperimentSpec, dataset, seeds: int, steps: int, lr_min: float, lr_max: float,
                 parent=None):
        super().__init__(parent)
        self.spec, self.dataset = spec, dataset
        self.options = dict(seeds=int(seeds), steps=int(steps), lr_min=float(lr_min), lr_max=float(lr_max))
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:  # noqa: D102 - QThread override (the worker thread)
        batch: list = []
        last = time.perf_counter()
        gen = None
        try:
            gen = lr_find(self.spec, self.dataset, **self.options)
            for item in gen:
                if self._cancel.is_set():
                    break
                if isinstance(item, RangeTestResult):
                    if batch:
                        self.items.emit(batch)
                        batch = []
                    self.result_ready.emit(item)
                    return
                batch.append(item)
                now = time.perf_counter()
                if isinstance(item, RangeCurve) or now - last >= EMIT_INTERVAL:
                    self.items.emit(batch)
                    batch, last = [], now
            if gen is not None:
                gen.close()  # the engine restores the (throw-away) networks' weights
            if batch:
                self.items.emit(batch)
            self.cancelled.emit()
        except (ValueError, SpecError) as exc:
            self.failed.emit(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
        except Exception as exc:  # noqa: BLE001 - reported, never raised in a thread
            self.failed.emit(f"{type(exc).__name__}: {exc}")


def spec_with_lr(spec: ExperimentSpec, lr: float, one_cycle: bool = False) -> ExperimentSpec:
    """``spec`` with ``optimizer.lr = lr`` and a constant schedule, or (``one_cycle``) the
    one-cycle schedule with ``lr`` as its peak.  Raises SpecError when the spec refuses it."""
    optimizer = specmod.replace(spec.optimizer, "optimizer", lr=float(lr))
    schedule = specmod.replace(spec.schedule, "schedule", kind="one_cycle" if one_cycle else "constant")
    return specmod.replace(spec, optimizer=optimizer, schedule=schedule)


def _eta(lr: float) -> str:
    return f"{lr:.3g}" if 1e-3 <= lr < 1e3 else f"{lr:.2e}"


class LrRangeDialog(FollowsApplicationStyle, QDialog):
    """The range test for ``spec`` on ``dataset`` (see the module docstring);
    ``apply(new_spec)`` receives the spec with the chosen η."""

    test_started = Signal()
    progressed = Signal(int, int)
    test_finished = Signal(object)
    test_failed = Signal(str)
    test_cancelled = Signal()
    applied = Signal(object)

    def __init__(self, parent: Optional[QWidget], spec: ExperimentSpec, dataset,
                 apply: Callable[[ExperimentSpec], None], *, style: Optional[st.Style] = None):
        super().__init__(parent)
        self.setObjectName("lrRangeDialog")
        self.setWindowTitle("Learning-rate range test — MLP Workbench")
        self.setSizeGripEnabled(True)
        self._spec = spec
        self._dataset = dataset
        self._apply = apply
        self._thread: Optional[RangeTestThread] = None
        self._result: Optional[RangeTestResult] = None
        self._t0 = 0.0
        self._done = 0
        self._total = 0
        self._seed_steps: dict[int, list] = {}
        self._seed_order: list[int] = []
        self._finished_curves: dict[int, RangeCurve] = {}
        style = style if style is not None else self._parent_style()
        self._base_font = unscaled_base_font(style)
        self._style = style or st.Style.normal(palette_is_dark())
        self._build()
        self.apply_style(self._style)
        self._show_context()
        self._update_buttons()
        self.resize(1000, 720)

    # ================================================================ building
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setSpacing(6)
        self.context_label = QLabel()
        self.context_label.setObjectName("contextLabel")
        self.context_label.setWordWrap(True)
        self.context_label.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.context_label)

        controls = QHBoxLayout()
        controls.setSpacing(6)
        self.seeds_spin = IntSpinBox(1, MAX_SEEDS)
        self.seeds_spin.setObjectName("seedsSpin")
        self.seeds_spin.setValue(DEFAULT_SEEDS)
        self.seeds_spin.setToolTip("Seeds (training.seed, +1, ...): each builds its own initial weights and "
                                   "shuffling; the band is their mean ± standard deviation.")
        self.steps_spin = IntSpinBox(MIN_STEPS, MAX_STEPS)
        self.steps_spin.setObjectName("stepsSpin")
        self.steps_spin.setValue(DEFAULT_STEPS)
        self.steps_spin.setToolTip("Mini-batch steps per seed; η_k = η_min (η_max/η_min)^(k/(steps−1)).")
        self.lr_min_spin = SciSpinBox(*LR_BOUNDS, smallest=LR_BOUNDS[0])
        self.lr_min_spin.setObjectName("lrMinSpin")
        self.lr_min_spin.setValue(DEFAULT_LR_MIN)
        self.lr_max_spin = SciSpinBox(*LR_BOUNDS, smallest=LR_BOUNDS[0])
        self.lr_max_spin.setObjectName("lrMaxSpin")
        self.lr_max_spin.setValue(DEFAULT_LR_MAX)
        for spin in (self.lr_min_spin, self.lr_max_spin):
            spin.setToolTip("The η range: the test grows η exponentially from the first to the second.")
        for text, widget in (("Seeds", self.seeds_spin), ("Steps per seed", self.steps_spin),
                             ("η from", self.lr_min_spin), ("to", self.lr_max_spin)):
            lab = QLabel(text)
            lab.setBuddy(widget)
            controls.addWidget(lab)
            controls.addWidget(widget)
            controls.addSpacing(6)
        self.run_button = QPushButton("Run test")
        self.run_button.setObjectName("runTestButton")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(self.start)
        self.cancel_button = QPushButton("Cancel test")
        self.cancel_button.setObjectName("cancelTestButton")
        self.cancel_button.clicked.connect(self.cancel)
        controls.addWidget(self.run_button)
        controls.addWidget(self.cancel_button)
        controls.addStretch(1)
        layout.addLayout(controls)
        self.progress = QProgressBar()
        self.progress.setObjectName("rangeProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.progress.setFormat("%p %")
        layout.addWidget(self.progress)
        self.progress_label = QLabel("")
        self.progress_label.setObjectName("progressLabel")
        self.progress_label.setWordWrap(True)
        self.message_label = QLabel("")
        self.message_label.setObjectName("messageLabel")
        self.message_label.setWordWrap(True)
        for label in (self.progress_label, self.message_label):
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            layout.addWidget(label)

        self.plot = pg.PlotWidget(axisItems=fast_axes())
        self.plot.setObjectName("rangePlot")
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.hideButtons()
        item.setLogMode(x=True, y=False)
        item.vb.setMouseEnabled(x=True, y=True)
        self.plot.setMinimumHeight(240)
        self.raw_items: dict[int, pg.PlotDataItem] = {}
        self.smooth_items: dict[int, pg.PlotDataItem] = {}
        self.band_upper = pg.PlotDataItem()
        self.band_lower = pg.PlotDataItem()
        self.band_fill = pg.FillBetweenItem(self.band_lower, self.band_upper)
        self.mean_item = pg.PlotDataItem()
        for it, z in ((self.band_fill, 5), (self.band_upper, 6), (self.band_lower, 6), (self.mean_item, 20)):
            it.setZValue(z)
            item.addItem(it)
        self.suggestion_lines: dict[str, pg.InfiniteLine] = {}
        for name in ("left", "bottom"):
            item.getAxis(name).enableAutoSIPrefix(False)
        layout.addWidget(self.plot, 1)
        # what the lines are (a caption, not a legend: nothing drawn over the curves)
        self.caption = QLabel()
        self.caption.setObjectName("plotCaption")
        self.caption.setWordWrap(True)
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.caption)

        self.suggestion_box = QGroupBox("Suggestions (read off the band's mean)")
        self.suggestion_box.setObjectName("suggestionBox")
        grid = QGridLayout(self.suggestion_box)
        grid.setColumnStretch(2, 1)
        self.suggestion_group = QButtonGroup(self)
        self.suggestion_buttons: dict[str, QRadioButton] = {}
        self.suggestion_values: dict[str, QLabel] = {}
        self.suggestion_labels: dict[str, QLabel] = {}
        for row, name in enumerate(SUGGESTIONS):
            button = QRadioButton(name)
            button.setObjectName(f"suggestion_{name}")
            self.suggestion_group.addButton(button, row)
            value = QLabel("—")
            value.setObjectName(f"suggestionValue_{name}")
            text = QLabel("")
            text.setWordWrap(True)
            text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            grid.addWidget(button, row, 0)
            grid.addWidget(value, row, 1)
            grid.addWidget(text, row, 2)
            self.suggestion_buttons[name] = button
            self.suggestion_values[name] = value
            self.suggestion_labels[name] = text
        self.suggestion_group.buttonToggled.connect(lambda *_: self._update_buttons())
        layout.addWidget(self.suggestion_box)

        buttons = QDialogButtonBox()
        self.use_button = buttons.addButton("Use as η (constant)", QDialogButtonBox.ButtonRole.ActionRole)
        self.use_button.setObjectName("useLrButton")
        self.use_button.setToolTip("Set the optimizer's learning rate η to the chosen suggestion, "
                                   "with a constant schedule.")
        self.use_button.clicked.connect(lambda: self.use_suggestion(one_cycle=False))
        self.one_cycle_button = buttons.addButton("Use as one-cycle peak", QDialogButtonBox.ButtonRole.ActionRole)
        self.one_cycle_button.setObjectName("useOneCycleButton")
        self.one_cycle_button.setToolTip("Switch the schedule to one-cycle with the chosen suggestion as its "
                                         "peak η (up from η/div, then down).")
        self.one_cycle_button.clicked.connect(lambda: self.use_suggestion(one_cycle=True))
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("closeButton")
        self.close_button.clicked.connect(self.reject)
        layout.addWidget(buttons)

    # ================================================================ public API
    def spec(self) -> ExperimentSpec:
        return self._spec

    def set_spec(self, spec: ExperimentSpec, dataset=None) -> None:
        """The experiment the buttons change (and the next test runs): call it when the
        window's spec changes while the dialog is open, so that "Use" keeps the other edits."""
        self._spec = spec
        if dataset is not None:
            self._dataset = dataset
        self._show_context()

    @property
    def running(self) -> bool:
        return self._thread is not None

    def result(self) -> Optional[RangeTestResult]:
        """The finished test's result (None before the first test ends)."""
        return self._result

    def selected_suggestion(self) -> Optional[Suggestion]:
        if self._result is None:
            return None
        checked = self.suggestion_group.checkedButton()
        for s in self._result.suggestions:
            if checked is not None and self.suggestion_buttons[s.name] is checked:
                return s
        return None

    def select_suggestion(self, name: str) -> None:
        self.suggestion_buttons[name].setChecked(True)

    def start(self) -> None:
        """Run the test with the controls' options (in the worker thread)."""
        if self._thread is not None:
            return
        for spin in (self.seeds_spin, self.steps_spin, self.lr_min_spin, self.lr_max_spin):
            spin.interpretText()
        lr_min, lr_max = self.lr_min_spin.value(), self.lr_max_spin.value()
        if not lr_max > lr_min:
            self._message(f"η: the upper bound ({format_number(lr_max)}) must be above the lower one "
                          f"({format_number(lr_min)}).", error=True)
            return
        self._clear()
        seeds, steps = self.seeds_spin.value(), self.steps_spin.value()
        self._total = seeds * steps
        self._done = 0
        self.progress.setRange(0, self._total)
        self.progress.setValue(0)
        self.progress_label.setText("Building the networks…")
        self._message("")
        thread = RangeTestThread(self._spec, self._dataset, seeds, steps, lr_min, lr_max)
        thread.items.connect(self._on_items)
        thread.result_ready.connect(self._on_result)
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self._on_cancelled)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        self._steps = steps
        self._t0 = time.perf_counter()
        _keep(thread)
        thread.start()
        self._update_buttons()
        self.test_started.emit()

    def cancel(self) -> None:
        """Stop the test at its next step."""
        if self._thread is not None:
            self._thread.cancel()
            self.progress_label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def use_suggestion(self, one_cycle: bool = False) -> Optional[ExperimentSpec]:
        """``apply(spec with the chosen η)`` (constant or one-cycle peak); returns that spec."""
        s = self.selected_suggestion()
        if s is None:
            return None
        try:
            new = spec_with_lr(self._spec, s.lr, one_cycle)
        except SpecError as exc:
            self._message(str(exc), error=True)
            return None
        self._apply(new)
        self._spec = new
        what = "one-cycle peak η" if one_cycle else "constant η"
        self._message(f"Applied: {what} = {_eta(s.lr)} ({s.name}).")
        self.applied.emit(new)
        return new

    def wait_for_thread(self, timeout_ms: int = JOIN_TIMEOUT_MS) -> bool:
        """Cancel a running test and wait for its thread (True: it has ended)."""
        thread = self._thread
        if thread is None:
            return True
        thread.cancel()
        ended = thread.wait(timeout_ms)
        if ended:
            QApplication.sendPostedEvents(self)  # deliver its last signals
        self._thread = None  # (one still running stays in _LIVE_THREADS)
        self._update_buttons()
        return ended

    # -- plot read-backs (what is drawn) ----------------------------------------------------
    def curve_data(self, item: pg.PlotDataItem) -> tuple[np.ndarray, np.ndarray]:
        """(η, loss) an item was given (its data before the log axis maps η)."""
        ds = item.getOriginalDataset()
        x, y = ds
        if x is None:
            return np.empty(0), np.empty(0)
        return np.asarray(x), np.asarray(y)

    def suggestion_positions(self) -> dict[str, float]:
        """η of each suggestion line drawn (the log axis holds log10 η)."""
        return {name: 10.0 ** line.value() for name, line in self.suggestion_lines.items() if line.isVisible()}

    # ================================================================ worker results
    def _on_items(self, items: list) -> None:
        for item in items:
            if isinstance(item, RangeStep):
                if item.seed not in self._seed_steps:
                    self._seed_steps[item.seed] = []
                    self._seed_order.append(item.seed)
                self._seed_steps[item.seed].append(item)
                self._done += 1
            elif isinstance(item, RangeCurve):
                self._finished_curves[item.seed] = item
                if item.seed not in self._seed_order:
                    self._seed_order.append(item.seed)
                # a seed that stopped early: its remaining steps count as done
                self._done = len(self._finished_curves) * self._steps
        self._draw_live()
        self._show_progress()

    def _on_result(self, result: RangeTestResult) -> None:
        self._result = result
        self._done = self._total
        self._draw_result(result)
        elapsed = time.perf_counter() - self._t0
        self.progress.setValue(self.progress.maximum())
        stopped = [c for c in result.curves if c.stopped_reason]
        note = f"; {len(stopped)} of {len(result.curves)} seeds stopped early ({stopped[0].stopped_reason})" \
            if stopped else ""
        self.progress_label.setText(f"Done in {elapsed:.1f} s{note}.")
        self.test_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self.progress_label.setText("")
        self._message(message, error=True)
        self.test_failed.emit(message)

    def _on_cancelled(self) -> None:
        self.progress_label.setText(f"Cancelled after {self._done} of {self._total} steps.")
        self.test_cancelled.emit()

    def _on_thread_finished(self) -> None:
        if self.sender() is self._thread:
            self._thread = None
        self._update_buttons()

    # ================================================================ drawing
    def _clear(self) -> None:
        item = self.plot.getPlotItem()
        for it in list(self.raw_items.values()) + list(self.smooth_items.values()):
            item.removeItem(it)
        self.raw_items.clear()
        self.smooth_items.clear()
        for line in self.suggestion_lines.values():
            item.removeItem(line)
        self.suggestion_lines.clear()
        for it in (self.band_upper, self.band_lower, self.mean_item):
            it.setData([], [])
        self.band_fill.setVisible(False)
        self._seed_steps.clear()
        self._seed_order.clear()
        self._finished_curves.clear()
        self._result = None
        for name in SUGGESTIONS:
            self.suggestion_values[name].setText("—")
            self.suggestion_labels[name].setText("")
        self._update_caption()
        self._update_buttons()

    def _items_for(self, seed: int) -> tuple[pg.PlotDataItem, pg.PlotDataItem]:
        if seed not in self.raw_items:
            raw, smooth = pg.PlotDataItem(), pg.PlotDataItem()
            raw.setZValue(2)
            smooth.setZValue(10)
            self.plot.getPlotItem().addItem(raw)
            self.plot.getPlotItem().addItem(smooth)
            self.raw_items[seed], self.smooth_items[seed] = raw, smooth
            self._style_curves()
        return self.raw_items[seed], self.smooth_items[seed]

    def _draw_live(self) -> None:
        for seed in self._seed_order:
            steps = self._seed_steps.get(seed, [])
            curve = self._finished_curves.get(seed)
            raw, smooth = self._items_for(seed)
            if curve is not None:
                lrs, losses, sm = curve.lrs, curve.losses, curve.smoothed
            else:
                lrs = np.array([s.lr for s in steps])
                losses = np.array([s.loss for s in steps])
                sm = np.array([s.smoothed for s in steps])
            raw.setData(lrs, losses)
            smooth.setData(lrs, sm)
        self._fit_range()

    def _draw_result(self, result: RangeTestResult) -> None:
        for curve in result.curves:
            self._finished_curves[curve.seed] = curve
            if curve.seed not in self._seed_order:
                self._seed_order.append(curve.seed)
        self._draw_live()
        b = result.band
        self.mean_item.setData(b.lrs, b.mean)
        self.band_upper.setData(b.lrs, b.mean + b.std)
        self.band_lower.setData(b.lrs, b.mean - b.std)
        self.band_fill.setVisible(b.n_seeds > 1)
        item = self.plot.getPlotItem()
        for s in result.suggestions:
            line = pg.InfiniteLine(pos=math.log10(s.lr), angle=90, movable=False,
                                   label=f"{s.name}  η = {_eta(s.lr)}",
                                   labelOpts={"position": SUGGESTION_LABEL_POS.get(s.name, 0.5), "anchors": [(0, 0.5), (0, 0.5)]})
            line.setZValue(30)
            line.setToolTip(f"{s.name}: η = {_eta(s.lr)} — {s.explanation}")
            item.addItem(line)
            self.suggestion_lines[s.name] = line
            self.suggestion_values[s.name].setText(f"η = {_eta(s.lr)}")
            self.suggestion_labels[s.name].setText(s.explanation)
        names = [s.name for s in result.suggestions]
        if names:
            self.select_suggestion(DEFAULT_SUGGESTION if DEFAULT_SUGGESTION in names else names[0])
        self._style_curves()
        self._update_caption()
        self._fit_range()
        self._update_buttons()

    def _fit_range(self) -> None:
        """x: the tested η range.  y: from the lowest smoothed loss (band included) to a
        little above where the curves started -- at least a quarter of the minimum above
        it -- so the dip is readable; the climb of too large an η leaves through the top
        (drag or zoom to follow it)."""
        item = self.plot.getPlotItem()
        lo, hi = self.lr_min_spin.value(), self.lr_max_spin.value()
        curves = [c.smoothed for c in self._finished_curves.values()]
        curves += [np.array([s.smoothed for s in steps]) for seed, steps in self._seed_steps.items()
                   if seed not in self._finished_curves and steps]
        curves = [np.asarray(c, dtype=np.float64) for c in curves if len(c)]
        if not curves:
            item.vb.setRange(xRange=(math.log10(lo), math.log10(hi)), padding=0.02)
            return
        lows = [c.min() for c in curves]
        if self._result is not None:
            b = self._result.band
            lows.append(float(np.min(b.mean - b.std)))
        y0 = float(min(lows))
        start = max(float(c[: max(len(c) // 10, 1)].max()) for c in curves)
        top = max(float(c.max()) for c in curves)
        y1 = min(top, max(start + 0.1 * (start - y0), y0 + 0.25 * abs(y0), y0 + 1e-3))
        pad = 0.05 * (y1 - y0) if y1 > y0 else max(abs(y1) * 0.05, 1e-3)
        item.vb.setRange(xRange=(math.log10(lo), math.log10(hi)), yRange=(y0 - pad, y1 + pad), padding=0.0)

    def _show_progress(self) -> None:
        done, total = min(self._done, self._total), self._total
        self.progress.setValue(done)
        elapsed = time.perf_counter() - self._t0
        seeds = max(len(self._seed_order), 1)
        text = f"Seed {min(seeds, self.seeds_spin.value())} of {self.seeds_spin.value()} · {done:,} of {total:,} steps"
        if 0 < done < total:
            left = elapsed / done * (total - done)
            text += f" · about {left:.0f} s left" if left >= 1.5 else " · under 2 s left"
        self.progress_label.setText(text)
        self.progressed.emit(done, total)

    # ================================================================ style
    def current_style(self) -> st.Style:
        return self._style

    def apply_style(self, style: st.Style) -> None:
        """Theme and presentation scale of the plot (the widgets follow the application)."""
        self._style = style
        colors = style.colors
        self.plot.setBackground(colors.background)
        item = self.plot.getPlotItem()
        style_axes(item, style, self._base_font, bottom="learning rate η (log scale)", left="mini-batch loss",
                   widest_tick="0.0000")
        item.showGrid(x=True, y=True, alpha=colors.grid_alpha)
        self._style_curves()
        self._update_caption()
        self._message(self.message_label.property("text_plain") or "", bool(self.message_label.property("is_error")))

    def _style_curves(self) -> None:
        style = self._style
        colors = style.colors
        blue = style.line_color("train")
        w = style.px(style.pen_width)
        raw_color = st.with_alpha(colors.foreground, 45 if style.dark else 70)
        done = self._result is not None
        smooth_color = st.with_alpha(blue.getRgb(), 110 if done else 230)
        for raw in self.raw_items.values():
            raw.setPen(pg.mkPen(raw_color, width=style.px(1)))
        for smooth in self.smooth_items.values():
            smooth.setPen(pg.mkPen(smooth_color, width=style.px(max(1.0, style.pen_width * (0.5 if done else 0.8)))))
        self.mean_item.setPen(pg.mkPen(blue, width=w * 1.1))
        edge = pg.mkPen(st.with_alpha(blue.getRgb(), 90), width=style.px(1))
        self.band_upper.setPen(edge)
        self.band_lower.setPen(edge)
        self.band_fill.setBrush(pg.mkBrush(st.with_alpha(blue.getRgb(), 55)))

        label_font = st.scaled_font(self._base_font, style, 0.95)
        for name, line in self.suggestion_lines.items():
            color = st.legible_on(SUGGESTION_COLORS.get(name, st.PURPLE), colors.background, 3.0)
            # whole pixels: a 1.6 px dashed line looks thinner or thicker by where it falls
            width = style.px(float(max(2, round(style.pen_width))))
            line.setPen(pg.mkPen(color, width=width, style=Qt.PenStyle.DashLine))
            line.label.setColor(st.text_color(SUGGESTION_COLORS.get(name, st.PURPLE), style.dark))
            line.label.setFont(label_font)
            line.label.fill = pg.mkBrush(*colors.legend_fill)
            line.label.update()

    def _update_caption(self) -> None:
        """The caption under the plot: what each line is, in its colour."""
        style = self._style
        colors = style.colors
        blue = style.line_color("train").name()
        grey = st.blend(colors.foreground, colors.background, 0.55).name()

        def swatch(color, text, weight=1):
            return f"<span style='color:{color}; font-weight:bold'>{'━' * weight}</span> {text}"

        parts = [swatch(grey, "raw mini-batch loss of each seed"), swatch(blue, "its smoothed loss")]
        if self._result is not None:
            n = self._result.band.n_seeds
            if n > 1:
                parts.append(swatch(blue, f"mean over the {n} seeds, shaded ± one standard deviation", 2))
            else:
                parts.append(swatch(blue, "the smoothed loss the suggestions are read from", 2))
            for s in self._result.suggestions:
                color = st.text_color(SUGGESTION_COLORS.get(s.name, st.PURPLE), style.dark).name()
                parts.append(f"<span style='color:{color}; font-weight:bold'>┆</span> {s.name}")
        self.caption.setText(" &nbsp;·&nbsp; ".join(parts))

    def _message(self, text: str, error: bool = False) -> None:
        styles = label_styles(self._style.dark)
        self.message_label.setProperty("text_plain", text)
        self.message_label.setProperty("is_error", bool(error))
        self.message_label.setStyleSheet(styles["error"] if error else "")
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # ================================================================ state
    def _show_context(self) -> None:
        spec = self._spec
        opt = optimizer_class(spec.optimizer.kind).label
        n = len(getattr(self._dataset, "X_train", ()))
        self.context_label.setText(
            f"<b>{spec.name or 'Untitled'}</b>: {opt}, mini-batches of {spec.training.batch_size}, "
            f"{n:,} training samples, current η = {format_number(spec.optimizer.lr)}.  "
            "η grows exponentially over the steps; the test stops a seed once its smoothed loss exceeds 4× its "
            "minimum.  <i>Each seed trains a network of its own, thrown away afterwards: the experiment and "
            "its weights are not touched.</i>")

    def _update_buttons(self) -> None:
        running = self._thread is not None
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running and not self._thread.cancel_requested)
        for spin in (self.seeds_spin, self.steps_spin, self.lr_min_spin, self.lr_max_spin):
            spin.setEnabled(not running)
        have = self.selected_suggestion() is not None and not running
        self.use_button.setEnabled(have)
        self.one_cycle_button.setEnabled(have)
        for name, button in self.suggestion_buttons.items():
            button.setEnabled(self._result is not None and any(s.name == name for s in self._result.suggestions))

    def done(self, result: int) -> None:  # noqa: D102 - QDialog override (close, Esc, Close)
        self.wait_for_thread()
        super().done(result)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.wait_for_thread()
        super().closeEvent(event)


__all__ = ["LrRangeDialog", "RangeTestThread", "spec_with_lr", "live_threads"]
