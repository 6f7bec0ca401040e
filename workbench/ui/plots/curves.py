"""Live training curves: loss, metric and learning rate over epochs.

:class:`CurvesPanel` stacks three pyqtgraph plots in ONE ``GraphicsLayoutWidget``
(so a single exporter captures the whole panel) with their x axes linked:

* **Loss**: training loss (blue), validation loss (orange), optionally the
  per-batch training loss (faint) with its bias-corrected exponential moving
  average ``s_t = a s_{t-1} + (1-a) l_t``, shown as ``s_t / (1 - a^t)``,
  at fractional epochs ``x = (epoch - 1) + batch / batches_per_epoch``;
* **Metric**: training/validation accuracy or R^2;
* **Learning rate** actually used in each epoch.

Curves are created once and fed with ``setData`` on views of preallocated
buffers that double when full; every curve clips to the view and
peak-downsamples, so a 100 000-epoch history redraws smoothly.  One
``add_epochs`` call does one ``setData`` per curve.

Markers (vertical dashed lines with a short label) show LR plateau drops and
warm restarts, live setting changes, follow-up phases and divergence; early
stopping draws the best epoch (with its value), the stop epoch and the
patience window between them.
"""

from __future__ import annotations

import csv
import math
from typing import Iterable, Optional

import numpy as np
import pyqtgraph as pg
from PySide6 import QtCore, QtGui, QtWidgets

from workbench.engine.events import BatchEnd, EpochEnd
from workbench.spec import HISTORY_COLUMNS
from workbench.ui import style as st
from workbench.ui.plots._axis import epoch_axes, uncached
from workbench.ui.plots._buffer import ColumnBuffer

CURVE_NAMES = ("train_loss", "val_loss", "batch_loss", "batch_loss_ema", "train_metric", "val_metric", "lr")
MARKER_KINDS = ("plateau", "restart", "lr_change", "reg_change", "phase", "diverged")
_METRIC_KEYS = ("train_accuracy", "val_accuracy", "train_rmse", "val_rmse", "train_r2", "val_r2")
_EPOCH_COLUMNS = HISTORY_COLUMNS  # epoch, train_loss, val_loss, penalty, lr, metrics...
_BATCH_COLUMNS = ("x", "loss", "ema", "epoch", "pos")
#: While a run is live, curves longer than this are drawn without antialiasing: a wide
#: antialiased pen costs ~3x an aliased one (and a 1 px pen ~10x less than either).
#: A static view (no run live) is always antialiased: it is painted rarely.
_LIVE_ANTIALIAS_MAX_POINTS = 300
#: Auto-downsampling draws about this many samples per pixel of plot width (pyqtgraph's
#: default is 5); with the 'peak' method each bin keeps its minimum and maximum, so the
#: envelope of a noisy curve is unchanged.
_DOWNSAMPLE_FACTOR = 1.0

#: Automatic markers (η drops, warm restarts) drawn as labelled lines: at most this many,
#: at least 1/MARKER_LABEL_SPACING of the run apart; the others are ticks along the
#: bottom of each plot.  What the user did (η/L1/L2 changes) and divergence always get a line.
MAX_LABELLED_MARKERS = 20
MARKER_LABEL_SPACING = 40
_AUTOMATIC_MARKERS = ("plateau", "restart")

_MARKER_DEFAULT_TEXT = {
    "plateau": "LR drop (plateau)",
    "restart": "warm restart",
    "lr_change": "lr changed",
    "reg_change": "regularization changed",
    "phase": "follow-up phase",
    "diverged": "diverged",
}
_METRIC_LABEL = {"accuracy": "accuracy", "r2": "R²"}
_METRIC_SHORT = {"accuracy": "acc", "r2": "R²"}


def _fmt(v: float) -> str:
    """Four significant digits, trailing zeros kept (0.6000 next to 0.6344, not 0.6)."""
    if v is None or not math.isfinite(v):
        return "–"
    text = f"{v:#.4g}"
    return text[:-1] if text.endswith(".") else text


def _log10(values: np.ndarray) -> np.ndarray:
    """log10 of the positive values, NaN elsewhere (what a log axis shows)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log10(np.where(values > 0, values, np.nan))


def _step_ceiling(x: float) -> float:
    """The smallest 1, 2, 5 x 10^k >= x."""
    if x <= 0:
        return 1.0
    k = math.floor(math.log10(x))
    for m in (1.0, 2.0, 5.0, 10.0):
        v = m * 10.0**k
        if v >= x * (1 - 1e-12):
            return v
    return 10.0 ** (k + 1)


def _ema_block(values: np.ndarray, a: float, s0: float, t0: int):
    """Raw EMA ``s_t = a s_{t-1} + (1-a) x_t`` over ``values`` from state ``s0``
    (after ``t0`` steps) and its bias-corrected version ``s_t / (1 - a^t)``.
    Vectorised in blocks short enough that ``a**-k`` cannot overflow."""
    m = values.shape[0]
    raw = np.empty(m)
    if a <= 0.0:
        raw[:] = values
    else:
        block = int(min(1024, max(1, math.floor(600.0 / -math.log(a)))))
        s = s0
        for start in range(0, m, block):
            x = values[start : start + block]
            k = np.arange(x.shape[0])
            powers = a ** (k + 1)  # a^(j+1)
            inv = a ** (-k.astype(np.float64))  # a^-k
            raw_block = powers * s + (1.0 - a) * (a**k) * np.cumsum(x * inv)
            raw[start : start + x.shape[0]] = raw_block
            s = float(raw_block[-1])
    t = t0 + np.arange(1, m + 1)
    debiased = raw / (1.0 - a**t) if a > 0.0 else raw
    return raw, debiased


class _Canvas(pg.GraphicsLayoutWidget):
    """The panel's one graphics view; reports each finished paint (frame pacing)."""

    def __init__(self, on_painted):
        super().__init__()
        self._on_painted = on_painted

    def paintEvent(self, ev):  # noqa: N802 - Qt override
        super().paintEvent(ev)
        self._on_painted()


class _MarkerTicks(pg.GraphicsObject):
    """Short ticks along the bottom of a plot at many epochs, as one item: one paint
    call, at most one tick per pixel column (the markers beyond the first
    :data:`MAX_LABELLED_MARKERS`; a reduce-on-plateau run can make thousands, and
    full-height lines would hide the curves).  Added with ``ignoreBounds``."""

    HEIGHT = 0.05  # of the plot's height

    def __init__(self):
        super().__init__()
        self._xs = np.empty(0)
        self._pen = pg.mkPen(None)

    def set_xs(self, xs) -> None:
        self.prepareGeometryChange()
        self._xs = np.asarray(xs, dtype=np.float64)
        self.update()

    def xs(self) -> np.ndarray:
        return self._xs

    def setPen(self, pen) -> None:  # noqa: N802 - the pyqtgraph name
        self._pen = pen
        self.update()

    def viewRangeChanged(self) -> None:  # noqa: N802 - pyqtgraph hook
        self.prepareGeometryChange()

    def boundingRect(self) -> QtCore.QRectF:  # noqa: N802 - Qt override
        view = self.viewRect()
        if view is None or not self._xs.size:
            return QtCore.QRectF()
        lo, hi = float(self._xs.min()), float(self._xs.max())
        return QtCore.QRectF(lo, view.top(), max(hi - lo, 1e-9), view.height())

    def paint(self, painter, *args) -> None:
        view = self.viewRect()
        if view is None or not self._xs.size:
            return
        xs = self._xs[(self._xs >= view.left()) & (self._xs <= view.right())]
        px = self.pixelWidth() or 1.0
        xs = np.unique(np.round(xs / px)) * px  # one line per pixel column is all one can see
        painter.setPen(self._pen)
        y0 = view.top()  # the bottom edge (the view's y axis points up)
        y1 = y0 + self.HEIGHT * view.height()
        painter.drawLines([QtCore.QLineF(x, y0, x, y1) for x in xs])


class _LegendRow(pg.GraphicsWidget):
    """A layout cell holding the panel's legend at its left, as tall as the legend."""

    def __init__(self, legend: pg.LegendItem):
        super().__init__()
        self.legend = legend
        legend.setParentItem(self)
        legend.anchor = lambda *a, **k: None  # placed by this row, not anchored to a parent
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Expanding, QtWidgets.QSizePolicy.Policy.Fixed)

    def fit(self, left: float = 40.0) -> None:
        """Follow the legend's size (call after its entries or fonts change); ``left``:
        where the plots' data areas begin."""
        self.legend.updateSize()
        h = self.legend.boundingRect().height()
        self.setMinimumHeight(h)
        self.setMaximumHeight(h)
        self.legend.setPos(left, 0)
        self.updateGeometry()


class CurvesPanel(QtWidgets.QWidget):
    """Loss / metric / learning-rate plots with markers; see the module docstring.

    ``painted`` is emitted after each paint of the plots; :meth:`needs_paint` says
    whether something was changed since the last paint (the main window holds the
    training worker from a frame's changes until their paint)."""

    painted = QtCore.Signal()

    def __init__(self, parent: Optional[QtWidgets.QWidget] = None, style: Optional[st.Style] = None):
        super().__init__(parent)
        self._style = style or st.Style.normal()
        self._base_font = st.base_font()
        self._metric_kind = "accuracy"
        self._metric_kind_explicit = False
        self._show_batches = False
        self._batch_smoothing = 0.9
        self._log_loss = False
        self._log_lr = False
        self._hovering = False
        self._readout_row: Optional[int] = None  # the read-out's history row (None: the latest)

        self._epochs = ColumnBuffer(_EPOCH_COLUMNS)
        self._followup = ColumnBuffer(_EPOCH_COLUMNS, capacity=16)
        self._batches = ColumnBuffer(_BATCH_COLUMNS, capacity=1024)
        self._reset_batch_state()

        self._markers: list[dict] = []
        self._labelled_automatic: list[float] = []  # epochs of the labelled η drops / restarts
        self._marker_rugs = []  # one _VerticalLines per plot: the markers past MAX_LABELLED_MARKERS
        self._es: Optional[dict] = None
        self._message: Optional[pg.TextItem] = None
        self._message_kind = "error"

        # --- layout ------------------------------------------------------------
        self._dirty = False
        self._left_width = 40
        self._live = False
        self._live_total: Optional[int] = None
        self._follow_x = True
        self._x_target: Optional[float] = None  # the live x range's upper end
        self._follow_y = [True, True, True]  # per plot (loss, metric, lr)
        self._glw = _Canvas(self._after_paint)
        self._glw.setMinimumSize(320, 300)
        lay = QtWidgets.QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._glw)

        self._readout = pg.LabelItem(justify="left")
        # LabelItem makes its text width the layout's minimum width; a long read-out would
        # then widen the plots past the widget's right edge.  It wraps at the panel's
        # width instead (see resizeEvent) and never sets a minimum width.
        _update_min = self._readout.updateMin

        def _readout_update_min(_update=_update_min, _label=self._readout):
            _update()
            _label.setMinimumWidth(0)

        self._readout.updateMin = _readout_update_min
        self._glw.addItem(self._readout, row=0, col=0)
        # One key for all three plots, in its own row above them: inside a plot it
        # covered curves (train and validation have the same colours on every plot).
        self._legend = pg.LegendItem(colCount=4, horSpacing=18, frame=False)
        self._legend_row = _LegendRow(self._legend)
        self._glw.addItem(self._legend_row, row=1, col=0)
        self.loss_plot: pg.PlotItem = self._glw.addPlot(row=2, col=0, axisItems=epoch_axes())
        self.metric_plot: pg.PlotItem = self._glw.addPlot(row=3, col=0, axisItems=epoch_axes())
        self.lr_plot: pg.PlotItem = self._glw.addPlot(row=4, col=0, axisItems=epoch_axes())
        self.plots = (self.loss_plot, self.metric_plot, self.lr_plot)
        grid = self._glw.ci.layout
        grid.setRowStretchFactor(2, 5)
        grid.setRowStretchFactor(3, 3)
        grid.setRowStretchFactor(4, 2)
        self.metric_plot.setXLink(self.loss_plot)
        self.lr_plot.setXLink(self.loss_plot)
        for p in self.plots:
            p.showGrid(x=True, y=True)
            p.setMenuEnabled(True)
            p.hideButtons()
            for name in ("left", "bottom"):
                p.getAxis(name).enableAutoSIPrefix(False)
        # Learning rates are >= 0: keep 0 in view so a decay reads as a decay.
        self._lr_zero = pg.InfiniteLine(pos=0.0, angle=0, movable=False)
        self.lr_plot.addItem(self._lr_zero)
        for p in self.plots[:-1]:
            p.getAxis("bottom").setStyle(showValues=False)

        self._legend_loss = self._legend  # (the batch and follow-up entries join it)

        # --- curves: created once ----------------------------------------------
        def curve(plot, name=None, z=0):
            item = pg.PlotDataItem(name=name, connect="finite", antialias=True)
            item.setZValue(z)
            plot.addItem(item)  # PlotItem.addItem applies the plot's downsampling/clip modes
            item.setClipToView(True)
            item.setDownsampling(auto=True, method="peak")
            item.opts["autoDownsampleFactor"] = _DOWNSAMPLE_FACTOR
            return item

        for p in self.plots:
            # Keep the plots' own modes (and their context menus) in line with the
            # curves: PlotItem.addItem copies them onto every added curve.
            p.setClipToView(True)
            p.setDownsampling(auto=True, mode="peak")

        self._curves: dict[str, pg.PlotDataItem] = {
            "batch_loss": curve(self.loss_plot, None, z=-2),
            "batch_loss_ema": curve(self.loss_plot, None, z=-1),
            "train_loss": curve(self.loss_plot, "train", z=2),
            "val_loss": curve(self.loss_plot, "validation", z=3),
            "followup_loss": curve(self.loss_plot, None, z=1),
            "train_metric": curve(self.metric_plot, "train", z=2),
            "val_metric": curve(self.metric_plot, "validation", z=3),
            "lr": curve(self.lr_plot, None, z=2),
            "planned_lr": curve(self.lr_plot, None, z=1),
        }
        self._curves["batch_loss"].setVisible(False)
        self._curves["batch_loss_ema"].setVisible(False)
        self._curves["followup_loss"].setVisible(False)
        self._curves["planned_lr"].setVisible(False)
        self._legend.addItem(self._curves["train_loss"], "train")
        self._legend.addItem(self._curves["val_loss"], "validation")

        # --- hover read-out: rate-limited --------------------------------------
        self._cursor_lines = []
        for p in self.plots:
            line = pg.InfiniteLine(angle=90, movable=False)
            line.setVisible(False)
            line.setZValue(20)
            p.addItem(line, ignoreBounds=True)
            self._cursor_lines.append(line)
        self._hover_proxy = pg.SignalProxy(
            self._glw.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )
        for i, p in enumerate(self.plots):
            p.vb.sigRangeChangedManually.connect(lambda mask, i=i: self._on_manual_range(i, mask))
        self.loss_plot.vb.sigResized.connect(self._place_message)
        self.loss_plot.vb.sigResized.connect(self._place_es_labels)
        self.loss_plot.vb.sigXRangeChanged.connect(self._place_es_labels)

        self._set_axis_labels()
        self.apply_style(self._style)

    # ------------------------------------------------------------------ state
    def _reset_batch_state(self) -> None:
        self._ema_state = 0.0
        self._ema_t = 0
        self._batch_base: Optional[int] = None
        self._batch_counts: dict[int, int] = {}
        self._batch_dirty_from = 0
        self._batch_last_count = 0

    def reset(self) -> None:
        """Forget the history, markers, early-stopping items and message."""
        self._epochs.clear()
        self._followup.clear()
        self._batches.clear()
        self._reset_batch_state()
        if not self._metric_kind_explicit:
            self._metric_kind = "accuracy"
            self._set_axis_labels()
        for item in self._curves.values():
            item.setData([], [])
        self._curves["followup_loss"].setVisible(False)
        self._curves["planned_lr"].setVisible(False)
        self._clear_markers()
        self._clear_early_stop()
        self.clear_message()
        for line in self._cursor_lines:
            line.setVisible(False)
        self._hovering = False
        self._readout_row = None
        self._readout.setText("")
        self._follow_x = True
        self._x_target = None
        self._follow_y = [True, True, True]
        for p in self.plots:
            p.enableAutoRange()
        if self._live:
            for p in self.plots:
                p.enableAutoRange(x=False, y=False)
            self._grow_x(0.0)

    def show_plan(self, planned_lr, epochs: int) -> None:
        """Before any run (no history, not live): the epoch axis spans the planned
        ``epochs``, the loss and metric axes [0, 1], and the learning-rate plot shows
        ``planned_lr`` (η per epoch, epoch 1 first; dashed), so the empty panel already
        says what the run will do.  The first run or loaded result replaces all this."""
        if self._live or self._epochs.n or epochs < 1:
            return
        plan = self._curves["planned_lr"]
        lr = None if planned_lr is None else np.asarray(planned_lr, dtype=np.float64)
        if lr is not None and lr.size and np.isfinite(lr).all():
            plan.setData(np.arange(1, lr.size + 1, dtype=np.float64), lr)
            plan.setVisible(True)
        else:
            plan.setData([], [])
            plan.setVisible(False)
        for p in self.plots:
            p.disableAutoRange()
        self.loss_plot.setXRange(0.0, float(epochs), padding=0.02)
        self.loss_plot.setYRange(-3.0 if self._log_loss else 0.0, 0.0 if self._log_loss else 1.0, padding=0.02)
        self.metric_plot.setYRange(0.0, 1.0, padding=0.02)
        self._range_plan_lr()

    def _range_plan_lr(self) -> None:
        """The lr plot's y range for the planned η (an empty panel)."""
        plan = self._curves["planned_lr"]
        lr = plan.getOriginalDataset()[1] if plan.isVisible() else None
        positive = None if lr is None else lr[lr > 0]
        if self._log_lr:
            if positive is not None and positive.size:
                lo, hi = np.log10(positive.min()), np.log10(positive.max())
                self.lr_plot.setYRange(lo - 0.1 - (hi == lo), hi + 0.1, padding=0.0)
        else:
            top = float(lr.max()) * 1.1 if positive is not None and positive.size else 1.0
            self.lr_plot.setYRange(0.0, top, padding=0.0)

    def plan_shown(self) -> bool:
        return self._curves["planned_lr"].isVisible()

    # ------------------------------------------------------------------ live runs
    def set_live(self, live: bool, total_epochs: Optional[int] = None) -> None:
        """While a run is live the epoch axis grows in 1-2-5 steps (up to
        ``total_epochs``) instead of following every new point: the axes and grid are
        then redrawn a handful of times per run rather than on every frame.  Ending
        the live mode fits the axis to the data again (unless the user has zoomed)."""
        self._live = bool(live)
        self._live_total = int(total_epochs) if total_epochs else None
        self._x_target = None
        if self._live:
            for i, p in enumerate(self.plots):
                p.enableAutoRange(x=False if self._follow_x else None, y=False if self._follow_y[i] else None)
            self._grow_x(self._max_x())
            self._fit_y()
        else:
            for i, p in enumerate(self.plots):
                p.enableAutoRange(x=True if self._follow_x else None, y=True if self._follow_y[i] else None)
            for item in self._curves.values():  # the finished view is drawn smooth
                if not item.opts["antialias"]:
                    item.opts["antialias"] = True
                    item.updateItems(styleUpdate=True)

    def is_live(self) -> bool:
        return self._live

    def _on_manual_range(self, i: int, mask) -> None:
        # the user zoomed or panned: leave that axis alone until the next reset
        if mask is None or mask[0]:
            self._follow_x = False
        if mask is None or mask[1]:
            self._follow_y[i] = False

    def _max_x(self) -> float:
        m = float(self._epochs.view("epoch")[-1]) if self._epochs.n else 0.0
        if self._batches.n:
            m = max(m, float(np.nanmax(self._batches.view("x")[-1:])))
        return m

    def _grow_x(self, x: float) -> None:
        """Live x range: [0, the next 1-2-5 step above x], at most the planned epochs."""
        if not (self._live and self._follow_x):
            return
        hi = _step_ceiling(max(x, 1.0) * 1.02)
        if self._live_total:
            hi = min(hi, float(self._live_total))
        hi = max(hi, x, 1.0)
        if self._x_target != hi:
            self._x_target = hi
            self.loss_plot.setXRange(0.0, hi, padding=0.02)

    def _y_data(self, i: int):
        """The values plot ``i`` shows, in its view coordinates (log10 for a log axis)."""
        if i == 0:
            cols = [self._epochs.view("train_loss"), self._epochs.view("val_loss"), self._followup.view("train_loss")]
            if self._show_batches:
                cols += [self._batches.view("loss"), self._batches.view("ema")]
            return [_log10(c) for c in cols] if self._log_loss else cols
        if i == 1:
            k = self._metric_kind
            return [self._epochs.view(f"train_{k}"), self._epochs.view(f"val_{k}")]
        if self._log_lr:
            return [_log10(self._epochs.view("lr"))]
        return [self._epochs.view("lr"), np.zeros(1)]  # the lr plot keeps 0 in view

    def _fit_y(self, force: bool = False) -> None:
        """Live y ranges with hysteresis: a range grows (with headroom on the side the
        data crossed) when the data leave it, and is refitted when the data use less
        than half of it; otherwise it stays, and so do the axis and grid pictures."""
        if not self._live:
            return
        for i, p in enumerate(self.plots):
            if not self._follow_y[i]:
                continue
            lo, hi = math.inf, -math.inf
            for c in self._y_data(i):
                if c.size:
                    finite = c[np.isfinite(c)]
                    if finite.size:
                        lo, hi = min(lo, float(finite.min())), max(hi, float(finite.max()))
            if not (math.isfinite(lo) and math.isfinite(hi)):
                continue
            span = hi - lo
            if span <= 0.0:
                span = max(abs(hi), 1e-9)
            pad = 0.04 * span
            a, b = p.vb.viewRange()[1]
            inside = a <= lo - 0.5 * pad and hi + 0.5 * pad <= b
            if inside and span >= 0.5 * (b - a) and not force:
                continue
            head = 0.25 * span
            new_lo = lo - pad - (head if lo < a and not inside else 0.0)
            new_hi = hi + pad + (head if hi > b and not inside else 0.0)
            if i == 1 and self._metric_kind == "accuracy":  # accuracy lives in [0, 1]
                new_lo, new_hi = max(new_lo, min(lo, 0.0) - pad), min(new_hi, max(hi, 1.0) + pad)
            if lo >= 0.0 and not self._is_log(i):  # losses and rates are >= 0
                new_lo = max(new_lo, -pad)
            p.setYRange(new_lo, new_hi, padding=0.0)

    def settle(self) -> None:
        """Apply pending auto-ranges now.  pyqtgraph defers them to the next paint,
        whose range change then asks for a second paint; a frame calls this after its
        changes so that it is painted once."""
        self._glw.scene().prepareForPaint()

    # ------------------------------------------------------------------ data in
    def add_epochs(self, events: Iterable[EpochEnd]) -> None:
        """Append finished epochs (1-based) and redraw: one ``setData`` per curve."""
        main, follow = [], []
        for e in events:
            if isinstance(e, EpochEnd):
                (main if e.phase == "train" else follow).append(e)
        if main:
            self._epochs.append_rows(self._rows(main))
            self._maybe_auto_metric(self._epochs)
            self._finalize_batch_epochs(int(main[-1].epoch))
            self._refresh_epoch_curves()
            if not self._hovering:
                self._show_readout(None)
        if follow:
            self._followup.append_rows(self._rows(follow))
            self._refresh_followup()

    @staticmethod
    def _rows(events) -> np.ndarray:
        # None -> NaN through dtype=float; inf -> NaN so autorange stays sane.
        rows = np.array(
            [
                (e.epoch, e.train_loss, e.val_loss, e.penalty, e.lr, *map(e.metrics.get, _METRIC_KEYS))
                for e in events
            ],
            dtype=np.float64,
        )
        rows[~np.isfinite(rows)] = np.nan
        return rows

    def add_batches(self, events: Iterable[BatchEnd]) -> None:
        """Append per-batch training losses (train phase only) at fractional epochs."""
        data = [(e.epoch, e.batch, e.loss) for e in events if isinstance(e, BatchEnd) and e.phase == "train"]
        if not data:
            return
        arr = np.array(data, dtype=np.float64)
        ep, b, loss = arr[:, 0], arr[:, 1], arr[:, 2]
        if self._batch_base is None:
            self._batch_base = 0 if b[0] == 0 else 1
        pos = b - self._batch_base + 1
        loss = np.where(np.isfinite(loss), loss, np.nan)
        raw, ema = _ema_block(np.nan_to_num(loss, nan=self._ema_state), self._batch_smoothing, self._ema_state, self._ema_t)
        self._ema_state = float(raw[-1])
        self._ema_t += len(raw)
        self._batches.append_columns({"x": np.zeros_like(ep), "loss": loss, "ema": ema, "epoch": ep, "pos": pos})
        self._recompute_batch_x(latest_epoch=int(ep[-1]))
        if self._show_batches:
            self._refresh_batch_curves()

    def _finalize_batch_epochs(self, last_epoch_done: int) -> None:
        """Epochs up to ``last_epoch_done`` are complete: fix their batch counts."""
        if self._batches.n == 0:
            return
        self._recompute_batch_x(latest_epoch=None, done_through=last_epoch_done)
        if self._show_batches:
            self._refresh_batch_curves()

    def _recompute_batch_x(self, latest_epoch: Optional[int], done_through: Optional[int] = None) -> None:
        s, n = self._batch_dirty_from, self._batches.n
        if s >= n:
            return
        ep = self._batches.view("epoch")[s:]
        pos = self._batches.view("pos")[s:]
        # Contiguous runs of equal epochs (tiny: at most a few epochs are dirty).
        starts = np.flatnonzero(np.r_[True, ep[1:] != ep[:-1]])
        ends = np.r_[starts[1:], ep.shape[0]]
        run_max = np.maximum.reduceat(pos, starts)
        last_epoch = int(ep[starts[-1]])
        finished = done_through is not None and last_epoch <= done_through
        prev_count = int(run_max[-2]) if len(starts) > 1 else self._batch_last_count
        counts = run_max.copy()
        if not finished:
            # The running epoch: assume it is as long as the previous one.
            counts[-1] = max(run_max[-1], prev_count)
        self._batch_last_count = int(run_max[-1]) if finished else prev_count
        per_point = np.repeat(counts, ends - starts)
        self._batches.raw("x")[s:n] = ep - 1.0 + pos / per_point
        self._batch_dirty_from = n if finished else s + int(starts[-1])

    def _maybe_auto_metric(self, buf: ColumnBuffer) -> None:
        if self._metric_kind_explicit:
            return
        has_acc = np.isfinite(buf.view("train_accuracy")).any() or np.isfinite(buf.view("val_accuracy")).any()
        has_r2 = np.isfinite(buf.view("train_r2")).any() or np.isfinite(buf.view("val_r2")).any()
        kind = "r2" if has_r2 and not has_acc else "accuracy"
        if kind != self._metric_kind:
            self._metric_kind = kind
            self._set_axis_labels()

    # ------------------------------------------------------------------ redraw
    def _set_antialias(self, names, n: int) -> None:
        """Antialiased wide pens cost ~3x more to paint: while a run is live, smooth
        lines for short histories and fast aliased ones once a curve holds many points;
        smooth lines again when the run is over (see ``set_live``)."""
        aa = n <= _LIVE_ANTIALIAS_MAX_POINTS or not self._live
        for name in names:
            item = self._curves[name]
            if item.opts["antialias"] != aa:
                item.opts["antialias"] = aa  # picked up by the next setData

    def _after_paint(self) -> None:
        self._dirty = False
        self.painted.emit()

    def needs_paint(self) -> bool:
        """True if the plots changed since their last paint."""
        return self._dirty

    def _refresh_epoch_curves(self) -> None:
        self._dirty = True
        b = self._epochs
        x = b.view("epoch")
        c = self._curves
        self._set_antialias(("train_loss", "val_loss", "train_metric", "val_metric", "lr"), b.n)
        c["train_loss"].setData(x, b.view("train_loss"))
        c["val_loss"].setData(x, b.view("val_loss"))
        c["train_metric"].setData(x, b.view(f"train_{self._metric_kind}"))
        c["val_metric"].setData(x, b.view(f"val_{self._metric_kind}"))
        c["lr"].setData(x, b.view("lr"))
        if self._live:
            self._grow_x(self._max_x())
            self._fit_y()

    def _refresh_batch_curves(self) -> None:
        self._dirty = True
        x = self._batches.view("x")
        self._set_antialias(("batch_loss", "batch_loss_ema"), self._batches.n)
        self._curves["batch_loss"].setData(x, self._batches.view("loss"))
        self._curves["batch_loss_ema"].setData(x, self._batches.view("ema"))
        if self._live:
            self._grow_x(self._max_x())
            self._fit_y()

    def _refresh_followup(self) -> None:
        self._dirty = True
        f = self._followup
        item = self._curves["followup_loss"]
        item.setData(f.view("epoch"), f.view("train_loss"))
        if f.n and not item.isVisible():
            item.setVisible(True)
            self._legend_loss.addItem(item, "follow-up (train+val)")
            self._legend_row.fit(self._left_width)

    # ------------------------------------------------------------------ options
    def set_metric_kind(self, kind: str) -> None:
        """``"accuracy"`` (classification) or ``"r2"`` (regression)."""
        if kind not in _METRIC_LABEL:
            raise ValueError(f"metric kind: must be 'accuracy' or 'r2', got {kind!r}")
        self._metric_kind_explicit = True
        if kind != self._metric_kind:
            self._metric_kind = kind
            self._set_axis_labels()
            self._refresh_epoch_curves()
            self._fit_y(force=True)

    def metric_kind(self) -> str:
        return self._metric_kind

    def set_log_scale(self, on: bool) -> None:
        """Logarithmic y axis on the loss plot."""
        self._log_loss = bool(on)
        self.loss_plot.setLogMode(x=False, y=self._log_loss)
        self._set_axis_labels()
        self._fit_y(force=True)
        if self._es is not None:
            self._place_best_symbol()

    def log_scale(self) -> bool:
        return self._log_loss

    def set_lr_log_scale(self, on: bool) -> None:
        """Logarithmic y axis on the learning-rate plot (decays over decades read as
        straight lines); the zero line is hidden there."""
        self._log_lr = bool(on)
        self.lr_plot.setLogMode(x=False, y=self._log_lr)
        self._lr_zero.setVisible(not self._log_lr)
        self._set_axis_labels()
        if self._epochs.n:
            self._fit_y(force=True)
        else:
            self._range_plan_lr()

    def lr_log_scale(self) -> bool:
        return self._log_lr

    def _is_log(self, i: int) -> bool:
        return (i == 0 and self._log_loss) or (i == 2 and self._log_lr)

    def set_show_batches(self, show: bool) -> None:
        """Show the faint per-batch training loss and its moving average."""
        show = bool(show)
        if show == self._show_batches:
            return
        self._show_batches = show
        for name, label in (("batch_loss_ema", "train (per batch, smoothed)"),):
            item = self._curves[name]
            if show:
                self._legend_loss.addItem(item, label)
            else:
                self._legend_loss.removeItem(item)
        self._legend_row.fit(self._left_width)
        self._curves["batch_loss"].setVisible(show)
        self._curves["batch_loss_ema"].setVisible(show)
        if show:
            self._refresh_batch_curves()
        self._fit_y(force=True)

    def set_batch_smoothing(self, a: float) -> None:
        """EMA factor ``a`` in [0, 1) for batches added from now on."""
        if not 0.0 <= a < 1.0:
            raise ValueError(f"smoothing: must be in [0, 1), got {a}")
        self._batch_smoothing = float(a)

    # ------------------------------------------------------------------ markers
    def add_marker(self, kind: str, epoch: float, text: str = "", *, sync: bool = True) -> None:
        """A vertical dashed line at ``epoch`` on all plots, labelled on the loss plot.

        Kinds: plateau, restart (LearningRateChanged), lr_change, reg_change
        (SettingChanged), phase (PhaseStarted), diverged.  An automatic marker
        (plateau, restart) without room for a readable label (see
        :meth:`_room_for_label`) is a tick along the bottom of each plot, drawn by one
        item per plot (``sync=False`` defers its update to :meth:`_sync_marker_rugs`,
        for many markers at once)."""
        label = (text or _MARKER_DEFAULT_TEXT.get(kind, kind)).strip()
        if len(label) > 48:
            label = label[:47] + "…"
        color = st.ROLE_COLORS["diverged"] if kind == "diverged" else st.ROLE_COLORS["marker"]
        if kind in _AUTOMATIC_MARKERS and not self._room_for_label(float(epoch)):
            self._markers.append({"kind": kind, "epoch": float(epoch), "text": label, "lines": [], "color": color})
            self._dirty = True
            if sync:
                self._sync_marker_rugs()
            return
        lines = []
        for i, p in enumerate(self.plots):
            opts = None
            if i == 0:
                slot = len(self._markers) % 3
                # Rotated along the line, hanging down from near the top (losses
                # fall, so the top of the plot is usually the emptiest part).
                opts = {
                    "position": 0.97 - 0.17 * slot,
                    "rotateAxis": (1, 0),
                    "anchors": [(1, 1), (1, 1)],
                    "color": color,
                }
            line = pg.InfiniteLine(pos=float(epoch), angle=90, movable=False, label=label if i == 0 else None, labelOpts=opts)
            line.setZValue(5)
            p.addItem(line, ignoreBounds=True)
            lines.append(line)
        rec = {"kind": kind, "epoch": float(epoch), "text": label, "lines": lines, "color": color}
        self._markers.append(rec)
        if kind in _AUTOMATIC_MARKERS:
            self._labelled_automatic.append(float(epoch))
        self._dirty = True
        self._style_marker(rec)

    def _style_marker(self, rec) -> None:
        w = self._style.px(max(1.0, self._style.pen_width * 0.6))
        pen = pg.mkPen(rec["color"], width=w, style=QtCore.Qt.PenStyle.DashLine)
        for line in rec["lines"]:
            line.setPen(pen)
        lab = getattr(rec["lines"][0], "label", None)
        if lab is not None:
            lab.setFont(self._font(0.9))
            lab.setColor(st.text_color(rec["color"], self._style.dark))
            lab.fill = pg.mkBrush(st.with_alpha(self._style.colors.background, 170))
            lab.update()

    def _room_for_label(self, epoch: float) -> bool:
        """Another labelled automatic marker fits: fewer than MAX_LABELLED_MARKERS, and
        none within 1/MARKER_LABEL_SPACING of the run (labels of closer ones overprint)."""
        labelled = self._labelled_automatic
        if len(labelled) >= MAX_LABELLED_MARKERS:
            return False
        span = float(self._live_total or max(self._max_x(), epoch, 1.0))
        gap = span / MARKER_LABEL_SPACING
        return all(abs(epoch - e) >= gap for e in labelled)

    def _sync_marker_rugs(self) -> None:
        """Give the unlabelled markers' epochs to the per-plot line items (made on first use)."""
        xs = [rec["epoch"] for rec in self._markers if not rec["lines"]]
        if not self._marker_rugs and xs:
            for p in self.plots:
                rug = _MarkerTicks()
                rug.setZValue(5)
                p.addItem(rug, ignoreBounds=True)
                self._marker_rugs.append(rug)
            self._style_marker_rugs()
        for rug in self._marker_rugs:
            rug.set_xs(xs)

    def _style_marker_rugs(self) -> None:
        w = self._style.px(max(1.0, self._style.pen_width * 0.6))
        pen = pg.mkPen(st.with_alpha(st.ROLE_COLORS["marker"], 140), width=w)  # the curves show through
        for rug in self._marker_rugs:
            rug.setPen(pen)

    def _clear_markers(self) -> None:
        for rec in self._markers:
            for p, line in zip(self.plots, rec["lines"]):
                p.removeItem(line)
        self._markers.clear()
        self._labelled_automatic.clear()
        self._sync_marker_rugs()

    def marker_items(self) -> list[tuple[str, float]]:
        """``(kind, epoch)`` of every drawn marker, read back from what draws it."""
        rug = iter(self._marker_rugs[0].xs() if self._marker_rugs else ())
        return [(rec["kind"], float(rec["lines"][0].value() if rec["lines"] else next(rug))) for rec in self._markers]

    # ------------------------------------------------------------------ early stopping
    def set_early_stop(
        self,
        best_epoch: int,
        stopped_epoch: int,
        best_value: Optional[float],
        patience: int,
        restored: bool,
        monitor: str = "val_loss",
    ) -> None:
        """Best epoch line labelled ``best <value> @ <epoch>``, a dash-dot line where
        training stopped, the patience window shaded between them, and a
        ``weights restored from epoch k`` note when the best weights were put back."""
        self._clear_early_stop()
        color = st.ROLE_COLORS["early_stop"]
        best_text = f"best {_fmt(best_value) if best_value is not None else '–'} @ {int(best_epoch)}"
        if restored:
            best_text += f"\nweights restored\nfrom epoch {int(best_epoch)}"
        stop_text = f"stopped @ {int(stopped_epoch)}"
        if patience:
            stop_text += f"\n(patience {int(patience)})"
        best_lines, stop_lines, regions = [], [], []
        for i, p in enumerate(self.plots):
            region = pg.LinearRegionItem(
                values=(float(best_epoch), float(stopped_epoch)), movable=False, orientation="vertical"
            )
            region.setZValue(-10)
            for ln in region.lines:
                ln.setPen(pg.mkPen(None))
            p.addItem(region, ignoreBounds=True)
            regions.append(region)
            best = pg.InfiniteLine(
                pos=float(best_epoch),
                angle=90,
                movable=False,
                label=best_text if i == 0 else None,
                labelOpts={"position": 0.62, "anchors": [(0, 0.5), (0, 0.5)], "color": color} if i == 0 else None,
            )
            stop = pg.InfiniteLine(
                pos=float(stopped_epoch),
                angle=90,
                movable=False,
                label=stop_text if i == 0 else None,
                labelOpts={"position": 0.88, "anchors": [(1, 0.5), (1, 0.5)], "color": color} if i == 0 else None,
            )
            for ln in (best, stop):
                ln.setZValue(6)
                p.addItem(ln, ignoreBounds=True)
            best_lines.append(best)
            stop_lines.append(stop)
        target = self.loss_plot if monitor.endswith("loss") else self.metric_plot
        symbol = pg.PlotDataItem(pen=None, symbol="star")
        symbol.setZValue(8)
        target.addItem(symbol)
        self._es = {
            "best": best_lines,
            "stop": stop_lines,
            "regions": regions,
            "symbol": symbol,
            "symbol_plot": target,
            "best_epoch": int(best_epoch),
            "best_value": best_value,
            "monitor": monitor,
            "restored": bool(restored),
        }
        self._place_best_symbol()
        self._style_early_stop()
        self._place_es_labels()
        self._dirty = True

    def _place_best_symbol(self) -> None:
        es = self._es
        v = es["best_value"]
        m = es["monitor"]
        ok = v is not None and math.isfinite(v)
        if m.endswith(("accuracy", "r2")) and not m.endswith(self._metric_kind):
            ok = False
        if m.endswith("rmse"):
            ok = False
        es["symbol"].setData([es["best_epoch"]] if ok else [], [v] if ok else [])

    def _style_early_stop(self) -> None:
        if self._es is None:
            return
        color = st.ROLE_COLORS["early_stop"]
        w = self._style.px(self._style.pen_width)
        best_pen = pg.mkPen(color, width=max(1.0, w * 0.8))
        stop_pen = pg.mkPen(color, width=max(1.0, w * 0.8), style=QtCore.Qt.PenStyle.DashDotLine)
        brush = st.with_alpha(color, self._style.colors.region_alpha)
        for ln in self._es["best"]:
            ln.setPen(best_pen)
        for ln in self._es["stop"]:
            ln.setPen(stop_pen)
        for region in self._es["regions"]:
            region.setBrush(brush)
            region.update()
        for ln in (self._es["best"][0], self._es["stop"][0]):
            ln.label.setFont(self._font(0.95))
            ln.label.setColor(st.text_color(color, self._style.dark))
            ln.label.fill = pg.mkBrush(st.with_alpha(self._style.colors.background, 235))
            ln.label.update()
        size = self._style.marker_size * 2.2
        self._es["symbol"].setSymbolSize(size)
        self._es["symbol"].setSymbolBrush(color)
        self._es["symbol"].setSymbolPen(pg.mkPen(self._style.colors.background, width=self._style.px(1)))

    def _place_es_labels(self, *_args) -> None:
        """Keep the early-stopping labels inside the plot: the best label sits right
        of its line unless it would run off the right edge; the stop label sits left
        of its line unless it would run off the left edge."""
        if self._es is None:
            return
        vb = self.loss_plot.vb
        view = vb.sceneBoundingRect()
        if view.width() <= 1:
            return
        for key, prefer_right in (("best", True), ("stop", False)):
            line = self._es[key][0]
            label = line.label
            px = vb.mapViewToScene(QtCore.QPointF(line.value(), 0.0)).x()
            width = label.boundingRect().width()
            if prefer_right:
                right = px + width + 4 <= view.right()
            else:
                right = px - width - 4 < view.left()
            anchor = (0, 0.5) if right else (1, 0.5)
            if label.anchors[0] != anchor:
                label.anchors = [anchor, anchor]
                label.updatePosition()

    def _clear_early_stop(self) -> None:
        if self._es is None:
            return
        for p, best, stop, region in zip(self.plots, self._es["best"], self._es["stop"], self._es["regions"]):
            p.removeItem(best)
            p.removeItem(stop)
            p.removeItem(region)
        self._es["symbol_plot"].removeItem(self._es["symbol"])
        self._es = None

    def early_stop_items(self) -> Optional[tuple[float, float]]:
        """``(best_epoch, stopped_epoch)`` read from the drawn lines, or None."""
        if self._es is None:
            return None
        return float(self._es["best"][0].value()), float(self._es["stop"][0].value())

    def early_stop_region(self) -> Optional[tuple[float, float]]:
        """The shaded patience window ``(start, end)`` on the loss plot, or None."""
        if self._es is None:
            return None
        lo, hi = self._es["regions"][0].getRegion()
        return float(lo), float(hi)

    def early_stop_texts(self) -> list[str]:
        """Plain texts of the early-stopping labels (best line, stop line)."""
        if self._es is None:
            return []
        return [self._es["best"][0].label.toPlainText(), self._es["stop"][0].label.toPlainText()]

    # ------------------------------------------------------------------ message
    def show_message(self, text: str, kind: str = "error") -> None:
        """A big boxed message centred on the loss plot (kind ``error`` or ``info``)."""
        self._message_kind = kind
        if self._message is None:
            self._message = pg.TextItem(anchor=(0.5, 0.5))
            self._message.setParentItem(self.loss_plot.vb)
            self._message.setZValue(100)
        self._message.setText(text)
        self._style_message()
        self._message.setVisible(True)
        self._place_message()
        self._dirty = True

    def clear_message(self) -> None:
        if self._message is not None:
            self._message.setVisible(False)
            self._message.setText("")

    def message_text(self) -> str:
        if self._message is None or not self._message.isVisible():
            return ""
        return self._message.toPlainText()

    def _style_message(self) -> None:
        if self._message is None:
            return
        color = st.ROLE_COLORS["diverged"] if self._message_kind == "error" else st.BLUE
        self._message.setFont(self._font(1.5, bold=True))
        self._message.setColor(color if self._message_kind == "error" else self._style.colors.text)
        fill = self._style.colors.message_fill if self._message_kind == "error" else self._style.colors.legend_fill
        self._message.fill = pg.mkBrush(st.with_alpha(fill, fill[3]))
        self._message.border = pg.mkPen(color, width=self._style.px(2))
        rect = self.loss_plot.vb.rect()
        if rect.width() > 40:
            self._message.setTextWidth(min(rect.width() * 0.85, 900 * self._style.font_scale))
        self._message.update()

    def _place_message(self, *_args) -> None:
        if self._message is None or not self._message.isVisible():
            return
        rect = self.loss_plot.vb.rect()
        if rect.width() > 40:
            self._message.setTextWidth(min(rect.width() * 0.85, 900 * self._style.font_scale))
        self._message.setPos(rect.center())

    # ------------------------------------------------------------------ hover
    def _on_mouse_moved(self, args) -> None:
        pos = args[0]
        for p in self.plots:
            if p.vb.sceneBoundingRect().contains(pos):
                self._hovering = True
                self.hover_at(p.vb.mapSceneToView(pos).x())
                return
        self._end_hover()

    def leaveEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self._end_hover()
        super().leaveEvent(event)

    def _end_hover(self) -> None:
        if self._hovering:
            self._hovering = False
            for line in self._cursor_lines:
                line.setVisible(False)
            self._show_readout(None)

    def hover_at(self, x: float) -> str:
        """Show values at the epoch nearest ``x`` with a cursor line on every plot
        (and return the plain read-out)."""
        b = self._epochs
        if b.n == 0:
            return ""
        epochs = b.view("epoch")
        i = int(np.clip(np.searchsorted(epochs, x), 0, b.n - 1))
        if i > 0 and abs(epochs[i - 1] - x) <= abs(epochs[i] - x):
            i -= 1
        for line in self._cursor_lines:
            line.setValue(float(epochs[i]))
            line.setVisible(True)
        return self._show_readout(i)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._readout.item.setTextWidth(max(100, self.width() - 24))
        self._readout.updateMin()

    def readout_text(self) -> str:
        """The read-out line above the plots, as plain text."""
        return self._readout.item.toPlainText().replace("\xa0", " ")

    def _show_readout(self, i: Optional[int]) -> str:
        """Values of row ``i`` (None: the latest epoch, labelled "latest")."""
        b = self._epochs
        if b.n == 0:
            self._readout.setText("")
            return ""
        latest = i is None
        self._readout_row = i
        if latest:
            i = b.n - 1
        k = self._metric_kind
        short = _METRIC_SHORT[k]
        dark = self._style.dark
        tc = lambda role: st.text_color(st.ROLE_COLORS[role], dark).name()  # noqa: E731
        parts = [
            ("latest epoch" if latest else "epoch", f"{int(b.view('epoch')[i])}", self._style.colors.text),
            ("train loss", _fmt(b.view("train_loss")[i]), tc("train")),
            ("val loss", _fmt(b.view("val_loss")[i]), tc("val")),
            (f"train {short}", _fmt(b.view(f"train_{k}")[i]), tc("train")),
            (f"val {short}", _fmt(b.view(f"val_{k}")[i]), tc("val")),
            ("η", _fmt(b.view("lr")[i]), tc("lr")),
        ]
        html = " &nbsp; ".join(f"<span style='color:{c}'>{n.replace(' ', '&nbsp;')}&nbsp;<b>{v}</b></span>"
                               for n, v, c in parts)  # (a name never breaks across the wrap)
        self._readout.setText(html, size=f"{self._pt(0.95):.1f}pt")
        return "  ".join(f"{n} {v}" for n, v, _ in parts)

    # ------------------------------------------------------------------ whole results
    def load_result(self, result) -> None:
        """Draw a saved :class:`workbench.spec.RunResult` at once: history, follow-up,
        markers, early stopping and (for diverged runs) the message."""
        self.reset()
        cols = self._history_columns(result.history)
        if cols:
            self._epochs.append_columns(cols)
            self._maybe_auto_metric(self._epochs)
            self._refresh_epoch_curves()
            self._show_readout(None)
        if result.followup_history:
            fcols = self._history_columns(result.followup_history)
            if fcols:
                self._followup.append_columns(fcols)
                self._refresh_followup()
        for m in result.markers:
            self.add_marker(m.kind, m.epoch, m.text, sync=False)
        self._sync_marker_rugs()
        es = result.early_stop
        if es is not None:
            self.set_early_stop(es.best_epoch, es.stopped_epoch, es.best_value, es.patience, es.restored, es.monitor)
        if result.status == "diverged":
            self.show_message(result.message or "Training diverged: the loss became NaN or infinite", "error")

    @staticmethod
    def _history_columns(history: dict) -> dict:
        if not history or "epoch" not in history:
            return {}
        cols = {}
        for name, values in history.items():
            if name in _EPOCH_COLUMNS:
                a = np.array(values, dtype=np.float64)
                a[~np.isfinite(a)] = np.nan
                cols[name] = a
        return cols

    # ------------------------------------------------------------------ style
    def _pt(self, factor: float = 1.0) -> float:
        return self._base_font.pointSizeF() * self._style.font_scale * factor

    def _font(self, factor: float = 1.0, bold: bool = False) -> QtGui.QFont:
        f = st.scaled_font(self._base_font, self._style, factor)
        f.setBold(bold)
        return f

    def _set_axis_labels(self) -> None:
        size = f"{self._pt(1.0):.1f}pt"
        color = self._style.colors.text
        style = {"font-size": size, "color": color}
        self.loss_plot.setLabel("left", "loss (log)" if self._log_loss else "loss", **style)
        self.metric_plot.setLabel("left", _METRIC_LABEL[self._metric_kind], **style)
        self.lr_plot.setLabel("left", "lr (log)" if self._log_lr else "lr", **style)
        self.lr_plot.setLabel("bottom", "epoch", **style)

    def apply_style(self, style: st.Style) -> None:
        """Pens, fonts and colours from ``style``; normal() after presentation()
        restores the original sizes exactly (everything derives from the base font)."""
        self._style = style
        colors = style.colors
        self._glw.setBackground(colors.background)
        w = style.px(style.pen_width)
        pens = {
            "train_loss": pg.mkPen(style.line_color("train"), width=w),
            "val_loss": pg.mkPen(style.line_color("val"), width=w),
            "train_metric": pg.mkPen(style.line_color("train"), width=w),
            "val_metric": pg.mkPen(style.line_color("val"), width=w),
            "lr": pg.mkPen(style.line_color("lr"), width=w),
            "planned_lr": pg.mkPen(st.with_alpha(style.line_color("lr").getRgb(), 150), width=w * 0.75,
                                   style=QtCore.Qt.PenStyle.DashLine),
            "batch_loss": pg.mkPen(st.with_alpha(st.SKY, 70), width=style.px(1)),
            "batch_loss_ema": pg.mkPen(st.with_alpha(st.SKY, 230), width=style.px(max(1.0, style.pen_width * 0.5))),
            "followup_loss": pg.mkPen(style.line_color("followup"), width=w, style=QtCore.Qt.PenStyle.DashLine),
        }
        for name, pen in pens.items():
            self._curves[name].setPen(pen)

        tick_font = self._font(1.0)
        fm = QtGui.QFontMetricsF(tick_font)
        left_width = int(fm.horizontalAdvance("0.00000") + fm.height() * 1.4 + 6)
        for p in self.plots:
            for name in ("left", "bottom"):
                ax = p.getAxis(name)
                ax.setStyle(tickFont=tick_font, tickTextOffset=max(3, int(3 * style.font_scale)))
                ax.setPen(pg.mkPen(colors.foreground, width=style.px(1)))
                ax.setTextPen(pg.mkPen(colors.text))
            p.getAxis("left").setWidth(left_width)
            p.showGrid(x=True, y=True, alpha=colors.grid_alpha)
        self.lr_plot.getAxis("bottom").setHeight(int(fm.height() * 2.6 + 10))
        self._set_axis_labels()

        for legend in (self._legend,):
            legend.setBrush(pg.mkBrush(None))
            legend.setPen(pg.mkPen(None))
            legend.setLabelTextColor(colors.text)
            legend.setLabelTextSize(f"{self._pt(0.95):.1f}pt")
            for _sample, label in legend.items:
                label.setText(label.text)
        self._left_width = left_width
        self._legend_row.fit(left_width)

        for rec in self._markers:
            if rec["lines"]:
                self._style_marker(rec)
        self._style_marker_rugs()
        self._style_early_stop()
        self._place_es_labels()
        self._style_message()
        self._place_message()
        cursor_pen = pg.mkPen(st.with_alpha(colors.foreground, 110), width=style.px(1), style=QtCore.Qt.PenStyle.DotLine)
        for line in self._cursor_lines:
            line.setPen(cursor_pen)
        self._lr_zero.setPen(pg.mkPen(st.with_alpha(colors.foreground, 90), width=style.px(1)))
        self._readout.setAttr("color", colors.text)
        if self._epochs.n:  # its HTML holds the colours: rebuild it in the new theme's
            self._show_readout(self._readout_row)
        else:
            self._readout.setText(self._readout.text, size=f"{self._pt(0.95):.1f}pt")

    def current_style(self) -> st.Style:
        return self._style

    def current_pen_width(self) -> float:
        return float(self._curves["train_loss"].opts["pen"].widthF())

    def current_font_point_size(self) -> float:
        font = self.loss_plot.getAxis("left").style["tickFont"]
        return float(font.pointSizeF())

    # ------------------------------------------------------------------ read-back for tests
    def curve_data(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Copies of ``(x, y)`` last handed to the named curve (see ``CURVE_NAMES``;
        the metric curves hold the current metric kind)."""
        if name not in self._curves:
            raise KeyError(f"unknown curve {name!r}; one of {CURVE_NAMES}")
        x, y = self._curves[name].getOriginalDataset()
        if x is None:
            return np.empty(0), np.empty(0)
        return np.array(x, dtype=np.float64), np.array(y, dtype=np.float64)

    def history_length(self) -> int:
        return self._epochs.n

    # ------------------------------------------------------------------ export
    def export_png(self, path, width: Optional[int] = None) -> None:
        """The whole panel as PNG (pyqtgraph ImageExporter on the shared scene), by
        default at the screen's resolution: ``width`` = panel width x pixel ratio (the
        pens are in device pixels, so a HiDPI export at the logical size had half the
        resolution and twice-too-thick lines)."""
        from pyqtgraph.exporters import ImageExporter

        self._prepare_export()
        exporter = ImageExporter(self._glw.scene())
        ratio = max(1.0, float(self._style.pixel_ratio))
        if width or ratio > 1.0:
            exporter.parameters()["width"] = int(width or round(self._glw.width() * ratio))
        with uncached(self._glw.scene()):
            ok = exporter.export(str(path))
        if not ok:
            # Fallback when the scene has no size yet: render the widget.
            if not self._glw.grab().save(str(path)):
                raise OSError(f"could not write PNG to {path}")

    def export_svg(self, path) -> None:
        """The whole panel as SVG (pyqtgraph SVGExporter on the shared scene)."""
        from pyqtgraph.exporters import SVGExporter

        self._prepare_export()
        with uncached(self._glw.scene()):
            SVGExporter(self._glw.scene()).export(str(path))

    def _prepare_export(self) -> None:
        rect = self._glw.scene().sceneRect()
        if rect.width() < 50 or rect.height() < 50:
            self._glw.resize(max(self._glw.width(), 900), max(self._glw.height(), 700))

    def export_csv(self, path) -> None:
        """History as CSV: epoch, train_loss, val_loss, penalty, lr and every metric
        column that has values; follow-up epochs follow with phase ``followup``."""
        main, follow = self._epochs, self._followup
        columns = [c for c in _EPOCH_COLUMNS if c in ("epoch", "train_loss", "val_loss", "penalty", "lr")]
        for c in _METRIC_KEYS:
            if np.isfinite(main.view(c)).any() or np.isfinite(follow.view(c)).any():
                columns.append(c)
        with_phase = follow.n > 0
        header = columns + (["phase"] if with_phase else [])

        def rows(buf: ColumnBuffer, phase: str):
            data = np.column_stack([buf.view(c) for c in columns]) if buf.n else np.empty((0, len(columns)))
            for row in data.tolist():
                out = [
                    (str(int(v)) if j == 0 else repr(v)) if v == v else ""  # NaN -> empty
                    for j, v in enumerate(row)
                ]
                yield out + ([phase] if with_phase else [])

        with open(path, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows(rows(main, "train"))
            if with_phase:
                writer.writerows(rows(follow, "followup"))
